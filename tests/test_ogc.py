"""OGC API - Features (Parts 1 and 2) and Tiles: every conformance class the landing page declares is
checked against its requirements, and every answer against the OpenAPI document's schemas."""

import re
import shutil

import geopandas as gpd
import jsonschema
import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from placegeo.tiles import encode_tile, tile_bounds_lonlat
from placegeo.web import create_app

BACKENDS = ["gpkg", "postgis"]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
ITEMS = "/collections/traditional_place_names/items"
BOX = "117.0,36.6,117.1,36.7"


@pytest.fixture(scope="module")
def app(demo_atlas, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ogc")
    location = demo_atlas.location
    if demo_atlas.backend == "gpkg":
        location = str(tmp / "atlas.gpkg")
        shutil.copy(demo_atlas.location, location)
    return create_app({"atlas": location, "export_dir": str(tmp / "exports")})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def openapi(client):
    return client.get("/api/openapi.json").get_json()


def _validate(doc, schema, openapi):
    jsonschema.validate(doc, {**schema, "components": openapi["components"]})


def _schema_of(openapi, template, status="200", media="application/json"):
    return openapi["paths"][template]["get"]["responses"][status]["content"][media]["schema"]


def _keys(doc):
    return {f["id"] for f in doc["features"]}


def _all_keys(client, url):
    keys = []
    while url:
        doc = client.get(url).get_json()
        keys += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    return keys


def _tile_of(lon, lat, z):
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / np.pi) / 2 * 2**z)
    return x, y


# -- the conformance classes, one checker each ---------------------------------------------------------
def check_core(client, openapi):
    landing = client.get("/ogc").get_json()
    rels = {link["rel"] for link in landing["links"]}
    assert rels >= {"self", "alternate", "service-desc", "conformance", "data"}
    collections = client.get("/collections").get_json()["collections"]
    assert "traditional_place_names" in [c["id"] for c in collections]
    for c in collections:
        assert {link["rel"] for link in c["links"]} >= {"self", "items"} and c["extent"]["spatial"]["bbox"]
    # limit, numberMatched/numberReturned, next/prev, a page's links and its timeStamp
    page = client.get(f"{ITEMS}?limit=7&offset=7").get_json()
    assert page["numberReturned"] == len(page["features"]) == 7 and page["numberMatched"] > 14
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", page["timeStamp"])
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert {"self", "alternate", "next", "prev", "collection"} <= set(rels)
    assert "offset=14" in rels["next"] and "offset=0" in rels["prev"]
    # bbox: four numbers, six (heights ignored), and a box across the antimeridian
    four = client.get(f"{ITEMS}?bbox={BOX}&limit=1000").get_json()
    six = client.get(f"{ITEMS}?bbox=117.0,36.6,-50,117.1,36.7,8848&limit=1000").get_json()
    assert four["numberMatched"] > 0 and _keys(four) == _keys(six)
    assert client.get(f"{ITEMS}?bbox=170,-10,-170,10").get_json()["numberMatched"] == 0
    east = client.get(f"{ITEMS}?bbox=117.0,-90,-179,90&limit=1000").get_json()
    assert _keys(east) == _keys(client.get(f"{ITEMS}?bbox=117.0,-90,180,90&limit=1000").get_json())
    # a box whose two halves both hold features: pages run through both, each feature once
    every = _all_keys(client, f"{ITEMS}?limit=1000")
    strip = _keys(client.get(f"{ITEMS}?bbox=117.01,-90,117.02,90&limit=1000").get_json())
    split = _all_keys(client, f"{ITEMS}?bbox=117.02,-90,117.01,90&limit=9")
    assert len(split) == len(set(split)) and set(split) == set(every) - strip
    first = client.get(f"{ITEMS}?bbox=117.02,-90,117.01,90&limit=9").get_json()
    assert first["numberMatched"] == len(split)
    # an unknown parameter is a 400 that lists those the resource takes
    bad = client.get(f"{ITEMS}?bboxx=1,2,3,4")
    assert bad.status_code == 400
    message = bad.get_json()["error"]["message"]
    assert "bboxx" in message and "bbox-crs" in message and "limit" in message
    assert client.get("/collections?limit=3").status_code == 400
    assert client.get("/collections/traditional_place_names/items/TPN-none").status_code == 404
    assert client.get("/collections/nowhere").status_code == 404
    for bbox in ("1,2,3", "117,37,118,36", "117,36,200,37", "a,b,c,d", "1,2,3,4,5"):
        assert client.get(f"{ITEMS}?bbox={bbox}").get_json()["error"]["parameter"] == "bbox", bbox
    assert client.get(f"{ITEMS}?datetime=2024-01-01T00:00:00Z").get_json()["error"]["parameter"] == "datetime"


def check_geojson(client, openapi):
    resp = client.get(f"{ITEMS}?limit=3")
    assert resp.mimetype == "application/geo+json"
    doc = resp.get_json()
    _validate(doc, openapi["components"]["schemas"]["featureCollectionGeoJSON"], openapi)
    fid = doc["features"][0]["id"]
    one = client.get(f"{ITEMS}/{fid}")
    assert one.mimetype == "application/geo+json" and one.get_json()["id"] == fid
    assert {link["rel"] for link in one.get_json()["links"]} >= {"self", "alternate", "collection"}
    assert client.get(f"{ITEMS}?f=json").mimetype == "application/geo+json"


def check_html(client, openapi):
    fid = client.get(f"{ITEMS}?limit=1").get_json()["features"][0]["id"]
    for path in ("/ogc", "/conformance", "/collections", "/collections/traditional_place_names", ITEMS,
                 f"{ITEMS}/{fid}", "/collections/traditional_place_names/tiles", "/tileMatrixSets"):
        resp = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert resp.mimetype == "text/html", path
        assert client.get(f"{path}?f=html").mimetype == "text/html", path
        assert client.get(path, headers={"Accept": "*/*"}).mimetype != "text/html", path
        body = resp.get_data(as_text=True)
        assert 'rel="self"' in body and 'rel="alternate"' in body and "<script" not in body, path
    names = client.get(f"{ITEMS}?f=html&limit=3").get_data(as_text=True)
    first = client.get(f"{ITEMS}?limit=3").get_json()["features"][0]["properties"]["name"]
    assert first in names
    assert client.get(f"{ITEMS}?f=xml").status_code == 400


def check_oas30(client, openapi):
    from openapi_spec_validator import validate

    validate(openapi)
    assert openapi["paths"]["/collections/{collectionId}/items"]["get"]["responses"]["200"]["content"]


def check_crs(client, openapi):
    collection = client.get("/collections/traditional_place_names").get_json()
    assert {CRS84, EPSG4326, EPSG4490} <= set(collection["crs"]) and collection["storageCrs"] == EPSG4490
    lonlat = client.get(f"{ITEMS}?bbox={BOX}&limit=50")
    assert lonlat.headers["Content-Crs"] == f"<{CRS84}>"
    for crs in (EPSG4326, EPSG4490):
        latlon = client.get(f"{ITEMS}?bbox={BOX}&limit=50&crs={crs}")
        assert latlon.status_code == 200 and latlon.headers["Content-Crs"] == f"<{crs}>"
        for a, b in zip(lonlat.get_json()["features"], latlon.get_json()["features"], strict=True):
            assert a["id"] == b["id"] and a["geometry"]["coordinates"] == b["geometry"]["coordinates"][::-1]
        # bbox-crs: the same box, latitude first
        swapped = client.get(f"{ITEMS}?bbox=36.6,117.0,36.7,117.1&bbox-crs={crs}&limit=1000").get_json()
        assert _keys(swapped) == _keys(client.get(f"{ITEMS}?bbox={BOX}&limit=1000").get_json())
    fid = lonlat.get_json()["features"][0]["id"]
    one = client.get(f"{ITEMS}/{fid}?crs={EPSG4326}")
    assert one.headers["Content-Crs"] == f"<{EPSG4326}>"
    first = lonlat.get_json()["features"][0]["geometry"]["coordinates"]
    assert one.get_json()["geometry"]["coordinates"] == first[::-1]
    for bad in ("EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/3857"):
        for param in ("crs", "bbox-crs"):
            resp = client.get(f"{ITEMS}?bbox={BOX}&{param}={bad}")
            assert resp.status_code == 400 and resp.get_json()["error"]["parameter"] == param
    assert client.get(f"{ITEMS}?crs={EPSG4326}&datum=gcj02").status_code == 400
    assert client.get(f"{ITEMS}?bbox-crs={EPSG4326}").get_json()["error"]["parameter"] == "bbox-crs"


def check_tiles_core(client, openapi):
    x, y = _tile_of(117.02, 36.66, 12)
    resp = client.get(f"/collections/traditional_place_names/tiles/WebMercatorQuad/12/{y}/{x}")
    assert resp.status_code == 200 and resp.mimetype == "application/vnd.mapbox-vector-tile"
    assert mapbox_vector_tile.decode(resp.data)["traditional_place_names"]["features"]
    assert client.get("/collections/traditional_place_names/tiles/WebMercatorQuad/12/0/0").status_code == 204
    for bad in ("12/4096/0", "23/0/0", "2/0/4"):
        assert client.get(f"/collections/traditional_place_names/tiles/WebMercatorQuad/{bad}").status_code == 404
    assert client.get("/collections/traditional_place_names/tiles/WorldCRS84Quad/1/0/0").status_code == 404
    assert client.get(f"/collections/traditional_place_names/tiles/WebMercatorQuad/12/{y}/{x}?f=png").status_code == 400
    assert client.get("/collections/nowhere/tiles/WebMercatorQuad/1/0/0").status_code == 404


def check_tileset(client, openapi):
    tileset = client.get("/collections/traditional_place_names/tiles/WebMercatorQuad").get_json()
    assert tileset["dataType"] == "vector" and tileset["tileMatrixSetURI"].endswith("WebMercatorQuad")
    item = next(link for link in tileset["links"] if link["rel"] == "item")
    assert item["templated"] and item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}")
    tms = client.get("/tileMatrixSets/WebMercatorQuad").get_json()
    assert len(tms["tileMatrices"]) == 23 and tms["tileMatrices"][3]["matrixWidth"] == 8


def check_tilesets_list(client, openapi):
    tilesets = client.get("/collections/admin_units/tiles").get_json()["tilesets"]
    assert tilesets[0]["tileMatrixSetURI"].endswith("WebMercatorQuad")


def check_geodata_tilesets(client, openapi):
    links = client.get("/collections/admin_units").get_json()["links"]
    tiles = [link for link in links if link["rel"].endswith("tilesets-vector")]
    assert tiles and client.get(tiles[0]["href"].replace("http://localhost", "")).status_code == 200


def check_mvt(client, openapi):
    # points: the same features as the items in the tile's box (no thinning at this zoom), with key and name
    z = 15
    x, y = _tile_of(117.0, 36.65, z)
    for dx in range(-3, 4):
        west, south, east, north = tile_bounds_lonlat(z, x + dx, y)
        items = client.get(f"{ITEMS}?bbox={west},{south},{east},{north}&limit=1000").get_json()
        resp = client.get(f"/collections/traditional_place_names/tiles/WebMercatorQuad/{z}/{y}/{x + dx}")
        if not items["features"]:
            assert resp.status_code == 204
            continue
        feats = mapbox_vector_tile.decode(resp.data)["traditional_place_names"]["features"]
        assert {f["properties"]["place_id"] for f in feats} >= _keys(items)
        assert all({"place_id", "name"} <= set(f["properties"]) for f in feats)
    # polygons come out as polygons
    resp = client.get("/collections/admin_units/tiles/WebMercatorQuad/8/99/211")
    feats = mapbox_vector_tile.decode(resp.data)["admin_units"]["features"]
    assert feats and {f["geometry"]["type"] for f in feats} <= {"Polygon", "MultiPolygon"}


def check_tiles_oas30(client, openapi):
    assert "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}" in openapi["paths"]


CHECKS = {
    "ogcapi-features-1/1.0/conf/core": check_core,
    "ogcapi-features-1/1.0/conf/geojson": check_geojson,
    "ogcapi-features-1/1.0/conf/html": check_html,
    "ogcapi-features-1/1.0/conf/oas30": check_oas30,
    "ogcapi-features-2/1.0/conf/crs": check_crs,
    "ogcapi-tiles-1/1.0/conf/core": check_tiles_core,
    "ogcapi-tiles-1/1.0/conf/tileset": check_tileset,
    "ogcapi-tiles-1/1.0/conf/tilesets-list": check_tilesets_list,
    "ogcapi-tiles-1/1.0/conf/geodata-tilesets": check_geodata_tilesets,
    "ogcapi-tiles-1/1.0/conf/mvt": check_mvt,
    "ogcapi-tiles-1/1.0/conf/oas30": check_tiles_oas30,
}


def test_every_declared_conformance_class_has_a_check(client):
    declared = client.get("/conformance").get_json()["conformsTo"]
    short = [c.removeprefix("http://www.opengis.net/spec/") for c in declared]
    assert set(short) <= set(CHECKS), f"no check for {set(short) - set(CHECKS)}"


@pytest.mark.parametrize("cls", sorted(CHECKS))
def test_conformance_class(client, openapi, cls):
    declared = client.get("/conformance").get_json()["conformsTo"]
    if f"http://www.opengis.net/spec/{cls}" not in declared:
        pytest.skip(f"{cls} is not declared")
    CHECKS[cls](client, openapi)


# -- every route is in the OpenAPI document, and its answers match their schemas ---------------------------
EXAMPLES = [
    ("/", "/", "text/html"),
    ("/api/health", "/api/health", None), ("/api/config", "/api/config", None),
    ("/api/openapi.json", "/api/openapi.json", None), ("/api/layers", "/api/layers", None),
    ("/api/search", "/api/search?q=fo&limit=5", "application/geo+json"),
    ("/api/places/{placeId}", "/api/places/relief_points:RS001", None),
    ("/api/reverse", "/api/reverse?lon=117.0&lat=36.65", None),
    ("/api/coverage", "/api/coverage", None), ("/api/cemetery", "/api/cemetery?horizon=10", None),
    ("/api/open", "/api/open?weekday=1&hour=10", None),
    ("/ogc", "/ogc", None), ("/conformance", "/conformance", None), ("/collections", "/collections", None),
    ("/collections/{collectionId}", "/collections/relief_points", None),
    ("/collections/{collectionId}/items", "/collections/relief_points/items?limit=5", "application/geo+json"),
    ("/collections/{collectionId}/items/{featureId}", "/collections/relief_points/items/RS001",
     "application/geo+json"),
    ("/collections/{collectionId}/tiles", "/collections/relief_points/tiles", None),
    ("/collections/{collectionId}/tiles/{tileMatrixSetId}", "/collections/relief_points/tiles/WebMercatorQuad",
     None),
    ("/tileMatrixSets", "/tileMatrixSets", None),
    ("/tileMatrixSets/{tileMatrixSetId}", "/tileMatrixSets/WebMercatorQuad", None),
]


def test_every_route_is_described(app, openapi):
    described = {re.sub(r"\{[^}]+\}", "{}", p) for p in openapi["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("cityroutes."):
            continue  # files, and the 404 of a city not served (each route also answers under /<city>/)
        path = re.sub(r"<[^>]+>", "{}", rule.rule)
        assert path in described, f"{rule.rule} is missing from the OpenAPI document"


@pytest.mark.parametrize(("template", "url", "media"), EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_answers_match_their_schemas(client, openapi, template, url, media):
    resp = client.get(url)
    status = str(resp.status_code)
    if template == "/api/coverage" and status == "404":  # the demo atlas may hold no coverage results
        media = "application/json"
    assert status == "200" or template == "/api/coverage", resp.get_data(as_text=True)[:300]
    media = media or "application/json"
    assert resp.mimetype == media
    if media != "text/html":
        _validate(resp.get_json(), _schema_of(openapi, template, status, media), openapi)


@pytest.mark.parametrize("url", [f"{ITEMS}?bbox=1,2", "/collections/nowhere", f"{ITEMS}?crs=x", "/api/reverse?lon=1"])
def test_errors_match_the_error_schema(client, openapi, url):
    resp = client.get(url)
    assert resp.status_code in (400, 404)
    _validate(resp.get_json(), openapi["components"]["schemas"]["Error"], openapi)


def test_schemas_can_fail(openapi):
    schema = openapi["components"]["schemas"]["featureCollectionGeoJSON"]
    with pytest.raises(jsonschema.ValidationError):
        _validate({"type": "FeatureCollection", "features": [{"type": "Feature"}]}, schema, openapi)
    with pytest.raises(jsonschema.ValidationError):
        _validate({"type": "FeatureCollection", "features": [], "numberMatched": -1}, schema, openapi)


# -- the tile encoder, on its own ---------------------------------------------------------------------------
def test_encoder_thins_points_clips_and_simplifies():
    rng = np.random.default_rng(7)
    lon, lat = 117.0 + rng.random(20_000) * 0.01, 36.65 + rng.random(20_000) * 0.01
    pts = gpd.GeoDataFrame({"k": [f"P{i}" for i in range(20_000)], "sample": [i % 2 for i in range(20_000)]},
                           geometry=gpd.points_from_xy(lon, lat), crs=4490)
    z = 12
    x, y = _tile_of(117.005, 36.655, z)
    feats = mapbox_vector_tile.decode(encode_tile(pts, z, x, y, layer="p"))["p"]["features"]
    assert 0 < len(feats) <= (4096 // 32) ** 2 and len(feats) < 20_000  # one per cell
    assert len(mapbox_vector_tile.decode(encode_tile(pts, 18, *_tile_of(117.005, 36.655, 18), layer="p"))["p"]
               ["features"]) >= 1
    # a big polygon: clipped to the tile and its buffer, and simplified to few vertices at a low zoom
    ring = shapely.Polygon([(116 + 2 * np.cos(a), 36 + 2 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 5000)])
    poly = gpd.GeoDataFrame({"k": ["A"]}, geometry=[ring], crs=4490)
    one = mapbox_vector_tile.decode(encode_tile(poly, 6, *_tile_of(116, 36, 6), layer="a"))["a"]["features"][0]
    coords = np.array(one["geometry"]["coordinates"][0])
    assert len(coords) < 500 and coords.min() >= -64 and coords.max() <= 4096 + 64
    assert encode_tile(poly, 6, 0, 0, layer="a") == b""


def test_point_tiles_decode_as_the_generic_encoder_writes_them():
    rng = np.random.default_rng(3)
    n = 500
    pts = gpd.GeoDataFrame({"k": [f"名{i}" for i in range(n)], "n": rng.integers(-10**12, 10**12, n),
                            "f": rng.random(n), "s": [[True, False, None][i % 3] for i in range(n)]},
                           geometry=gpd.points_from_xy(117 + rng.random(n) * 0.02, 36.65 + rng.random(n) * 0.02),
                           crs=4490)
    x, y = _tile_of(117.01, 36.66, 12)
    ours = mapbox_vector_tile.decode(encode_tile(pts, 12, x, y, layer="p"))["p"]["features"]
    multi = gpd.GeoDataFrame(pts.drop(columns="geometry"), crs=4490,
                             geometry=[shapely.MultiPoint([p]) for p in pts.geometry])  # the generic path
    assert len(ours) > 100
    keys = {f["properties"]["k"] for f in ours}
    generic = [f for f in mapbox_vector_tile.decode(encode_tile(multi, 12, x, y, layer="p"))["p"]["features"]
               if f["properties"]["k"] in keys]
    by_key = {f["properties"]["k"]: f for f in generic}
    assert len(by_key) > 100
    for f in ours:
        g = by_key.get(f["properties"]["k"])
        if g is not None:
            assert f["properties"] == g["properties"]
            assert f["geometry"]["coordinates"] == g["geometry"]["coordinates"]
