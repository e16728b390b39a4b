"""Relocating scattered graves: exact min-cost assignment against greedy nearest-with-room, side by side.

100,000 graves (clustered around villages) among 300 cemeteries whose free plots add up to 110% of
the graves, around Jinan. Prints each method's time, the total distance of each and their ratio.

    python benchmarks/bench_relocation.py [--graves 100000] [--cemeteries 300] [--slack 1.1]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np

from placegeo.cemetery import relocate_graves


def make(graves: int, cemeteries: int, slack: float, seed: int = 3):
    rng = np.random.default_rng(seed)
    villages = np.column_stack([rng.uniform(116.4, 117.8, 2000), rng.uniform(36.1, 37.3, 2000)])
    which = rng.integers(0, len(villages), graves)
    pts = villages[which] + rng.normal(0, 0.01, (graves, 2))
    g = gpd.GeoDataFrame({"grave_id": np.arange(graves)}, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]),
                         crs=4490)
    free = rng.gamma(2.0, 1.0, cemeteries)
    free = np.floor(free / free.sum() * graves * slack).astype(int) + 1
    c = gpd.GeoDataFrame({"cemetery_id": [f"c{i}" for i in range(cemeteries)], "district_code": "370112",
                          "capacity_plots": free + 10, "used_plots": 10},
                         geometry=gpd.points_from_xy(rng.uniform(116.4, 117.8, cemeteries),
                                                     rng.uniform(36.1, 37.3, cemeteries)), crs=4490)
    return g, c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graves", type=int, default=100_000)
    ap.add_argument("--cemeteries", type=int, default=300)
    ap.add_argument("--slack", type=float, default=1.1, help="free plots / graves")
    args = ap.parse_args()
    graves, cems = make(args.graves, args.cemeteries, args.slack)
    results = {}
    for method in ("greedy", "optimal"):
        t0 = time.perf_counter()
        res = relocate_graves(graves, cems, method=method)
        results[method] = (time.perf_counter() - t0, res)
        assert (res.by_cemetery["received"] <= res.by_cemetery["free_plots"]).all()
    free = int(cems["capacity_plots"].sum() - cems["used_plots"].sum())
    print(f"{args.graves:,} graves, {args.cemeteries} cemeteries, free plots {free:,}")
    print(f"{'method':<10} {'seconds':>8} {'placed':>8} {'total km':>12} {'mean km':>8}")
    for method, (sec, res) in results.items():
        placed = int(res.graves["placed"].sum())
        print(f"{method:<10} {sec:>8.2f} {placed:>8,} {res.total_dist_km:>12,.0f} {res.total_dist_km / placed:>8.2f}")
    g, o = results["greedy"][1], results["optimal"][1]
    print(f"time ratio optimal/greedy: {results['optimal'][0] / results['greedy'][0]:.2f}")
    print(f"total distance ratio optimal/greedy: {o.total_dist_km / g.total_dist_km:.3f} "
          f"({(1 - o.total_dist_km / g.total_dist_km):.1%} shorter)")


if __name__ == "__main__":
    main()
