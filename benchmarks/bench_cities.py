"""Province-wide search (three cities' indexes) beside one city's search, in one process, interleaved.

Builds (or reuses) the three demo atlases, serves them from one app through Flask's test client
(no network: what the app itself costs) with the answer cache off, and asks every query both ways
in turn: ``/jining/api/search`` (one city: Jining, the largest index) and ``/api/search`` (every city).
Prints the median and p99 of each and their ratio.

    python benchmarks/bench_cities.py [--folder demo-cities] [--queries 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from urllib.parse import quote


def atlases(folder: Path) -> list[str]:
    from placegeo.atlas import atlas_exists
    from placegeo.demo import build_demo_atlas

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for city in ("jinan", "jining", "weifang"):
        path = folder / f"{city}.gpkg"
        if not atlas_exists(path):
            build_demo_atlas(path, city=city)
        paths.append(str(path))
    return paths


def queries(app, n: int) -> list[str]:
    """Names of every city, whole and as prefixes, and their initials."""
    import numpy as np

    from placegeo.pinyin import to_pinyin

    rng = np.random.default_rng(1)
    out = []
    for v in app.extensions["placegeo"].views.values():
        names = [r.name for r in v.index.records]
        for name in rng.choice(names, n // 3, replace=False):
            kind = len(out) % 3
            out.append(name if kind == 0 else name[:2] if kind == 1 else
                       "".join(w[0] for w in to_pinyin(name, tones=False).lower().split() if w))
    return out


def main() -> None:
    from placegeo.web import create_app

    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", default="demo-cities")
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    app = create_app({"atlases": atlases(Path(args.folder)), "search_cache": 0})
    client = app.test_client()
    with app.app_context():
        qs = queries(app, args.queries)
    times: dict[str, list[float]] = {"one city (/jining)": [], "every city": []}
    for q in qs:
        for label, prefix in (("one city (/jining)", "/jining"), ("every city", "")):
            t = time.perf_counter()
            r = client.get(f"{prefix}/api/search?q={quote(q)}&limit=10")
            times[label].append(time.perf_counter() - t)
            assert r.status_code in (200, 400), r.get_data(as_text=True)
    for label, ts in times.items():
        ts.sort()
        p99 = ts[int(len(ts) * 0.99)]
        print(f"{label:20s} median {statistics.median(ts) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms")
    one, every = (statistics.median(ts) for ts in times.values())
    print(f"every city / one city: {every / one:.2f}x ({len(qs)} queries, answer cache off)")


if __name__ == "__main__":
    main()
