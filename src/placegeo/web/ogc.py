"""OGC API - Features over the atlas's layers, read-only: Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0)
and Part 2 (coordinate reference systems by reference).

Where the standard leaves room this follows pygeoapi: ``crs`` and ``bbox-crs`` take URIs from the
collection's list (400 otherwise), ``Content-Crs`` is sent with every feature answer, ``bbox-crs``
without ``bbox`` is a 400, ``prev`` appears when ``offset > 0``, and coordinates follow the axis
order of the CRS (EPSG:4326 and EPSG:4490 latitude first, CRS84 longitude first). Two choices are
stricter than pygeoapi, which drops unknown parameters and passes ``datetime`` to providers that may
ignore it: here an unknown parameter is a 400 listing those the resource takes (a typo never
silently widens an answer), and ``datetime`` is a 400 because the layers carry no time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import NotFound

from placegeo.atlas import CHINA_EXTENT
from placegeo.errors import BadParameter
from placegeo.web.geojson import features, shift, url
from placegeo.web.params import datum_arg, int_arg
from placegeo.web.state import collections_view as view  # every city's collections at /collections

__all__ = [
    "CONFORMANCE",
    "CRS84",
    "CRS_LAT_FIRST",
    "STORAGE_CRS",
    "SUPPORTED_CRS",
    "check_params",
    "ogc",
    "output_format",
    "respond",
    "self_links",
]

ogc = Blueprint("ogc", __name__)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
STORAGE_CRS = "http://www.opengis.net/def/crs/EPSG/0/4490"
#: the CRSs answers and boxes can be in, and whether their first axis is latitude
CRS_LAT_FIRST = {CRS84: False, STORAGE_CRS: True, "http://www.opengis.net/def/crs/EPSG/0/4326": True}
SUPPORTED_CRS = list(CRS_LAT_FIRST)
_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
CONFORMANCE = [f"{_FEATURES}core", f"{_FEATURES}geojson", f"{_FEATURES}html", f"{_FEATURES}oas30",
               "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
               f"{_TILES}core", f"{_TILES}tileset", f"{_TILES}tilesets-list", f"{_TILES}geodata-tilesets",
               f"{_TILES}mvt", f"{_TILES}oas30"]
_JSON = "application/json"
_GEOJSON = "application/geo+json"
_HTML = "text/html"
_ITEM_PARAMS = ("f", "crs", "datum")
_ITEMS_PARAMS = ("f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "datum")

BBox = tuple[float, float, float, float]


# -- what every resource does: parameters, format, links ------------------------------------------------
def check_params(*allowed: str) -> None:
    """A 400 for a query parameter the resource does not take (the message lists those it takes)."""
    for name in request.args:
        if name not in allowed:
            raise BadParameter(name[:40], f"unknown parameter '{name[:40]}'; this resource takes "
                                          f"{', '.join(allowed) or 'no parameters'}")


def output_format(*, data: str = _JSON) -> str:
    """``json`` or ``html``: from ``f`` when given, else from the Accept header (JSON when it does not care)."""
    f = request.args.get("f")
    if f is not None:
        if f not in ("json", "html") and not (f == "geojson" and data == _GEOJSON):
            raise BadParameter("f", f"'f' must be json or html, not '{f[:20]}'")
        return "html" if f == "html" else "json"
    best = request.accept_mimetypes.best_match([data, _JSON, _HTML])
    return "html" if best == _HTML and request.accept_mimetypes[_HTML] > request.accept_mimetypes[data] else "json"


def self_links(path: str, fmt: str, data: str = _JSON, args: dict[str, str] | None = None) -> list[dict[str, str]]:
    """``self`` (this format) and ``alternate`` (the other) links of a resource."""
    args = {k: v for k, v in (args or {}).items() if k != "f"}
    json_link = {"href": url(path, {**args, "f": "json"}), "type": data, "title": "JSON"}
    html_link = {"href": url(path, {**args, "f": "html"}), "type": _HTML, "title": "HTML"}
    this, other = (html_link, json_link) if fmt == "html" else (json_link, html_link)
    return [{**this, "rel": "self"}, {**other, "rel": "alternate"}]


def respond(doc: dict[str, Any], fmt: str, *, data: str = _JSON, title: str = "",
            headers: dict[str, str] | None = None) -> Response:
    """The document as JSON (``data`` media type) or as an HTML page."""
    if fmt == "html":
        resp = Response(render_template("ogc.html", title=title or doc.get("title", ""), doc=doc,
                                        description=doc.get("description", ""), links=doc.get("links", []),
                                        rows=_rows(doc)), mimetype=_HTML)
    else:
        resp = jsonify(doc)
        resp.mimetype = data
    resp.headers.update(headers or {})
    return resp


def _rows(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Table rows of an HTML page: (title, link, properties) of each collection, feature or tileset."""
    if doc.get("type") == "FeatureCollection":
        return [(str(f.get("id")), "", f.get("properties") or {}) for f in doc["features"]]
    if doc.get("type") == "Feature":
        return [(str(doc.get("id")), "", doc.get("properties") or {})]
    if "collections" in doc:
        return [(c["title"], url(f"/collections/{c['id']}", {"f": "html"}), {"id": c["id"]})
                for c in doc["collections"]]
    if "conformsTo" in doc:
        return [(c, "", {}) for c in doc["conformsTo"]]
    return []


# -- landing page, conformance, collections ---------------------------------------------------------
@ogc.get("/ogc")
def landing():
    check_params("f")
    fmt = output_format()
    return respond({"title": view().meta.get("name") or "placegeo atlas",
                    "description": "OGC API - Features and Tiles of the placegeo atlas (read-only)",
                    "links": [*self_links("/ogc", fmt),
                              {"href": url("/api/openapi.json"), "rel": "service-desc",
                               "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI"},
                              {"href": url("/conformance"), "rel": "conformance", "type": _JSON,
                               "title": "Conformance classes"},
                              {"href": url("/collections"), "rel": "data", "type": _JSON, "title": "Collections"},
                              {"href": url("/tileMatrixSets"), "type": _JSON, "title": "Tiling schemes",
                               "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"}]}, fmt)


@ogc.get("/conformance")
def conformance():
    check_params("f")
    fmt = output_format()
    return respond({"conformsTo": CONFORMANCE, "links": self_links("/conformance", fmt)}, fmt,
                   title="Conformance classes")


def _collection(name: str, fmt: str, *, listed: bool = False) -> dict[str, Any]:
    spec = view().registry[name]
    minx, miny, maxx, maxy = view().meta.get("extent", CHINA_EXTENT)
    path = f"/collections/{name}"
    links = self_links(path, fmt) if not listed else [{"href": url(path), "rel": "self", "type": _JSON}]
    return {"id": name, "title": spec.title_zh, "description": f"{spec.title_en}. {spec.description}".strip(),
            "itemType": "feature", "crs": SUPPORTED_CRS, "storageCrs": STORAGE_CRS,
            "extent": {"spatial": {"bbox": [[minx, miny, maxx, maxy]], "crs": CRS84}},
            "links": [*links,
                      {"href": url(f"{path}/items"), "rel": "items", "type": _GEOJSON, "title": "Features"},
                      {"href": url(f"{path}/items", {"f": "html"}), "rel": "items", "type": _HTML,
                       "title": "Features (HTML)"},
                      {"href": url(f"{path}/tiles"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                       "type": _JSON, "title": "Vector tiles"}]}


def require_collection(name: str) -> None:
    """A 404 naming the collection when the atlas has no such layer."""
    if name not in view().layers():
        raise NotFound(f"no collection '{name[:40]}'; see /collections")


@ogc.get("/collections")
def collections():
    check_params("f")
    fmt = output_format()
    return respond({"collections": [_collection(n, fmt, listed=True) for n in view().layers()],
                    "crs": SUPPORTED_CRS, "links": self_links("/collections", fmt)}, fmt, title="Collections")


@ogc.get("/collections/<name>")
def collection(name: str):
    require_collection(name)
    check_params("f")
    fmt = output_format()
    return respond(_collection(name, fmt), fmt)


# -- features ---------------------------------------------------------------------------------------
def _crs_arg(name: str) -> str:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return CRS84
    uri = raw.strip().strip("<>")
    if uri not in CRS_LAT_FIRST:
        raise BadParameter(name, f"'{name}' must be one of {', '.join(SUPPORTED_CRS)}")
    return uri


def _output_crs() -> tuple[str, str]:
    """The CRS the answer is in and the datum its coordinates are shifted to (``datum`` for the page's tiles)."""
    crs, datum = _crs_arg("crs"), datum_arg()
    if "crs" in request.args and datum not in ("cgcs2000", "wgs84"):
        raise BadParameter("datum", f"'datum={datum}' has no CRS URI: give either 'crs' or 'datum', not both")
    return crs, datum


def bbox_boxes(raw: str | None, crs: str) -> list[BBox] | None:
    """``bbox`` as longitude/latitude boxes: 4 or 6 numbers (heights ignored), axis order of ``crs``;
    a box whose west edge lies east of its east edge crosses the antimeridian and becomes two.

    >>> bbox_boxes("170,-10,-170,10", CRS84)
    [(170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0)]
    >>> bbox_boxes("36.6,117.0,0,36.7,117.1,100", "http://www.opengis.net/def/crs/EPSG/0/4326")
    [(117.0, 36.6, 117.1, 36.7)]
    """
    if raw is None or raw == "":
        return None
    usage = "minx,miny,maxx,maxy (or six numbers with heights) in the axis order of 'bbox-crs'"
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        raise BadParameter("bbox", f"'bbox' must be numbers: {usage}") from None
    if len(parts) not in (4, 6) or not all(math.isfinite(p) for p in parts):
        raise BadParameter("bbox", f"'bbox' must be four or six numbers: {usage}")
    low, high = (parts[:2], parts[2:]) if len(parts) == 4 else (parts[:2], parts[3:5])
    if CRS_LAT_FIRST[crs]:
        low, high = low[::-1], high[::-1]
    (minx, miny), (maxx, maxy) = low, high
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadParameter("bbox", "'bbox' must have longitudes from -180 to 180 and latitudes from -90 to 90 "
                                   "with the south edge not north of the north edge")
    if minx > maxx:
        return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
    return [(minx, miny, maxx, maxy)]


def _datetime_arg() -> None:
    if "datetime" in request.args:
        raise BadParameter("datetime", "'datetime' is not supported: the features of this atlas carry no time; "
                                       "leave it out")


def _page(name: str, boxes: list[BBox] | None, *, limit: int, offset: int) -> tuple[gpd.GeoDataFrame, int]:
    """One page over the features in any of ``boxes``, box after box, and how many there are."""
    if boxes is None or len(boxes) == 1:
        return view().page(name, boxes[0] if boxes else None, limit=limit, offset=offset)
    pages: list[gpd.GeoDataFrame] = []
    matched = taken = 0
    for box in boxes:
        count = view().page(name, box, limit=0, offset=0)[1]
        start = max(offset - matched, 0)
        if start < count and taken < limit:
            pages.append(view().page(name, box, limit=limit - taken, offset=start)[0])
            taken += len(pages[-1])
        matched += count
    found = pd.concat(pages, ignore_index=True) if pages else view().page(name, boxes[0], limit=0, offset=0)[0]
    return gpd.GeoDataFrame(found, geometry=found.geometry.name, crs=found.crs), matched


def _in_crs(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Coordinates in the axis order of ``crs`` (latitude first for EPSG:4326 and EPSG:4490)."""
    if not CRS_LAT_FIRST[crs] or gdf.empty:
        return gdf
    return gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda xy: xy[:, ::-1]))


def _content_crs(crs: str) -> dict[str, str]:
    return {"Content-Crs": f"<{crs}>"}


@ogc.get("/collections/<name>/items")
def items(name: str):
    require_collection(name)
    check_params(*_ITEMS_PARAMS)
    fmt = output_format(data=_GEOJSON)
    settings = current_app.config["PLACEGEO"]
    limit = int_arg("limit", settings.default_items, 1, settings.max_items)
    offset = int_arg("offset", 0, 0, 10**8)
    crs, datum = _output_crs()
    if request.args.get("bbox-crs") and not request.args.get("bbox"):
        raise BadParameter("bbox-crs", "'bbox-crs' was given without 'bbox'; give both or neither")
    boxes = bbox_boxes(request.args.get("bbox"), _crs_arg("bbox-crs"))
    _datetime_arg()
    found, matched = _page(name, boxes, limit=limit, offset=offset)
    page = _in_crs(shift(found, datum), crs)
    spec = view().registry[name]
    path = f"/collections/{name}/items"
    args = request.args.to_dict()
    links = [*self_links(path, fmt, _GEOJSON, args)]
    for rel, start in (("next", offset + limit), ("prev", max(offset - limit, 0))):
        if (rel == "next" and start < matched) or (rel == "prev" and offset > 0):
            links.append({"href": url(path, {**args, "offset": str(start), "limit": str(limit)}), "rel": rel,
                          "type": _GEOJSON})
    links.append({"href": url(f"/collections/{name}"), "rel": "collection", "type": _JSON})
    doc = {"type": "FeatureCollection", "features": features(page, spec.primary_key),
           "numberMatched": matched, "numberReturned": len(page),
           "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    return respond(doc, fmt, data=_GEOJSON, title=spec.title_zh, headers=_content_crs(crs))


@ogc.get("/collections/<name>/items/<fid>")
def item(name: str, fid: str):
    require_collection(name)
    check_params(*_ITEM_PARAMS)
    fmt = output_format(data=_GEOJSON)
    crs, datum = _output_crs()
    spec = view().registry[name]
    row = view().feature(name, fid)
    if row.empty:
        raise NotFound(f"no feature '{fid[:40]}' in '{name}'")
    feature = features(_in_crs(shift(row.iloc[:1], datum), crs), spec.primary_key)[0]
    feature["links"] = [*self_links(f"/collections/{name}/items/{fid}", fmt, _GEOJSON),
                        {"href": url(f"/collections/{name}"), "rel": "collection", "type": _JSON}]
    return respond(feature, fmt, data=_GEOJSON, title=str(feature["properties"].get(spec.display_field, fid)),
                   headers=_content_crs(crs))
