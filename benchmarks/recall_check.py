"""Recall@10 of real-style queries through the CLI, each in a fresh process on the index kept in the atlas.

The queries (``recall_queries.yaml`` beside this script, some 200 of them) are of the kinds issue 16
names: one-character slips and homophones, address-style queries (济南市历下区芙蓉街), Arabic numerals
(经2路), English and sign forms (Baotu Spring, Furong Street), other generic terms of the same class
(经二大街, 大明湖公园, 千佛山景区, 鞭指胡同), former names (历山 → 千佛山), pinyin (zhangqiu), initials,
traditional characters and parts of names. Every query runs ``placegeo search QUERY --json`` in a new
process, so the index is the one opened from the atlas on disk, never one built in the same process.

    python benchmarks/recall_check.py [--atlas jinan.gpkg]   # default: the demo atlas, built in a temporary folder

Target (issue 16): recall@10 >= 0.95. The exit status is 1 below the target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

QUERIES = Path(__file__).with_name("recall_queries.yaml")


def cli_names(query: str, atlas: str) -> list[str]:
    """The names ``placegeo search`` finds for ``query`` (first ten), run in a new process."""
    done = subprocess.run([sys.executable, "-m", "placegeo.cli", "search", query, "--atlas", atlas, "--json",
                           "--limit", "10"], capture_output=True, text=True, env={**os.environ})
    if done.returncode:
        raise RuntimeError(f"placegeo search {query!r} failed: {done.stderr.strip()}")
    return [f["properties"]["name"] for f in json.loads(done.stdout)["features"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atlas", help="an atlas (.gpkg or postgresql:// URL); default: the demo atlas, built anew")
    args = ap.parse_args()
    kinds = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        atlas = args.atlas
        if atlas is None:
            from placegeo.demo import build_demo_atlas

            atlas = str(build_demo_atlas(Path(folder) / "jinan.gpkg").location)
        found, total, misses, times = 0, 0, [], []
        for kind, pairs in kinds.items():
            hits = 0
            for query, expected in pairs:
                t0 = time.perf_counter()
                names = cli_names(query, atlas)
                times.append(time.perf_counter() - t0)
                if expected in names:
                    hits += 1
                else:
                    misses.append(f"{kind}: {query} -> {expected} not in {names[:5]}")
            print(f"{kind:<12} {hits:>3}/{len(pairs):<3} recall@10 {hits / len(pairs):.2f}")
            found, total = found + hits, total + len(pairs)
    recall = found / total
    print(f"{'all':<12} {found:>3}/{total:<3} recall@10 {recall:.3f} (target >= 0.95); "
          f"median wall time per CLI call {sorted(times)[len(times) // 2]:.2f} s")
    for m in misses:
        print("  missed", m)
    return 0 if recall >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
