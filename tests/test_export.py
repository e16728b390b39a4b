"""Exports other departments open without trouble, read back to prove it."""

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from helpers import population_units, relief_points
from placegeo.crs import convert
from placegeo.errors import ExportError
from placegeo.export import export_bundle, export_layer, shorten_field_names


@pytest.fixture
def names_layer():
    g = relief_points(3)
    g["name"] = ["趵突泉派出所", "芙蓉街便利店", "曲水亭街加油站"]
    return g


def _read_zip_shp(path):
    return pyogrio.read_dataframe(f"/vsizip/{path}/{path.name.split('.')[0]}.shp")


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "kml", "csv", "shp"])
def test_each_format_round_trips(tmp_path, names_layer, fmt):
    ext = {"shp": ".shp.zip"}.get(fmt, f".{fmt}")
    path = export_layer(names_layer, tmp_path / f"relief_points{ext}")
    if fmt == "shp":
        back = _read_zip_shp(path)
    elif fmt == "csv":
        table = pd.read_csv(path, encoding="utf-8-sig")
        back = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries.from_wkt(table["wkt"]), crs=4490)
        assert np.allclose(table["lon"], names_layer.geometry.x)
    else:
        back = pyogrio.read_dataframe(path)
    name_col = "name" if "name" in back else "Name"
    assert back[name_col].tolist() == names_layer["name"].tolist()
    assert np.allclose(back.geometry.x, names_layer.geometry.x, atol=1e-7)
    assert np.allclose(back.geometry.y, names_layer.geometry.y, atol=1e-7)


def test_geojson_is_rfc7946(tmp_path, names_layer):
    import json

    path = export_layer(names_layer, tmp_path / "a.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc and "bbox" in doc
    assert doc["features"][0]["properties"]["name"] == "趵突泉派出所"


def test_gbk_shapefile_opens_with_chinese_intact(tmp_path, names_layer):
    path = export_layer(names_layer, tmp_path / "gbk.shp.zip", encoding="gbk")
    with zipfile.ZipFile(path) as zf:
        files = set(zf.namelist())
        assert {"gbk.shp", "gbk.shx", "gbk.dbf", "gbk.prj", "gbk.cpg", "gbk_fields.csv"} <= files
        assert zf.read("gbk.cpg") == b"936"
        dbf = zf.read("gbk.dbf")
    assert "趵突泉派出所".encode("gbk") in dbf and "趵突泉派出所".encode() not in dbf
    back = _read_zip_shp(path)  # GDAL (as QGIS does) reads the .cpg
    assert back["name"].tolist() == names_layer["name"].tolist()
    assert back.crs.to_epsg() == 4490


def test_shapefile_field_names_fit_in_10_bytes_with_a_mapping(tmp_path):
    g = population_units()
    path = export_layer(g, tmp_path / "pop.shp.zip")
    back = _read_zip_shp(path)
    assert all(len(c.encode()) <= 10 for c in back.columns)
    with zipfile.ZipFile(path) as zf:
        mapping = pd.read_csv(zf.open("pop_fields.csv"), encoding="utf-8-sig")
    m = dict(zip(mapping["field"], mapping["shapefile_field"], strict=False))
    assert m["residents_60plus"] == "res_60p" and m["district_code"] == "dist_cd"
    assert back["res_60p"].tolist() == [200, 500]


def test_shortened_names_are_unique_in_both_encodings():
    names = ["residents_60plus_a", "residents_60plus_b", "residents_60plus_c", "名称很长的中文字段"]
    for enc in ("utf-8", "gbk"):
        short = shorten_field_names(names, encoding=enc)
        codec = "gbk" if enc == "gbk" else "utf-8"
        assert len(set(short.values())) == len(names)
        assert all(len(v.encode(codec)) <= 10 for v in short.values())


def test_long_text_is_cut_at_a_character_boundary_and_noted(tmp_path, names_layer):
    names_layer["host"] = ["泉" * 200, "b", "c"]
    path = export_layer(names_layer, tmp_path / "long.shp.zip", encoding="gbk")
    back = _read_zip_shp(path)
    assert back["host"].iloc[0] == "泉" * 127  # 254 bytes in GBK
    with zipfile.ZipFile(path) as zf:
        assert "text cut to 254 bytes" in zf.read("long_fields.csv").decode("utf-8-sig")


def test_characters_outside_gbk_get_a_clear_error(tmp_path, names_layer):
    names_layer.loc[1, "name"] = "𬌗街"  # a character GBK lacks
    with pytest.raises(ExportError, match=r"row 2, field 'name'.*--encoding utf-8"):
        export_layer(names_layer, tmp_path / "x.shp.zip", encoding="gbk")


def test_gcj02_export_is_the_forward_conversion(tmp_path, names_layer):
    path = export_layer(names_layer, tmp_path / "gcj.geojson", crs="gcj02")
    back = pyogrio.read_dataframe(path)
    gx, gy = convert(names_layer.geometry.x, names_layer.geometry.y, src="cgcs2000", dst="gcj02")
    assert np.allclose(back.geometry.x, gx, atol=1e-7) and np.allclose(back.geometry.y, gy, atol=1e-7)


def test_gauss_kruger_export(tmp_path, names_layer):
    path = export_layer(names_layer, tmp_path / "gk.gpkg", crs="gk")
    assert pyogrio.read_dataframe(path).crs.to_epsg() == 4548
    with pytest.raises(ExportError, match="KML holds longitude/latitude"):
        export_layer(names_layer, tmp_path / "gk.kml", crs="EPSG:4548")


def test_unknown_format(tmp_path, names_layer):
    with pytest.raises(ExportError, match="unknown export format"):
        export_layer(names_layer, tmp_path / "a.dxf")


def test_bundle_has_every_layer_and_a_readme_of_sources(atlas, tmp_path):
    g = relief_points(2)
    g["source"] = ["OpenStreetMap", "test"]
    g["sample"] = [False, True]
    atlas.write("relief_points", g, licence="ODbL-1.0")
    atlas.write("population_units", population_units())
    path = export_bundle(atlas, tmp_path / "out" / "bundle.zip", formats=["gpkg", "shp"], encoding="gbk")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        readme = zf.read("README.md").decode("utf-8")
    assert {"gpkg/relief_points.gpkg", "shp/relief_points.shp.zip", "gpkg/population_units.gpkg",
            "shp/population_units.shp.zip", "README.md"} <= names
    assert "© OpenStreetMap contributors" in readme and "ODbL" in readme
    assert "Sample data" in readme and "GBK" in readme


def test_exports_from_placegeo_can_be_imported_again(atlas, tmp_path):
    atlas.write("population_units", population_units())
    path = export_layer(atlas.read("population_units"), tmp_path / "pop.shp.zip", encoding="gbk")
    result = atlas.import_file(path, "population_units", mode="replace", strict=True)
    assert result.n_written == 2
    assert atlas.read("population_units")["residents_60plus"].tolist() == [200, 500]


def test_gbk_folds_capital_tone_marks_and_says_so(tmp_path, names_layer):
    names_layer["host"] = ["Èrtàipíng Cūn", "Ānlè Jiē", "plain"]
    path = export_layer(names_layer, tmp_path / "py.shp.zip", encoding="gbk")
    assert _read_zip_shp(path)["host"].tolist() == ["èrtàipíng Cūn", "ānlè Jiē", "plain"]
    with zipfile.ZipFile(path) as zf:
        assert "lower case (GBK lacks them)" in zf.read("py_fields.csv").decode("utf-8-sig")


def test_csv_export_neutralises_formulas_and_keeps_numbers(tmp_path):
    import csv

    g = relief_points(7)
    g["name"] = ["=HYPERLINK(\"http://x\")", "+1+1地名", "@SUM(1)", "\tcmd", "\rcmd", "-1+2", "-3.5"]
    g["score"] = [-1.5, 2.0, 0.0, -7.0, 1.0, 1.0, 1.0]
    path = export_layer(g, tmp_path / "x.csv", fmt="csv")
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1+1地名", "'@SUM(1)", "'\tcmd", "'\rcmd",
                                         "'-1+2", "-3.5"]
    assert [float(r["score"]) for r in rows] == [-1.5, 2.0, 0.0, -7.0, 1.0, 1.0, 1.0]  # numbers stay numbers
    assert g["name"].iloc[0].startswith("=")  # the frame given is not changed


def _messy_layer() -> gpd.GeoDataFrame:
    """Chinese text, missing values of every type, long field names, a name outside GB2312's common set."""
    g = relief_points(4)
    g["name"] = ["趵突泉派出所", "芙蓉街便利店", None, "𬌗齿路24小时便利店"[1:]]
    g["hours"] = ["8:30-17:30", None, "全天", "周一至周五 9:00-17:00"]
    g["capacity_beds_total"] = pd.array([10, None, 0, 12000000000], dtype="Int64")
    g["area_sq_m"] = [1.5, np.nan, 0.0, 1e-9]
    g["open_24h"] = pd.array([True, None, False, True], dtype="boolean")
    return g


def _read_back(path, fmt):
    if fmt == "shp":
        with zipfile.ZipFile(path) as zf:
            members = {n: zf.read(n) for n in zf.namelist() if not n.endswith((".shp", ".shx", ".dbf"))}
        return pyogrio.read_dataframe(f"/vsizip/{path}/pts.shp"), members
    return pyogrio.read_dataframe(path), {}


@pytest.mark.parametrize("fmt,encoding", [("gpkg", "utf-8"), ("geojson", "utf-8"), ("kml", "utf-8"),
                                          ("shp", "utf-8"), ("shp", "gbk")])
def test_arrow_writes_the_same_files_as_the_feature_by_feature_path(tmp_path, monkeypatch, fmt, encoding):
    from placegeo import export

    ext = {"shp": ".shp.zip"}.get(fmt, f".{fmt}")
    layer = _messy_layer()
    arrow = export_layer(layer, tmp_path / f"arrow{ext}", encoding=encoding, name="pts")
    monkeypatch.setattr(export, "USE_ARROW", False)
    plain = export_layer(layer, tmp_path / f"plain{ext}", encoding=encoding, name="pts")
    new, new_members = _read_back(arrow, fmt)
    old, old_members = _read_back(plain, fmt)
    assert new.columns.tolist() == old.columns.tolist()  # field names (10-byte shapefile names too)
    if fmt == "kml":  # GDAL names KML features after the (temporary) file: the same apart from that name
        assert [i.rsplit(".", 1)[1] for i in new.pop("id")] == [i.rsplit(".", 1)[1] for i in old.pop("id")]
    pd.testing.assert_frame_equal(pd.DataFrame(new.drop(columns="geometry")),
                                  pd.DataFrame(old.drop(columns="geometry")))
    assert new.geometry.equals(old.geometry) and new.crs == old.crs
    assert new_members == old_members  # .cpg, .prj and the field mapping
    if fmt == "shp":
        with zipfile.ZipFile(arrow) as a, zipfile.ZipFile(plain) as b:
            assert a.read("pts.dbf") == b.read("pts.dbf")  # the same bytes, in the same encoding
    if fmt == "gpkg":
        info_new, info_old = pyogrio.read_info(arrow), pyogrio.read_info(plain)
        assert list(info_new["dtypes"]) == list(info_old["dtypes"])
