"""Grave relocation priority zones: graves near highways, railways and scenic areas, and where they go."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely import LineString, Point, box

from placegeo.cemetery import relocate_graves
from placegeo.cli import main
from placegeo.errors import ParameterError
from placegeo.relocation import priority_zones, split_by_kind, zone_buffers

EPSG = 4548  # Gauss-Kruger CM 117E: the graves are built in metres and read back in degrees, as an atlas holds them
X0, Y0 = 500_000.0, 3_920_000.0


def _metric(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=EPSG)


def _graves(n=2000, seed=3):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20_000, (n, 2))
    status = rng.choice(["in_place", "relocated", "greened"], n, p=[0.9, 0.05, 0.05])
    g = _metric([Point(X0 + x, Y0 + y) for x, y in xy], grave_id=[f"g{i}" for i in range(n)], status=status,
                sample=False)
    return g.to_crs(4490)


ROAD = LineString([(X0, Y0 + 5000), (X0 + 20_000, Y0 + 7000)])
RAIL = LineString([(X0 + 10_000, Y0), (X0 + 11_000, Y0 + 20_000)])
PARK = box(X0 + 14_000, Y0 + 14_000, X0 + 17_000, Y0 + 16_000)


def _within_buffers(graves, zones, dist, epsg):
    """Grave ids inside buffers drawn with geopandas (in metres): an independent check of the dwithin test."""
    buffers = zone_buffers(zones, dist, epsg=epsg).to_crs(epsg)
    return set(gpd.sjoin(graves.to_crs(epsg), buffers, predicate="within")["grave_id"])


def _zones():
    lines = _metric([ROAD, RAIL], zone_id=["G1", "R1"], name=["高速甲", "铁路乙"], kind=["highway", "railway"])
    areas = _metric([PARK], zone_id=["P1"], name=["风景区丙"], kind=["scenic_area"])
    return {**split_by_kind(lines.to_crs(4490)), **split_by_kind(areas.to_crs(4490))}


DIST = {"highway": 500, "railway": 300, "scenic_area": 0}


def test_priority_graves_are_exactly_those_inside_the_buffers():
    graves, zones = _graves(), _zones()
    out = priority_zones(graves, zones, DIST, epsg=EPSG)
    # independent check: buffers drawn with geopandas, and a spatial join
    in_place = graves[graves["status"] == "in_place"]
    # a drawn buffer is a polygon inside the true one: compare with a metre of slack either way
    assert _within_buffers(in_place, zones, DIST, EPSG) <= set(out["grave_id"])
    assert set(out["grave_id"]) <= _within_buffers(in_place, zones, {k: v + 1 for k, v in DIST.items()}, EPSG)
    assert len(out) > 100 and out["grave_id"].is_unique
    assert set(out["grave_id"]).isdisjoint(graves.loc[graves["status"] != "in_place", "grave_id"])
    # reasons, nearest feature and distance agree with a direct measurement
    m = out.to_crs(EPSG)
    geom = {"G1": ROAD, "R1": RAIL, "P1": PARK}
    direct = np.array([geom[z].distance(p) for z, p in zip(m["zone_id"], m.geometry, strict=True)])
    assert np.allclose(direct, out["zone_dist_m"], atol=0.1)
    assert (out["zone_dist_m"] <= out["reason"].map(DIST)).all()
    assert set(out.loc[out["reason"] == "scenic_area", "zone_dist_m"]) == {0.0}
    assert out.loc[out["reason"] == "highway", "zone_name"].eq("高速甲").all()
    assert out.crs.to_epsg() == 4490


def test_a_grave_in_two_zones_gives_the_nearest_as_reason_and_lists_both():
    crossing = ROAD.intersection(RAIL)
    graves = _metric([Point(crossing.x + 100, crossing.y + 20)], grave_id=["x"]).to_crs(4490)
    out = priority_zones(graves, _zones(), DIST, epsg=EPSG)
    row = out.iloc[0]
    assert row["reasons"] == "highway;railway"
    assert row["reason"] == ("highway" if ROAD.distance(graves.to_crs(EPSG).geometry.iat[0])
                             < RAIL.distance(graves.to_crs(EPSG).geometry.iat[0]) else "railway")


def test_destinations_respect_free_plots_and_carry_provenance():
    graves, zones = _graves(), _zones()
    cem = _metric([Point(X0 + 2000, Y0 + 2000), Point(X0 + 18_000, Y0 + 18_000), Point(X0 + 9000, Y0 + 9000)],
                  cemetery_id=["C1", "C2", "C3"], name=["甲公墓", "乙公墓", "丙公墓"], capacity_plots=[200, 200, 30],
                  used_plots=[100, 0, 0], district_code="370811", sample=True).to_crs(4490)
    out = priority_zones(graves, zones, DIST, cemeteries=cem, epsg=EPSG)
    placed = out[out["placed"]]
    assert len(placed) == min(len(out), 100 + 200 + 30)
    assert placed["cemetery_id"].value_counts().le(pd.Series({"C1": 100, "C2": 200, "C3": 30})).all()
    assert placed["cemetery"].map({"甲公墓": "C1", "乙公墓": "C2", "丙公墓": "C3"}).eq(placed["cemetery_id"]).all()
    # the same assignment as relocate_graves on those graves: the existing optimal solver is reused
    again = relocate_graves(graves[graves["grave_id"].isin(out["grave_id"])], cem).graves
    assert again["dist_km"].sum() == pytest.approx(out["move_km"].sum(), rel=1e-3)
    assert out.attrs["sample"] and out.attrs["sample_inputs"] == ["cemeteries"]
    assert out.attrs["parameters"]["dist_m"] == {"highway": 500.0, "railway": 300.0, "scenic_area": 0.0}
    assert "optimal" in out.attrs["method"] and out.attrs["parameters"]["metric_crs"] == "EPSG:4548"


@pytest.mark.parametrize("dist, match", [
    ({"highway": 500, "railway": 300}, r"no distance for zone kind\(s\) scenic_area"),
    ({**DIST, "railway": -5}, r"dist_m\['railway'\] = -5"),
    ({**DIST, "highway": "500m"}, r"dist_m\['highway'\]"),
])
def test_bad_distances_are_named(dist, match):
    with pytest.raises(ParameterError, match=match):
        priority_zones(_graves(50), _zones(), dist, epsg=EPSG)


def test_no_graves_or_no_hits_give_an_empty_table():
    empty = priority_zones(_graves(0), _zones(), DIST, epsg=EPSG)
    far = _metric([Point(X0 + 60_000, Y0)], grave_id=["far"]).to_crs(4490)
    assert len(empty) == 0 and len(priority_zones(far, _zones(), DIST, epsg=EPSG)) == 0
    with pytest.raises(ParameterError, match="no column 'kind'"):
        split_by_kind(_graves(5))


def test_jining_priority_zones_on_the_demo(jining_atlas):
    from placegeo.cities import load_city

    city = load_city("jining")
    zones = {**split_by_kind(jining_atlas.read("protection_lines")),
             **split_by_kind(jining_atlas.read("protection_areas"))}
    dist = city.policy["grave_priority_dist_m"]
    graves, cem = jining_atlas.read("scattered_graves"), jining_atlas.read("cemeteries")
    out = priority_zones(graves, zones, dist, cemeteries=cem, epsg=city.metric_epsg)
    assert set(out["reason"]) == {"highway", "railway", "scenic_area"}
    assert 0.02 < len(out) / len(graves) < 0.3
    assert out["placed"].all() and out.attrs["sample"]
    assert _within_buffers(graves, zones, dist, city.metric_epsg) <= set(out["grave_id"])
    assert set(out["grave_id"]) <= _within_buffers(graves, zones, {k: v + 1 for k, v in dist.items()},
                                                   city.metric_epsg)
    result = CliRunner().invoke(main, ["relocation", "--atlas", jining_atlas.location, "--priority", "--json"])
    assert result.exit_code == 0, result.output
    assert f'"graves": {len(out)}' in result.output and '"sample": true' in result.output
    wider = CliRunner().invoke(main, ["relocation", "--atlas", jining_atlas.location, "--priority",
                                      "--dist", "highway=1500", "--json"])
    assert wider.exit_code == 0 and '"highway": 1500.0' in wider.output
    bad = CliRunner().invoke(main, ["relocation", "--atlas", jining_atlas.location, "--priority", "--dist", "far"])
    assert bad.exit_code == 2 and "KIND=METRES" in bad.output
