"""The bureau's indicators on the demo atlas, checked against the engines and hand computations."""

import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import Point

from placegeo import coverage as cov
from placegeo.cities import load_city
from placegeo.cli import main
from placegeo.errors import IndicatorError
from placegeo.indicators import COLUMNS, as_document, compute_indicators, definitions, parameters_for
from placegeo.network import WalkNetwork


def _strict(text):
    def refuse(name):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def network(demo_gpkg):
    return WalkNetwork.from_edges(demo_gpkg.read("walk_edges"))


@pytest.fixture(scope="module")
def by_district(demo_gpkg, network):
    return compute_indicators(demo_gpkg, by="district", network=network)


def test_every_indicator_for_the_city_and_each_district(by_district, demo_gpkg):
    t = by_district
    assert list(t.columns) == COLUMNS
    city = t[t["area"] == "city"].set_index("indicator")
    assert list(city.index) == list(definitions())  # one city row each, in the definitions' order
    districts = {c for c, n in demo_gpkg.code_names().items() if len(c) == 6}
    per = t[t["area"] != "city"]
    assert set(per["area"]) <= districts and per.groupby("indicator").size().min() >= 10
    assert city["value"].notna().all(), city[city["value"].isna()]["note"].to_dict()
    shares = city[city["unit"] == "share"]["value"]
    assert ((shares >= 0) & (shares <= 1)).all()
    assert city.loc["relief_reach_night", "value"] < city.loc["relief_reach_day", "value"]  # fewer points open
    assert city["sample"].all()  # the demo's facilities and network are generated
    jinan = load_city("jinan").policy
    assert city.loc["care_circle_60plus", "target"] == jinan["care_target_share"]
    assert city.loc["eco_burial_share", "target"] == jinan["eco_burial_target_share"]
    assert "55%" in city.loc["nursing_bed_share", "target_source"]
    assert city.loc["care_circle_60plus", "meets"] == (city.loc["care_circle_60plus", "value"] >= 0.9)
    assert city.loc["meal_point_reach", "meets"] is None  # no published target: not judged


def test_attrs_say_what_the_table_rests_on(by_district, demo_gpkg):
    a = by_district.attrs
    assert a["sample"] and {"network", "elderly_facilities", "population_units"} <= set(a["sample_inputs"])
    assert a["atlas_revision"] == demo_gpkg.revision and a["city"] == "jinan"
    assert "network: joined to nearest edge" in a["method"]
    assert a["parameters"]["care_min"] == 15 and a["parameter_sources"]["night_hour"].startswith("placegeo default")
    doc = as_document(by_district)
    assert doc["notice"].startswith("rests on sample data: ")
    from placegeo._json import dumps_strict

    parsed = _strict(dumps_strict(doc))
    assert len(parsed["indicators"]) == len(by_district)


def test_care_share_is_the_coverage_engine_s(by_district, demo_gpkg, network):
    units, fac = demo_gpkg.read("population_units"), demo_gpkg.read("elderly_facilities")
    r = cov.travel_to_nearest(units, fac, network=network)
    s = cov.coverage_summary(r, by="district_code", target_min=15)
    care = by_district[by_district["indicator"] == "care_circle_60plus"].set_index("area")["value"]
    for code, row in s.iterrows():
        assert care[code] == pytest.approx(row["share60_15min"], abs=6e-4)
    total = (r["residents_60plus"] * r["covered_15min"]).sum() / r["residents_60plus"].sum()
    assert care["city"] == pytest.approx(total, abs=1e-4)


def test_beds_and_nursing_share_by_hand(by_district, demo_gpkg):
    fac, units = demo_gpkg.read("elderly_facilities"), demo_gpkg.read("population_units")
    t = by_district.set_index(["indicator", "area"])["value"]
    code = units["district_code"].value_counts().index[0]
    beds = fac.loc[fac["district_code"] == code, "beds"].fillna(0).sum()
    old = units.loc[units["district_code"] == code, "residents_60plus"].sum()
    assert t[("beds_per_100_60plus", code)] == pytest.approx(beds / old * 100, rel=1e-3)
    assert t[("beds_per_100_60plus", "city")] == pytest.approx(fac["beds"].sum() / units["residents_60plus"].sum()
                                                               * 100, rel=1e-3)
    assert t[("nursing_bed_share", "city")] == pytest.approx(fac["nursing_beds"].sum() / fac["beds"].sum(), rel=1e-3)


def test_happiness_homes_counted_per_town_without_village_points(by_district, demo_gpkg):
    codes, fac = demo_gpkg.codes, demo_gpkg.read("elderly_facilities")
    villages = codes[(codes["level"] == "village") & codes["name"].str.endswith(("村民委员会", "村委会"))]
    homes = fac[fac["type"] == "农村幸福院"].groupby("town_code").size()
    n = villages.groupby("parent_code").size()
    served = np.minimum(n, homes.reindex(n.index).fillna(0)).sum()
    row = by_district[(by_district["indicator"] == "happiness_home_villages") & (by_district["area"] == "city")]
    assert row["value"].iat[0] == pytest.approx(served / len(villages), abs=1e-4)
    assert "counted per town" in row["note"].iat[0]


def test_happiness_homes_by_distance_with_village_points(demo_gpkg, network, tmp_path):
    """Three villages of the code tree given points: two near a 幸福院 (one 1.9 km, one 0 m), one 5 km away."""
    path = tmp_path / "atlas.gpkg"
    shutil.copy(demo_gpkg.location, path)
    from placegeo.atlas import Atlas

    atlas = Atlas(str(path))
    fac = atlas.read("elderly_facilities")
    home = fac[fac["type"] == "农村幸福院"].to_crs(4548).geometry.iloc[0]
    codes = atlas.codes
    v = codes[(codes["level"] == "village") & codes["name"].str.endswith("村民委员会")].head(3)
    pts = gpd.GeoSeries([home, Point(home.x + 1900, home.y), Point(home.x, home.y + 5000)], crs=4548).to_crs(4490)
    place = gpd.GeoDataFrame({"name_id": ["V1", "V2", "V3"], "name": v["name"].tolist(), "category": "村居",
                              "village_code": v["code"].tolist(), "town_code": v["parent_code"].tolist(),
                              "district_code": [c[:6] for c in v["parent_code"]], "source": "test",
                              "sample": [False, False, True]}, geometry=pts.values, crs=4490)
    atlas.write("place_names", place)
    t = compute_indicators(atlas, network=network)
    row = t[t["indicator"] == "happiness_home_villages"].iloc[0]
    assert row["value"] == pytest.approx(2 / 3, abs=1e-4) and "straight line" in row["method"]
    t = compute_indicators(atlas, network=network, happiness_home_dist_m=1500)
    assert t[t["indicator"] == "happiness_home_villages"]["value"].iat[0] == pytest.approx(1 / 3, abs=1e-4)


class _Without:
    """An atlas seen without some of its layers (as a bureau's own atlas may be)."""

    def __init__(self, atlas, *hidden):
        self._a, self._hidden = atlas, set(hidden)

    def layers(self):
        return [n for n in self._a.layers() if n not in self._hidden]

    def __getattr__(self, name):
        return getattr(self._a, name)


def test_a_missing_layer_leaves_its_indicators_empty_and_says_why(demo_gpkg, network):
    t = compute_indicators(_Without(demo_gpkg, "relief_points", "cemeteries"), network=network)
    missing = t[t["indicator"].isin(["relief_reach_day", "relief_reach_night", "cemetery_years_met",
                                     "eco_burial_share"])]
    assert len(missing) == 4 and missing["value"].isna().all()
    assert missing["note"].str.contains("placegeo import FILE --layer relief_points|--layer cemeteries").all()
    assert t[t["indicator"] == "care_circle_60plus"]["value"].notna().all()


def test_parameters_come_from_the_profile_or_are_given(demo_gpkg, network):
    params, basis = parameters_for(load_city("weifang"))
    assert params["care_target_share"] == load_city("weifang").policy["care_target_share"]
    assert basis["care_min"].startswith("city profile weifang")
    with pytest.raises(IndicatorError, match=r"unknown indicator parameter.*night_hours"):
        parameters_for(load_city("jinan"), night_hours=2)
    with pytest.raises(IndicatorError, match="by = 'county'"):
        compute_indicators(demo_gpkg, by="county")
    with pytest.raises(IndicatorError, match="GB 50180"):
        compute_indicators(demo_gpkg, care_min=12, network=network)
    t = compute_indicators(demo_gpkg, network=network, night_hour=12, care_target_share=0.1)
    city = t.set_index("indicator")["value"]
    assert city["relief_reach_night"] == city["relief_reach_day"]  # same hour: same reach
    assert t.set_index("indicator").loc["care_circle_60plus", "meets"]
    assert t.attrs["parameter_sources"]["night_hour"] == "given"


def test_cli_indicators_text_and_strict_json(demo_gpkg):
    runner = CliRunner()
    r = runner.invoke(main, ["indicators", "--atlas", demo_gpkg.location, "--json"], catch_exceptions=False)
    assert r.exit_code == 0
    doc = _strict(r.stdout)
    assert doc["sample"] and doc["notice"].startswith("rests on sample data")
    assert {row["indicator"] for row in doc["indicators"]} == set(definitions())
    r = runner.invoke(main, ["indicators", "--atlas", demo_gpkg.location, "--by", "town"], catch_exceptions=False)
    assert r.exit_code == 0 and "rests on sample data: " in r.stdout and "care_circle_60plus" in r.stdout
    assert "国发〔2021〕35号" in r.stdout  # the targets' sources
    r = runner.invoke(main, ["indicators", "--atlas", demo_gpkg.location, "--by", "county"])
    assert r.exit_code == 2


def test_definitions_are_complete():
    for name, d in definitions().items():
        assert {"title_zh", "title_en", "definition", "unit", "target", "target_source"} <= set(d), name
        assert d["target_source"], name
    assert pd.isna(definitions()["meal_point_reach"]["target"])
