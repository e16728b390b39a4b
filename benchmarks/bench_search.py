"""Place-name search at 51,500 / 200,000 (/ 2,000,000) names: placegeo's index kept in the atlas's database
against SQLite FTS5 given the same pinyin columns (and tantivy when installed).

Names are made from the characters of Jinan's real division names (专名 of two or three characters
plus a generic term: 路, 街, 村, 社区 …; some numbered roads such as 某某三路), each in one of the city's
districts, so they look and read like real ones. For each kind of query — exact, prefix (the name less
its last character, as typed), full pinyin, initials, homophone typo (one character replaced by another
with the same reading), one-character slip (one character replaced by any other), address-style (city
and district before the name: 济南市历下区某某路, or the district alone), Arabic numerals (某某3路 for
某某三路) and English (pinyin proper name with an English generic term: Furong Street) — the benchmark
prints p50 and p99 latency and recall@10 (the intended name among the first ten).

Both systems are SQLite files on disk, built from the same names with the same normalisation and pinyin
conversion: placegeo's index tables (:mod:`placegeo.storage.searchdb`, as an atlas holds them) and a
table with B-tree indexed columns for the name, its pinyin, its initials and the reversed name and
pinyin, an FTS5 trigram index for parts of names, and index-assisted one-wildcard patterns for slips.
SQLite gets no address, numeral-in-context or English handling, which are placegeo features. The systems
run interleaved, query by query, in ``--rounds`` rounds; each round runs the queries of every kind, one
kind after another in turn, so a round takes some seconds and a query's runs are that far apart. p50 and
p99 are taken over the queries of each query's median time over the rounds, so that a hiccup of a shared
machine in one run does not stand for the query (placegeo's p99 of single runs, hiccups included, is
printed below each table).
Resident memory is measured in a separate process per system that opens the file and answers every
query (its peak RSS), as a web worker would.

    python benchmarks/bench_search.py [--sizes 51500,200000] [--big] [--queries 300] [--rounds 5] [--alone]

``--big`` adds 2,000,000 names (several minutes to build). Targets (issues 6, 16, 19): p99 < 1 ms for
every kind at 200,000 names; p99 at 2,000,000 within 2x of 51,500; < 500 MB resident per process.
The flatness ratio is measured by placegeo's smallest and largest indexes answering their queries
interleaved (:func:`flatness`): beside FTS5 the large index's p99 also holds the cost of FTS5's own
growth (its scans of 2,000,000 names evict the caches placegeo's next query would find warm), which the
small index's does not; both ratios are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from placegeo.pinyin import has_han
from placegeo.search import NameRecord, StoredSearchIndex, _data, _key, _latin, write_batches
from placegeo.storage.searchdb import _MMAP_BYTES, SqliteSearchTables

GENERIC = ["路", "街", "村", "社区", "小区", "巷", "庄", "泉", "山", "河", "花园", "家园", "公园", "广场", "大厦"]
ENGLISH = {"路": "Road", "街": "Street", "村": "Village", "巷": "Lane", "泉": "Spring", "山": "Mountain",
           "河": "River", "公园": "Park", "广场": "Square"}
NUMERALS = "一二三四五六七八九十"
KINDS = ["exact", "prefix", "pinyin", "initials", "homophone", "slip", "address", "numeral", "english"]


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open(f"/proc/{os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_names(n: int, rng) -> tuple[list[tuple[str, str]], dict[str, list[str]], dict[str, str]]:
    """(name, district code) pairs, characters by reading, and district names by code."""
    from placegeo.demo import load_code_tree

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

    def __init__(self, names: list[str] | None = None, *, path: str):
        self.con = sqlite3.connect(path, cached_statements=512)  # as placegeo's reader, and
        self.con.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")  # the same memory map
        if names is None:  # opened
            return
        from placegeo.storage.gpkg import WRITER_CACHE  # here: a process measured for memory imports this module

        self.con.execute(f"PRAGMA cache_size = {WRITER_CACHE}")  # the page cache placegeo's build writes with
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


def summarise(rounds: list[tuple[list[float], int]]) -> tuple[float, float, float, float]:
    """p50 and p99 over the queries of each query's median time over the rounds; the p99 of single runs
    (each round's, median of the rounds); recall. A query's median drops a hiccup of this shared machine
    that hit one of its runs; the single-run p99 keeps it."""
    t = np.array([times for times, _ in rounds]) * 1000  # rounds x queries
    per_query = np.median(t, axis=0)
    raw = float(np.median([np.percentile(row, 99) for row in t]))
    hits = rounds[0][1]
    return float(np.percentile(per_query, 50)), float(np.percentile(per_query, 99)), raw, hits / max(t.shape[1], 1)


def run_round(systems: dict, queries: list[tuple[str, int]], flip: bool) -> dict[str, tuple[list[float], list[bool]]]:
    """Every query through every system, interleaved (the order alternating query by query): the time of
    each query, and whether it found its name among the first ten."""
    times: dict[str, list[float]] = {s: [] for s in systems}
    found: dict[str, list[bool]] = {s: [] for s in systems}
    names = list(systems)
    for n, (q, target) in enumerate(queries):
        for s in names if (n % 2 == 0) != flip else names[::-1]:
            t0 = time.perf_counter()
            ids = systems[s](q)
            times[s].append(time.perf_counter() - t0)
            found[s].append(target in ids)
    return {s: (times[s], found[s]) for s in systems}


def measure(systems: dict, queries: dict[str, list[tuple[str, int]]], rounds: int
            ) -> dict[str, dict[str, tuple[float, float, float, float]]]:
    """Kind -> system -> :func:`summarise` of ``rounds`` rounds. Every round runs the queries of all kinds,
    taken in turn: a slow spell of the machine falls on one round of many queries of every kind (which
    their medians drop), not on every round of one kind."""
    mixed = _in_turn([[(kind, q) for q in queries[kind]] for kind in KINDS])
    runs = [run_round(systems, [q for _, q in mixed], flip=bool(r % 2)) for r in range(rounds)]
    out = {}
    for kind in KINDS:
        at = [j for j, (k, _) in enumerate(mixed) if k == kind]
        if at:
            out[kind] = {s: summarise([_part(run[s], at) for run in runs]) for s in systems}
    return out


def flatness(sides: dict[int, tuple[str, dict[str, list[tuple[str, int]]]]], rounds: int
             ) -> dict[str, dict[int, float]]:
    """Kind -> size -> placegeo's p99 (ms, as :func:`summarise` takes it), each size's index answering its
    own queries, the sizes interleaved query by query (the order alternating): both sizes see the same
    machine, and neither sees the other systems' queries, whose cost grows with the names (an FTS5 scan
    of 2,000,000 names evicts the CPU's caches the next query would find warm)."""
    systems = {n: open_placegeo(path) for n, (path, _) in sides.items()}
    mixed = {n: _in_turn([[(kind, q) for q, _ in queries[kind]] for kind in KINDS])
             for n, (_, queries) in sides.items()}
    times: dict[int, list[list[float]]] = {n: [] for n in sides}
    for r in range(rounds):
        got: dict[int, list[float]] = {n: [] for n in sides}
        for j in range(max(map(len, mixed.values()))):
            for n in list(sides) if (j + r) % 2 == 0 else list(sides)[::-1]:
                if j < len(mixed[n]):
                    t0 = time.perf_counter()
                    systems[n](mixed[n][j][1])
                    got[n].append(time.perf_counter() - t0)
        for n in sides:
            times[n].append(got[n])
    out: dict[str, dict[int, float]] = {}
    for kind in KINDS:
        for n in sides:
            at = [j for j, (k, _) in enumerate(mixed[n]) if k == kind]
            if at:
                out.setdefault(kind, {})[n] = summarise([([run[j] for j in at], 0) for run in times[n]])[1]
    return out


def _in_turn(lists: list[list]) -> list:
    """The items of ``lists`` taken one from each in turn (a, b, c, a, b, c, ...), until all are used."""
    return [x for group in itertools.zip_longest(*lists) for x in group if x is not None]


def _part(round_: tuple[list[float], list[bool]], at: list[int]) -> tuple[list[float], int]:
    """A round's times of the queries at positions ``at``, and how many of them found their name."""
    times, found = round_
    return [times[j] for j in at], sum(found[j] for j in at)


def cold_caches() -> None:
    """Forget every name's pinyin and key, so each build converts the names itself (a fair build time)."""
    import placegeo.pinyin as pinyin
    import placegeo.search as search
    import placegeo.text as text

    for fn in (search._latins, search._key, pinyin._readings, pinyin.syllables, text.normalize):
        fn.cache_clear()


def build_placegeo(named, districts, path: str) -> float:
    """placegeo's index tables for the names, in a SQLite file, as an atlas holds them; seconds taken."""
    cold_caches()
    t0 = time.perf_counter()
    layers = {"traditional_place_names": [NameRecord(str(i), n, "traditional_place_names", district_code=d)
                                          for i, (n, d) in enumerate(named)],
              "admin_units": [NameRecord(f"d{c}", n, "admin_units", district_code=c) for c, n in districts.items()]}
    with atlas_tables(path) as tables:
        for layer, records in layers.items():
            step = 50_000  # written in slices: the rows of 2,000,000 names do not fit in memory at once
            slices = (records[j:j + step] for j in range(0, len(records), step))
            # one process, as FTS5's build converts its names in one
            write_batches(tables, layer, slices, workers=1)
    return time.perf_counter() - t0


@contextlib.contextmanager
def atlas_tables(path: str) -> Iterator[SqliteSearchTables]:
    """Index tables written as a GeoPackage atlas writes a layer: on one connection set up as its writer
    (its page cache), in one transaction committed at the end (a transaction a slice would journal most
    of the file's pages again for each slice: the build would grow with the square of the names)."""
    from placegeo.storage.gpkg import _connect

    con = _connect(Path(path))
    try:
        yield SqliteSearchTables(lambda: contextlib.nullcontext(con), path=path)
        con.commit()
    finally:
        con.close()


def open_placegeo(path: str):
    idx = StoredSearchIndex(SqliteSearchTables(path=path), cache_size=0)

    def query(q: str) -> list[int]:
        return [int(h.record.id) for h in idx.query(q, limit=10) if h.record.layer != "admin_units"]
    return query


def open_fts(path: str):
    return SqliteFts(path=path).query


def open_tantivy(path: str):
    import tantivy

    index = tantivy.Index.open(path)
    searcher = index.searcher()

    def query(q: str) -> list[int]:
        k = _key(q)
        field = "name" if has_han(k) else "pinyin"
        text = " ".join(k) if has_han(k) else k
        try:
            parsed = index.parse_query(text, [field, "initials"] if field == "pinyin" else [field])
        except ValueError:
            return []
        return [searcher.doc(a)["id"][0] for _, a in searcher.search(parsed, 10).hits]
    return query


def build_tantivy(names: list[str], path: str) -> float | None:
    try:
        import tantivy
    except ImportError:
        return None
    t0 = time.perf_counter()
    schema = tantivy.SchemaBuilder().add_integer_field("id", stored=True).add_text_field("name") \
        .add_text_field("pinyin").add_text_field("initials").build()
    os.makedirs(path, exist_ok=True)
    index = tantivy.Index(schema, path=path)
    writer = index.writer()
    for i, n in enumerate(names):
        full, initials = _latin(_key(n))
        writer.add_document(tantivy.Document(id=i, name=" ".join(_key(n)), pinyin=full, initials=initials))
    writer.commit()
    return time.perf_counter() - t0


OPENERS = {"placegeo": open_placegeo, "sqlite": open_fts, "tantivy": open_tantivy}


def child_rss(system: str, path: str, queries_file: str) -> float:
    """Peak resident memory (MB) of a fresh process that opens ``system`` and answers every query."""
    code = (f"import json, sys\nsys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            "import bench_search as b\n"
            f"q = b.OPENERS[{system!r}]({path!r})\n"
            f"for text in json.load(open({queries_file!r})): q(text)\n"
            "print(b.peak_rss_mb())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the {system} process failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run_size(n: int, args, folder: str) -> dict[str, float]:
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    named, by_reading, districts = make_names(n, rng)
    names = [name for name, _ in named]
    queries = make_queries(named, by_reading, districts, rng, args.queries)
    gen_s = time.perf_counter() - t0
    paths = {"placegeo": f"{folder}/placegeo-{n}.sqlite", "sqlite": f"{folder}/fts-{n}.sqlite",
             "tantivy": f"{folder}/tantivy-{n}"}
    builds = {"placegeo": build_placegeo(named, districts, paths["placegeo"])}
    if not args.alone:
        cold_caches()
        t0 = time.perf_counter()
        SqliteFts(names, path=paths["sqlite"])
        builds["sqlite"] = time.perf_counter() - t0
        cold_caches()
        tantivy_s = build_tantivy(names, paths["tantivy"])
        if tantivy_s is not None:
            builds["tantivy"] = tantivy_s
    systems = {s: OPENERS[s](paths[s]) for s in builds}
    qfile = f"{folder}/queries-{n}.json"
    with open(qfile, "w") as fh:
        json.dump([q for kind in KINDS for q, _ in queries[kind]], fh, ensure_ascii=False)
    rss = {s: child_rss(s, paths[s], qfile) for s in builds}
    size = {s: sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(paths[s]) for f in fs)
            if os.path.isdir(paths[s]) else os.path.getsize(paths[s]) for s in builds}
    print(f"\n{n:,} names (generated in {gen_s:.0f} s): " + "; ".join(
        f"{s} build {builds[s]:.1f} s, {size[s] / 2**20:.0f} MB on disk, {rss[s]:.0f} MB resident"
        for s in builds))
    head = " | ".join(f"{s + ' p50/p99 ms':>22} {'recall':>7}" for s in systems)
    print(f"{'kind':<10} {'queries':>7} | {head}")
    worst, raw = 0.0, {}
    for kind, got in measure(systems, queries, args.rounds).items():
        worst = max(worst, got["placegeo"][1])
        raw[kind] = got["placegeo"][2]
        print(f"{kind:<10} {len(queries[kind]):>7} | " + " | ".join(
            f"{got[s][0]:>10.3f} / {got[s][1]:>9.3f} {got[s][3]:>7.1%}" for s in systems))
    against = f" ({builds['sqlite'] / builds['placegeo']:.2f}x FTS5's build time)" if "sqlite" in builds else ""
    print("placegeo p99 of single runs (hiccups included), ms: " + ", ".join(f"{k} {v:.2f}" for k, v in raw.items()))
    print(f"placegeo at {n:,}: worst p99 {worst:.3f} ms over every kind; {rss['placegeo']:.0f} MB resident; "
          f"build {builds['placegeo']:.1f} s{against}")
    return {"worst_p99": worst, "rss": rss["placegeo"], "path": paths["placegeo"], "queries": queries}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="51500,200000", help="numbers of names, comma-separated")
    ap.add_argument("--big", action="store_true", help="also 2,000,000 names (several minutes)")
    ap.add_argument("--queries", type=int, default=300, help="queries of each kind")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed")
    ap.add_argument("--alone", action="store_true",
                    help="placegeo only: its latency without the other systems' queries between its own "
                         "(which evict the CPU's caches it warmed), not a comparison")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([2_000_000] if args.big else [])
    with tempfile.TemporaryDirectory() as folder:
        results = {n: run_size(n, args, folder) for n in sizes}
        small, large = sizes[0], sizes[-1]
        flat = flatness({n: (results[n]["path"], results[n]["queries"]) for n in (small, large)}, args.rounds) \
            if large != small else {}
    first, last = results[small], results[large]
    print(f"\n{'placegeo alone at each size' if args.alone else 'beside the other systems'}: worst p99 "
          f"{first['worst_p99']:.3f} ms at {small:,} names, "
          f"{last['worst_p99']:.3f} ms at {large:,}: ratio {last['worst_p99'] / first['worst_p99']:.2f}")
    if flat:
        print(f"placegeo at {small:,} and {large:,} names interleaved, p99 ms: " + ", ".join(
            f"{kind} {got[small]:.3f} / {got[large]:.3f}" for kind, got in flat.items()))
        worst = {n: max(got[n] for got in flat.values()) for n in (small, large)}
        print(f"flatness: worst p99 {worst[small]:.3f} ms at {small:,} names, {worst[large]:.3f} ms at {large:,}: "
              f"ratio {worst[large] / worst[small]:.2f} (target < 2)")
    print(f"resident {last['rss']:.0f} MB per process at {large:,} names (target < 500)")


if __name__ == "__main__":
    main()
