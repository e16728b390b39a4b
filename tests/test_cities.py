"""City profiles, and the Jining and Weifang demo atlases built from them (one build of each per session)."""

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from placegeo.cities import cities_dir, city_for_code, list_cities, load_city, validate_cities
from placegeo.cli import main
from placegeo.crs import gk_zone_crs
from placegeo.demo import data_path, load_census, load_code_tree, load_districts
from placegeo.errors import CityError

# the 2023 code tree: county-level units, towns and sub-districts, villages and communities
CODE_TREE = {"jinan": (13, 164, 5758), "jining": (12, 158, 4927), "weifang": (13, 122, 7060)}
CENSUS = {"jinan": (9_202_432, 1_837_112, 1_294_977), "jining": (8_357_897, 1_630_791, 1_205_509),
          "weifang": (9_386_705, 2_043_071, 1_483_602)}
COLUMNS = ["residents", "residents_60plus", "residents_65plus"]


@pytest.fixture(params=["jining", "weifang"])
def city_atlas(request):
    return load_city(request.param), request.getfixturevalue(f"{request.param}_atlas")


# -- profiles --------------------------------------------------------------------------------------
def test_every_profile_is_valid():
    assert validate_cities() == []
    assert list_cities() == ["jinan", "jining", "weifang"]


def test_profiles_hold_what_differs_between_cities():
    jinan, jining, weifang = (load_city(n) for n in list_cities())
    assert (jinan.code_prefix, jining.code_prefix, weifang.code_prefix) == ("3701", "3708", "3707")
    assert jinan.map_title == "济南地名查询" and jinan.relief_network["name"] == "泉城避风港"
    assert jining.relief_network["name"] == weifang.relief_network["name"] == "救助点"
    assert jinan.census_codes == {"370171": "370176"} and jinan.zone_aliases == {"370176": "高新区"}
    assert jining.zone_codes == ("370871",) and weifang.zone_codes == ("370772",)
    assert {c.policy["eco_burial_target_share"] for c in (jinan, jining, weifang)} == {0.6}
    assert {c.policy["care_circle_min"] for c in (jinan, jining, weifang)} == {15}


@pytest.mark.parametrize("name", ["jinan", "jining", "weifang"])
def test_metric_zone_is_the_gauss_kruger_zone_of_the_centre(name):
    city = load_city(name)
    assert city.metric_epsg == gk_zone_crs(city.centre["lon"]).to_epsg()
    assert city.metric_epsg == {"jinan": 4548, "jining": 4548, "weifang": 4549}[name]


@pytest.mark.parametrize("name", ["jinan", "jining", "weifang"])
def test_profile_codes_exist_in_the_city_code_tree(name):
    city = load_city(name)
    codes = load_code_tree(city).set_index("code")
    polygons = set(load_districts(city)["code"])
    assert set(city.central_districts) <= set(codes.index)
    assert city.relief_network["rescue_station_district"] in polygons
    for zone in city.functional_zones:
        towns = codes[(codes["level"] == "town") & (codes["parent_code"] == zone["code"])].index
        assert set(zone["hosts"]) == set(towns), "every town of a functional zone needs a host district"
        assert set(zone["hosts"].values()) <= polygons
        assert zone["code"] not in polygons  # a zone has no polygon of its own


@pytest.mark.parametrize("name", ["jinan", "jining", "weifang"])
def test_centre_lies_in_a_central_district(name):
    from shapely import Point

    city = load_city(name)
    districts = load_districts(city)
    inside = districts[districts.contains(Point(city.centre_lonlat))]
    assert len(inside) == 1 and inside["code"].iat[0] in city.central_districts


def test_city_for_code():
    assert city_for_code("370171").name == "jinan"
    assert city_for_code("370871004").name == "jining"
    assert city_for_code("370772004001").name == "weifang"
    with pytest.raises(CityError, match=r"belongs to no city.*3701 jinan"):
        city_for_code("370200")


def test_unknown_city_is_a_clear_error():
    with pytest.raises(CityError, match="no city profile named 'qingdao'; known cities are jinan, jining, weifang"):
        load_city("qingdao")
    assert load_city(" Jining ").name == "jining"


def _broken(tmp_path, name, change):
    folder = tmp_path / "cities"
    shutil.copytree(cities_dir(), folder)
    path = folder / f"{name}.yaml"
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(profile)
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    return folder


def test_schema_errors_name_the_file_and_the_key(tmp_path):
    folder = _broken(tmp_path, "jining", lambda p: p["policy"].update(eco_burial_target_share=60))
    errors = validate_cities(folder)
    assert errors == ["jining.yaml: at policy/eco_burial_target_share: 60 is greater than the maximum of 1"]
    with pytest.raises(CityError, match=r"jining\.yaml: at policy/eco_burial_target_share"):
        load_city("jining", folder)


def test_consistency_errors_say_how_to_fix(tmp_path):
    def change(p):
        p["metric_epsg"] = 4549
        p["central_districts"].append("370102")

    errors = validate_cities(_broken(tmp_path, "jining", change))
    assert "jining.yaml: at central_districts: code 370102 does not start with the city's code_prefix 3708" in errors
    assert any("metric_epsg 4549 is not the Gauss-Kruger zone" in e and "use 4548" in e for e in errors)


# -- data ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["jinan", "jining", "weifang"])
def test_code_tree_counts(name):
    codes = load_code_tree(name)
    counts = codes["level"].value_counts()
    assert (counts["district"], counts["town"], counts["village"]) == CODE_TREE[name]
    assert codes["code"].is_unique and codes["code"].str.startswith(load_city(name).code_prefix).all()
    assert codes["parent_code"].dropna().isin(set(codes["code"])).all()


@pytest.mark.parametrize("name", ["jinan", "jining", "weifang"])
def test_census_covers_every_district_and_totals_the_city(name):
    census = load_census(name)
    districts = load_code_tree(name).query("level == 'district'")["code"]
    assert set(census.index) == set(districts)
    assert tuple(int(census[c].sum()) for c in COLUMNS) == CENSUS[name]
    city_row = pd.read_csv(data_path(load_city(name).data["census"]), dtype={"code": str}).iloc[0]
    assert city_row["pop_total"] == CENSUS[name][0]


# -- demo atlases ----------------------------------------------------------------------------------
def test_admin_units_match_the_code_tree_exactly(city_atlas):
    city, atlas = city_atlas
    n_district, n_town, n_village = CODE_TREE[city.name]
    counts = atlas.codes["level"].value_counts()
    assert (counts["district"], counts["town"], counts["village"]) == (n_district, n_town, n_village)
    admin = atlas.read("admin_units")
    assert (admin["level"] == "district").sum() == n_district
    assert (admin["level"] == "town").sum() == n_town
    assert set(admin["code"]) == set(atlas.codes.query("level != 'village'")["code"])


def test_districts_are_the_real_polygons_converted_from_gcj02(city_atlas):
    city, atlas = city_atlas
    admin = atlas.read("admin_units").set_index("code")
    real = admin[~admin["sample"]]
    raw = gpd.read_file(data_path(city.data["districts"])).query("level == '区县'").set_index("adcode")
    assert set(real.index) == set(raw.index)
    expected = load_districts(city).set_index("code").loc[real.index]
    assert real.geometry.geom_equals_exact(expected.geometry, 1e-7).all()
    # and really converted: GCJ-02 lies some hundreds of metres off
    shift_m = real.geometry.to_crs(city.metric_epsg).centroid.distance(
        raw.loc[real.index].geometry.to_crs(city.metric_epsg).centroid)
    assert shift_m.between(100, 1000).all()


def test_population_units_add_up_exactly_to_the_census(city_atlas):
    city, atlas = city_atlas
    units = atlas.read("population_units")
    sums = units.groupby("district_code")[COLUMNS].sum().sort_index().astype("int64")
    census = load_census(city)[COLUMNS].sort_index().astype("int64")
    pd.testing.assert_frame_equal(sums, census, check_names=False)
    assert (units["residents_65plus"] <= units["residents_60plus"]).all()
    assert (units["residents_60plus"] <= units["residents"]).all()


def test_sample_layers_have_the_published_counts(city_atlas):
    city, atlas = city_atlas
    checked = 0
    for fig in city.published:
        if "check" not in fig:
            continue
        gdf = atlas.read(fig["check"]["layer"])
        for field, value in fig["check"].get("where", {}).items():
            gdf = gdf[gdf[field].isin(value if isinstance(value, list) else [value])]
        got = gdf[fig["check"]["sum"]].sum() if "sum" in fig["check"] else len(gdf)
        assert got == fig["value"], fig["figure"]
        checked += 1
    assert checked == {"jining": 13, "weifang": 5}[city.name]


def test_weifang_care_centres_by_level(weifang_atlas):
    fac = weifang_atlas.read("elderly_facilities")
    centres = fac[fac["type"] == "综合养老服务中心"]
    assert centres["name"].str.endswith("综合养老服务中心").sum() == 120
    county = centres[~centres["name"].str.endswith("综合养老服务中心")]
    assert len(county) == 12 and not county["name"].str.contains("滨海").any()  # one per real district
    town_level = centres[centres["name"].str.endswith("综合养老服务中心")]
    assert town_level["name"].str.contains("街道综合").sum() == 59  # every 街道 first, then towns
    assert len(fac) == 170 + 497 + 563 + 766 + 12 + 120


def test_jining_cemeteries_and_plan(jining_atlas):
    cem = jining_atlas.read("cemeteries")
    planned = cem[cem["status"] == "planned"]
    assert len(planned) == 130 and planned["year"].between(2021, 2025).all()
    assert set(planned["year"]) == {2021, 2022, 2023, 2024, 2025}
    assert (planned["eco_share"] == 0.6).all()
    assert not cem["name"].str.match(r"^\d").any()


def test_atlas_knows_its_city(city_atlas):
    from placegeo.cities import city_of_atlas

    city, atlas = city_atlas
    assert atlas.meta["city"] == city.name and atlas.meta["name"] == city.demo["title"]
    assert city_of_atlas(atlas) == city


def test_relief_network_takes_its_names_from_the_profile(city_atlas):
    city, atlas = city_atlas
    relief = atlas.read("relief_points")
    points = relief[relief["kind"] == "relief_point"]
    assert len(points) == city.demo["relief_points"]["count"]
    assert points["name"].str.startswith("救助点·").all()
    station = relief[relief["kind"] == "rescue_station"]
    assert station["name"].tolist() == [city.relief_network["rescue_station"]]
    assert relief["phone"].str.startswith(city.relief_network["phone_area_code"] + "-").all()


def test_every_sample_feature_is_flagged_and_every_code_is_known(city_atlas):
    from placegeo.registry import load_registry

    _, atlas = city_atlas
    registry, codes = load_registry(), set(atlas.codes["code"])
    for name in atlas.layers():
        gdf = atlas.read(name)
        generated = gdf["source"].str.startswith("sample:")
        assert gdf.loc[generated, "sample"].all(), name
        assert not gdf.loc[~generated, "sample"].any(), name
        for f in registry[name].fields:
            if f.type == "admin_code":
                assert gdf[f.name].dropna().isin(codes).all(), (name, f.name)
    assert "traditional_place_names" not in atlas.layers()  # no protection list is published for them


def test_functional_zone_towns_lie_in_their_host_districts(city_atlas):
    city, atlas = city_atlas
    admin = atlas.read("admin_units").to_crs(city.metric_epsg).set_index("code")
    for town, host in city.town_hosts.items():
        assert admin.loc[town, "geometry"].representative_point().within(admin.loc[host, "geometry"].buffer(1))
    for zone in city.zone_codes:
        assert admin.loc[zone, "sample"]


def test_jining_place_names_at_census_scale(jining_atlas):
    names = jining_atlas.read("place_names")
    assert len(names) == 51_500 and names["name_id"].is_unique
    assert not names.duplicated(["town_code", "name"]).any()
    codes = jining_atlas.codes
    real_towns = codes.query("level == 'town'")["name"]
    assert real_towns.isin(names["name"]).all()
    villages = names[names["village_code"].notna() & names["category"].eq("村居")]
    assert len(villages) == 4927 and set(villages["village_code"]) == set(codes.query("level == 'village'")["code"])
    made = names["source"].str.contains("generated name")
    assert made.sum() == 51_500 - 158 - 4927
    share = names.loc[made, "category"].value_counts(normalize=True)
    assert set(share.index) == {"街巷", "桥梁", "山体", "水系"} and share["街巷"] > 0.4
    assert names["sample"].all() and names["source"].str.startswith("sample:").all()
    # each name lies in its town
    admin = jining_atlas.read("admin_units").set_index("code")
    probe = names.sample(500, random_state=1)
    polys = gpd.GeoSeries(admin.loc[probe["town_code"], "geometry"].values, crs=admin.crs).to_crs(4548)
    assert polys.buffer(1).contains(gpd.GeoSeries(probe.geometry.values, crs=names.crs).to_crs(4548)).all()


def test_jining_scattered_graves_lie_in_the_countryside(jining_atlas):
    graves = jining_atlas.read("scattered_graves")
    assert len(graves) == 12_000 and graves["grave_id"].is_unique
    assert (graves["village_code"].str[:9] == graves["town_code"]).all()
    units = jining_atlas.read("population_units")
    joined = gpd.sjoin(graves, units[["residents", "geometry"]], predicate="within")
    density = units["residents"] / units.to_crs(4548).area * 1e6
    assert np.median(density.loc[joined["index_right"]]) < np.median(density)


def test_cli_demo_takes_a_city(monkeypatch, tmp_path):
    import placegeo.demo

    seen = {}

    def fake(path, *, city, seed, progress, overwrite=False):
        seen.update(path=path, city=city, seed=seed)
        raise CityError("stop here")

    monkeypatch.setattr(placegeo.demo, "build_demo_atlas", fake)
    result = CliRunner().invoke(main, ["demo", "--city", "Weifang", "--atlas", str(tmp_path / "w.gpkg")])
    assert seen == {"path": str(tmp_path / "w.gpkg"), "city": "weifang", "seed": 20240101}
    result = CliRunner().invoke(main, ["demo", "--city", "qingdao", "--atlas", str(tmp_path / "q.gpkg")])
    assert result.exit_code == 2 and "no city profile named 'qingdao'" in result.output


# the figures of issue 15, written out here so that a profile edited by mistake cannot pass its own check
ISSUE_FIGURES = {
    "jining": {("elderly_facilities", "type", "养老院"): 217, ("elderly_facilities", "type", "日间照料中心"): 148,
               ("elderly_facilities", "type", "农村幸福院"): 701,
               ("elderly_facilities", "type", "综合养老服务中心"): 51,
               ("elderly_facilities", "type", "长者助餐站点"): 110},
    "weifang": {("elderly_facilities", "type", "养老院"): 170, ("elderly_facilities", "type", "日间照料中心"): 497,
                ("elderly_facilities", "type", "农村幸福院"): 563, ("elderly_facilities", "type", "长者助餐站点"): 766,
                ("elderly_facilities", "type", "综合养老服务中心"): 12 + 120},
}


def test_published_figures_of_the_issue(city_atlas):
    city, atlas = city_atlas
    for (layer, field, value), n in ISSUE_FIGURES[city.name].items():
        assert (atlas.read(layer)[field] == value).sum() == n, (layer, value)
    if city.name == "jining":
        cem = atlas.read("cemeteries")
        built = cem[cem["status"] == "built"]
        assert built["level"].value_counts().to_dict() == {"市": 1, "县": 14, "镇": 107, "村": 216}
        assert ((cem["status"] == "planned") & (cem["level"] == "村")).sum() >= 130
        assert atlas.count("place_names") >= 50_000


def test_jining_protection_zones_are_sample_lines_and_areas(jining_atlas):
    lines, areas = jining_atlas.read("protection_lines"), jining_atlas.read("protection_areas")
    assert lines["kind"].value_counts().to_dict() == {"highway": 6, "railway": 3}
    assert (areas["kind"] == "scenic_area").sum() == 12
    assert lines.geom_type.eq("MultiLineString").all() and areas.geom_type.eq("MultiPolygon").all()
    outline = jining_atlas.read("admin_units").query("level == 'district'").to_crs(4548).union_all().buffer(1)
    assert lines.to_crs(4548).within(outline).all() and areas.to_crs(4548).within(outline).all()
    assert (lines.to_crs(4548).length > 20_000).all()  # they cross the city, not stubs
    assert lines["sample"].all() and areas["sample"].all()


def test_jining_cemetery_capacity_by_county(jining_atlas):
    from placegeo.cemetery import BurialParams, capacity_by_area

    city = load_city("jining")
    params = BurialParams.from_policy(city.policy)
    table = capacity_by_area(jining_atlas.read("cemeteries"), jining_atlas.read("population_units"),
                             horizon_years=10, params=params, names=jining_atlas.code_names())
    districts = set(jining_atlas.codes.query("level == 'district'")["code"])
    assert set(table.index) == districts | {"city"}
    whole = table.loc["city"]
    assert (whole["built_市"], whole["built_县"], whole["built_镇"] + whole["built_村"]) == (1, 14, 323)
    assert whole["planned"] == 130  # all open 2021-2025, within 2021-2030
    per = table.drop(index="city")
    assert per[["built_市", "built_县", "built_镇", "built_村", "planned"]].sum().tolist() == [1, 14, 107, 216, 130]
    assert per["demand_plots"].sum() == pytest.approx(whole["demand_plots"], abs=len(per))
    assert table.attrs["start_year"] == 2021 and table.attrs["horizon_years"] == 10
    assert table.attrs["parameters"]["eco_share_target"] == 0.6 and table.attrs["parameters"]["eco_target_year"] == 2025
    assert table.attrs["sample"] and table["meets"].dtype == bool
    # a lower eco-burial share needs more plots: the model answers the planners' question, not a constant
    low = capacity_by_area(jining_atlas.read("cemeteries"), jining_atlas.read("population_units"),
                           params=params.with_(eco_share_target=0.3))
    assert (low.loc[per.index, "demand_plots"] > per["demand_plots"]).all()


def test_jining_central_districts_care_coverage(jining_atlas):
    from placegeo.coverage import area_coverage, travel_to_nearest

    city = load_city("jining")
    units = jining_atlas.read("population_units")
    central = units[units["district_code"].isin(city.central_districts)]
    result = travel_to_nearest(central, jining_atlas.read("elderly_facilities"))
    table = area_coverage(result, city.central_districts, target_min=city.policy["care_circle_min"],
                          target_share=city.policy["care_target_share"], label="central")
    assert list(table.index) == [*sorted(city.central_districts), "central"]
    census = load_census(city)
    assert table.loc["central", "residents_60plus"] == census.loc[list(city.central_districts),
                                                                  "residents_60plus"].sum()
    share = table.loc["central", "share60_15min"]
    per = table.drop(index="central")
    weighted = (per["share60_15min"] * per["residents_60plus"]).sum() / per["residents_60plus"].sum()
    assert 0 < share < 1 and share == pytest.approx(weighted, abs=0.002)
    assert table.attrs["sample"] and table.attrs["parameters"]["districts"] == list(city.central_districts)


def test_cli_answers_the_jining_questions(jining_atlas):
    run = CliRunner().invoke
    cem = run(main, ["cemetery", "--atlas", jining_atlas.location, "--by-level"])
    assert cem.exit_code == 0, cem.output
    assert "60% by 2025" in cem.output  # the eco-burial policy of Jining's profile, not the default 2030
    city_row = [line.split() for line in cem.output.splitlines() if line.startswith("city ")][-1]
    assert city_row[-5:] == ["1", "14", "107", "216", "130"]
    cov = run(main, ["coverage", "--atlas", jining_atlas.location, "--central", "--by", "district", "--no-network"])
    assert cov.exit_code == 0, cov.output
    assert "central districts (370811, 370812, 370871):" in cov.output and "residents 60+ within 15 min" in cov.output
    assert not any(line.startswith("370826") for line in cov.output.splitlines())  # a county outside the centre


def test_default_city(monkeypatch):
    from placegeo.cities import default_city

    monkeypatch.delenv("PLACEGEO_CITY", raising=False)
    assert default_city() == list_cities()[0]
    monkeypatch.setenv("PLACEGEO_CITY", " Weifang ")
    assert default_city() == "weifang" and load_code_tree(None)["code"].str.startswith("3707").all()
    monkeypatch.setenv("PLACEGEO_CITY", "qingdao")
    with pytest.raises(CityError, match="no city profile named 'qingdao'"):
        default_city()
