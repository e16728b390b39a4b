"""Every ``--json`` output of the CLI and every JSON answer of the API parses with a strict parser (no NaN)."""

import json
import shutil

import pytest
from click.testing import CliRunner

from helpers import relief_points
from placegeo.cli import main
from placegeo.web import create_app


def strict(text):
    def refuse(name):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def atlas_path(demo_gpkg, tmp_path_factory):
    path = tmp_path_factory.mktemp("strict") / "atlas.gpkg"
    shutil.copy(demo_gpkg.location, path)
    return str(path)


def test_every_cli_json_output_is_strict(atlas_path, tmp_path):
    csv = tmp_path / "points.csv"
    relief_points(3).drop(columns="geometry").assign(lon=117.0, lat=36.66).to_csv(csv, index=False)
    runner = CliRunner()
    commands = [
        ["layers"], ["layers", "show", "cemeteries"], ["search", "frj"], ["namecheck", "芙蓉路"],
        ["reverse", "117.0220", "36.6647"], ["atlas", "info"], ["cemetery", "--horizon", "10"],
        ["coverage", "--by", "district", "--no-network"], ["coverage", "--layer", "relief_points", "--hour", "3",
                                                         "--weekday", "3", "--no-network"],
        ["indicators", "--no-network"], ["relocation"],
        ["validate", str(csv), "--layer", "relief_points", "--datum", "wgs84"],
        ["import", str(csv), "--layer", "relief_points", "--datum", "wgs84"],
    ]
    seen = set()
    for args in commands:
        r = runner.invoke(main, [*args, "--atlas", atlas_path, "--json"] if args[0] != "layers" or len(args) == 1
                          else [*args, "--json"])
        assert r.exit_code in (0, 2), (args, r.output)
        strict(r.stdout)
        seen.add(args[0])
    for name, cmd in main.commands.items():  # every command that has --json is in the list above
        subs = getattr(cmd, "commands", {"": cmd})
        if any("as_json" in [p.name for p in c.params] for c in subs.values()):
            assert name in seen, f"`placegeo {name} --json` is not checked"


def test_every_json_api_route_is_strict(atlas_path):
    app = create_app({"atlas": atlas_path})
    client = app.test_client()
    asked = {
        "/api/health": "", "/api/config": "", "/api/search": "?q=frj", "/api/places/<path:place_id>": None,
        "/api/reverse": "?lon=117.02&lat=36.66", "/api/layers": "", "/api/coverage": "", "/api/cemetery": "",
        "/api/open": "?weekday=3&hour=3", "/api/namecheck": "?name=x", "/api/openapi.json": "",
        "/api/indicators": "?by=district",
    }
    routes = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert set(routes) <= set(asked), f"new API routes to check: {set(routes) - set(asked)}"
    id_ = client.get("/api/search?q=frj").get_json()["features"][0]["id"]
    for rule, query in asked.items():
        url = f"/api/places/{id_}" if query is None else rule + query
        r = client.get(url)
        assert r.status_code in (200, 404), (url, r.status_code)
        strict(r.get_data(as_text=True))
    for url in ("/ogc", "/collections", "/collections/cemeteries/items?limit=50", "/api/cemetery?horizon=30"):
        strict(client.get(url).get_data(as_text=True))
    doc = client.get("/api/indicators").get_json()
    assert doc["sample"] and doc["notice"].startswith("rests on sample data")
    cem = client.get("/api/cemetery").get_json()
    assert cem["method"] and cem["atlas_revision"] and cem["sample"] and cem["param_sources"]["grave_area_m2"]


def test_the_json_provider_writes_null_for_nan(atlas_path):
    app = create_app({"atlas": atlas_path})
    with app.app_context():
        text = app.json.dumps({"a": float("nan"), "b": [float("inf"), 1.5]})
    assert strict(text) == {"a": None, "b": [None, 1.5]}
