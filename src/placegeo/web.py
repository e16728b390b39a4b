"""The public place-name web map: a Flask app factory, a JSON API and OGC API - Features.

``create_app(settings)`` builds the app; nothing is built at import time. Settings come from a
:class:`WebSettings`, a dict, or ``PLACEGEO_``-prefixed environment variables
(``PLACEGEO_ATLAS``, ``PLACEGEO_TILES``, ``PLACEGEO_EXPORT_DIR`` …). The site is read-only: only GET
and HEAD are answered, every parameter is checked where it enters (a 400 naming it), limits are
capped, errors never carry a traceback or a path, downloads come only from the export folder, and
every response carries security headers. Production: ``gunicorn -w 4 'placegeo.web:create_app()'``
or ``gunicorn -w 4 -c webmap/gunicorn.conf.py wsgi:app`` from ``webmap/``.

The atlas may be a GeoPackage or a PostGIS URL. Workers keep what they read per revision of the
atlas and check the revision every ``refresh_ms``, so imports show without a restart; with PostGIS,
``/collections/{id}/items`` goes to the database and its spatial index instead of worker memory.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from flask import Flask, Response, g, has_request_context, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException

from placegeo.atlas import CHINA_EXTENT, Atlas
from placegeo.crs import convert, normalize_datum, shift_datum
from placegeo.errors import DatumError, PlacegeoError
from placegeo.pinyin import romanize, to_pinyin
from placegeo.registry import load_registry

__all__ = ["BadParameter", "WebSettings", "create_app"]

log = logging.getLogger("placegeo.web")

TILES = {
    "none": None,
    "osm": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "datum": "wgs84",
            "attribution": "© OpenStreetMap contributors"},
    "tianditu": {"url": "https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                        "&TILECOL={x}&tk={key}", "datum": "wgs84", "attribution": "© 天地图"},
    "amap": {"url": "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}"
                    "&z={z}", "datum": "gcj02", "attribution": "© 高德地图"},
}
DOWNLOAD_FORMATS = {"gpkg": "gpkg", "shp.zip": "shp", "geojson": "geojson", "kml": "kml", "csv": "csv"}
DOWNLOAD_CRS = {"4490": "EPSG:4490", "4326": "EPSG:4326", "gcj02": "gcj02"}
HIDDEN_COLLECTIONS = {"walk_edges"}  # large and technical: available to download, not drawn


def _webmap_dir() -> Path:
    here = Path(__file__).resolve().parent
    checkout = here.parent.parent / "webmap"
    return checkout if (checkout / "templates").exists() else here / "_webmap"


@dataclass(frozen=True)
class WebSettings:
    """Settings of the web map; each can be set by an environment variable ``PLACEGEO_<NAME>``."""

    atlas: str = "atlas.gpkg"
    export_dir: str = "exports/web"
    tiles: str = "none"  # none, osm, tianditu or amap
    tianditu_key: str = ""
    max_search_limit: int = 50
    search_cache: int = 4096  # answers kept per worker and atlas revision; 0: none
    refresh_ms: int = 1000  # how often a worker checks whether the atlas changed (an import); 0: every request
    max_items: int = 5000
    default_items: int = 100

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> WebSettings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f"PLACEGEO_{f.name.upper()}"
            if key in env:
                if f.type == "int" and not re.fullmatch(r"\d{1,9}", env[key].strip()):
                    raise ValueError(f"{key}={env[key]!r}; give a whole number")
                values[f.name] = int(env[key]) if f.type == "int" else env[key]
        values.update({k.lower(): v for k, v in overrides.items()})
        settings = cls(**values)
        if settings.tiles not in TILES:
            raise ValueError(f"PLACEGEO_TILES={settings.tiles!r}; use one of {', '.join(TILES)}")
        return settings


class BadParameter(PlacegeoError, ValueError):
    """A request parameter that cannot be used; answered with 400 and the parameter's name."""

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        super().__init__(message)


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw):
        raise BadParameter(name, f"'{name}' must be a whole number from {lo} to {hi}")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadParameter(name, f"'{name}' must be from {lo} to {hi}")
    return value


def _float(name: str, lo: float, hi: float, required: bool = True) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise BadParameter(name, f"'{name}' is required")
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"'{name}' must be a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadParameter(name, f"'{name}' must be from {lo} to {hi}")
    return value


def _datum(name: str = "datum") -> str:
    raw = request.args.get(name, "cgcs2000")
    try:
        return normalize_datum(raw)
    except DatumError:
        raise BadParameter(name, f"'{name}' must be one of wgs84, cgcs2000, gcj02, bd09") from None


def _bbox() -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox")
    if not raw:
        return None
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        raise BadParameter("bbox", "'bbox' must be minlon,minlat,maxlon,maxlat") from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise BadParameter("bbox", "'bbox' must be four numbers: minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadParameter("bbox", "'bbox' must be minlon,minlat,maxlon,maxlat with min <= max")
    return minx, miny, maxx, maxy


def _text(name: str, max_len: int, required: bool = False) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise BadParameter(name, f"'{name}' is required")
        return None
    if len(raw) > max_len:
        raise BadParameter(name, f"'{name}' must be at most {max_len} characters")
    return raw.strip()


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _features(gdf: gpd.GeoDataFrame, id_col: str) -> list[dict[str, Any]]:
    # GEOS writes the GeoJSON (same text as GeoSeries.to_json, ~20x faster for points)
    texts = shapely.to_geojson(np.asarray(gdf.geometry.values)).tolist() if len(gdf) else []
    shapes = json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")
    names = [c for c in gdf.columns if c != gdf.geometry.name]
    columns = [[_clean(v) for v in gdf[c].tolist()] for c in names]  # column by column: no row Series
    out = []
    for i, geom in enumerate(shapes):
        p = {name: col[i] for name, col in zip(names, columns, strict=True)}
        out.append({"type": "Feature", "id": p.get(id_col), "geometry": geom, "properties": p})
    return out


@dataclass
class _State:
    """What a worker has read from one revision of the atlas; replaced whole when the atlas changes."""

    revision: str
    layer_names: list[str]
    names: dict[str, str]
    info: pd.DataFrame
    meta: dict[str, Any]
    summary: pd.DataFrame | None = None  # feature counts, read on first use
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    index: Any = None  # the SearchIndex, loaded on first use
    answers: OrderedDict[str, bytes] = field(default_factory=OrderedDict)  # search answers by query string


class _Store:
    """What the app reads: the atlas and, per revision of it, its layers (in CGCS2000) and search index.

    Every ``refresh_ms`` a worker compares the atlas's revision with the one it has read; when an
    import has changed the atlas it drops what it had and reads again, so a running server shows new
    data without a restart. A request keeps the state it started with (:meth:`begin`), and each layer
    is read whole in one go, so a response shows a layer as it was before an import or after it,
    never a mix.
    """

    def __init__(self, settings: WebSettings):
        self.settings = settings
        self.atlas = Atlas(settings.atlas)
        self.registry = load_registry()
        self.titles = {name: spec.title_zh for name, spec in self.registry.items()}
        self.titles["admin_codes"] = "村（居）委会"
        self._lock = threading.Lock()
        self._state = self._read_state()
        self._checked = time.monotonic()

    def _read_state(self) -> _State:
        revision = self.atlas.revision  # first: a change made while reading shows as a newer revision
        return _State(revision, [n for n in self.atlas.layers() if n in self.registry],
                      dict(self.atlas.codes[["code", "name"]].itertuples(index=False)),
                      self.atlas.layer_info().set_index("name"), self.atlas.meta)

    def begin(self) -> _State:
        """The state for a new request: re-read when the atlas changed since the last check."""
        now = time.monotonic()
        if now - self._checked >= self.settings.refresh_ms / 1000:
            with self._lock:
                if now - self._checked >= self.settings.refresh_ms / 1000:
                    self._checked = now
                    if self.atlas.revision != self._state.revision:
                        self._state = self._read_state()
        return self._state

    @property
    def state(self) -> _State:
        return (g.get("placegeo_state") or self._state) if has_request_context() else self._state

    @property
    def names(self) -> dict[str, str]:
        return self.state.names

    @property
    def meta(self) -> dict[str, Any]:
        return self.state.meta

    def summary(self) -> pd.DataFrame:
        state = self.state
        if state.summary is None:
            state.summary = self.atlas.summary().set_index("layer")
        return state.summary

    @property
    def info(self) -> pd.DataFrame:
        return self.state.info

    def layers(self) -> list[str]:
        return self.state.layer_names

    def layer(self, name: str) -> gpd.GeoDataFrame:
        state = self.state
        if name not in state.layers:
            state.layers[name] = self.atlas.read(name)
        return state.layers[name]

    # A GeoPackage layer is answered from this worker's copy (read once per revision, STRtree);
    # PostGIS answers from its indexes, so a large layer is never read whole into a worker.
    def page(self, name: str, bbox, *, limit: int, offset: int) -> tuple[gpd.GeoDataFrame, int]:
        """The features intersecting ``bbox`` (all when None), one page of them, and how many there are."""
        if self.atlas.backend == "postgis":
            return self.atlas.query(name, bbox=bbox, limit=limit, offset=offset)
        gdf = self.layer(name)
        if bbox is None:
            return gdf.iloc[offset: offset + limit], len(gdf)
        # positions in layer order; only the page's rows are taken from the (large) frame
        hits = np.sort(gdf.sindex.query(shapely.box(*bbox), predicate="intersects"))
        return gdf.iloc[hits[offset: offset + limit]], len(hits)

    def feature(self, name: str, key: str) -> gpd.GeoDataFrame:
        """The feature of a layer with primary key ``key`` (no rows if there is none)."""
        if self.atlas.backend == "postgis":
            return self.atlas.query(name, key=key, limit=1)[0]
        gdf = self.layer(name)
        return gdf[gdf[self.registry[name].primary_key].astype(str) == key]

    @property
    def index(self):
        state = self.state
        if state.index is None:
            from placegeo.search import SearchIndex

            state.index = SearchIndex.for_atlas(self.atlas)
        return state.index


def _shift(gdf: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    return gdf if datum in ("cgcs2000", "wgs84") else shift_datum(gdf, src="cgcs2000", dst=datum)


def create_app(settings: WebSettings | dict[str, Any] | None = None) -> Flask:
    """Build the web map app.

    Parameters
    ----------
    settings : WebSettings or dict, optional
        A dict overrides the ``PLACEGEO_`` environment variables key by key (``{"atlas": "x.gpkg"}``).
    """
    if not isinstance(settings, WebSettings):
        settings = WebSettings.from_env(**(settings or {}))
    base = _webmap_dir()
    app = Flask("placegeo.web", template_folder=str(base / "templates"), static_folder=str(base / "static"),
                static_url_path="/static")
    app.config["PLACEGEO"] = settings
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    store = _Store(settings)
    app.extensions["placegeo"] = store

    @app.before_request
    def read_only():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return _error(405, "this site is read-only: only GET requests are answered", None)
        g.placegeo_state = store.begin()
        return None

    @app.after_request
    def headers(resp: Response) -> Response:
        tiles = TILES.get(settings.tiles)
        img = "'self' data:" + (" https:" if tiles else "")
        resp.headers["Content-Security-Policy"] = (
            f"default-src 'self'; img-src {img}; style-src 'self'; script-src 'self'; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        return resp

    @app.errorhandler(BadParameter)
    def bad_parameter(exc: BadParameter):
        return _error(400, str(exc), exc.parameter)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _error(exc.code or 500, exc.description or exc.name, None)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return _error(500, "internal error; the request was logged", None)

    # -- page -------------------------------------------------------------------------------------
    @app.get("/")
    def page():
        return render_template("index.html")

    @app.get("/api/health")
    def health():
        return jsonify({"ok": True})

    @app.get("/api/config")
    def config():
        tiles = TILES.get(settings.tiles)
        if tiles:
            tiles = {**tiles, "url": tiles["url"].replace("{key}", settings.tianditu_key)}
        return jsonify({"tiles": tiles, "name": store.meta.get("name", ""),
                        "extent": store.meta.get("extent", CHINA_EXTENT)})

    # -- API --------------------------------------------------------------------------------------
    @app.get("/api/search")
    def api_search():
        # typeahead asks the same few prefixes again and again: answers are kept, keyed by the query string
        cache = store.state.answers
        key = request.query_string.decode("latin-1")
        if settings.search_cache and key in cache:
            cache.move_to_end(key)
            return Response(cache[key], mimetype="application/geo+json")
        resp = _search()
        if settings.search_cache and resp.status_code == 200:
            cache[key] = resp.get_data()
            if len(cache) > settings.search_cache:
                cache.popitem(last=False)
        return resp

    def _search() -> Response:
        q = _text("q", 64, required=True)
        limit = _int("limit", 10, 1, settings.max_search_limit)
        layer = _text("layer", 40)
        if layer and layer not in store.registry:
            raise BadParameter("layer", f"'layer' must be one of {', '.join(sorted(store.registry))}")
        category = _text("category", 20)
        district = _text("district", 6)
        if district and not re.fullmatch(r"\d{6}", district):
            raise BadParameter("district", "'district' must be a 6-digit code")
        datum = _datum()
        hits = store.index.query(q, limit=limit, layer=layer, category=category, district=district)
        # built by hand, not through a GeoDataFrame: this endpoint answers every keystroke
        lon = np.array([h.record.lon for h in hits], dtype="float64")
        lat = np.array([h.record.lat for h in hits], dtype="float64")
        if datum not in ("cgcs2000", "wgs84") and len(hits):
            lon, lat = convert(lon, lat, src="cgcs2000", dst=datum)
        features = []
        for h, x, y in zip(hits, lon.tolist(), lat.tolist(), strict=True):
            r = h.record
            features.append({"type": "Feature", "id": r.id,
                             "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]}
                             if math.isfinite(x) else None,
                             "properties": {"id": r.id, "name": r.name, "pinyin": to_pinyin(r.name),
                                            "romanized": romanize(r.name), "layer": r.layer,
                                            "layer_title": store.titles.get(r.layer, ""), "category": r.category,
                                            "district_code": r.district_code, "town_code": r.town_code,
                                            "match": h.match, "sample": r.sample}})
        return _geojson({"type": "FeatureCollection", "query": q, "datum": datum, "features": features})

    @app.get("/api/places/<path:place_id>")
    def api_place(place_id: str):
        layer, _, key = place_id.partition(":")
        if layer not in store.registry or layer not in store.layers() or not key or len(key) > 40:
            return _error(404, f"no place '{place_id[:60]}'", None)
        spec = store.registry[layer]
        row = store.feature(layer, key)
        if row.empty:
            return _error(404, f"no place '{place_id[:60]}'", None)
        feature = _features(row.iloc[:1], spec.primary_key)[0]
        p = feature["properties"]
        point = row.geometry.iloc[0].representative_point()
        gcj = shift_datum(gpd.GeoDataFrame(geometry=[point], crs=4490), src="cgcs2000", dst="gcj02").geometry.iloc[0]
        p.update({
            "id": place_id, "layer": layer, "layer_title": spec.title_zh, "layer_title_en": spec.title_en,
            "pinyin": p.get("pinyin") or to_pinyin(str(p.get("name", ""))),
            "romanized": romanize(str(p.get("name", ""))),
            "district_name": store.names.get(p.get("district_code") or "", ""),
            "town_name": store.names.get(p.get("town_code") or "", ""),
            "lon": round(point.x, 7), "lat": round(point.y, 7),
            "lon_gcj02": round(gcj.x, 7), "lat_gcj02": round(gcj.y, 7),
            "attribution": str(store.info.loc[layer, "attribution"]) if layer in store.info.index else "",
        })
        return jsonify(feature)

    @app.get("/api/reverse")
    def api_reverse():
        from placegeo.search import reverse_lookup

        lon = _float("lon", -180, 180)
        lat = _float("lat", -90, 90)
        assert lon is not None and lat is not None
        return jsonify(reverse_lookup(store.atlas, lon, lat, datum=_datum(), index=store.index))

    @app.get("/api/layers")
    def api_layers():
        out = []
        summary = store.summary()
        for name in store.layers():
            spec = store.registry[name]
            s = summary.loc[name]
            out.append({"name": name, "title_zh": spec.title_zh, "title_en": spec.title_en,
                        "geometry": spec.geometry, "features": int(s["features"]),
                        "sample_share": float(s["sample_share"]), "sources": s["sources"],
                        "attribution": s["attribution"], "drawn": name not in HIDDEN_COLLECTIONS,
                        "links": {"items": f"/collections/{name}/items", "download": f"/download/{name}.geojson"}})
        return jsonify({"layers": out})

    @app.get("/api/coverage")
    def api_coverage():
        from placegeo.coverage import CoverageRule, coverage_summary

        by = request.args.get("by", "district")
        if by not in ("district", "town"):
            raise BadParameter("by", "'by' must be district or town")
        if "coverage_units" not in store.layers():
            return _error(404, "no coverage results in this atlas; run `placegeo coverage --write`", None)
        units = store.layer("coverage_units")
        result = units.assign(covered_15min=units["covered"].fillna(False).astype(bool))
        result.attrs["rule"] = CoverageRule(thresholds_min=(15,))
        table = coverage_summary(result, by=f"{by}_code", target_min=15, names=store.names)
        return jsonify({"method": str(units["method"].iloc[0]) if len(units) else "",
                        "facility_layer": str(units["facility_layer"].iloc[0]) if len(units) else "",
                        "areas": [{k: _clean(v) for k, v in r.items()}
                                  for r in table.reset_index().to_dict(orient="records")]})

    @app.get("/api/cemetery")
    def api_cemetery():
        from placegeo.cemetery import BurialParams, meets_demand

        horizon = _int("horizon", 10, 1, 50)
        target = _float("eco_share_target", 0.0, 1.0, required=False)
        params = BurialParams() if target is None else BurialParams().with_(eco_share_target=target)
        table = meets_demand(store.layer("cemeteries"), store.layer("population_units"), horizon_years=horizon,
                             params=params, names=store.names)
        return jsonify({"horizon_years": horizon, "start_year": table.attrs["start_year"],
                        "areas": [{k: _clean(v) for k, v in r.items()}
                                  for r in table.reset_index().to_dict(orient="records")]})

    @app.get("/api/openapi.json")
    def openapi():
        from placegeo.web_openapi import spec

        return jsonify(spec(store.layers()))

    # -- OGC API - Features -----------------------------------------------------------------------
    @app.get("/ogc")
    def landing():
        return jsonify({"title": store.meta.get("name") or "placegeo atlas",
                        "description": "OGC API - Features of the placegeo atlas (read-only)",
                        "links": [
                            {"href": _url("/ogc"), "rel": "self", "type": "application/json"},
                            {"href": _url("/api/openapi.json"), "rel": "service-desc",
                             "type": "application/vnd.oai.openapi+json;version=3.0"},
                            {"href": _url("/conformance"), "rel": "conformance", "type": "application/json"},
                            {"href": _url("/collections"), "rel": "data", "type": "application/json"}]})

    @app.get("/conformance")
    def conformance():
        return jsonify({"conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"]})

    def _collection(name: str) -> dict[str, Any]:
        spec = store.registry[name]
        minx, miny, maxx, maxy = store.meta.get("extent", CHINA_EXTENT)
        return {"id": name, "title": spec.title_zh, "description": f"{spec.title_en}. {spec.description}".strip(),
                "itemType": "feature", "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
                "extent": {"spatial": {"bbox": [[minx, miny, maxx, maxy]],
                                       "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "links": [{"href": _url(f"/collections/{name}"), "rel": "self", "type": "application/json"},
                          {"href": _url(f"/collections/{name}/items"), "rel": "items",
                           "type": "application/geo+json"}]}

    def _require_collection(name: str) -> None:
        if name not in store.layers():
            raise _NotFound(f"no collection '{name[:40]}'; see /collections")

    @app.get("/collections")
    def collections():
        return jsonify({"collections": [_collection(n) for n in store.layers()],
                        "links": [{"href": _url("/collections"), "rel": "self", "type": "application/json"}]})

    @app.get("/collections/<name>")
    def collection(name: str):
        _require_collection(name)
        return jsonify(_collection(name))

    @app.get("/collections/<name>/items")
    def items(name: str):
        _require_collection(name)
        limit = _int("limit", settings.default_items, 1, settings.max_items)
        offset = _int("offset", 0, 0, 10**8)
        bbox = _bbox()
        datum = _datum()
        found, matched = store.page(name, bbox, limit=limit, offset=offset)
        page = _shift(found, datum)
        spec = store.registry[name]
        links = [{"href": _url(request.full_path), "rel": "self", "type": "application/geo+json"}]
        if offset + limit < matched:
            args = {**request.args.to_dict(), "offset": str(offset + limit), "limit": str(limit)}
            links.append({"href": _url(f"/collections/{name}/items", args), "rel": "next",
                          "type": "application/geo+json"})
        return _geojson({"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(page),
                         "features": _features(page, spec.primary_key), "links": links})

    @app.get("/collections/<name>/items/<fid>")
    def item(name: str, fid: str):
        _require_collection(name)
        spec = store.registry[name]
        row = store.feature(name, fid)
        if row.empty:
            raise _NotFound(f"no feature '{fid[:40]}' in '{name}'")
        feature = _features(_shift(row.iloc[:1], _datum()), spec.primary_key)[0]
        feature["links"] = [{"href": _url(f"/collections/{name}/items/{fid}"), "rel": "self",
                             "type": "application/geo+json"},
                            {"href": _url(f"/collections/{name}"), "rel": "collection", "type": "application/json"}]
        return _geojson(feature)

    # -- downloads --------------------------------------------------------------------------------
    @app.get("/download/<filename>")
    def download(filename: str):
        m = re.fullmatch(r"([a-z_]{2,40})\.(gpkg|shp\.zip|geojson|kml|csv)", filename)
        if not m or m.group(1) not in store.layers():
            raise _NotFound(f"no download '{filename[:60]}'; see /api/layers")
        layer, ext = m.group(1), m.group(2)
        crs_key = request.args.get("crs", "4490")
        if crs_key not in DOWNLOAD_CRS:
            raise BadParameter("crs", f"'crs' must be one of {', '.join(DOWNLOAD_CRS)}")
        folder = (Path(settings.export_dir) / crs_key).resolve()
        target = folder / filename
        made_from = folder / f".{filename}.revision"  # the atlas revision the file was made from
        revision = store.state.revision
        if not target.exists() or not made_from.exists() or made_from.read_text() != revision:
            from placegeo.export import export_layer

            spec = store.registry[layer]
            work = folder / f".part-{os.getpid()}"  # written beside, then moved in: no half-written downloads
            work.mkdir(parents=True, exist_ok=True)
            made = export_layer(store.layer(layer), work / filename, fmt=DOWNLOAD_FORMATS[ext],
                                crs=DOWNLOAD_CRS[crs_key], name=layer,
                                titles={f.name: f.title_zh for f in spec.fields})
            made.replace(target)
            stamp = work / f".{filename}.revision"
            stamp.write_text(revision)
            stamp.replace(made_from)
        return send_from_directory(folder, filename, as_attachment=True)

    return app


class _NotFound(HTTPException):
    code = 404


def _url(path: str, args: dict[str, str] | None = None) -> str:
    from urllib.parse import urlencode

    root = request.host_url.rstrip("/")
    path = path.rstrip("?")
    return f"{root}{path}" + (f"?{urlencode(args)}" if args else "")


def _geojson(doc: dict[str, Any]) -> Response:
    resp = jsonify(doc)
    resp.mimetype = "application/geo+json"
    return resp


def _error(status: int, message: str, parameter: str | None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": {"status": status, "message": message}}
    if parameter:
        body["error"]["parameter"] = parameter
    return jsonify(body), status
