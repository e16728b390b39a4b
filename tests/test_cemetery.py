"""Cemetery capacity: every formula on small cases computed by hand."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.optimize import linprog
from shapely import Point

from placegeo.cemetery import (
    BurialParams,
    ParameterError,
    cemetery_access,
    compare_scenarios,
    meets_demand,
    plot_scenarios,
    project_demand,
    relocate_graves,
    simulate_capacity,
)
from placegeo.cli import main
from placegeo.errors import ValidationError


def strict_json(text: str):
    """Parse as strict JSON parsers do: NaN and Infinity are errors."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# One district of 100,000 residents; 10 deaths per 1,000 -> 1,000 deaths a year, all cremated, half to
# public-welfare cemeteries -> 500 burials: 40% eco (200), 60% conventional (300).
# 300 / 1.5 remains per grave = 200 graves; 200 eco x 0.5 taking a plot = 100 eco plots of 0.5 m²
# = 50 standard plots of 1 m²  -> 250 standard plots a year.
# Land: (200 x 1.0 + 100 x 0.5) / 0.5 net-to-gross = 500 m² = 0.05 ha a year.
PARAMS = BurialParams(death_rate_per_1000=10, cremation_share=1.0, public_welfare_share=0.5,
                      eco_share_start=0.4, eco_share_target=0.4, remains_per_grave=1.5, eco_plot_share=0.5,
                      grave_area_m2=1.0, eco_plot_area_m2=0.5, net_to_gross=0.5)
POP = pd.DataFrame({"district_code": ["370102", "370102"], "residents": [60_000, 40_000]})
# A: 1,000 - 400 used = 600 free; B: 2,000 - 500 used - 100 reserved = 1,400 free. Demand is shared in
# proportion to capacity: A takes 250/3 a year, B 500/3.
CEM = pd.DataFrame({"cemetery_id": ["A", "B"], "district_code": ["370102", "370102"],
                    "capacity_plots": [1000, 2000], "used_plots": [400, 500], "reserved_plots": [0, 100]})


def test_demand_formulas():
    d = project_demand(POP, params=PARAMS, start_year=2021, end_year=2022)
    row = d.iloc[0]
    assert row["area"] == "370102" and row["residents"] == 100_000
    assert row["deaths"] == 1000 and row["public_burials"] == 500
    assert row["eco_burials"] == 200 and row["conventional_burials"] == 300
    assert row["graves_needed"] == 200 and row["eco_plots_needed"] == 100 and row["plots_needed"] == 250
    assert row["land_m2"] == 500 and row["land_ha"] == 0.05
    assert len(d) == 2


def test_growth_and_eco_path_and_death_rate_series():
    p = PARAMS.with_(growth_rate_per_year=0.01, eco_share_start=0.2, eco_share_target=0.6, eco_target_year=2024,
                     death_rate_per_1000={2021: 10.0, 2022: 12.0, 2023: 10.0, 2024: 10.0, 2025: 10.0})
    d = project_demand(POP, params=p, start_year=2021, end_year=2025).set_index("year")
    assert d.loc[2021, "residents"] == pytest.approx(101_000)
    assert d.loc[2022, "deaths"] == pytest.approx(100_000 * 1.01**2 * 12 / 1000)
    assert d.loc[2022, "eco_share"] == pytest.approx(0.2 + 0.4 * 2 / 4)
    assert d.loc[2024, "eco_share"] == d.loc[2025, "eco_share"] == pytest.approx(0.6)
    with pytest.raises(ParameterError, match="no rate for 2026"):
        project_demand(POP, params=p, start_year=2021, end_year=2026)


def test_fill_years_by_hand():
    d = project_demand(POP, params=PARAMS, start_year=2021, end_year=2030)
    sim = simulate_capacity(CEM, d)
    # A: 600 / (250/3) = 7.2 years -> full in its 8th year (2028). B: after 7 years 1400 - 7*500/3 = 233.3 left;
    # 2028: A takes its last 16.7, B takes the rest 233.3 -> both full in 2028, nothing unmet yet.
    # 2029: nothing left: the district is full.
    assert sim.cemetery_full_year.to_dict() == {"A": 2028, "B": 2028}
    assert sim.area_full_year.to_dict() == {"370102": 2029}
    row = sim.by_area.set_index("year").loc[2028]
    assert row["intake_plots"] == pytest.approx(250) and row["unmet_plots"] == pytest.approx(0, abs=1e-6)


def test_meets_demand_answers_with_shortfall_in_plots_and_hectares():
    t = meets_demand(CEM, POP, horizon_years=10, params=PARAMS, start_year=2021)
    district = t.loc["370102"]
    assert district["demand_plots"] == 2500 and district["free_plots"] == 2000
    assert not district["meets"] and district["shortfall_plots"] == 500
    # 500 standard plots at 500 m² per 250 plots = 1,000 m² = 0.1 ha
    assert district["shortfall_ha"] == 0.1
    assert district["full_year"] == 2029 and district["years_until_full"] == 8
    assert t.loc["city", "name"] == "全市"
    assert meets_demand(CEM, POP, horizon_years=8, params=PARAMS, start_year=2021).loc["370102", "meets"]


def test_planned_cemeteries_and_expansions_add_capacity_in_their_year():
    planned = pd.concat([CEM, pd.DataFrame({"cemetery_id": ["C"], "district_code": ["370102"],
                                            "capacity_plots": [500], "used_plots": [0], "status": ["planned"],
                                            "year": [2025]})], ignore_index=True)
    exp = pd.DataFrame({"cemetery_id": ["A"], "year": [2026], "added_plots": [300]})
    t = meets_demand(planned, POP, horizon_years=10, params=PARAMS, start_year=2021, expansions=exp)
    assert t.loc["370102", "added_plots"] == 800
    assert t.loc["370102", "free_plots"] == 2000
    assert t.loc["370102", "shortfall_plots"] == 2500 - 2800 + 300  # 0: 2,800 plots for 2,500 of demand
    d = project_demand(POP, params=PARAMS, start_year=2021, end_year=2030)
    sim = simulate_capacity(planned, d, expansions=exp).by_cemetery.set_index(["cemetery_id", "year"])
    assert sim.loc[("C", 2024), "free_start"] == 0 and sim.loc[("C", 2025), "added"] == 500
    assert sim.loc[("A", 2026), "added"] == 300


# A hand-built case with planned cemeteries and expansions, one district, 250 standard plots of demand a year
# (PARAMS and POP above), simulated 2021-2030:
#   A built:   1,000 - 400 used = 600 free; expansion +200 in 2025.
#   C planned: opens 2024, 1,000 free; an expansion of +100 planned for 2023, before it opens, comes with the opening.
#   D planned: opens 2040, after the horizon: it takes nothing and is never "full".
# Shares follow design capacity (A and C: 1,000 each).
#   2021-2022: only A is open: 600 -> 350 -> 100.
#   2023: A takes its last 100; 150 unmet. A is full (2023); so is the district.
#   2024: C opens with 1,000 + 100 = 1,100 and takes all 250 -> 850.
#   2025: A's 200 arrive; 125 each: A 75, C 725.
#   2026: 125 each, but A has only 75; its other 50 go to C (175): A 0, C 550.
#   2027-2028: C alone: 550 -> 300 -> 50.
#   2029: C takes its last 50; 200 unmet: C is full in 2029. 2030: 250 unmet.
PLANNED = pd.DataFrame({"cemetery_id": ["A", "C", "D"], "district_code": ["370102"] * 3,
                        "capacity_plots": [1000, 1000, 500], "used_plots": [400, 0, 0],
                        "status": ["built", "planned", "planned"], "year": [None, 2024, 2040]})
EXPANSIONS = pd.DataFrame({"cemetery_id": ["A", "C"], "year": [2025, 2023], "added_plots": [200, 100]})
# year: A (free_start, added, intake, free_end), C (the same), district (intake, unmet, free_end)
BY_HAND = {
    2021: ((600, 0, 250, 350), (0, 0, 0, 0), (250, 0, 350)),
    2022: ((350, 0, 250, 100), (0, 0, 0, 0), (250, 0, 100)),
    2023: ((100, 0, 100, 0), (0, 0, 0, 0), (100, 150, 0)),
    2024: ((0, 0, 0, 0), (1100, 1100, 250, 850), (250, 0, 850)),
    2025: ((200, 200, 125, 75), (850, 0, 125, 725), (250, 0, 800)),
    2026: ((75, 0, 75, 0), (725, 0, 175, 550), (250, 0, 550)),
    2027: ((0, 0, 0, 0), (550, 0, 250, 300), (250, 0, 300)),
    2028: ((0, 0, 0, 0), (300, 0, 250, 50), (250, 0, 50)),
    2029: ((0, 0, 0, 0), (50, 0, 50, 0), (50, 200, 0)),
    2030: ((0, 0, 0, 0), (0, 0, 0, 0), (0, 250, 0)),
}


def test_every_year_of_a_case_with_planned_cemeteries_and_expansions_by_hand():
    d = project_demand(POP, params=PARAMS, start_year=2021, end_year=2030)
    sim = simulate_capacity(PLANNED, d, expansions=EXPANSIONS)
    cem = sim.by_cemetery.set_index(["cemetery_id", "year"])
    area = sim.by_area.set_index("year")
    cols = ["free_start", "added", "intake", "free_end"]
    assert sorted(area.index) == sorted(BY_HAND)
    for year, (a, c, district) in BY_HAND.items():
        assert cem.loc[("A", year), cols].tolist() == pytest.approx(a, abs=1e-6), year
        assert cem.loc[("C", year), cols].tolist() == pytest.approx(c, abs=1e-6), year
        assert cem.loc[("D", year), cols].tolist() == [0, 0, 0, 0], year
        assert area.loc[year, "demand_plots"] == pytest.approx(250)
        assert area.loc[year, ["intake_plots", "unmet_plots", "free_end"]].tolist() == pytest.approx(district,
                                                                                                     abs=1e-6), year
    assert cem.loc[("C", 2023), "is_open"] == False and cem.loc[("C", 2024), "is_open"] == True  # noqa: E712
    # C is not full before it opens in 2024, D never opens within the horizon
    assert sim.cemetery_full_year.to_dict() == pytest.approx({"A": 2023, "C": 2029, "D": np.nan}, nan_ok=True)
    assert sim.area_full_year.to_dict() == {"370102": 2023}
    t = meets_demand(PLANNED, POP, horizon_years=10, params=PARAMS, start_year=2021, expansions=EXPANSIONS)
    row = t.loc["370102"]
    assert (row["free_plots"], row["added_plots"], row["shortfall_plots"]) == (600, 1300, 150 + 200 + 250)
    assert row["full_year"] == 2023


def test_each_default_names_its_source():
    from dataclasses import fields

    from placegeo.cemetery import PARAM_SOURCES

    names = {f.name for f in fields(BurialParams)} - {"name"}
    assert set(PARAM_SOURCES) == names and all(len(PARAM_SOURCES[n]) > 20 for n in names)
    assert "7.25‰" in PARAM_SOURCES["death_rate_per_1000"]


# Order-of-magnitude check of the demand model against a published count: in 2020, 55,548 deceased residents
# of Jinan received the city's free basic funeral services (基本殡葬服务免费), about 6.0‰ of the 9,202,432
# residents of the 2020 census. Those served are a part of all deaths (residents who died elsewhere or did
# not claim the service are not in it), so the model with its default rate must give at least that many,
# and not half as many again (factor 1.5: the crude death rate of Shandong, 7.25‰, against 6.0‰).
JINAN_2020_CENSUS_RESIDENTS = 9_202_432
JINAN_2020_FREE_FUNERAL_SERVICES = 55_548
DEMAND_CHECK_FACTOR = 1.5


def test_default_demand_model_matches_the_order_of_magnitude_of_a_citys_deaths():
    pop = pd.DataFrame({"district_code": ["3701"], "residents": [JINAN_2020_CENSUS_RESIDENTS]})
    deaths = project_demand(pop, start_year=2020, end_year=2020).loc[0, "deaths"]
    assert 1.0 <= deaths / JINAN_2020_FREE_FUNERAL_SERVICES <= DEMAND_CHECK_FACTOR
    # and the check would catch a default off by a factor: 3.6 or 14.4 deaths per 1,000
    for rate in (3.6, 14.4):
        off = project_demand(pop, params=BurialParams(death_rate_per_1000=rate), start_year=2020, end_year=2020)
        assert not 1.0 <= off.loc[0, "deaths"] / JINAN_2020_FREE_FUNERAL_SERVICES <= DEMAND_CHECK_FACTOR


def test_results_say_what_they_rest_on():
    d = project_demand(POP, params=PARAMS, start_year=2021, end_year=2030)
    assert d.attrs["sample"] is False and d.attrs["parameters"]["death_rate_per_1000"] == 10
    sim = simulate_capacity(PLANNED, d, expansions=EXPANSIONS)
    assert sim.attrs["method"].startswith("year-by-year") and sim.by_area.attrs["sample"] is False
    sample_cem = PLANNED.assign(sample=[False, True, False])
    t = meets_demand(sample_cem, POP, horizon_years=10, params=PARAMS, start_year=2021)
    assert t.attrs["sample"] is True and t.attrs["sample_inputs"] == ["cemeteries"]
    assert t.attrs["parameters"]["horizon_years"] == 10 and "death rate" in t.attrs["method"]
    sim = simulate_capacity(sample_cem, project_demand(POP.assign(sample=True), params=PARAMS))
    assert sim.attrs["sample_inputs"] == ["population", "cemeteries"]


def test_city_pools_what_districts_cannot_share():
    cem = CEM.assign(district_code=["370102", "370103"])
    pop = pd.DataFrame({"district_code": ["370102", "370103"], "residents": [100_000, 0]})
    t = meets_demand(cem, pop, horizon_years=8, params=PARAMS, start_year=2021)
    assert not t.loc["370102", "meets"] and t.loc["370103", "meets"]
    assert t.loc["city", "meets"]  # 2,000 free plots in the city for 2,000 of demand


@pytest.mark.parametrize(("change", "match"), [
    ({"public_welfare_share": 1.2}, "public_welfare_share = 1.2 is outside its valid range 0.0-1.0"),
    ({"eco_share_target": 60}, "write shares as 0-1"),
    ({"remains_per_grave": 0.5}, "remains_per_grave"),
    ({"death_rate_per_1000": -1}, "death_rate_per_1000"),
    ({"net_to_gross": 0}, "net_to_gross"),
    ({"eco_target_year": 2000}, "before base_year"),
    ({"speed": 1}, "unknown parameter"),
])
def test_bad_parameters_are_named(change, match):
    with pytest.raises(ParameterError, match=match):
        PARAMS.with_(**change)


def test_bad_cemetery_figures_are_reported_with_row_and_field():
    bad = CEM.copy()
    bad.loc[0, "capacity_plots"] = -5
    bad.loc[1, "used_plots"] = 2500
    with pytest.raises(ValidationError) as info:
        meets_demand(bad, POP, params=PARAMS)
    found = {(p.row, p.field) for p in info.value.problems}
    assert found == {(1, "capacity_plots"), (1, "used_plots"), (2, "used_plots")}
    assert "exceed the capacity" in str(info.value)


def test_scenarios_table_and_chart():
    scenarios = {f"eco {t:.0%}": PARAMS.with_(eco_share_target=t, eco_share_start=t) for t in (0.0, 0.4, 0.8)}
    years, paths = compare_scenarios(CEM, POP, scenarios, horizon_years=20, start_year=2021)
    # more eco burial, fewer standard plots a year, later full
    assert years.loc["370102", "eco 0%"] < years.loc["370102", "eco 40%"] < years.loc["370102", "eco 80%"]
    assert list(paths.columns) == list(scenarios) and paths.index[0] == 2021
    fig = plot_scenarios(years, paths)
    left, right = fig.axes[:2]
    assert len(left.get_lines()) == 3 + 1  # three scenarios and the zero line
    assert len(right.patches) == 3 * len(years)  # one bar per scenario and area
    assert fig._suptitle is None  # hand-built data: no sample notice
    sample_years, sample_paths = compare_scenarios(CEM.assign(sample=True), POP, scenarios, horizon_years=20,
                                                   start_year=2021)
    assert sample_years.attrs["sample_inputs"] == ["cemeteries"]
    assert plot_scenarios(sample_years, sample_paths)._suptitle.get_text() == "rests on sample data"


def test_access_distances_and_threshold():
    cem = gpd.GeoDataFrame({"cemetery_id": ["A", "B", "full"], "name": ["甲", "乙", "满"],
                            "district_code": ["370102"] * 3, "capacity_plots": [10, 10, 10],
                            "used_plots": [0, 0, 10]},
                           geometry=[Point(117.0, 36.6), Point(117.2, 36.6), Point(117.05, 36.6)], crs=4490)
    units = gpd.GeoDataFrame({"unit_id": ["u1", "u2"]}, geometry=[Point(117.01, 36.6), Point(117.19, 36.6)],
                             crs=4490)
    out = cemetery_access(units, cem, threshold_km=0.5)
    assert out["nearest_cemetery_id"].tolist() == ["A", "B"]  # the full one is skipped
    assert out["dist_km"].iloc[0] == pytest.approx(0.894, abs=0.01)  # 0.01° of longitude at 36.6°N
    assert out["beyond_threshold"].tolist() == [True, True]
    assert "dist_km" not in units.columns  # input untouched


def _graves(n, seed=0):
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({"grave_id": [f"g{i}" for i in range(n)]},
                            geometry=gpd.points_from_xy(rng.uniform(117.0, 117.2, n), rng.uniform(36.5, 36.7, n)),
                            crs=4490)


def _cems(n, seed=1, free=3):
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({"cemetery_id": [f"c{i}" for i in range(n)], "district_code": ["370102"] * n,
                             "capacity_plots": [free + 2] * n, "used_plots": [2] * n},
                            geometry=gpd.points_from_xy(rng.uniform(117.0, 117.2, n), rng.uniform(36.5, 36.7, n)),
                            crs=4490)


def test_relocation_is_optimal_against_an_exact_transport_lp():
    graves, cems = _graves(40), _cems(15, free=3)
    res = relocate_graves(graves, cems, k_nearest=3)
    assert res.graves["placed"].all()
    gm, cm = graves.to_crs(4548), cems.to_crs(4548)
    cost = np.hypot(gm.geometry.x.to_numpy()[:, None] - cm.geometry.x.to_numpy()[None, :],
                    gm.geometry.y.to_numpy()[:, None] - cm.geometry.y.to_numpy()[None, :])
    n, m = cost.shape
    a_eq = np.kron(np.eye(n), np.ones(m))  # each grave placed once
    a_ub = np.kron(np.ones(n), np.eye(m))  # each cemetery within its free plots
    lp = linprog(cost.ravel(), A_ub=a_ub, b_ub=np.full(m, 3), A_eq=a_eq, b_eq=np.ones(n), method="highs")
    assert res.total_dist_km * 1000 == pytest.approx(lp.fun, abs=n * 0.5)  # costs are whole metres
    greedy = relocate_graves(graves, cems, method="greedy")
    assert res.total_dist_km <= greedy.total_dist_km + 1e-9


def test_relocation_never_exceeds_capacity_and_reports_the_unplaced():
    graves, cems = _graves(60), _cems(10, free=4)  # 40 plots for 60 graves
    for method in ("optimal", "greedy"):
        res = relocate_graves(graves, cems, method=method)
        assert (res.by_cemetery["received"] <= res.by_cemetery["free_plots"]).all()
        assert res.by_cemetery["received"].sum() == 40 and len(res.unplaced) == 20
        assert res.unplaced["cemetery_id"].isna().all() and res.unplaced["dist_km"].isna().all()


def test_relocation_max_distance():
    graves = gpd.GeoDataFrame({"grave_id": ["near", "far"]}, geometry=[Point(117.001, 36.6), Point(117.5, 36.6)],
                              crs=4490)
    cems = gpd.GeoDataFrame({"cemetery_id": ["c"], "district_code": ["370102"], "capacity_plots": [5],
                             "used_plots": [0]}, geometry=[Point(117.0, 36.6)], crs=4490)
    res = relocate_graves(graves, cems, max_dist_km=5)
    assert res.graves.set_index("grave_id")["placed"].to_dict() == {"near": True, "far": False}
    with pytest.raises(ParameterError, match="max_dist_km"):
        relocate_graves(graves, cems, max_dist_km=0)


def test_cli_on_the_demo_atlas(demo_atlas, tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["cemetery", "--atlas", str(demo_atlas.location), "--horizon", "10",
                             "--eco-share-target", "0.6", "--json", "--chart", str(tmp_path / "c.png")])
    assert r.exit_code == 0, r.stderr
    data = strict_json(r.stdout)  # no NaN: districts never full within the horizon have null
    areas = {a["area"]: a for a in data["areas"]}
    assert "city" in areas and len(areas) == 14 and areas["370102"]["name"] == "历下区"
    assert any(a["full_year"] is None for a in areas.values())
    assert data["sample"] is True and "population" in data["sample_inputs"]  # the demo atlas is sample data
    assert "7.25‰" in data["param_sources"]["death_rate_per_1000"]
    assert (tmp_path / "c.png").stat().st_size > 10_000
    r = runner.invoke(main, ["cemetery", "--atlas", str(demo_atlas.location), "--eco-share-target", "60"])
    assert r.exit_code == 2 and "eco_share_target" in r.stderr


def test_access_on_the_demo_atlas_is_listed_and_mapped(demo_atlas):
    from placegeo.cemetery import access_map

    units = demo_atlas.read("population_units")
    cems = demo_atlas.read("cemeteries")
    access = cemetery_access(units, cems, threshold_km=5)
    beyond = access[access["beyond_threshold"]]
    assert 0 < len(beyond) < len(units)
    assert (beyond["dist_km"] > 5).all() and (access.loc[~access["beyond_threshold"], "dist_km"] <= 5).all()
    html = access_map(access, cems, threshold_km=5).get_root().render()
    assert f"units beyond the threshold ({len(beyond)})" in html
    assert f"cemeteries ({len(cems)})" in html and "Units beyond 5 km" in html
    assert access.attrs["sample"] is True and "rests on sample data" in html  # the demo atlas is generated
