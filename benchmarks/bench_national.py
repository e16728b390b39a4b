"""Place-name search at national scale: 13,000,000 names in the index tables of a GeoPackage and a PostGIS atlas.

The names are made as the demo atlas makes its census-scale place names (:mod:`placegeo.demo`,
``data/demo_place_words.yaml``): a real village's proper name + a modifier + a generic term of its
kind (王口 + 东 + 路), with the real town and village names of the code trees of Jinan, Jining and
Weifang mixed in as they are. They are written in slices through the same code an atlas write uses
(:func:`placegeo.search.write_batches` and the store's search tables), so the figures are those of an
atlas holding them. Printed per back end: build time, store size, peak resident memory of a fresh
process that opens the index and answers every query (a web worker), and p50/p99 per query kind
(the kinds of ``bench_search.py``: exact, prefix, pinyin, initials, homophone, slip, address-style,
numerals, English) over each query's median of three rounds, measured as ``bench_search.py`` does.

    python benchmarks/bench_national.py [--names 13000000] [--postgis URL [--no-gpkg]] [--queries 200]

Targets (issue 19): p99 < 5 ms for every kind, < 500 MB resident per worker, build < 30 minutes.
Not part of ``make test`` or ``make bench``: ``make bench-national``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_search as bs
from placegeo.demo import WORDS, load_code_tree
from placegeo.search import NameRecord, _latin, write_batches

LAYER = "traditional_place_names"
SLICE = 100_000


def real_names() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(name, district code) of every town and village of the three cities' code trees, and district names."""
    out, districts = [], {}
    for city in ("jinan", "jining", "weifang"):
        codes = load_code_tree(city)
        districts.update(dict(zip(codes.loc[codes["level"] == "district", "code"],
                                  codes.loc[codes["level"] == "district", "name"], strict=True)))
        short = codes["name"].str.replace(r"(居民委员会|居委会|村民委员会|村委会)$", "", regex=True)
        out += [(n, c[:6]) for n, c, lv in zip(short, codes["code"], codes["level"], strict=True) if lv != "district"]
    return out, districts


def generated(real: list[tuple[str, str]], n: int, rng) -> list[tuple[str, str]]:
    """``n`` names: a real village's proper name + modifier + generic term (the demo's recipe)."""
    words = yaml.safe_load(WORDS.read_text(encoding="utf-8"))
    terms = np.array([t for kind in words["kinds"].values() for t in kind["terms"]], dtype=object)
    mods = np.array(words["modifiers"], dtype=object)
    stems = np.array([name.removesuffix("村").removesuffix("社区") or name for name, _ in real], dtype=object)
    codes = np.array([c for _, c in real], dtype=object)
    v = rng.integers(0, len(stems), n)
    names = stems[v] + mods[rng.integers(0, len(mods), n)] + terms[rng.integers(0, len(terms), n)]
    return list(zip(names.tolist(), codes[v].tolist(), strict=True))


def write_all(tables, named: list[tuple[str, str]], districts: dict[str, str]) -> float:
    """Index and write the names as an atlas write does (:func:`placegeo.search.index_batches`: indexed
    in a worker process per CPU while the last batch is written); seconds taken."""
    t0 = time.perf_counter()
    batches = ([NameRecord(str(j + k), name, LAYER, district_code=d) for k, (name, d) in
                enumerate(named[j:j + SLICE])] for j in range(0, len(named), SLICE))
    write_batches(tables, LAYER, batches, progress=lambda done: print(
        f"  {done:,} names written, {time.perf_counter() - t0:.0f} s", file=sys.stderr))
    units = [NameRecord(f"d{c}", name, "admin_units", district_code=c) for c, name in districts.items()]
    write_batches(tables, "admin_units", [units])
    return time.perf_counter() - t0


def open_gpkg(path: str):
    from placegeo.search import StoredSearchIndex
    from placegeo.storage.searchdb import SqliteSearchTables

    idx = StoredSearchIndex(SqliteSearchTables(path=path), cache_size=0)
    return lambda q: [int(h.record.id) for h in idx.query(q) if h.record.layer == LAYER]


def open_pg(url: str):
    import psycopg

    from placegeo.search import StoredSearchIndex
    from placegeo.storage.postgis import prepare_search_session
    from placegeo.storage.searchdb import PgSearchTables

    conn = psycopg.connect(url.split("?")[0], autocommit=True)
    prepare_search_session(conn)  # as the atlas's search connections are
    idx = StoredSearchIndex(PgSearchTables(lambda: contextlib.nullcontext(conn), "placegeo_national"), cache_size=0)
    return lambda q: [int(h.record.id) for h in idx.query(q) if h.record.layer == LAYER]


def child_rss(opener: str, where: str, qfile: str) -> float:
    code = (f"import json, sys\nsys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            "import bench_national as b, bench_search as s\n"
            f"q = b.{opener}({where!r})\nfor text in json.load(open({qfile!r})): q(text)\nprint(s.peak_rss_mb())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return float(done.stdout.strip().splitlines()[-1])


def build_pg(conn, named: list[tuple[str, str]], districts: dict[str, str]) -> float:
    """Write the names into a new schema's index tables in one transaction, as an atlas writes a layer;
    then vacuum them, as autovacuum does after a load (measured apart: queries are measured after it)."""
    from placegeo.storage.searchdb import PgSearchTables

    conn.execute("DROP SCHEMA IF EXISTS placegeo_national CASCADE")
    conn.execute("CREATE SCHEMA placegeo_national")
    t0 = time.perf_counter()
    with conn.transaction():  # its commit counted
        write_all(PgSearchTables(lambda: contextlib.nullcontext(conn), "placegeo_national"), named, districts)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    # the visibility map that lets a lookup read the key's B-tree alone, and the planner's statistics; queries
    # measured while autovacuum still worked through a national load took several times longer
    for table in ("postings", "slips", "records"):
        conn.execute(f"VACUUM (ANALYZE) placegeo_national.placegeo_search_{table}")
    print(f"  PostGIS: loaded in {build / 60:.1f} min, vacuumed in {(time.perf_counter() - t0) / 60:.1f} min",
          file=sys.stderr)
    return build


def report(name: str, build_s: float, size_mb: float, rss: float, query, queries) -> None:
    build = "not built again" if build_s != build_s else f"build {build_s / 60:.1f} min"  # NaN: --again
    print(f"\n{name}: {build}, store {size_mb:,.0f} MB, {rss:.0f} MB resident per process")
    print(f"{'kind':<10} {'queries':>7} | {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>9}")
    for kind, got in bs.measure({"x": query}, queries, 3).items():
        p50, p99, _, recall = got["x"]
        print(f"{kind:<10} {len(queries[kind]):>7} | {p50:>8.3f} {p99:>8.3f} {recall:>9.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=13_000_000)
    ap.add_argument("--postgis", help="a PostgreSQL URL: also build and query the index there")
    ap.add_argument("--queries", type=int, default=200, help="queries of each kind")
    ap.add_argument("--folder", help="where the GeoPackage is built (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the GeoPackage and the queries in --folder (to measure them again)")
    ap.add_argument("--again", action="store_true",
                    help="measure again the GeoPackage kept in --folder by a run with --keep, and the PostGIS index "
                         "left by the last run (same --names)")
    ap.add_argument("--no-gpkg", action="store_true",
                    help="build and query PostGIS only (the two stores of 13,000,000 names need some 60 GB of disk)")
    args = ap.parse_args()
    if args.no_gpkg and not args.postgis:
        ap.error("--no-gpkg measures PostGIS only: give --postgis URL")
    rng = np.random.default_rng(19)
    real, districts = real_names()
    named = real + generated(real, max(args.names - len(real), 0), rng)
    print(f"{len(named):,} names ({len(real):,} real town and village names)")
    sample = [int(i) for i in rng.choice(len(named), min(len(named), 50_000), replace=False)]
    by_reading: dict[str, list[str]] = defaultdict(list)
    for c in sorted({c for name, _ in real for c in name if "\u4e00" <= c <= "\u9fff"} - set(bs.NUMERALS)):
        by_reading[_latin(c)[0]].append(c)
    picked = bs.make_queries([named[i] for i in sample], by_reading, districts, rng, args.queries)
    queries = {k: [(q, sample[i]) for q, i in v] for k, v in picked.items()}
    again_gpkg = args.again and not args.no_gpkg  # the GeoPackage kept in --folder is measured again
    if (args.keep or again_gpkg) and not args.folder:
        ap.error("--keep and --again need --folder: the folder that keeps national.gpkg and queries.json")
    kept = os.path.exists(os.path.join(args.folder or "", "national.gpkg"))
    if args.keep and kept:
        ap.error(f"--keep: {args.folder} already holds a national.gpkg; remove it or give another --folder")
    if again_gpkg and not kept:
        ap.error(f"--again: {args.folder} holds no national.gpkg; build one with --keep first")
    keep = contextlib.nullcontext(args.folder) if args.keep or again_gpkg else \
        tempfile.TemporaryDirectory(dir=args.folder)
    with keep as folder:
        qfile = f"{folder}/queries.json"
        with open(qfile, "w") as fh:
            json.dump([q for v in queries.values() for q, _ in v], fh, ensure_ascii=False)

        path = f"{folder}/national.gpkg"
        builds = {"gpkg": float("nan"), "pg": float("nan")}  # NaN: not built again
        if not args.again and not args.no_gpkg:
            t0 = time.perf_counter()
            with bs.atlas_tables(path) as tables:  # one transaction, as an atlas writes a layer: its commit counted
                write_all(tables, named, districts)
            builds["gpkg"] = time.perf_counter() - t0
        if args.postgis and not args.again:
            import psycopg

            with psycopg.connect(args.postgis.split("?")[0], autocommit=True) as conn:
                builds["pg"] = build_pg(conn, named, districts)
        # a web worker holds no names: the 13,000,000 made here (some 4 GB) would take the memory the operating
        # system caches the stores in, and the queries measured would read more of them from disk
        del named, real
        gc.collect()
        if not args.no_gpkg:
            report("GeoPackage (SQLite tables)", builds["gpkg"], os.path.getsize(path) / 2**20,
                   child_rss("open_gpkg", path, qfile), open_gpkg(path), queries)
        if args.postgis:
            size_mb, buffers = pg_facts(args.postgis)
            report(f"PostGIS (B-tree tables; server shared_buffers {buffers})", builds["pg"], size_mb,
                   child_rss("open_pg", args.postgis, qfile), open_pg(args.postgis), queries)


def pg_facts(url: str) -> tuple[float, str]:
    """The national index's size on disk (MB), and the server's ``shared_buffers`` (the figures rest on it)."""
    import psycopg

    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        size = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                            "ON n.oid = c.relnamespace WHERE n.nspname = 'placegeo_national' AND "
                            "c.relkind = 'r'").fetchone()[0]
        return size / 2**20, conn.execute("SHOW shared_buffers").fetchone()[0]


if __name__ == "__main__":
    main()
