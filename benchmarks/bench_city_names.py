"""Search and name checks on a city's own sample place-name set: index build time and p99 per query kind.

The Jining demo atlas holds a place-name set at census scale (51,500 names built from the real
village and town names of its code tree plus generated street, bridge, hill and water names; sample
data). This script builds that atlas once (not timed), then times, on it:

- rebuilding the place-name index inside one write transaction (what every process then opens);
- queries of each kind drawn from the atlas's own names: exact, prefix (first two characters),
  full pinyin, initials and one-character slips, each a fresh query (the hot-answer cache is off);
- `placegeo namecheck`'s engine (``check_name``) on new names made from the set's proper names with
  another generic term (the uniqueness, homophone and near-name rules all run).

Runs are interleaved over ``--rounds`` and medians of each round's p50/p99 are printed. Nothing is
compared with another system here: `bench_search.py` does that on generated sets of 51,500-2,000,000.

    python benchmarks/bench_city_names.py [--city jining] [--queries 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from placegeo import pinyin
from placegeo.demo import build_demo_atlas
from placegeo.namecheck import check_name
from placegeo.pinyin import to_pinyin
from placegeo.search import SearchIndex, rebuild_index

KINDS = ("exact", "prefix", "pinyin", "initials", "slip", "namecheck")


def queries(names: list[str], n: int, seed: int = 7) -> dict[str, list[str]]:
    """Query texts of each kind, drawn from the atlas's own names."""
    rng = random.Random(seed)
    pick = [s for s in rng.sample(names, min(len(names), 4 * n)) if len(s) >= 3][:n]
    slips = [s[: j] + s[j + 1:] for s in pick for j in [rng.randrange(1, len(s))]]
    return {
        "exact": pick,
        "prefix": [s[:2] for s in pick],
        "pinyin": [to_pinyin(s, tones=False).replace(" ", "") for s in pick],
        "initials": ["".join(w[0] for w in to_pinyin(s, tones=False).split()) for s in pick],
        "slip": slips,
        "namecheck": [s[:-1] + ("街" if not s.endswith("街") else "路") for s in pick],
    }


def timings(index, texts: list[str], kind: str) -> list[float]:
    out = []
    for text in texts:
        t = time.perf_counter()
        if kind == "namecheck":
            check_name(index, text)
        else:
            index.query(text, limit=10)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="jining")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    path = Path(tempfile.mkdtemp(prefix="placegeo-bench-")) / f"{args.city}.gpkg"
    atlas = build_demo_atlas(path, city=args.city)
    names = atlas.read("place_names", columns=["name"])["name"].astype(str).tolist() \
        if "place_names" in atlas.layers() else []
    print(f"{args.city} demo atlas: {len(names):,} sample place names (plus its other layers and villages)")
    builds = []
    for _ in range(args.rounds):
        for cached in (pinyin._readings, pinyin._convert_han, pinyin.syllables):
            cached.cache_clear()  # each build converts every name again, as in a fresh process
        t = time.perf_counter()
        with atlas.transaction():
            rebuild_index(atlas)
        builds.append(time.perf_counter() - t)
    print(f"index rebuilt in one write transaction: median {statistics.median(builds):.1f} s "
          f"over {args.rounds} builds")
    index = SearchIndex.for_atlas(atlas)
    index._cache_size = 0  # every query answered by the index, not the hot-answer cache
    texts = queries(names, args.queries)
    p50: dict[str, list[float]] = {k: [] for k in KINDS}
    p99: dict[str, list[float]] = {k: [] for k in KINDS}
    for _ in range(args.rounds):  # kinds interleaved within each round
        for kind in KINDS:
            ms = timings(index, texts[kind], kind)
            p50[kind].append(float(np.percentile(ms, 50)))
            p99[kind].append(float(np.percentile(ms, 99)))
    print(f"{'kind':<10} {'queries':>7} {'p50 ms':>8} {'p99 ms':>8}   (medians of {args.rounds} rounds)")
    for kind in KINDS:
        print(f"{kind:<10} {len(texts[kind]):>7} {statistics.median(p50[kind]):>8.2f} "
              f"{statistics.median(p99[kind]):>8.2f}")
    print("sample data: every name of this set is generated or taken from the code tree, marked sample")


if __name__ == "__main__":
    main()
