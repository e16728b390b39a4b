"""The JSON API of the web map: search, places, reverse lookup, layers and analysis results."""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import NotFound

from placegeo.atlas import CHINA_EXTENT
from placegeo.crs import convert, shift_datum
from placegeo.errors import BadParameter, CityError
from placegeo.pinyin import romanize, to_pinyin
from placegeo.web.geojson import clean, features, geojson_response, records
from placegeo.web.params import datum_arg, float_arg, int_arg, text_arg
from placegeo.web.settings import TILES
from placegeo.web.state import view

__all__ = ["api"]

api = Blueprint("api", __name__, url_prefix="/api")
HIDDEN_COLLECTIONS = {"walk_edges"}  # large and technical: available to download, not drawn


@api.get("/health")
def health():
    return jsonify({"ok": True})


@api.get("/config")
def config():
    settings = current_app.config["PLACEGEO"]
    tiles = TILES.get(settings.tiles)
    if tiles:
        tiles = {**tiles, "url": tiles["url"].replace("{key}", settings.tianditu_key)}
    return jsonify({"tiles": tiles, "name": view().meta.get("name", ""),
                    "extent": view().meta.get("extent", CHINA_EXTENT), "city": _city(),
                    "vector_tiles_above": settings.vector_tiles_above})


def _city() -> dict | None:
    """The map's title and the relief network's name, from the atlas's city profile (None without one)."""
    from placegeo.cities import city_of_atlas

    computed = view().state.computed
    if "city" not in computed:
        try:
            city = city_of_atlas(view().atlas)
        except CityError:
            computed["city"] = None
        else:
            computed["city"] = {"name": city.name, "title_zh": city.map_title,
                                "title_en": f"{city.names['en']} place names",
                                "relief_zh": city.relief_network["name"]}
    return computed["city"]


@api.get("/search")
def search():
    # typeahead asks the same few prefixes again and again: answers are kept, keyed by the query string
    settings = current_app.config["PLACEGEO"]
    cache = view().state.answers
    key = request.query_string.decode("latin-1")
    if settings.search_cache and key in cache:
        cache.move_to_end(key)
        return Response(cache[key], mimetype="application/geo+json")
    resp = _search(settings.max_search_limit)
    if settings.search_cache and resp.status_code == 200:
        cache[key] = resp.get_data()
        if len(cache) > settings.search_cache:
            cache.popitem(last=False)
    return resp


def _search(max_limit: int) -> Response:
    v = view()
    q = text_arg("q", 64, required=True)
    limit = int_arg("limit", 10, 1, max_limit)
    layer = text_arg("layer", 40)
    if layer and layer not in v.registry:
        raise BadParameter("layer", f"'layer' must be one of {', '.join(sorted(v.registry))}")
    category = text_arg("category", 20)
    district = text_arg("district", 6)
    if district and not re.fullmatch(r"\d{6}", district):
        raise BadParameter("district", "'district' must be a 6-digit code")
    datum = datum_arg()
    hits = v.index.query(q, limit=limit, layer=layer, category=category, district=district)
    # built by hand, not through a GeoDataFrame: this endpoint answers every keystroke
    lon = np.array([h.record.lon for h in hits], dtype="float64")
    lat = np.array([h.record.lat for h in hits], dtype="float64")
    if datum not in ("cgcs2000", "wgs84") and len(hits):
        lon, lat = convert(lon, lat, src="cgcs2000", dst=datum)
    found = []
    for h, x, y in zip(hits, lon.tolist(), lat.tolist(), strict=True):
        r = h.record
        found.append({"type": "Feature", "id": r.id,
                      "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}
                      if math.isfinite(x) else None,
                      "properties": {"id": r.id, "name": r.name, "pinyin": to_pinyin(r.name),
                                     "romanized": romanize(r.name), "layer": r.layer,
                                     "layer_title": v.titles.get(r.layer, ""), "category": r.category,
                                     "district_code": r.district_code, "town_code": r.town_code,
                                     "match": h.match, "sample": r.sample}})
    return geojson_response({"type": "FeatureCollection", "query": q, "datum": datum, "features": found})


@api.get("/places/<path:place_id>")
def place(place_id: str):
    v = view()
    layer, _, key = place_id.partition(":")
    if layer not in v.registry or layer not in v.layers() or not key or len(key) > 40:
        raise NotFound(f"no place '{place_id[:60]}'")
    spec = v.registry[layer]
    row = v.feature(layer, key)
    if row.empty:
        raise NotFound(f"no place '{place_id[:60]}'")
    feature = features(row.iloc[:1], spec.primary_key)[0]
    p = feature["properties"]
    point = row.geometry.iloc[0].representative_point()
    gcj = shift_datum(gpd.GeoDataFrame(geometry=[point], crs=4490), src="cgcs2000", dst="gcj02").geometry.iloc[0]
    p.update({
        "id": place_id, "layer": layer, "layer_title": spec.title_zh, "layer_title_en": spec.title_en,
        "pinyin": p.get("pinyin") or to_pinyin(str(p.get("name", ""))),
        "romanized": romanize(str(p.get("name", ""))),
        "district_name": v.names.get(p.get("district_code") or "", ""),
        "town_name": v.names.get(p.get("town_code") or "", ""),
        "lon": round(point.x, 7), "lat": round(point.y, 7),
        "lon_gcj02": round(gcj.x, 7), "lat_gcj02": round(gcj.y, 7),
        "attribution": str(v.info.loc[layer, "attribution"]) if layer in v.info.index else "",
    })
    return jsonify(feature)


@api.get("/reverse")
def reverse():
    from placegeo.search import reverse_lookup

    lon = float_arg("lon", -180, 180)
    lat = float_arg("lat", -90, 90)
    assert lon is not None and lat is not None
    return jsonify(reverse_lookup(view().atlas, lon, lat, datum=datum_arg(), index=view().index))


@api.get("/layers")
def layers():
    v = view()
    out = []
    summary = v.summary()
    for name in v.layers():
        spec = v.registry[name]
        s = summary.loc[name]
        out.append({"name": name, "title_zh": spec.title_zh, "title_en": spec.title_en,
                    "geometry": spec.geometry, "features": int(s["features"]),
                    "sample_share": float(s["sample_share"]), "sources": s["sources"],
                    "attribution": s["attribution"], "drawn": name not in HIDDEN_COLLECTIONS,
                    "links": {"items": f"/collections/{name}/items", "download": f"/download/{name}.geojson",
                              "tiles": f"/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"}})
    return jsonify({"layers": out})


@api.get("/coverage")
def coverage():
    """The coverage results stored in the atlas, summarised with the parameters they were computed with."""
    from placegeo.coverage import coverage_summary, read_coverage

    by = request.args.get("by", "district")
    if by not in ("district", "town"):
        raise BadParameter("by", "'by' must be district or town")
    v = view()
    if "coverage_units" not in v.layers():
        raise NotFound("no coverage results in this atlas; run `placegeo coverage --write`")
    result = read_coverage(v.atlas)
    target_min = result.attrs["target_min"]
    table = coverage_summary(result, by=f"{by}_code", target_min=target_min, names=v.names)
    rule = result.attrs["rule"]
    return jsonify({"method": result.attrs["method"], "facility_layer": result.attrs["facility_layer"],
                    "target_min": target_min, "thresholds_min": list(rule.thresholds_min), "rule": rule.rule,
                    "speed_kmh": rule.speed_kmh, "atlas_revision": result.attrs["atlas_revision"],
                    "computed_at": result.attrs["computed_at"], "sample": result.attrs["sample"],
                    "areas": records(table)})


@api.get("/cemetery")
def cemetery():
    from placegeo.cemetery import BurialParams, meets_demand

    v = view()
    horizon = int_arg("horizon", 10, 1, 50)
    target = float_arg("eco_share_target", 0.0, 1.0, required=False)
    params = BurialParams() if target is None else BurialParams().with_(eco_share_target=target)
    table = meets_demand(v.layer("cemeteries"), v.layer("population_units"), horizon_years=horizon,
                         params=params, names=v.names)
    return jsonify({"horizon_years": horizon, "start_year": clean(table.attrs["start_year"]),
                    "areas": records(table)})


@api.get("/open")
def open_now():
    """Which points of a layer are open at a weekday (1 = Monday) and hour: open, closed, unknown keys."""
    from placegeo.hours import open_keys

    v = view()
    layer = text_arg("layer", 40) or "relief_points"
    if layer not in v.registry:
        raise BadParameter("layer", f"'layer' must be one of {', '.join(sorted(v.registry))}")
    weekday = int_arg("weekday", 0, 1, 7)
    if weekday == 0:
        raise BadParameter("weekday", "'weekday' is required: 1 (Monday) to 7 (Sunday)")
    hour = float_arg("hour", 0.0, 24.0)
    assert hour is not None
    key = ("open", layer, weekday, hour)
    computed = v.state.computed
    if key not in computed:  # one answer per revision and moment: the page asks it again and again
        computed[key] = open_keys(v.layer(layer), key=v.registry[layer].primary_key, weekday=weekday, hour=hour)
    return jsonify(computed[key])


@api.get("/namecheck")
def namecheck():
    """A proposed name checked by the place-name regulations (only where PLACEGEO_NAMECHECK=1)."""
    from placegeo.namecheck import check_name

    if not current_app.config["PLACEGEO"].namecheck:
        raise NotFound("the name check is not offered on this site")
    name = text_arg("name", 40, required=True)
    assert name is not None
    return jsonify(check_name(view().index, name, feature_type=text_arg("type", 20),
                              area_code=text_arg("area", 12)))


@api.get("/openapi.json")
def openapi():
    from placegeo.web.openapi import spec

    return jsonify(spec(view().layers()))
