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
from placegeo.errors import BadParameter, CityError, SearchError
from placegeo.pinyin import romanize, to_pinyin
from placegeo.search import QUERY_TEXT_MAX
from placegeo.web.geojson import clean, features, geojson_response, records, url
from placegeo.web.params import datum_arg, float_arg, int_arg, text_arg
from placegeo.web.settings import TILES
from placegeo.web.state import AtlasView, atlases, view

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
    served = atlases()
    return jsonify({"tiles": tiles, "name": view().meta.get("name", ""),
                    "extent": view().meta.get("extent", CHINA_EXTENT), "city": _city(),
                    "base": request.script_root, "default_city": served.default.city_id,
                    "cities": [{"id": c, **(served.views[c].city_info() or {})} for c in served.cities],
                    "vector_tiles_above": settings.vector_tiles_above})


def _city() -> dict | None:
    """The map's title and the relief network's name, from the atlas's city profile (None without one)."""
    from placegeo.cities import city_of_atlas

    def make() -> dict | None:
        try:
            city = city_of_atlas(view().atlas)
        except CityError:
            return None
        return {"name": city.name, "title_zh": city.map_title, "title_en": f"{city.names['en']} place names",
                "relief_zh": city.relief_network["name"]}

    return view().state.computed.get_or_make("city", make)


@api.get("/search")
def search():
    # typeahead asks the same few prefixes again and again: answers are kept, keyed by the query string
    settings = current_app.config["PLACEGEO"]
    views = atlases().scope(text_arg("city", 40))  # one city, or several: see AtlasSet.scope
    cache = atlases().answers(views)
    key = request.query_string.decode("latin-1")
    found = cache.get(key)
    if found is not None:
        return Response(found, mimetype="application/geo+json")
    resp = _search(views, settings.max_search_limit)
    if resp.status_code == 200:
        cache[key] = resp.get_data()
    return resp


def _search(views: list[AtlasView], max_limit: int) -> Response:
    v = views[0]
    q = text_arg("q", QUERY_TEXT_MAX, required=True)
    limit = int_arg("limit", 10, 1, max_limit)
    layer = text_arg("layer", 40)
    if layer and layer not in v.registry:
        raise BadParameter("layer", f"'layer' must be one of {', '.join(sorted(v.registry))}")
    category = text_arg("category", 20)
    district = text_arg("district", 6)
    if district and not re.fullmatch(r"\d{6}", district):
        raise BadParameter("district", "'district' must be a 6-digit code")
    datum = datum_arg()
    # the best of every city's best (scores of one index formula compare across atlases); on a tie,
    # the cities take turns
    try:
        ranked = [(-h.score, i, h, w) for w in views for i, h in enumerate(
            w.index.query(q, limit=limit, layer=layer, category=category, district=district))]
    except SearchError as exc:  # the other parameters are checked above: what is left is the query's
        raise BadParameter("q", f"'q': {exc}") from exc
    scored = [(h, w) for *_, h, w in sorted(ranked, key=lambda r: r[:2])[:limit]]
    hits = [h for h, _ in scored]
    # built by hand, not through a GeoDataFrame: this endpoint answers every keystroke
    lon = np.array([h.record.lon for h in hits], dtype="float64")
    lat = np.array([h.record.lat for h in hits], dtype="float64")
    if datum not in ("cgcs2000", "wgs84") and len(hits):
        lon, lat = convert(lon, lat, src="cgcs2000", dst=datum)
    found = []
    for (h, w), x, y in zip(scored, lon.tolist(), lat.tolist(), strict=True):
        r = h.record
        found.append({"type": "Feature", "id": r.id,
                      "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}
                      if math.isfinite(x) else None,
                      "properties": {"id": r.id, "name": r.name, "pinyin": to_pinyin(r.name, known=r.syllables),
                                     "romanized": romanize(r.name, known=r.syllables), "layer": r.layer,
                                     "layer_title": v.titles.get(r.layer, ""), "category": r.category,
                                     "district_code": r.district_code, "town_code": r.town_code,
                                     "match": h.match, "sample": r.sample, "city": w.city_info()}})
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
                    "links": {"items": url(f"/collections/{name}/items"),
                              "download": url(f"/download/{name}.geojson"),
                              "tiles": url(f"/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}")}})
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
    def make() -> dict:
        result = read_coverage(v.atlas)
        target_min = result.attrs["target_min"]
        table = coverage_summary(result, by=f"{by}_code", target_min=target_min, names=v.names)
        rule = result.attrs["rule"]
        return {"method": result.attrs["method"], "facility_layer": result.attrs["facility_layer"],
                "target_min": target_min, "thresholds_min": list(rule.thresholds_min), "rule": rule.rule,
                "speed_kmh": rule.speed_kmh, "parameters": table.attrs.get("parameters", {}),
                "atlas_revision": result.attrs["atlas_revision"], "computed_at": result.attrs["computed_at"],
                **_rests_on(table.attrs), "areas": records(table)}

    return jsonify(v.state.computed.get_or_make(("coverage", by), make))  # per revision: read and summed once


def _rests_on(attrs) -> dict:
    """Whether a result rests on sample data, which inputs do, and the notice the page shows."""
    from placegeo.provenance import sample_notice

    return {"sample": bool(attrs.get("sample")), "sample_inputs": list(attrs.get("sample_inputs", [])),
            "notice": sample_notice(attrs)}


@api.get("/cemetery")
def cemetery():
    from placegeo.cemetery import PARAM_SOURCES, BurialParams, meets_demand

    v = view()
    horizon = int_arg("horizon", 10, 1, 50)
    target = float_arg("eco_share_target", 0.0, 1.0, required=False)
    params = BurialParams() if target is None else BurialParams().with_(eco_share_target=target)

    def make() -> dict:  # half a second for 50 years: computed once per revision and question
        table = meets_demand(v.layer("cemeteries"), v.layer("population_units"), horizon_years=horizon,
                             params=params, names=v.names)
        return {"horizon_years": horizon, "start_year": clean(table.attrs["start_year"]),
                "method": table.attrs["method"], "parameters": table.attrs["parameters"],
                "param_sources": PARAM_SOURCES, "atlas_revision": v.state.revision, **_rests_on(table.attrs),
                "areas": records(table)}

    return jsonify(v.state.computed.get_or_make(("cemetery", horizon, target), make))


@api.get("/indicators")
def indicators():
    """The bureau's planning indicators (for the city, or per district or town), with what they rest on."""
    from placegeo.indicators import as_document, compute_indicators

    by = text_arg("by", 10) or "city"
    if by not in ("city", "district", "town"):
        raise BadParameter("by", "'by' must be city, district or town")
    v = view()
    # seconds of work: once per revision of the atlas
    return jsonify(v.state.computed.get_or_make(
        ("indicators", by), lambda: as_document(compute_indicators(v.atlas, by=None if by == "city" else by))))


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
    # one answer per revision and moment: the page asks it again and again
    return jsonify(v.state.computed.get_or_make(
        ("open", layer, weekday, hour),
        lambda: open_keys(v.layer(layer), key=v.registry[layer].primary_key, weekday=weekday, hour=hour)))


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
