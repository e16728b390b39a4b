"""OGC API - Features (Part 1, Core and GeoJSON) over the atlas's layers, read-only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import NotFound

from placegeo.atlas import CHINA_EXTENT
from placegeo.web.geojson import features, geojson_response, shift, url
from placegeo.web.params import bbox_arg, datum_arg, int_arg
from placegeo.web.state import collections_view as view  # every city's collections at /collections

__all__ = ["ogc"]

ogc = Blueprint("ogc", __name__)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@ogc.get("/ogc")
def landing():
    return jsonify({"title": view().meta.get("name") or "placegeo atlas",
                    "description": "OGC API - Features of the placegeo atlas (read-only)",
                    "links": [
                        {"href": url("/ogc"), "rel": "self", "type": "application/json"},
                        {"href": url("/api/openapi.json"), "rel": "service-desc",
                         "type": "application/vnd.oai.openapi+json;version=3.0"},
                        {"href": url("/conformance"), "rel": "conformance", "type": "application/json"},
                        {"href": url("/collections"), "rel": "data", "type": "application/json"}]})


@ogc.get("/conformance")
def conformance():
    return jsonify({"conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"]})


def _collection(name: str) -> dict[str, Any]:
    spec = view().registry[name]
    minx, miny, maxx, maxy = view().meta.get("extent", CHINA_EXTENT)
    return {"id": name, "title": spec.title_zh, "description": f"{spec.title_en}. {spec.description}".strip(),
            "itemType": "feature", "crs": [CRS84],
            "extent": {"spatial": {"bbox": [[minx, miny, maxx, maxy]], "crs": CRS84}},
            "links": [{"href": url(f"/collections/{name}"), "rel": "self", "type": "application/json"},
                      {"href": url(f"/collections/{name}/items"), "rel": "items",
                       "type": "application/geo+json"}]}


def _require_collection(name: str) -> None:
    if name not in view().layers():
        raise NotFound(f"no collection '{name[:40]}'; see /collections")


@ogc.get("/collections")
def collections():
    return jsonify({"collections": [_collection(n) for n in view().layers()],
                    "links": [{"href": url("/collections"), "rel": "self", "type": "application/json"}]})


@ogc.get("/collections/<name>")
def collection(name: str):
    _require_collection(name)
    return jsonify(_collection(name))


@ogc.get("/collections/<name>/items")
def items(name: str):
    _require_collection(name)
    settings = current_app.config["PLACEGEO"]
    limit = int_arg("limit", settings.default_items, 1, settings.max_items)
    offset = int_arg("offset", 0, 0, 10**8)
    bbox = bbox_arg()
    datum = datum_arg()
    found, matched = view().page(name, bbox, limit=limit, offset=offset)
    page = shift(found, datum)
    spec = view().registry[name]
    links = [{"href": url(request.full_path), "rel": "self", "type": "application/geo+json"}]
    if offset + limit < matched:
        args = {**request.args.to_dict(), "offset": str(offset + limit), "limit": str(limit)}
        links.append({"href": url(f"/collections/{name}/items", args), "rel": "next",
                      "type": "application/geo+json"})
    return geojson_response({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(page),
                             "features": features(page, spec.primary_key), "links": links})


@ogc.get("/collections/<name>/items/<fid>")
def item(name: str, fid: str):
    _require_collection(name)
    spec = view().registry[name]
    row = view().feature(name, fid)
    if row.empty:
        raise NotFound(f"no feature '{fid[:40]}' in '{name}'")
    feature = features(shift(row.iloc[:1], datum_arg()), spec.primary_key)[0]
    feature["links"] = [{"href": url(f"/collections/{name}/items/{fid}"), "rel": "self",
                         "type": "application/geo+json"},
                        {"href": url(f"/collections/{name}"), "rel": "collection", "type": "application/json"}]
    return geojson_response(feature)
