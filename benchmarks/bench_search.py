"""Place-name search on 200,000 generated names: placegeo against SQLite (FTS5 + B-tree pinyin columns) and rapidfuzz.

Names are made from the characters of Jinan's real division names (专名 of two or three characters
plus a generic term: 路, 街, 村, 社区 …; some numbered roads such as 某某三路), each in one of the city's
districts, so they look and read like real ones. For each kind of query — exact, prefix (the name less
its last character, as typed), full pinyin, initials, homophone typo (one character replaced by another
with the same reading), one-character slip (one character replaced by any other), address-style (city
and district before the name: 济南市历下区某某路, or the district alone), Arabic numerals (某某3路 for
某某三路) and English (pinyin proper name with an English generic term: Furong Street) — the benchmark
prints p50 and p99 latency and recall@10 (the intended name among the first ten).

The comparison is meant to be fair: SQLite gets the same normalisation and pinyin conversion as placegeo,
B-tree indexed columns for the name, its pinyin, its initials and the reversed name and pinyin, an FTS5
trigram index for parts of names, and index-assisted one-wildcard patterns for slips (a prefix range on
the name or on the reversed name, whichever keeps more of the query fixed, then GLOB). It gets no address,
numeral-in-context or English handling, which are placegeo features. The systems run interleaved, query by
query, in ``--rounds`` rounds; the figures are the medians over the rounds. rapidfuzz (a brute-force scan)
runs on a subset, in the first round only, when it is installed (``pip install placegeo[bench]``).

    python benchmarks/bench_search.py [--names 200000] [--queries 300] [--fuzz-queries 60] [--rounds 3]

Targets (issues 6 and 16): p99 < 1 ms for every kind at 200,000 names; recall@10 99% for homophone typos
and at least 70% for one-character slips (slips in 200,000 short names have a ceiling near 70%: many names
lie within one edit of each other).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from collections import defaultdict

import numpy as np

from placegeo.demo import load_code_tree
from placegeo.pinyin import has_han
from placegeo.search import NameRecord, SearchIndex, _data, _key, _latin

GENERIC = ["路", "街", "村", "社区", "小区", "巷", "庄", "泉", "山", "河", "花园", "家园", "公园", "广场", "大厦"]
ENGLISH = {"路": "Road", "街": "Street", "村": "Village", "巷": "Lane", "泉": "Spring", "山": "Mountain",
           "河": "River", "公园": "Park", "广场": "Square"}
NUMERALS = "一二三四五六七八九十"
KINDS = ["exact", "prefix", "pinyin", "initials", "homophone", "slip", "address", "numeral", "english"]


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_names(n: int, rng) -> tuple[list[tuple[str, str]], dict[str, list[str]], dict[str, str]]:
    """(name, district code) pairs, characters by reading, and district names by code."""
    codes = load_code_tree()
    districts = dict(zip(codes.loc[codes["level"] == "district", "code"],
                         codes.loc[codes["level"] == "district", "name"], strict=True))
    pool = sorted({c for name in codes["name"] for c in name if "\u4e00" <= c <= "\u9fff"}
                  - set("居民委员会村社区街道镇" + NUMERALS))
    by_reading: dict[str, list[str]] = defaultdict(list)
    for c in pool:
        by_reading[_latin(c)[0]].append(c)
    names: set[str] = set()
    while len(names) < n:  # a proper name of two or three characters and a generic term, as real names have
        proper = "".join(rng.choice(pool, int(rng.choice([2, 3]))))
        if rng.random() < 0.03:  # numbered roads: 某某三路
            names.add(proper[:2] + NUMERALS[int(rng.integers(0, 10))] + "路")
        else:
            names.add(proper + rng.choice(GENERIC))
    dcodes = sorted(districts)
    return [(name, dcodes[int(rng.integers(0, len(dcodes)))]) for name in sorted(names)], by_reading, districts


def make_queries(names, by_reading, districts, rng, k):
    out: dict[str, list[tuple[str, int]]] = {kind: [] for kind in KINDS}
    pool = [c for cs in by_reading.values() for c in cs]
    city = _data("divisions.yaml")["divisions"]
    for i in rng.choice(len(names), k, replace=False):
        name, dcode = names[i]
        full, initials = _latin(name)
        out["exact"].append((name, i))
        out["prefix"].append((name[:-1], i))
        out["pinyin"].append((full, i))
        out["initials"].append((initials, i))
        pos = int(rng.integers(0, len(name) - 1))  # a slip anywhere but in the last character
        same = [c for c in by_reading[_latin(name[pos])[0]] if c != name[pos]]
        if same:
            out["homophone"].append((name[:pos] + rng.choice(same) + name[pos + 1:], i))
        out["slip"].append((name[:pos] + rng.choice(pool) + name[pos + 1:], i))
        head = city.get(dcode[:4] + "00", "") if rng.random() < 0.5 else ""
        out["address"].append((head + districts[dcode] + name, i))
    numbered = [i for i, (name, _) in enumerate(names) if len(name) == 4 and name[2] in NUMERALS and name[3] == "路"]
    for i in rng.choice(numbered, min(k, len(numbered)), replace=False):
        name = names[i][0]
        out["numeral"].append((name[:2] + str(NUMERALS.index(name[2]) + 1) + "路", i))
    english = [i for i, (name, _) in enumerate(names) for g in ENGLISH if name.endswith(g)
               and not name[:-len(g)].endswith("山")]  # 某山山 would read as 某 Mountain
    for i in rng.choice(english, min(k, len(english)), replace=False):
        name = names[i][0]
        generic = next(g for g in ENGLISH if name.endswith(g))
        proper = _latin(name[: -len(generic)])[0]
        out["english"].append((f"{proper.capitalize()} {ENGLISH[generic]}", i))
    return out


class SqliteFts:
    """SQLite as a fair alternative: B-tree columns for name, pinyin, initials and reversed forms, FTS5 trigram."""

    def __init__(self, names: list[str]):
        self.con = sqlite3.connect(":memory:")
        self.con.executescript("""
            CREATE TABLE names(id INTEGER PRIMARY KEY, name TEXT, rname TEXT, pinyin TEXT, rpinyin TEXT, initials TEXT);
            CREATE VIRTUAL TABLE fts USING fts5(name, content='names', content_rowid='id', tokenize='trigram');
        """)
        rows = []
        for i, n in enumerate(names):
            key = _key(n)
            full, initials = _latin(key)
            rows.append((i, key, key[::-1], full, full[::-1], initials))
        self.con.executemany("INSERT INTO names VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.con.executescript("""
            INSERT INTO fts(fts) VALUES ('rebuild');
            CREATE INDEX names_name ON names(name); CREATE INDEX names_rname ON names(rname);
            CREATE INDEX names_pinyin ON names(pinyin); CREATE INDEX names_rpinyin ON names(rpinyin);
            CREATE INDEX names_initials ON names(initials);
        """)
        self.con.commit()

    def _run(self, out: dict[int, None], sql: str, args: tuple, limit: int = 10) -> None:
        if len(out) < limit:
            for (rid,) in self.con.execute(sql + " LIMIT ?", (*args, limit)):
                out.setdefault(rid, None)

    def _one_wildcard(self, out, q: str, col: str, rcol: str) -> None:
        """Names one substitution or one deletion from ``q``, each pattern read through an index range."""
        for i in range(len(q)):
            pattern = q[:i] + "?" + q[i + 1:]
            if i >= len(q) / 2:  # more of the query fixed at the start: range on the column
                self._run(out, f"SELECT id FROM names WHERE {col} >= ? AND {col} < ? AND {col} GLOB ?",
                          (q[:i], q[:i] + "\uffff", pattern))
            else:  # more fixed at the end: range on the reversed column
                rest = q[i + 1:][::-1]
                self._run(out, f"SELECT id FROM names WHERE {rcol} >= ? AND {rcol} < ? AND {col} GLOB ?",
                          (rest, rest + "\uffff", pattern))
            self._run(out, f"SELECT id FROM names WHERE {col} = ?", (q[:i] + q[i + 1:],))

    def query(self, text: str, limit: int = 10) -> list[int]:
        q = _key(text)
        out: dict[int, None] = {}
        if has_han(q):
            full = _latin(q)[0]
            self._run(out, "SELECT id FROM names WHERE name = ?", (q,))
            self._run(out, "SELECT id FROM names WHERE name >= ? AND name < ?", (q, q + "\uffff"))
            self._run(out, "SELECT id FROM names WHERE pinyin = ?", (full,))
            if len(q) >= 3:
                self._run(out, "SELECT rowid FROM fts WHERE fts MATCH ?", ('"' + q.replace('"', '""') + '"',))
            self._run(out, "SELECT id FROM names WHERE pinyin >= ? AND pinyin < ?", (full, full + "\uffff"))
            if len(out) < limit:
                self._one_wildcard(out, q, "name", "rname")
        else:
            self._run(out, "SELECT id FROM names WHERE pinyin = ?", (q,))
            self._run(out, "SELECT id FROM names WHERE initials = ?", (q,))
            self._run(out, "SELECT id FROM names WHERE pinyin >= ? AND pinyin < ?", (q, q + "\uffff"))
            self._run(out, "SELECT id FROM names WHERE initials >= ? AND initials < ?", (q, q + "\uffff"))
            if len(out) < limit and len(q) >= 3:
                self._one_wildcard(out, q, "pinyin", "rpinyin")
        return list(out)[:limit]


def summarise(times: list[float], hits: int) -> tuple[float, float, float]:
    t = np.array(times) * 1000
    return float(np.percentile(t, 50)), float(np.percentile(t, 99)), hits / max(len(times), 1)


def run_round(systems: dict, queries: list[tuple[str, int]], flip: bool) -> dict[str, tuple[float, float, float]]:
    """Every query through every system, interleaved (the order alternating query by query)."""
    times: dict[str, list[float]] = {s: [] for s in systems}
    hits = dict.fromkeys(systems, 0)
    names = list(systems)
    for n, (q, target) in enumerate(queries):
        for s in names if (n % 2 == 0) != flip else names[::-1]:
            t0 = time.perf_counter()
            ids = systems[s](q)
            times[s].append(time.perf_counter() - t0)
            hits[s] += target in ids
    return {s: summarise(times[s], hits[s]) for s in systems}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=300, help="queries of each kind")
    ap.add_argument("--fuzz-queries", type=int, default=60, help="queries of each kind for rapidfuzz (slow)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are printed")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    named, by_reading, districts = make_names(args.names, rng)
    names = [n for n, _ in named]
    queries = make_queries(named, by_reading, districts, rng, args.queries)

    before = rss_mb()
    t0 = time.perf_counter()
    records = [NameRecord(str(i), n, "traditional_place_names", district_code=d) for i, (n, d) in enumerate(named)]
    records += [NameRecord(f"d{c}", n, "admin_units", district_code=c) for c, n in districts.items()]
    idx = SearchIndex.from_records(records)
    build_s, mem = time.perf_counter() - t0, rss_mb() - before
    before = rss_mb()
    t0 = time.perf_counter()
    sql = SqliteFts(names)
    sql_build, sql_mem = time.perf_counter() - t0, rss_mb() - before
    try:
        from rapidfuzz import fuzz, process
    except ImportError:  # optional: pip install placegeo[bench]
        process = None
    pinyins = [_latin(n)[0] for n in names]
    initials = [_latin(n)[1] for n in names]

    def ours(q):
        return [int(h.record.id) for h in idx.query(q, limit=10) if h.record.layer != "admin_units"]

    def brute(q):
        if process is None:
            return []
        choices = names if has_han(q) else (initials if len(q) <= 4 else pinyins)
        return [r[2] for r in process.extract(q, choices, scorer=fuzz.WRatio, limit=10)]

    print(f"{len(names):,} names; build: placegeo {build_s:.1f} s, {mem:.0f} MB; SQLite FTS5+B-tree "
          f"{sql_build:.1f} s, {sql_mem:.0f} MB (resident memory growth in this process)")
    print(f"{'kind':<10} {'queries':>7} | {'placegeo p50/p99 ms':>20} {'recall':>7} | {'SQLite p50/p99 ms':>18} "
          f"{'recall':>7} | {'rapidfuzz p50/p99 ms':>21} {'recall':>7}")
    worst_p99 = 0.0
    for kind in KINDS:
        qs = queries[kind]
        if not qs:
            continue
        rounds = [run_round({"placegeo": ours, "sqlite": sql.query}, qs, flip=bool(r % 2))
                  for r in range(args.rounds)]
        a, b = ({k: np.median([rd[s][j] for rd in rounds]) for j, k in enumerate(("p50", "p99", "recall"))}
                for s in ("placegeo", "sqlite"))
        c = summarise(*_brute(brute, qs[: args.fuzz_queries])) if process else (np.nan, np.nan, np.nan)
        worst_p99 = max(worst_p99, a["p99"])
        print(f"{kind:<10} {len(qs):>7} | {a['p50']:>9.3f} / {a['p99']:>7.3f} {a['recall']:>7.1%} | "
              f"{b['p50']:>7.3f} / {b['p99']:>7.3f} {b['recall']:>7.1%} | {c[0]:>8.1f} / {c[1]:>9.1f} {c[2]:>7.1%}")
    print(f"placegeo: build {build_s:.1f} s, worst p99 {worst_p99:.3f} ms over every kind (target < 1)")


def _brute(fn, queries) -> tuple[list[float], int]:
    times, hits = [], 0
    for q, target in queries:
        t0 = time.perf_counter()
        hits += target in fn(q)
        times.append(time.perf_counter() - t0)
    return times, hits


if __name__ == "__main__":
    main()
