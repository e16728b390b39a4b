"""Append 100 rows to a layer holding N rows: placegeo against a bare pyogrio append, side by side.

placegeo: `Atlas.write(..., mode="append")` with every validation rule, the key check against
the atlas (through the key's unique index: `Atlas.keys_present`), the append in place in one
SQLite transaction, the layer record and a revision kept for undo. Reference: the same 100 rows
appended with `pyogrio.write_dataframe(append=True)` to a GeoPackage holding the same N rows
(no validation, no key check, no history). Runs are interleaved, medians and the ratio printed.

    python benchmarks/bench_append.py [--rows 100000 1000000] [--repeat 7]

Target (issue 19): within 3x the bare append at 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from placegeo.atlas import Atlas
from placegeo.demo import load_code_tree


def points(n: int, *, start: int, districts: np.ndarray, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame({
        "point_id": [f"P{i:07d}" for i in range(start, start + n)],
        "name": [f"避风港{i}" for i in range(start, start + n)],
        "kind": rng.choice(["relief_point", "rescue_station"], n),
        "host": rng.choice(["派出所", "便利店", "加油站"], n),
        "open_24h": rng.choice([True, False], n),
        "hours": "08:00-20:00",
        "district_code": rng.choice(districts, n),
        "source": "benchmark",
        "sample": False,
    }, geometry=gpd.points_from_xy(rng.uniform(116.3, 117.9, n), rng.uniform(36.1, 37.4, n)), crs=4490)


def run(n_rows: int, repeat: int, folder: Path) -> tuple[float, float]:
    codes = load_code_tree()
    districts = codes.loc[codes["level"] == "district", "code"].to_numpy()
    base = points(n_rows, start=0, districts=districts, seed=1)
    atlas = Atlas.create(folder / f"atlas-{n_rows}.gpkg", name="bench")
    atlas.set_codes(codes)
    atlas.write("relief_points", base, validate=False)
    bare = folder / f"bare-{n_rows}.gpkg"
    pyogrio.write_dataframe(base, bare, layer="relief_points", driver="GPKG", use_arrow=True)
    ours, theirs = [], []
    for k in range(repeat):
        batch = points(100, start=n_rows + 100 * k, districts=districts, seed=100 + k)
        t0 = time.perf_counter()
        pyogrio.write_dataframe(batch, bare, layer="relief_points", driver="GPKG", append=True, use_arrow=True)
        theirs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        atlas.write("relief_points", batch, mode="append")
        ours.append(time.perf_counter() - t0)
    assert atlas.count("relief_points") == n_rows + 100 * repeat
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            ours, theirs = run(n, args.repeat, Path(tmp))
            rows.append({"layer rows": f"{n:,}", "placegeo append (s)": round(ours, 4),
                         "bare pyogrio append (s)": round(theirs, 4), "ratio": round(ours / theirs, 2)})
    print("append 100 rows (medians of interleaved runs)")
    print(pd.DataFrame(rows).to_string(index=False))
    print("target: ratio <= 3 at 1,000,000 rows")


if __name__ == "__main__":
    main()
