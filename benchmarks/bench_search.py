"""Place-name search on 200,000 generated names: placegeo against SQLite FTS5 (trigram) and rapidfuzz.

Names are made from the characters of Jinan's real division names (专名 of two or three characters
plus a generic term: 路, 街, 村, 社区 …), so they look and read like real ones. For each kind of query —
exact, prefix (the name less its last character, as typed), full pinyin, initials, homophone typo
(one character replaced by another with the same reading) and one-character slip (one character
replaced by any other) — the benchmark prints p50 and p99 latency and recall@10 (the intended name
among the first ten), for placegeo, for FTS5 with the trigram tokenizer over name, pinyin and
initials, and for a brute-force rapidfuzz scan, in the same run.

    python benchmarks/bench_search.py [--names 200000] [--queries 300] [--fuzz-queries 60]

Targets (issue 6): build < 30 s; p99 < 1 ms for every kind; recall@10 99% for homophone typos and
at least 70% for one-character slips (slips in 200,000 short names have a ceiling near 70%: many
names lie within one edit of each other).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from collections import defaultdict

import numpy as np

from placegeo.demo import load_code_tree
from placegeo.search import NameRecord, SearchIndex, _latin

GENERIC = ["路", "街", "村", "社区", "小区", "巷", "庄", "泉", "山", "河", "花园", "家园", "公园", "广场", "大厦"]
KINDS = ["exact", "prefix", "pinyin", "initials", "homophone", "slip"]


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_names(n: int, rng) -> tuple[list[str], dict[str, list[str]]]:
    codes = load_code_tree()
    pool = sorted({c for name in codes["name"] for c in name if "\u4e00" <= c <= "\u9fff"}
                  - set("居民委员会村社区街道镇"))
    by_reading: dict[str, list[str]] = defaultdict(list)
    for c in pool:
        by_reading[_latin(c)[0]].append(c)
    names: set[str] = set()
    while len(names) < n:  # a proper name of two or three characters and a generic term, as real names have
        proper = "".join(rng.choice(pool, int(rng.choice([2, 3]))))
        names.add(proper + rng.choice(GENERIC))
    return sorted(names), by_reading


def make_queries(names, by_reading, rng, k):
    picks = rng.choice(len(names), k, replace=False)
    out = {kind: [] for kind in KINDS}
    pool = [c for cs in by_reading.values() for c in cs]
    for i in picks:
        name = names[i]
        full, initials = _latin(name)
        out["exact"].append((name, i))
        out["prefix"].append((name[:-1], i))
        out["pinyin"].append((full, i))
        out["initials"].append((initials, i))
        pos = int(rng.integers(0, len(name) - 1))  # a slip anywhere but in the last character
        same = [c for c in by_reading[_latin(name[pos])[0]] if c != name[pos]]
        if same:
            out["homophone"].append((name[:pos] + rng.choice(same) + name[pos + 1:], i))
        other = rng.choice(pool)
        out["slip"].append((name[:pos] + other + name[pos + 1:], i))
    return out


class Fts5:
    def __init__(self, names):
        self.con = sqlite3.connect(":memory:")
        self.con.execute("CREATE VIRTUAL TABLE fts USING fts5(name, pinyin, initials, tokenize='trigram')")
        self.con.executemany("INSERT INTO fts(rowid, name, pinyin, initials) VALUES (?, ?, ?, ?)",
                             ((i, n, *_latin(n)) for i, n in enumerate(names)))
        self.con.commit()

    def query(self, q, limit=10):
        col = "name" if any("\u4e00" <= c <= "\u9fff" for c in q) else "{pinyin initials}"
        if len(q) < 3:  # the trigram tokenizer cannot match shorter strings
            sql = f"SELECT rowid FROM fts WHERE {'name' if col == 'name' else 'initials'} LIKE ? LIMIT ?"
            return [r[0] for r in self.con.execute(sql, (q + "%", limit))]
        phrase = '"' + q.replace('"', '""') + '"'
        sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT ?"
        return [r[0] for r in self.con.execute(sql, (f"{col} : {phrase}", limit))]


def measure(fn, queries):
    times, hits = [], 0
    for q, target in queries:
        t0 = time.perf_counter()
        ids = fn(q)
        times.append(time.perf_counter() - t0)
        hits += target in ids
    t = np.array(times) * 1000
    return np.percentile(t, 50), np.percentile(t, 99), hits / max(len(queries), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=300, help="queries of each kind")
    ap.add_argument("--fuzz-queries", type=int, default=60, help="queries of each kind for rapidfuzz (slow)")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    names, by_reading = make_names(args.names, rng)
    queries = make_queries(names, by_reading, rng, args.queries)

    before = rss_mb()
    t0 = time.perf_counter()
    idx = SearchIndex.from_records([NameRecord(str(i), n, "traditional_place_names") for i, n in enumerate(names)])
    build_s, mem = time.perf_counter() - t0, rss_mb() - before
    before = rss_mb()
    t0 = time.perf_counter()
    fts = Fts5(names)
    fts_build, fts_mem = time.perf_counter() - t0, rss_mb() - before
    from rapidfuzz import fuzz, process

    pinyins = [_latin(n)[0] for n in names]
    initials = [_latin(n)[1] for n in names]

    def ours(q):
        return [int(h.record.id) for h in idx.query(q, limit=10)]

    def brute(q):
        han = any("\u4e00" <= c <= "\u9fff" for c in q)
        choices = names if han else (initials if len(q) <= 4 else pinyins)
        return [r[2] for r in process.extract(q, choices, scorer=fuzz.WRatio, limit=10)]

    print(f"{len(names):,} names; build: placegeo {build_s:.1f} s, {mem:.0f} MB; FTS5 {fts_build:.1f} s, "
          f"{fts_mem:.0f} MB")
    print(f"{'kind':<10} {'queries':>7} | {'placegeo p50/p99 ms':>20} {'recall':>7} | {'FTS5 p50/p99 ms':>16} "
          f"{'recall':>7} | {'rapidfuzz p50/p99 ms':>21} {'recall':>7}")
    worst_p99 = 0.0
    for kind in KINDS:
        qs = queries[kind]
        a = measure(ours, qs)
        worst_p99 = max(worst_p99, a[1])
        b = measure(fts.query, qs)
        c = measure(brute, qs[: args.fuzz_queries])
        print(f"{kind:<10} {len(qs):>7} | {a[0]:>9.3f} / {a[1]:>7.3f} {a[2]:>7.1%} | {b[0]:>6.3f} / {b[1]:>7.3f} "
              f"{b[2]:>7.1%} | {c[0]:>8.1f} / {c[1]:>9.1f} {c[2]:>7.1%}")
    print(f"placegeo: build {build_s:.1f} s (target < 30), worst p99 {worst_p99:.3f} ms (target < 1)")


if __name__ == "__main__":
    main()
