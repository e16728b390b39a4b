import json

import pytest
from click.testing import CliRunner

from helpers import relief_points
from placegeo.cli import main
from placegeo.crs import convert

BACKENDS = ["gpkg", "postgis"]


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return _run


def test_convert_one_point_prints_lon_lat(run):
    r = run("convert", "--from", "wgs84", "--to", "gcj02", "117.009416", "36.6605638")
    assert r.exit_code == 0
    x, y = map(float, r.stdout.split())
    ex, ey = convert(117.009416, 36.6605638, src="wgs84", dst="gcj02")
    assert abs(x - ex) < 1e-8 and abs(y - ey) < 1e-8


def test_convert_refuses_bad_input(run):
    assert run("convert", "--from", "wgs84", "--to", "gcj02", "117").exit_code == 2
    r = run("convert", "--from", "moon", "--to", "gcj02", "117", "36")
    assert r.exit_code == 2 and "unknown datum" in r.stderr


def test_convert_csv(run, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("名称,经度,纬度\n趵突泉,117.009416,36.6605638\n空行,,\n", encoding="utf-8")
    r = run("convert", "--from", "wgs84", "--to", "bd09", "--csv", src, "--out", tmp_path / "out.csv")
    assert r.exit_code == 0, r.stderr
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    name, lon, lat = lines[1].split(",")
    ex, ey = convert(117.009416, 36.6605638, src="wgs84", dst="bd09")
    assert name == "趵突泉" and abs(float(lon) - ex) < 1e-7 and abs(float(lat) - ey) < 1e-7
    assert lines[2] == "空行,,"


def test_import_validate_export_cycle(run, atlas, tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("point_id,name,kind,open_24h,district_code,lon,lat\n"
                   "a1,甲,泉城避风港,是,370102,117.02,36.66\n"
                   "a2,乙,酒店,否,370102,117.02,36.66\n", encoding="utf-8")
    r = run("validate", csv, "--layer", "relief_points", "--datum", "wgs84", "--atlas", atlas.location, "--json")
    assert r.exit_code == 2
    report = json.loads(r.stdout)
    assert report["rows_with_problems"] == 1 and report["problems"][0]["row"] == 3

    r = run("import", csv, "--layer", "relief_points", "--datum", "wgs84", "--atlas", atlas.location, "--strict")
    assert r.exit_code == 2 and "row 3, field 'kind'" in r.stderr
    assert "relief_points" not in atlas.layers()

    r = run("import", csv, "--layer", "relief_points", "--datum", "wgs84", "--atlas", atlas.location, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["written"] == 1

    r = run("layers", "--atlas", atlas.location, "--json")
    rows = {row["layer"]: row for row in json.loads(r.stdout)}
    assert rows["relief_points"]["features"] == 1

    out = tmp_path / "one.geojson"
    r = run("export", "--atlas", atlas.location, "--layer", "relief_points", "--format", "geojson", "--out", out)
    assert r.exit_code == 0 and out.exists()
    r = run("export", "--atlas", atlas.location, "--format", "shp", "--encoding", "gbk", "--out", tmp_path / "b.zip")
    assert r.exit_code == 0 and (tmp_path / "b.zip").exists()


def test_missing_atlas_is_explained(run, tmp_path):
    r = run("export", "--atlas", tmp_path / "none.gpkg")
    assert r.exit_code == 2 and "placegeo demo" in r.stderr


def test_layers_show_and_unknown_layer(run):
    r = run("layers", "show", "cemeteries")
    assert r.exit_code == 0 and "capacity_plots" in r.stdout and "unit plots" in r.stdout
    r = run("layers", "show", "cemetery")
    assert r.exit_code == 2 and "registered layers are" in r.stderr


def test_serve_builds_the_app_and_runs_it_on_the_given_address(run, atlas, monkeypatch):
    from flask import Flask

    atlas.write("relief_points", relief_points(2))
    seen = {}
    monkeypatch.setattr(Flask, "run", lambda self, host, port: seen.update(host=host, port=port, app=self))
    r = run("serve", "--atlas", atlas.location, "--port", "8765")
    assert r.exit_code == 0, r.stderr
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8765
    assert seen["app"].test_client().get("/api/layers").get_json()["layers"][0]["name"] == "relief_points"
