"""Several cities, one site: per-city routes, a province-wide search and every city's OGC collections."""

import os
import shutil

import pytest
from click.testing import CliRunner

from placegeo.atlas import Atlas
from placegeo.cities import city_for_code
from placegeo.errors import CityError
from placegeo.web import WebSettings, create_app

CITIES = {"jinan": "济南市", "jining": "济宁市", "weifang": "潍坊市"}


@pytest.fixture(scope="module")
def served(demo_cities, tmp_path_factory):
    """Copies of the three demo atlases (Jinan first: the default) and the export folder."""
    tmp = tmp_path_factory.mktemp("web-cities")
    paths = []
    for city in CITIES:
        paths.append(str(tmp / f"{city}.gpkg"))
        shutil.copy(demo_cities[city], paths[-1])
    return paths, tmp / "exports"


@pytest.fixture(scope="module")
def client(served):
    paths, exports = served
    return create_app({"atlases": paths, "export_dir": str(exports)}).test_client()


def _cities_of(doc):
    return [f["properties"]["city"]["id"] for f in doc["features"]]


def test_locations_from_the_environment():
    env = {"PLACEGEO_ATLASES": "jinan.gpkg, postgresql://gis:pw@db:5432/mz?schema=jining,weifang.gpkg"}
    assert WebSettings.from_env(env).locations == ("jinan.gpkg", "postgresql://gis:pw@db:5432/mz?schema=jining",
                                                   "weifang.gpkg")
    env = {"PLACEGEO_ATLASES": os.pathsep.join(["a.gpkg", "b.gpkg"]), "PLACEGEO_ATLAS": "c.gpkg"}
    assert WebSettings.from_env(env).locations == ("a.gpkg", "b.gpkg")
    assert WebSettings.from_env(env, atlas="d.gpkg").locations == ("d.gpkg",)  # given outright: wins
    assert WebSettings.from_env({"PLACEGEO_ATLAS": "c.gpkg"}).locations == ("c.gpkg",)


def test_config_names_the_city_of_each_prefix(client):
    root = client.get("/api/config").get_json()
    assert root["city"]["name"] == "jinan" and root["base"] == "" and root["default_city"] == "jinan"
    assert root["cities"] == [{"id": c, "name": zh} for c, zh in CITIES.items()]
    jining = client.get("/jining/api/config").get_json()
    assert jining["city"]["name"] == "jining" and jining["city"]["title_zh"] == "济宁地名查询"
    assert jining["city"]["relief_zh"] == "救助点" and jining["base"] == "/jining"
    assert jining["extent"][0] < 117 < root["extent"][2]  # each its own extent
    assert client.get("/jinan/api/config").get_json()["city"] == root["city"]


def test_search_covers_every_city_and_says_which(client):
    # a district of each city, asked at the unprefixed route: the province
    for name, city in (("奎文区", "weifang"), ("任城区", "jining"), ("历下区", "jinan")):
        doc = client.get(f"/api/search?q={name}&limit=5").get_json()
        top = doc["features"][0]["properties"]
        assert top["name"] == name and top["city"] == {"id": city, "name": CITIES[city]}
    # a generic word found everywhere: results from every city, each tagged with the city of its codes
    doc = client.get("/api/search?q=养老院&limit=30").get_json()
    assert len(doc["features"]) == 30 and set(_cities_of(doc)) == set(CITIES)
    for f in doc["features"]:
        p = f["properties"]
        assert "养老院" in p["name"] and city_for_code(p["district_code"]).name == p["city"]["id"], p


def test_search_under_a_city_stays_in_it_unless_asked(client):
    assert set(_cities_of(client.get("/jinan/api/search?q=奎文区").get_json())) <= {"jinan"}
    assert _cities_of(client.get("/jinan/api/search?q=奎文区&city=all&limit=1").get_json()) == ["weifang"]
    assert set(_cities_of(client.get("/api/search?q=救助点&city=jining&limit=20").get_json())) == {"jining"}
    r = client.get("/api/search?q=救助点&city=qingdao")
    assert r.status_code == 400 and r.get_json()["error"]["parameter"] == "city"
    assert "jinan, jining, weifang" in r.get_json()["error"]["message"]


def test_places_and_layers_per_city(client):
    hit = client.get("/api/search?q=奎文区&limit=1").get_json()["features"][0]["properties"]
    assert client.get(f"/weifang/api/places/{hit['id']}").get_json()["properties"]["name"] == "奎文区"
    assert client.get(f"/jinan/api/places/{hit['id']}").status_code == 404  # not a place of Jinan
    jining = {x["name"]: x for x in client.get("/jining/api/layers").get_json()["layers"]}
    assert "place_names" in jining and jining["elderly_facilities"]["features"] == 1227
    assert jining["relief_points"]["links"]["items"] == "/jining/collections/relief_points/items"
    jinan = {x["name"] for x in client.get("/api/layers").get_json()["layers"]}
    assert "place_names" not in jinan  # the unprefixed routes answer with the default city, as before


def test_the_province_ogc_lists_every_citys_collections(client):
    listed = client.get("/collections").get_json()["collections"]
    ids = [c["id"] for c in listed]
    assert len(ids) == len(set(ids))
    for city, zh in CITIES.items():
        own = [c["id"] for c in client.get(f"/{city}/collections").get_json()["collections"]]
        assert [i for i in ids if i.startswith(f"{city}-")] == [f"{city}-{name}" for name in own]
        assert next(c for c in listed if c["id"] == f"{city}-relief_points")["title"].startswith(zh)
    assert "jining-place_names" in ids and "weifang-place_names" not in ids
    assert "relief_points" not in ids  # plain ids are a city's own service's


def test_province_collection_items_come_from_their_city(client):
    for city in CITIES:
        doc = client.get(f"/collections/{city}-relief_points/items?limit=2").get_json()
        own = client.get(f"/{city}/collections/relief_points/items?limit=2").get_json()
        assert doc["numberMatched"] == own["numberMatched"] and doc["features"] == own["features"]
        fid = doc["features"][0]["id"]
        assert client.get(f"/collections/{city}-relief_points/items/{fid}").get_json()["id"] == fid
        nxt = next(x for x in own["links"] if x["rel"] == "next")["href"]
        assert nxt.startswith(f"/{city}/collections/relief_points/items?")  # root-relative: no public URL set
    # a plain id, as a one-city server listed it, still answers with the default city
    assert client.get("/collections/relief_points/items?limit=1").get_json()["numberMatched"] == 167
    assert client.get("/collections/weifang-nothing/items").status_code == 404


def test_page_and_downloads_per_city(client, served):
    _, exports = served
    page = client.get("/weifang/").get_data(as_text=True)
    assert 'data-base="/weifang"' in page and "/weifang/static/app.js" in page
    assert client.get("/weifang/static/app.js").status_code == 200
    assert 'data-base=""' in client.get("/").get_data(as_text=True)
    r = client.get("/weifang/download/relief_points.geojson")
    assert r.status_code == 200 and "救助点" in r.get_data(as_text=True)
    assert (exports / "weifang" / "4490" / "relief_points.geojson").exists()


@pytest.mark.parametrize("url", ["/qingdao/api/search?q=a", "/qingdao", "/qingdao/", "/qingdao/collections"])
def test_unknown_city_is_a_404_that_lists_the_cities(client, url):
    r = client.get(url)
    assert r.status_code == 404
    message = r.get_json()["error"]["message"]
    assert "qingdao" in message and "jinan, jining, weifang" in message


def test_unknown_routes_are_plain_404s(client):
    for url in ["/api/nope", "/favicon.ico", "/collections/nope"]:
        r = client.get(url)
        assert r.status_code == 404 and "city" not in r.get_json()["error"]["message"], url


def test_one_city_twice_or_an_atlas_of_no_city_is_refused(served, tmp_path):
    paths, _ = served
    with pytest.raises(CityError, match="both hold the city 'weifang'"):
        create_app({"atlases": [paths[0], paths[2], paths[2]]})
    Atlas.create(tmp_path / "blank.gpkg", name="blank")
    with pytest.raises(CityError, match="names no city"):
        create_app({"atlases": [paths[0], str(tmp_path / "blank.gpkg")]})
    # alone, an atlas of no city is served as before
    assert create_app({"atlas": str(tmp_path / "blank.gpkg")}).test_client().get("/api/config").status_code == 200


def test_serve_takes_several_atlases(served, monkeypatch):
    import flask

    from placegeo.cli import main

    paths, _ = served
    ran = []
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: ran.append(self.extensions["placegeo"].cities))
    result = CliRunner().invoke(main, ["serve", "--atlas", paths[1], "--atlas", paths[0]])
    assert result.exit_code == 0, result.output
    assert ran == [["jining", "jinan"]] and "jining, jinan" in result.output
