"""The files of examples/ go into a fresh demo atlas as planners have them (issue 14).

Each imports with every row, lands where its file says (converted back to the file's datum, to
1 cm), keeps its Chinese, and reports every value derived; twice is refused as duplicates; a
wrong --datum is refused or warned about. Also here: opening hours as people write them through
the import, column titles, row numbers as Excel shows them, and every problem of a value.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import Point, Polygon

from placegeo.atlas import Atlas
from placegeo.cli import main
from placegeo.crs import convert
from placegeo.errors import DatumError, ValidationError
from placegeo.readers import read_table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# file, layer, --datum, datum of the coordinates in the file, lon/lat columns, name column
CASES = {
    "amap": ("amap_relief_points.csv", "relief_points", None, "gcj02", ("经度", "纬度"), "名称"),
    "baidu": ("baidu_relief_points.csv", "relief_points", None, "bd09", ("lng", "lat"), "name"),
    "homes": ("homes.xlsx", "elderly_facilities", "gcj02", "gcj02", ("经度", "纬度"), "机构名称"),
    "shapefile": ("place_names_gbk/place_names.shp", "traditional_place_names", None, "cgcs2000", None, "地名"),
}


@pytest.fixture
def fresh(demo_gpkg, tmp_path) -> Atlas:
    """A copy of the demo atlas for one test (the file copied as it is)."""
    shutil.copyfile(demo_gpkg.location, tmp_path / "atlas.gpkg")
    return Atlas(tmp_path / "atlas.gpkg")


def _file_points(case: str) -> pd.DataFrame:
    name, _, _, _, cols, name_col = CASES[case]
    path = EXAMPLES / name
    if cols is None:
        g = gpd.read_file(path, encoding="gbk")
        return pd.DataFrame({"name": g[name_col], "x": g.geometry.x, "y": g.geometry.y})
    t = read_table(path)
    return pd.DataFrame({"name": t[name_col], "x": t[cols[0]].astype(float), "y": t[cols[1]].astype(float)})


@pytest.mark.parametrize("case", list(CASES))
def test_each_example_imports_every_row_where_its_file_says(fresh, case):
    name, layer, datum, file_datum, _, _ = CASES[case]
    before = fresh.count(layer)
    result = fresh.import_file(EXAMPLES / name, layer, datum=datum)
    expected = _file_points(case)
    assert (result.n_read, result.n_written) == (len(expected), len(expected)), result.report
    stored = fresh.read(layer)
    assert len(stored) == before + len(expected)
    mine = stored[stored["source"] == Path(name).name].set_index("name")
    got = mine.loc[expected["name"]]  # Chinese names intact, found by name
    x, y = convert(got.geometry.x.to_numpy(), got.geometry.y.to_numpy(), src="cgcs2000", dst=file_datum)
    err_m = np.hypot((x - expected["x"].to_numpy()) * 89_000, (y - expected["y"].to_numpy()) * 111_000)
    assert err_m.max() < 0.01
    derived = result.derived
    spec_key = {"relief_points": "point_id", "elderly_facilities": "facility_id",
                "traditional_place_names": "name_id"}[layer]
    for field in (spec_key, "district_code"):  # every row gets a key and a district, each reported
        rows = derived.loc[derived["field"] == field, "row"]
        assert len(rows) == len(expected) and rows.is_unique
    districts = derived.loc[derived["field"] == "district_code"]
    assert districts["how"].str.startswith("position in").all()
    assert districts["value"].isin(fresh.codes["code"]).all()
    assert stored[spec_key].is_unique


def test_homes_rows_are_numbered_as_excel_shows_them(fresh, tmp_path):
    result = fresh.import_file(EXAMPLES / "homes.xlsx", "elderly_facilities", datum="gcj02")
    # rows 1-2 are merged titles, row 3 the header: the first home is row 4, the note row is skipped
    assert sorted(set(result.derived["row"])) == list(range(4, 12))
    assert any("titles above the header" in n for n in result.report.notes)
    assert any("notes, not records" in n for n in result.report.notes)
    types = fresh.read("elderly_facilities").set_index("name")
    assert types.loc["华山敬老院", "type"] == "养老院" and types.loc["华山敬老院", "operator"] == "public"
    assert types.loc["英雄山颐和苑", "nursing_beds"] == 100


def test_shapefile_without_cpg_reports_the_encoding_it_assumed(fresh):
    result = fresh.import_file(EXAMPLES / "place_names_gbk/place_names.shp", "traditional_place_names")
    assert any("no .cpg" in n and "GB18030 (GBK)" in n for n in result.report.notes)
    stored = fresh.read("traditional_place_names").set_index("name")
    assert stored.loc["北园庄", "former_names"] == "北园村、北园寨"


@pytest.mark.parametrize("case", ["amap", "homes", "shapefile"])
def test_the_same_file_twice_is_refused_as_duplicates_unless_allowed(fresh, case):
    name, layer, datum, *_ = CASES[case]
    fresh.import_file(EXAMPLES / name, layer, datum=datum)
    n = fresh.count(layer)
    with pytest.raises(ValidationError) as info:
        fresh.import_file(EXAMPLES / name, layer, datum=datum)
    assert {p.code for p in info.value.problems} == {"duplicate"}
    assert "already in the atlas as" in str(info.value) and fresh.count(layer) == n
    again = fresh.import_file(EXAMPLES / name, layer, datum=datum, allow_duplicates=True)
    assert again.n_written == again.n_read and again.report.warnings


def test_the_same_list_in_another_datum_is_caught(fresh, tmp_path):
    fresh.import_file(EXAMPLES / "amap_relief_points.csv", "relief_points")
    t = read_table(EXAMPLES / "amap_relief_points.csv")
    x, y = convert(t["经度"].astype(float).to_numpy(), t["纬度"].astype(float).to_numpy(), src="gcj02", dst="bd09")
    t["经度"], t["纬度"], t["坐标系"] = np.round(x, 6), np.round(y, 6), "BD-09(百度)"
    t.to_csv(tmp_path / "baidu_again.csv", index=False)
    with pytest.raises(ValidationError) as info:
        fresh.import_file(tmp_path / "baidu_again.csv", "relief_points")
    assert len(info.value.problems) == len(t) and {p.code for p in info.value.problems} == {"duplicate"}


def test_duplicates_within_a_file_name_both_rows(fresh, tmp_path):
    t = read_table(EXAMPLES / "amap_relief_points.csv")
    dup = t.iloc[[0]].assign(名称=lambda d: d["名称"].str.replace("派出所", " 派出所"),  # near-same name, 30 m off
                             经度=lambda d: (d["经度"].astype(float) + 0.0003).round(6))
    pd.concat([t, dup]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(ValidationError) as info:
        fresh.import_file(tmp_path / "dup.csv", "relief_points", strict=True)
    (p,) = info.value.problems
    assert p.row == len(t) + 2 and "repeats row 2" in p.message
    near = fresh.import_file(tmp_path / "dup.csv", "relief_points", duplicate_distance_m=20)
    assert near.n_written == len(t) + 1  # the distance is an option: 27 m apart is not a duplicate at 20 m


def test_a_datum_contradicting_the_file_is_refused_naming_both(fresh):
    with pytest.raises(DatumError, match=r"--datum wgs84 contradicts.*坐标系.*gcj02.*GCJ-02\(高德\)"):
        fresh.import_file(EXAMPLES / "amap_relief_points.csv", "relief_points", datum="wgs84")
    fresh.import_file(EXAMPLES / "amap_relief_points.csv", "relief_points", datum="gcj02")  # agreeing is fine


def test_a_wrong_datum_is_warned_with_the_likely_one(fresh):
    fresh.import_file(EXAMPLES / "homes.xlsx", "elderly_facilities", datum="gcj02")
    report = fresh.import_file(EXAMPLES / "homes.xlsx", "elderly_facilities", datum="wgs84",
                               allow_duplicates=True).report
    (w,) = [w for w in report.warnings if w.code == "datum_offset"]
    assert "probably in gcj02" in w.message and "--datum gcj02" in w.fix


def test_opening_hours_as_people_write_them_through_the_import(fresh):
    result = fresh.import_file(EXAMPLES / "amap_relief_points.csv", "relief_points")
    stored = fresh.read("relief_points")
    t = read_table(EXAMPLES / "amap_relief_points.csv")
    got = stored.set_index("name").loc[t["名称"]]
    want = {
        "8:30-17:30": ("08:30-17:30", False), "08:30—17:30": ("08:30-17:30", False),
        "8:30~17:30": ("08:30-17:30", False), "24小时": ("24/7", True), "全天": ("24/7", True),
        "全天24小时": ("24/7", True), "17:00-次日8:00": ("17:00-08:00", False), "20:00-08:00": ("20:00-08:00", False),
        "8:00-12:00,14:00-18:00": ("08:00-12:00,14:00-18:00", False),
        "上午8:00-12:00 下午14:00-18:00": ("08:00-12:00,14:00-18:00", False),
        "周一至周五 9:00-17:00": ("Mo-Fr 09:00-17:00", False),
        "工作日 8:30-17:30 节假日除外": ("Mo-Fr 08:30-17:30; PH off", False),
        "周末 9:00-17:00": ("Sa,Su 09:00-17:00", False),
    }
    for text, hours, osm, always in zip(t["开放时间"], got["hours"], got["opening_hours"], got["open_24h"],
                                        strict=True):
        assert hours == text and (osm, bool(always)) == want[text], text
    how = result.derived.loc[result.derived["field"] == "open_24h", "how"]
    assert how.str.startswith("from the hours '").all() and len(how) == len(t)


def test_hours_that_cannot_be_read_are_reported_never_guessed(fresh, tmp_path):
    (tmp_path / "h.csv").write_text("名称,经度,纬度,开放时间,24小时开放,坐标系\n"
                                    "甲,117.0202,36.6650,看情况,,GCJ-02(高德)\n"
                                    "乙,117.0302,36.6650,看情况,否,GCJ-02(高德)\n", encoding="utf-8")
    result = fresh.import_file(tmp_path / "h.csv", "relief_points")
    (p,) = result.report.problems
    assert (p.row, p.field, p.code) == (2, "open_24h", "hours") and "cannot be derived" in p.message
    (w,) = result.report.warnings
    assert w.row == 3 and "kept as text" in w.message
    row = fresh.read("relief_points").set_index("name").loc["乙"]
    assert row["hours"] == "看情况" and pd.isna(row["opening_hours"]) and not row["open_24h"]


def test_titles_as_layers_show_prints_them_are_column_names(fresh, tmp_path):
    (tmp_path / "titles.csv").write_text(
        "编号,名称,类型,24小时开放,所在区县代码,经度,纬度\nt1,某点,泉城避风港,是,370102,117.0202,36.6650\n",
        encoding="utf-8")
    assert fresh.import_file(tmp_path / "titles.csv", "relief_points", datum="gcj02", derive=False).n_written == 1
    (tmp_path / "cem.csv").write_text(
        "名称,层级,类型,设计容量（穴）,已用穴位,状态,经度,纬度\n某公墓,镇级,公墓,100,10,已建,117.0202,36.6650\n",
        encoding="utf-8")
    report = fresh.import_file(tmp_path / "cem.csv", "cemeteries", datum="gcj02").report
    assert "capacity_plots" not in {p.field for p in report.problems}, report


def test_point_outside_every_district_and_coordinates_as_written(fresh, tmp_path):
    (tmp_path / "far.csv").write_text("名称,经度,纬度,开放时间,坐标系\n远点,118.9,37.9,24小时,gcj02\n"
                                      "近点,117.020200,36.665000,24小时,gcj02\n", encoding="utf-8")
    result = fresh.import_file(tmp_path / "far.csv", "relief_points")
    by_code = {p.code: p for p in result.report.problems}
    assert by_code["outside_units"].row == 2 and "(118.9, 37.9)" in by_code["outside_units"].message
    assert "(118.9, 37.9)" in by_code["extent"].message  # as written, not converted
    assert result.n_written == 1


def test_generated_keys_never_reuse_a_stored_key(fresh, tmp_path):
    taken = gpd.GeoDataFrame({"point_id": ["RP-00001", "RP-00003"], "name": ["甲", "乙"], "kind": ["relief_point"] * 2,
                              "open_24h": [True, True], "district_code": ["370102"] * 2, "source": ["t"] * 2},
                             geometry=[Point(117.1, 36.66), Point(117.11, 36.66)], crs=4490)
    fresh.write("relief_points", taken, mode="append")
    result = fresh.import_file(EXAMPLES / "baidu_relief_points.csv", "relief_points")
    keys = result.derived.loc[result.derived["field"] == "point_id", "value"].tolist()
    assert keys[:3] == ["RP-00002", "RP-00004", "RP-00005"] and len(set(keys)) == 6


def test_bow_tie_reports_wrong_type_and_self_intersection(fresh):
    bowtie = Polygon([(117.0, 36.6), (117.01, 36.61), (117.01, 36.6), (117.0, 36.61)])
    g = gpd.GeoDataFrame({"cemetery_id": ["c1"], "name": ["测试公墓"], "level": ["镇级"], "kind": ["公墓"],
                          "capacity_plots": [100], "used_plots": [10], "district_code": ["370102"],
                          "source": ["t"]}, geometry=[bowtie], crs=4490)
    with pytest.raises(ValidationError) as info:
        fresh.write("cemeteries", g)
    codes = {p.code: p for p in info.value.problems}
    assert {"geometry_type", "invalid_geometry"} <= set(codes)
    assert "Self-intersection" in codes["invalid_geometry"].message and "make_valid" in codes["invalid_geometry"].fix


def test_cli_lists_derived_values_and_no_derive_turns_it_off(fresh):
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(EXAMPLES / "baidu_relief_points.csv"), "--layer", "relief_points",
                              "--atlas", fresh.location])
    assert ok.exit_code == 0, ok.stderr
    assert "derived: row 2, district_code = " in ok.stderr and "derived: row 7, point_id = RP-" in ok.stderr
    off = runner.invoke(main, ["validate", str(EXAMPLES / "baidu_relief_points.csv"), "--layer", "relief_points",
                               "--atlas", fresh.location, "--no-derive"])
    assert off.exit_code == 2 and "derived:" not in off.stderr and "'point_id'" in off.stderr
    imp = runner.invoke(main, ["import", str(EXAMPLES / "homes.xlsx"), "--layer", "elderly_facilities", "--datum",
                               "gcj02", "--atlas", fresh.location, "--json"])
    assert imp.exit_code == 0, imp.stderr
    assert '"derived"' in imp.stdout and "所在区县代码" not in imp.stderr
