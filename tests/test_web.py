"""The web map's API: every endpoint, bad parameters, OGC API - Features, downloads and safety."""

import json
import shutil

import pytest

from placegeo.web import WebSettings, create_app

BACKENDS = ["gpkg", "postgis"]


@pytest.fixture(scope="module")
def client(demo_atlas, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    location = demo_atlas.location  # read-only use: the session's PostGIS copy serves as it is
    if demo_atlas.backend == "gpkg":
        location = str(tmp / "atlas.gpkg")
        shutil.copy(demo_atlas.location, location)
    app = create_app({"atlas": location, "export_dir": str(tmp / "exports")})
    return app.test_client()


def _valid_geojson_feature(f):
    assert f["type"] == "Feature" and isinstance(f["properties"], dict)
    g = f["geometry"]
    assert g["type"] in ("Point", "MultiPolygon", "Polygon", "LineString", "MultiLineString")
    assert isinstance(g["coordinates"], list)


def test_settings_from_environment():
    s = WebSettings.from_env({"PLACEGEO_ATLAS": "x.gpkg", "PLACEGEO_MAX_ITEMS": "10", "PLACEGEO_TILES": "amap"})
    assert (s.atlas, s.max_items, s.tiles) == ("x.gpkg", 10, "amap")
    with pytest.raises(ValueError, match="PLACEGEO_TILES"):
        WebSettings.from_env({"PLACEGEO_TILES": "google"})


def test_page_and_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and "地名查询" in r.get_data(as_text=True)
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200


def test_search(client):
    r = client.get("/api/search?q=frj&limit=3")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = r.get_json()
    assert doc["features"][0]["properties"]["name"] == "芙蓉街"
    for f in doc["features"]:
        _valid_geojson_feature(f)
    gcj = client.get("/api/search?q=frj&limit=1&datum=gcj02").get_json()["features"][0]["geometry"]["coordinates"]
    assert abs(gcj[0] - 117.02197) < 1e-4  # shifted for Amap tiles


@pytest.mark.parametrize(("url", "parameter"), [
    ("/api/search", "q"), ("/api/search?q=" + "x" * 65, "q"), ("/api/search?q=" + "x" * 201, "q"),
    ("/api/search?q=%2C", "q"),
    ("/api/search?q=a&limit=0", "limit"),
    ("/api/search?q=a&limit=abc", "limit"), ("/api/search?q=a&limit=51", "limit"),
    ("/api/search?q=a&layer=nope", "layer"), ("/api/search?q=a&district=37", "district"),
    ("/api/search?q=a&datum=mars2", "datum"), ("/api/reverse?lon=500&lat=36", "lon"),
    ("/api/reverse?lon=117", "lat"), ("/collections/relief_points/items?limit=100000", "limit"),
    ("/collections/relief_points/items?offset=-1", "offset"), ("/collections/relief_points/items?bbox=1,2,3", "bbox"),
    ("/collections/relief_points/items?bbox=117,37,118,36", "bbox"), ("/api/cemetery?horizon=0", "horizon"),
    ("/api/coverage?by=village", "by"), ("/download/relief_points.geojson?crs=3857", "crs"),
])
def test_bad_parameters_get_400_naming_them(client, url, parameter):
    r = client.get(url)
    assert r.status_code == 400, r.get_data(as_text=True)
    err = r.get_json()["error"]
    assert err["parameter"] == parameter and parameter in err["message"]


def test_place_details(client):
    p = client.get("/api/places/traditional_place_names:TN006").get_json()["properties"]
    assert p["name"] == "芙蓉街" and p["pinyin"] == "Fúróng Jiē" and p["romanized"] == "Furong Jie"
    assert p["district_name"] == "历下区" and p["category"] == "古城" and p["sample"] is False
    assert "OpenStreetMap" in p["attribution"]
    assert client.get("/api/places/traditional_place_names:NOPE").status_code == 404
    assert client.get("/api/places/secrets:1").status_code == 404


def test_reverse_layers_coverage_cemetery(client):
    rev = client.get("/api/reverse?lon=117.0094&lat=36.6606").get_json()
    assert rev["district"]["code"] == "370102" and rev["nearest"][0]["name"] == "趵突泉"
    layers = {x["name"]: x for x in client.get("/api/layers").get_json()["layers"]}
    assert layers["relief_points"]["features"] == 167 and layers["relief_points"]["sample_share"] == 1.0
    assert client.get("/api/coverage").status_code == 404  # not computed in this atlas yet
    cem = client.get("/api/cemetery?horizon=10").get_json()
    assert cem["horizon_years"] == 10 and {a["area"] for a in cem["areas"]} >= {"370102", "city"}


def test_ogc_api_features(client):
    landing = client.get("/ogc").get_json()
    assert {link["rel"] for link in landing["links"]} >= {"conformance", "data", "service-desc"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in \
        client.get("/conformance").get_json()["conformsTo"]
    ids = [c["id"] for c in client.get("/collections").get_json()["collections"]]
    assert "traditional_place_names" in ids and "relief_points" in ids
    page = client.get("/collections/relief_points/items?limit=50&offset=100").get_json()
    assert page["type"] == "FeatureCollection" and page["numberMatched"] == 167 and page["numberReturned"] == 50
    assert any(link["rel"] == "next" for link in page["links"])
    for f in page["features"]:
        _valid_geojson_feature(f)
    last = client.get("/collections/relief_points/items?limit=50&offset=150").get_json()
    assert last["numberReturned"] == 17 and not any(link["rel"] == "next" for link in last["links"])
    box = client.get("/collections/traditional_place_names/items?bbox=117.0,36.65,117.03,36.68").get_json()
    assert 0 < box["numberMatched"] < 232
    for f in box["features"]:
        x, y = f["geometry"]["coordinates"]
        assert 117.0 <= x <= 117.03 and 36.65 <= y <= 36.68
    one = client.get("/collections/relief_points/items/RS001")
    assert one.status_code == 200 and one.get_json()["properties"]["kind"] == "rescue_station"
    assert client.get("/collections/relief_points/items/none").status_code == 404
    assert client.get("/collections/secrets/items").status_code == 404
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/collections/{collectionId}/items" in spec["paths"]


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "shp.zip", "kml", "csv"])
def test_downloads(client, ext):
    r = client.get(f"/download/relief_points.{ext}")
    assert r.status_code == 200 and len(r.data) > 1000
    assert "attachment" in r.headers["Content-Disposition"]


def test_downloads_cannot_escape_the_export_folder(client):
    for url in ["/download/..%2F..%2Fetc%2Fpasswd", "/download/../atlas.gpkg", "/download/relief_points.exe",
                "/download/%2e%2e/relief_points.geojson", "/download/secrets.geojson"]:
        r = client.get(url)
        assert r.status_code == 404, url
        assert "/" not in r.get_json()["error"]["message"].replace("/api/layers", "")


def test_read_only_and_no_tracebacks(client):
    for method in ("post", "put", "delete", "patch"):
        r = getattr(client, method)("/api/search?q=x")
        assert r.status_code == 405 and "read-only" in r.get_json()["error"]["message"]
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "Traceback" not in r.get_data(as_text=True)
    body = json.dumps(client.get("/api/search?q=a&limit=abc").get_json())
    assert "Traceback" not in body and "/tmp" not in body and ".py" not in body


def test_open_now_is_answered_by_the_server_with_one_parser(client):
    r = client.get("/api/open?layer=relief_points&weekday=3&hour=3")
    doc = r.get_json()
    assert r.status_code == 200 and doc["weekday"] == 3 and doc["hour"] == 3
    night, noon = set(doc["open"]), set(client.get("/api/open?weekday=3&hour=12").get_json()["open"])
    assert night and night < noon  # fewer points are open at 3 a.m. than at noon, and those stay open
    assert client.get("/api/open?weekday=8&hour=3").status_code == 400
    assert client.get("/api/open?hour=3").get_json()["error"]["parameter"] == "weekday"


def test_namecheck_is_off_unless_enabled(client, demo_atlas, tmp_path):
    assert client.get("/api/namecheck?name=宇宙中心路").status_code == 404
    app = create_app({"atlas": client.application.config["PLACEGEO"].atlas, "export_dir": str(tmp_path),
                      "namecheck": 1})
    doc = app.test_client().get("/api/namecheck?name=宇宙中心路").get_json()
    assert doc["verdict"] == "refused" and any(f["rule"] == "大" for f in doc["findings"])


def test_the_page_takes_its_title_from_the_city_profile(client):
    city = client.get("/api/config").get_json()["city"]
    assert city == {"name": "jinan", "title_zh": "济南地名查询", "title_en": "Jinan place names",
                    "relief_zh": "泉城避风港"}


# -- web conventions: CORS, ETag/304, gzip, public links, page limits (issue 18) ----------------------
def test_cors_headers_on_the_read_only_apis(client):
    for url in ("/api/layers", "/ogc", "/collections/relief_points/items?limit=2", "/api/search?q=frj"):
        r = client.get(url, headers={"Origin": "https://other.example"})
        assert r.headers["Access-Control-Allow-Origin"] == "*", url
        assert "ETag" in r.headers["Access-Control-Expose-Headers"]
    pre = client.options("/collections/relief_points/items", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in client.get("/").headers  # the page is not an API


def test_cors_with_a_list_of_origins(demo_atlas, tmp_path):
    app = create_app({"atlas": demo_atlas.location, "export_dir": str(tmp_path),
                      "cors_origins": "https://a.example https://b.example"})
    c = app.test_client()
    r = c.get("/api/layers", headers={"Origin": "https://b.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://b.example" and "Origin" in r.headers["Vary"]
    r = c.get("/api/layers", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_etag_and_cache_control_follow_the_atlas_revision(atlas, tmp_path):
    from helpers import relief_points

    atlas.write("relief_points", relief_points(3))
    app = create_app({"atlas": atlas.location, "export_dir": str(tmp_path), "refresh_ms": 0})
    c = app.test_client()
    first = c.get("/collections/relief_points/items")
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and "max-age=" in first.headers["Cache-Control"]
    again = c.get("/collections/relief_points/items", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    other = c.get("/collections/relief_points/items?limit=2")
    assert other.headers["ETag"] != tag  # another question, another tag
    assert c.get("/api/health").headers["Cache-Control"] == "no-store"
    bad = c.get("/collections/relief_points/items?limit=0")
    assert bad.status_code == 400 and "ETag" not in bad.headers

    atlas.write("relief_points", relief_points(5))  # an import: a new revision
    c.get("/api/layers")  # the worker notices and reads the new revision in the background
    app.extensions["placegeo"].wait_refreshed()
    after = c.get("/collections/relief_points/items", headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.get_json()["numberMatched"] == 5 and after.headers["ETag"] != tag


def test_large_answers_are_gzipped_when_the_client_accepts_it(client):
    import gzip

    url = "/collections/admin_units/items?limit=50"
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    assert zipped.headers["Content-Encoding"] == "gzip"
    unzipped, plain_doc = json.loads(gzip.decompress(zipped.data)), plain.get_json()
    assert unzipped.pop("timeStamp") and plain_doc.pop("timeStamp")  # each answer's time: may straddle a second
    assert unzipped == plain_doc
    assert len(zipped.data) < len(plain.data) / 2
    small = client.get("/api/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # under 1 KB: not worth it


def test_links_follow_the_public_url_and_never_the_host_header(demo_atlas, tmp_path):
    app = create_app({"atlas": demo_atlas.location, "export_dir": str(tmp_path),
                      "public_url": "https://maps.example.org/placegeo/"})
    app.add_url_rule("/moved/", "moved", lambda: "here")  # Werkzeug redirects /moved to /moved/ by itself
    c = app.test_client()
    for url in ("/ogc", "/collections", "/collections/relief_points/items?limit=5", "/api/layers"):
        body = c.get(url, headers={"Host": "evil.example"}).get_data(as_text=True)
        assert "evil.example" not in body and "https://maps.example.org/placegeo/" in body, url
    page = c.get("/collections/relief_points/items?limit=5", headers={"Host": "evil.example"}).get_json()
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert nxt.startswith("https://maps.example.org/placegeo/collections/relief_points/items?")
    r = c.get("/moved", headers={"Host": "evil.example"})
    assert r.status_code in (301, 308) and r.headers["Location"] == "https://maps.example.org/placegeo/moved/"
    with pytest.raises(ValueError, match="PLACEGEO_PUBLIC_URL"):
        WebSettings.from_env({"PLACEGEO_PUBLIC_URL": "javascript:alert(1)"})


def test_links_are_relative_without_a_public_url(client):
    landing = client.get("/ogc", headers={"Host": "evil.example"}).get_json()
    assert {link["href"] for link in landing["links"]} >= {"/ogc?f=json", "/collections", "/conformance"}


def test_page_size_is_bounded(client):
    limit = client.application.config["PLACEGEO"].max_items
    assert limit <= 1000
    r = client.get(f"/collections/admin_units/items?limit={limit + 1}")
    assert r.status_code == 400 and str(limit) in r.get_json()["error"]["message"]


def test_expensive_answers_are_computed_once_per_revision(client, monkeypatch):
    import placegeo.cemetery

    calls = []
    real = placegeo.cemetery.meets_demand
    monkeypatch.setattr(placegeo.cemetery, "meets_demand", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = client.get("/api/cemetery?horizon=37").get_json()
    assert client.get("/api/cemetery?horizon=37").get_json() == first
    assert client.get("/api/cemetery?horizon=38").status_code == 200
    assert len(calls) == 2


def test_export_folder_is_never_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    s = WebSettings.from_env({})
    assert s.export_path == tmp_path / "cache" / "placegeo" / "exports"


# as an import stores them (leading tabs and returns are stripped on the way in: see test_export.py)
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点\")", "+1+1地名", "@SUM(1)", "-2+3", "-3.5"]


def test_csv_cells_never_run_as_formulas(atlas, tmp_path):
    import csv
    import io

    from helpers import relief_points

    gdf = relief_points(len(HOSTILE))
    gdf["name"] = HOSTILE
    gdf["hours"] = "=1+1"
    gdf["source"] = "<img src=x onerror=alert(1)>"
    atlas.write("relief_points", gdf)
    c = create_app({"atlas": atlas.location, "export_dir": str(tmp_path)}).test_client()
    text = c.get("/download/relief_points.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    names = [r["name"] for r in rows]
    assert names == ["'" + n for n in HOSTILE[:-1]] + ["-3.5"]  # a number stays a number
    assert all(r["hours"] == "'=1+1" for r in rows)
    for row in rows:
        for key, value in row.items():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), (key, value)
            assert not value.startswith("-") or float(value) < 0, (key, value)
        assert float(row["lon"]) > 117  # coordinates are numbers, untouched


def test_the_page_never_parses_data_as_html():
    from placegeo.web.settings import webmap_dir

    script = (webmap_dir() / "static" / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "textContent" in script
