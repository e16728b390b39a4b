"""The Jinan demo atlas looks and behaves like a real city's data, and says what is sample."""

import geopandas as gpd
import pandas as pd
import pytest

from placegeo.cities import load_city
from placegeo.demo import data_path, load_census, load_code_tree, load_districts
from placegeo.registry import load_registry

HIGHTECH = load_city("jinan").zone_codes[0]  # 高新区, a functional zone with no polygon of its own


def _iou(a, b):
    return a.intersection(b).area / a.union(b).area


def test_gcj02_conversion_improves_the_fit_to_the_osm_outline():
    raw = gpd.read_file(data_path("jinan_districts_gcj02.geojson"))
    raw = raw[raw["level"] == "区县"]
    outline = gpd.read_file(data_path("jinan_city_boundary_osm.geojson")).to_crs(4548).union_all()
    before = _iou(gpd.GeoSeries(raw.geometry.values, crs=4326).to_crs(4548).union_all(), outline)
    after = _iou(load_districts().to_crs(4548).union_all(), outline)
    print(f"IoU with the OpenStreetMap outline: {before:.4f} before conversion, {after:.4f} after")
    assert 0.95 < before < after
    assert after > 0.985


def test_code_tree_counts():
    codes = load_code_tree()
    counts = codes["level"].value_counts()
    assert (counts["district"], counts["town"], counts["village"]) == (13, 164, 5758)
    assert codes["code"].is_unique
    assert codes.loc[codes["level"] == "town", "code"].str.len().eq(9).all()
    assert codes.loc[codes["level"] == "village", "code"].str.len().eq(12).all()
    parents = set(codes["code"])
    assert codes["parent_code"].dropna().isin(parents).all()


def test_census_is_complete_and_totals_the_city():
    census = load_census()
    assert HIGHTECH in census.index and len(census) == 13
    assert census["residents"].sum() == 9_202_432
    assert census["residents_60plus"].sum() == 1_837_112
    assert census["residents_65plus"].sum() == 1_294_977


def test_population_units_add_up_exactly_to_the_census(demo_atlas):
    units = demo_atlas.read("population_units")
    sums = units.groupby("district_code")[["residents", "residents_60plus", "residents_65plus"]].sum()
    census = load_census()[["residents", "residents_60plus", "residents_65plus"]]
    pd.testing.assert_frame_equal(sums.sort_index().astype("int64"), census.sort_index().astype("int64"),
                                  check_names=False)
    assert (units["residents_60plus"] <= units["residents"]).all()
    # denser in the central districts
    area_km2 = units.to_crs(4548).area / 1e6
    dens = (units["residents"].groupby(units["district_code"]).sum()
            / area_km2.groupby(units["district_code"]).sum())
    assert dens.loc["370102"] > 5 * dens.loc["370126"]


def test_every_layer_is_present_with_the_published_scale(demo_atlas):
    results = {"coverage_units", "coverage_gaps", "service_areas"}  # written by `placegeo coverage --write`
    # Jining's demo has them, Jinan's profile does not ask
    other_cities = {"place_names", "scattered_graves", "protection_lines", "protection_areas"}
    assert set(demo_atlas.layers()) == set(load_registry()) - results - other_cities
    assert demo_atlas.count("traditional_place_names") == 232
    relief = demo_atlas.read("relief_points")
    assert (relief["kind"] == "relief_point").sum() == 166 and (relief["kind"] == "rescue_station").sum() == 1
    assert relief["open_24h"].any() and not relief["open_24h"].all()
    cem = demo_atlas.read("cemeteries")
    built = cem[cem["status"] == "built"]
    assert (built["level"] != "村").sum() == 84 and (built["level"] == "村").sum() == 144
    assert (cem["level"] != "村").sum() == 184  # the 2035 plan for town level and above
    assert {"蟠龙山公墓", "北康回民公墓"} <= set(cem["name"])
    assert not cem["name"].str.match(r"^\d").any()  # names of towns, not row numbers
    fac = demo_atlas.read("elderly_facilities")
    admin = demo_atlas.read("admin_units")
    subdistricts = admin[(admin["level"] == "town") & admin["name"].str.endswith("街道")]
    centres = fac[fac["type"] == "综合养老服务中心"]
    assert centres["name"].str.startswith(tuple(subdistricts["name"])).sum() == len(subdistricts)
    assert set(fac["type"]) == set(load_registry()["elderly_facilities"].field("type").enum)


def test_every_sample_feature_is_flagged_and_real_ones_are_not(demo_atlas):
    for name in demo_atlas.layers():
        gdf = demo_atlas.read(name)
        generated = gdf["source"].str.startswith("sample:")
        assert (gdf.loc[generated, "sample"]).all(), name
        assert not gdf.loc[~generated, "sample"].any(), name
    names = demo_atlas.read("traditional_place_names")
    real = names[~names["sample"]]
    assert len(real) == 11 and real["source"].str.startswith("OpenStreetMap").all()
    assert set(real["category"]) <= {"泉水", "古城", "红色"}


def test_every_admin_code_exists_in_the_code_tree(demo_atlas):
    codes = set(demo_atlas.codes["code"])
    registry = load_registry()
    for name in demo_atlas.layers():
        gdf = demo_atlas.read(name)
        for f in registry[name].fields:
            if f.type == "admin_code":
                assert gdf[f.name].dropna().isin(codes).all(), (name, f.name)


def test_hightech_zone_towns_lie_inside_their_host_districts(demo_atlas):
    admin = demo_atlas.read("admin_units").to_crs(4548)
    towns = admin[(admin["level"] == "town") & (admin["parent_code"] == HIGHTECH)]
    assert len(towns) == 5
    districts = admin[admin["level"] == "district"].set_index("code")
    for code, host in {"370176001": "370102", "370176002": "370114", "370176004": "370112"}.items():
        t = towns.set_index("code").loc[code, "geometry"]
        assert t.representative_point().within(districts.loc[host, "geometry"])


def test_osm_attribution_travels_with_the_layer(demo_atlas):
    info = demo_atlas.layer_info().set_index("name")
    assert "© OpenStreetMap contributors" in info.loc["traditional_place_names", "attribution"]


def test_real_landmarks_have_correct_pinyin(demo_atlas):
    names = demo_atlas.read("traditional_place_names").set_index("name")
    assert names.loc["趵突泉", "pinyin"] == "Bàotū Quán"
    assert names.loc["曲水亭街", "pinyin"] == "Qūshuǐtíng Jiē"
    assert names.loc["大明湖", "former_names"] == "历水陂、西湖"
    assert names.loc["泺口", "pinyin"] == "Luòkǒu"


@pytest.mark.parametrize("name", ["趵突泉", "芙蓉街", "大明湖"])
def test_landmarks_sit_in_the_old_city_districts(demo_atlas, name):
    names = demo_atlas.read("traditional_place_names").set_index("name")
    assert names.loc[name, "district_code"] in {"370102", "370103"}


def test_build_is_reproducible(demo_atlas, tmp_path):
    from placegeo.demo import build_demo_atlas

    again = build_demo_atlas(tmp_path / "again.gpkg")
    for layer in ("relief_points", "cemeteries"):
        a, b = demo_atlas.read(layer), again.read(layer)
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()


def test_jinan_published_figures_hold_in_the_demo(demo_atlas):
    from placegeo.cities import city_of_atlas

    city = city_of_atlas(demo_atlas)
    assert city.name == "jinan"
    checked = 0
    for fig in city.published:
        if "check" in fig:
            gdf = demo_atlas.read(fig["check"]["layer"])
            for field, value in fig["check"].get("where", {}).items():
                gdf = gdf[gdf[field].isin(value if isinstance(value, list) else [value])]
            assert (gdf[fig["check"]["sum"]].sum() if "sum" in fig["check"] else len(gdf)) == fig["value"], fig
            checked += 1
    assert checked == 7
