"""Importing the files other departments send, and refusing what is wrong."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely import Polygon

from helpers import atlas_digest, relief_points
from placegeo.crs import convert
from placegeo.errors import CRSError, ImportFormatError, ValidationError
from placegeo.readers import detect_encoding, read_file

BACKENDS = ["gpkg", "postgis"]

# WGS84 positions of three old-city places (OpenStreetMap)
PLACES = [("rp1", "趵突泉避风港", 117.009416, 36.6605638), ("rp2", "芙蓉街避风港", 117.0160584, 36.6643835),
          ("rp3", "大明湖避风港", 117.0177642, 36.6748909)]


def _csv(path, rows, *, encoding="utf-8", header="编号,名称,类型,24小时,区县代码,经度,纬度"):
    text = header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def _gcj_rows():
    rows = []
    for pid, name, lon, lat in PLACES:
        gx, gy = convert(lon, lat, src="wgs84", dst="gcj02")
        rows.append((pid, name, "泉城避风港", "是", "370102", f"{float(gx):.8f}", f"{float(gy):.8f}"))
    return rows


def test_csv_in_gcj02_lands_on_the_wgs84_positions(atlas, tmp_path):
    path = _csv(tmp_path / "points.csv", _gcj_rows())
    result = atlas.import_file(path, "relief_points", datum="gcj02")
    assert (result.n_read, result.n_written) == (3, 3)
    back = atlas.read("relief_points").set_index("point_id")
    for pid, _, lon, lat in PLACES:
        p = back.loc[pid, "geometry"]
        assert abs(p.x - lon) < 1e-8 and abs(p.y - lat) < 1e-8  # < 1 mm
    assert back.loc["rp1", "kind"] == "relief_point" and bool(back.loc["rp1", "open_24h"])
    assert back.loc["rp1", "source"] == "points.csv"
    assert any("'名称' read as 'name'" in n for n in result.report.notes)


def test_csv_without_datum_is_refused_with_the_choices(atlas, tmp_path):
    path = _csv(tmp_path / "points.csv", _gcj_rows())
    with pytest.raises(CRSError, match=r"--datum.*gcj02"):
        atlas.import_file(path, "relief_points")


def test_gbk_csv_is_detected(atlas, tmp_path):
    path = _csv(tmp_path / "gbk.csv", _gcj_rows(), encoding="gbk")
    atlas.import_file(path, "relief_points", datum="gcj02")
    assert atlas.read("relief_points")["name"].iloc[0] == "趵突泉避风港"


def test_swapped_coordinates_are_named_as_such(atlas, tmp_path):
    rows = [(pid, name, "泉城避风港", "否", "370102", lat, lon) for pid, name, lon, lat in PLACES]
    path = _csv(tmp_path / "swapped.csv", rows)
    with pytest.raises(ValidationError) as info:
        atlas.import_file(path, "relief_points", datum="wgs84")
    probs = info.value.problems
    assert len(probs) == 3 and all(p.code == "swapped" and p.field == "geometry" for p in probs)
    assert [p.row for p in probs] == [2, 3, 4]
    assert "exchange the longitude and latitude" in str(info.value)


def test_points_outside_the_atlas_extent(atlas, tmp_path):
    rows = [("rp1", "上海的点", "泉城避风港", "否", "370102", 121.47, 31.23)]
    with pytest.raises(ValidationError, match="outside the atlas extent"):
        atlas.import_file(_csv(tmp_path / "far.csv", rows), "relief_points", datum="wgs84")


def test_every_problem_is_reported_at_once_with_row_and_field(atlas, tmp_path):
    rows = [
        ("rp1", "好的点", "泉城避风港", "是", "370102", 117.02, 36.66),
        ("rp1", "重复编号", "泉城避风港", "是", "370102", 117.02, 36.66),   # duplicate key
        ("rp3", "", "泉城避风港", "是", "370102", 117.02, 36.66),           # missing name
        ("rp4", "坏类型", "酒店", "是", "370102", 117.02, 36.66),           # enum
        ("rp5", "坏代码", "泉城避风港", "是", "370199", 117.02, 36.66),     # code not in table
        ("rp6", "坏布尔", "泉城避风港", "也许", "3701", 117.02, 36.66),     # boolean + code length
        ("rp7", "无坐标", "泉城避风港", "是", "370102", "", "abc"),         # no geometry
    ]
    report_path = _csv(tmp_path / "messy.csv", rows)
    with pytest.raises(ValidationError) as info:
        atlas.import_file(report_path, "relief_points", datum="wgs84", strict=True)
    found = {(p.row, p.field, p.code) for p in info.value.problems}
    assert found == {
        (3, "point_id", "duplicate_key"), (4, "name", "required"), (5, "kind", "enum"), (6, "district_code", "code"),
        (7, "open_24h", "type"), (7, "district_code", "code"), (8, "geometry", "geometry"),
    }
    assert "first used on row 2" in str(info.value)
    assert "relief_points" not in atlas.layers()  # strict: nothing written


def test_non_strict_import_skips_bad_rows_and_reports_them(atlas, tmp_path):
    rows = [("rp1", "好的点", "泉城避风港", "是", "370102", 117.02, 36.66),
            ("rp2", "坏类型", "酒店", "是", "370102", 117.02, 36.66)]
    result = atlas.import_file(_csv(tmp_path / "mixed.csv", rows), "relief_points", datum="wgs84")
    assert (result.n_written, result.n_skipped) == (1, 1)
    assert result.report.problems[0].row == 3
    assert atlas.read("relief_points")["point_id"].tolist() == ["rp1"]


def test_refused_import_leaves_the_atlas_byte_for_byte_unchanged(atlas, tmp_path):
    atlas.write("relief_points", relief_points(2))
    before = atlas_digest(atlas)
    rows = [("rp9", "坏类型", "酒店", "是", "370102", 117.02, 36.66)]
    for strict in (True, False):
        with pytest.raises(ValidationError):
            atlas.import_file(_csv(tmp_path / "bad.csv", rows), "relief_points", datum="wgs84", strict=strict,
                              mode="replace")
    assert atlas_digest(atlas) == before


def test_append_and_replace_modes(atlas, tmp_path):
    atlas.write("relief_points", relief_points(2))
    path = _csv(tmp_path / "new.csv", [("new1", "新点", "泉城避风港", "是", "370102", 117.02, 36.66)])
    atlas.import_file(path, "relief_points", datum="wgs84", mode="append")
    assert sorted(atlas.read("relief_points")["point_id"]) == ["new1", "rp0", "rp1"]
    with pytest.raises(ValidationError, match="already stored"):
        atlas.import_file(path, "relief_points", datum="wgs84", mode="append", strict=True)
    atlas.import_file(path, "relief_points", datum="wgs84", mode="replace")
    assert atlas.read("relief_points")["point_id"].tolist() == ["new1"]


def test_gbk_shapefile_without_cpg(atlas, tmp_path):
    g = relief_points(3)
    g["name"] = ["趵突泉派出所", "芙蓉街便利店", "曲水亭街"]
    shp = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(g.rename(columns={"district_code": "dist_code"}), shp, encoding="GBK")
    (tmp_path / "gbk.cpg").unlink()
    raw = (tmp_path / "gbk.dbf").read_bytes()
    assert "趵突泉".encode("gbk") in raw and detect_encoding(raw[32:]) == "gb18030"
    gdf = read_file(shp)
    assert gdf["name"].tolist() == ["趵突泉派出所", "芙蓉街便利店", "曲水亭街"]
    g2 = read_file(shp).rename(columns={"dist_code": "district_code"})
    atlas.write("relief_points", g2)
    assert atlas.read("relief_points")["name"].iloc[0] == "趵突泉派出所"


def test_shapefile_without_prj_needs_a_datum(tmp_path):
    shp = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(relief_points(1), shp)
    (tmp_path / "noprj.prj").unlink()
    with pytest.raises(CRSError, match="no CRS"):
        read_file(shp)
    assert read_file(shp, datum="cgcs2000").crs.to_epsg() == 4490


def test_projected_shapefile_is_reprojected(tmp_path):
    shp = tmp_path / "gk.shp"
    pyogrio.write_dataframe(relief_points(1).to_crs(4548), shp)
    g = read_file(shp)
    assert g.crs.to_epsg() == 4490 and abs(g.geometry.x[0] - 117.02) < 1e-7


def test_invalid_polygon_is_refused_with_the_reason(atlas):
    bowtie = Polygon([(117.0, 36.6), (117.01, 36.61), (117.01, 36.6), (117.0, 36.61)])
    g = gpd.GeoDataFrame({"unit_id": ["u1"], "residents": [10], "residents_60plus": [2], "district_code": ["370102"],
                          "source": ["t"]}, geometry=[bowtie], crs=4490)
    with pytest.raises(ValidationError) as info:
        atlas.write("population_units", g)
    p = info.value.problems[0]
    assert p.code == "invalid_geometry" and "Self-intersection" in p.message and "make_valid" in p.fix


def test_wrong_geometry_type(atlas):
    g = relief_points(1)
    g.geometry = [Polygon([(117.0, 36.6), (117.01, 36.61), (117.01, 36.6)])]
    with pytest.raises(ValidationError, match="a Polygon where layer 'relief_points' holds Points"):
        atlas.write("relief_points", g)


def test_cross_field_rule_and_range(atlas):
    g = gpd.GeoDataFrame({"cemetery_id": ["c1"], "name": ["测试公墓"], "level": ["镇级"], "kind": ["公墓"],
                          "capacity_plots": [100], "used_plots": [120], "eco_share": [60], "status": ["已建"],
                          "district_code": ["370102"], "source": ["t"]},
                         geometry=gpd.points_from_xy([117.02], [36.66]), crs=4490)
    with pytest.raises(ValidationError) as info:
        atlas.write("cemeteries", g)
    msgs = {p.field: str(p) for p in info.value.problems}
    assert "more plots used than the cemetery holds" in msgs["used_plots"]
    assert "0-1, not in %" in msgs["eco_share"]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "kml", "xlsx"])
def test_every_input_format_round_trips(atlas, tmp_path, fmt):
    g = relief_points(3)
    path = tmp_path / f"in.{fmt}"
    if fmt == "xlsx":
        table = pd.DataFrame(g.drop(columns="geometry"))
        table["经度"], table["纬度"] = g.geometry.x, g.geometry.y
        table.to_excel(path, index=False)
        result = atlas.import_file(path, "relief_points", datum="cgcs2000")
    elif fmt == "kml":
        pyogrio.write_dataframe(g.to_crs(4326), path, driver="KML")
        result = atlas.import_file(path, "relief_points")
    else:
        pyogrio.write_dataframe(g, path)
        result = atlas.import_file(path, "relief_points")
    assert result.n_written == 3, result.report
    back = atlas.read("relief_points")
    assert back["name"].tolist() == g["name"].tolist()
    assert np.allclose(back.geometry.x, g.geometry.x, atol=1e-7)


def test_unknown_format_and_missing_columns(tmp_path):
    (tmp_path / "a.dwg").write_bytes(b"x")
    with pytest.raises(ImportFormatError, match="CSV, XLSX"):
        read_file(tmp_path / "a.dwg")
    (tmp_path / "b.csv").write_text("name,address\na,b\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="lon/lat"):
        read_file(tmp_path / "b.csv", datum="wgs84")


def test_missing_required_column_is_reported_once(atlas, tmp_path):
    path = tmp_path / "nokind.csv"
    path.write_text("point_id,name,open_24h,district_code,lon,lat\nrp1,a,是,370102,117.02,36.66\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        atlas.import_file(path, "relief_points", datum="wgs84", derive=False)
    assert [(p.row, p.field, p.code) for p in info.value.problems] == [(None, "kind", "missing_field")]
    result = atlas.import_file(path, "relief_points", datum="wgs84")  # the layer's default fills it, reported
    assert result.derived[["row", "field", "value"]].values.tolist() == [[2, "kind", "relief_point"]]


def test_coordinates_written_by_hand_read_like_plain_ones(atlas, tmp_path):
    # one column of plain numbers is parsed in one go; a single hand-written value sends it through cleaning
    plain = ["编号\t名称\t经度\t纬度"] + [f"{pid}\t{name}\t{lon}\t{lat}" for pid, name, lon, lat in PLACES]
    hand = [*plain[:2], f"rp2\t芙蓉街避风港\t {PLACES[1][2]}° \t{str(PLACES[1][3]).replace('.', ',')}", plain[3]]
    (tmp_path / "plain.tsv").write_text("\n".join(plain) + "\n", encoding="utf-8")
    (tmp_path / "hand.tsv").write_text("\n".join(hand) + "\n", encoding="utf-8")
    a = read_file(tmp_path / "plain.tsv", datum="wgs84")
    b = read_file(tmp_path / "hand.tsv", datum="wgs84")
    assert a.geometry.geom_equals_exact(b.geometry, 1e-12).all()
    assert abs(b.geometry.x[1] - PLACES[1][2]) < 1e-12 and abs(b.geometry.y[1] - PLACES[1][3]) < 1e-12


def test_datum_check_matches_names_written_with_spaces_and_full_width_forms():
    from placegeo.duplicates import datum_offset

    lon, lat = np.array([p[2] for p in PLACES]), np.array([p[3] for p in PLACES])
    stored = gpd.GeoDataFrame({"name": [p[1] for p in PLACES]}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490")
    gx, gy = convert(lon, lat, src="wgs84", dst="gcj02")
    written = ["趵突泉　避风港", "芙蓉街 避风港", "大明湖避风港（）"]  # full-width space, space, full-width brackets
    data = gpd.GeoDataFrame({"name": written}, geometry=gpd.points_from_xy(gx, gy), crs="EPSG:4490")
    found = datum_offset(data, name_field="name", datums=np.array(["wgs84"] * 3, dtype=object), stored=stored)
    assert [(f.likely, f.n_matched) for f in found] == [("gcj02", 2)]  # brackets stay: the third name differs
