"""A cold ``placegeo search``: a new process answers one query on the demo atlas (issue 19: under 0.5 s).

Each query is run as a user runs it, ``placegeo search QUERY --atlas ATLAS``, in a new process, against
two floors that do less and bound what any Python command can do here: the interpreter starting and
stopping (``python -c pass``), and a Python process that opens the same file with :mod:`sqlite3` and
reads the query's exact-name rows of the index (no pinyin, no ranking, no output). The three run
interleaved, query by query, the order alternating; the figures are medians over ``--runs`` runs.
Bytecode is written and used as in an installed package (``PYTHONDONTWRITEBYTECODE`` is cleared).

    python benchmarks/bench_cold.py [--atlas ATLAS] [--runs 9]

Without ``--atlas`` the Jinan demo atlas is built in a temporary folder (not timed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: one query of each kind: characters with one reading each, characters with a polyphone (区: qū, ōu),
#: full pinyin, initials, an address, Arabic numerals, English
QUERIES = ["芙蓉街", "长清区", "baotuquan", "frj", "济南市历下区芙蓉街", "经2路", "Baotu Spring"]
TARGET_S = 0.5


def commands(atlas: str, query: str) -> dict[str, list[str]]:
    script = Path(sys.executable).with_name("placegeo")
    placegeo = [str(script)] if script.is_file() else [sys.executable, "-m", "placegeo.cli"]
    sqlite = ("import sqlite3, sys; c = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); "
              "c.execute('SELECT name_id FROM placegeo_search_postings WHERE k = ? LIMIT 10', "
              "('e' + sys.argv[2],)).fetchall()")
    return {"placegeo search": [*placegeo, "search", query, "--atlas", atlas],
            "python + sqlite3": [sys.executable, "-c", sqlite, atlas, query],
            "python -c pass": [sys.executable, "-c", "pass"]}


def wall_s(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atlas", help="a GeoPackage atlas (default: the demo, built in a temporary folder)")
    ap.add_argument("--runs", type=int, default=9, help="runs of every query by every command")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    folder = tempfile.mkdtemp(prefix="placegeo-cold-")
    try:
        atlas = args.atlas or os.path.join(folder, "jinan.gpkg")
        if not args.atlas:
            subprocess.run([sys.executable, "-m", "placegeo.cli", "demo", "--atlas", atlas], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        for query in QUERIES:  # not timed: bytecode written, the index built if the atlas had none
            for cmd in commands(atlas, query).values():
                wall_s(cmd, env)
        times: dict[tuple[str, str], list[float]] = {}
        for run in range(args.runs):
            for n, query in enumerate(QUERIES):
                systems = list(commands(atlas, query).items())
                for name, cmd in systems if (run + n) % 2 == 0 else systems[::-1]:
                    times.setdefault((query, name), []).append(wall_s(cmd, env))
        names = list(commands(atlas, "").keys())
        print(f"cold start, median of {args.runs} runs (s); a new process per query")
        print(f"{'query':<20}" + "".join(f"{n:>18}" for n in names) + f"{'placegeo / floor':>18}")
        worst = 0.0
        for query in QUERIES:
            med = [statistics.median(times[(query, n)]) for n in names]
            worst = max(worst, med[0])
            print(f"{query:<20}" + "".join(f"{m:>18.3f}" for m in med) + f"{med[0] / med[1]:>17.1f}x")
        verdict = "met" if worst < TARGET_S else "NOT met"
        print(f"worst placegeo search: {worst:.3f} s (target < {TARGET_S} s): {verdict}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
