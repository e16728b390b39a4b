"""The place-name index's tables, kept in the atlas's own database beside its layers.

Three tables, written inside the same transaction as the layer whose names they index, so every
process (CLI call, web worker, notebook) opens the index instead of building or loading it:

* ``placegeo_search_postings (k, ord, name_id)``: a B-tree (SQLite ``WITHOUT ROWID``, PostgreSQL
  primary key in the ``C`` collation) of text keys, each a one-letter kind and a key (``e芙蓉街``,
  ``pfurongjie``); a key's rows are in rank order (``ord``), so the best ``n`` of a key are the first
  ``n`` rows of a range scan, and a prefix is a range of keys;
* ``placegeo_search_slips (h, ord, name_id)``: the same for one-character slips, keyed by a 64-bit
  digest of each deletion-neighbourhood key;
* ``placegeo_search_records``: one row per name (layer, id, name, former names, codes, position,
  rank order, folded key, the syllables of its pinyin) and ``placegeo_search_layers``: per layer, the
  format version and row count.

What the keys are, and how a candidate scores, is decided above (:mod:`placegeo.search`); this module
stores and reads rows, and ranks a long tier by the score it is given (:class:`Closeness`, the same
arithmetic in SQL) so that only its best rows are read. A lookup that ranking follows with a read of
rows it already knows it needs reads them in the same statement (``also``: each round trip through the
database and Python costs about as much as reading a few dozen rows), and a GeoPackage query's
statements read one state of the file (:meth:`SqliteSearchTables.snapshot`).
It imports nothing heavy, so a cold ``placegeo search`` opens the index quickly (:func:`open_reader`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from placegeo.errors import AtlasError

__all__ = ["RECORD_COLUMNS", "Closeness", "PgSearchTables", "SqliteSearchTables", "open_reader"]

#: The columns of ``placegeo_search_records``, in order.
RECORD_COLUMNS = ("name_id", "layer", "rec_id", "name", "aliases", "category", "district_code", "town_code",
                  "lon", "lat", "sample", "importance", "name_en", "ord", "nkey", "py_len", "syllables")
_MMAP_BYTES = 256 << 20
_SORT_MEMORY = "512MB"  # a bulk write's key build on PostgreSQL: fewer passes over a national layer's rows
_pid = os.getpid()  # kept by a fork hook: asking the system on every read costs a system call a statement


def _forked() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):  # no fork, no hook (Windows)
    os.register_at_fork(after_in_child=_forked)

_TOP = "\U0010ffff"  # above every character: k >= p AND k < p || _TOP is the prefix range of p
# Each name once, best first, from rows of several keys: a name's rows all carry its rank order, so
# grouping by both is grouping by name, and the groups come out in the order asked (one sort, not two)
_EACH_NAME = " GROUP BY ord, name_id ORDER BY ord, name_id LIMIT "

_SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS placegeo_search_postings (k TEXT NOT NULL, ord INTEGER NOT NULL,
  name_id INTEGER NOT NULL, PRIMARY KEY (k, ord, name_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS placegeo_search_slips (h INTEGER NOT NULL, ord INTEGER NOT NULL,
  name_id INTEGER NOT NULL, PRIMARY KEY (h, ord, name_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS placegeo_search_records (name_id INTEGER PRIMARY KEY, layer TEXT NOT NULL,
  rec_id TEXT, name TEXT, aliases TEXT, category TEXT, district_code TEXT, town_code TEXT, lon REAL, lat REAL,
  sample INTEGER, importance REAL, name_en TEXT, ord INTEGER, nkey TEXT, py_len INTEGER, syllables TEXT);
CREATE INDEX IF NOT EXISTS placegeo_search_records_layer ON placegeo_search_records (layer);
CREATE INDEX IF NOT EXISTS placegeo_search_records_lat ON placegeo_search_records (lat);
CREATE TABLE IF NOT EXISTS placegeo_search_layers (layer TEXT PRIMARY KEY, version INTEGER NOT NULL,
  n INTEGER NOT NULL);
"""


def _create_tables(con: sqlite3.Connection) -> None:
    # statement by statement: executescript() would first commit the atlas's open transaction
    for statement in _SQLITE_DDL.split(";"):
        if statement.strip():
            con.execute(statement)


_PG_DDL = """
CREATE TABLE IF NOT EXISTS {s}.placegeo_search_postings (k text COLLATE "C" NOT NULL, ord bigint NOT NULL,
  name_id bigint NOT NULL, PRIMARY KEY (k, ord, name_id));
CREATE TABLE IF NOT EXISTS {s}.placegeo_search_slips (h bigint NOT NULL, ord bigint NOT NULL,
  name_id bigint NOT NULL, PRIMARY KEY (h, ord, name_id));
CREATE TABLE IF NOT EXISTS {s}.placegeo_search_records (name_id bigint PRIMARY KEY, layer text NOT NULL,
  rec_id text, name text, aliases text, category text, district_code text, town_code text,
  lon double precision, lat double precision, sample integer, importance double precision, name_en text,
  ord bigint, nkey text, py_len integer, syllables text);
CREATE INDEX IF NOT EXISTS placegeo_search_records_layer ON {s}.placegeo_search_records (layer);
CREATE INDEX IF NOT EXISTS placegeo_search_records_lat ON {s}.placegeo_search_records (lat);
CREATE INDEX IF NOT EXISTS placegeo_search_records_rank ON {s}.placegeo_search_records (name_id)
  INCLUDE (ord, py_len, nkey);
CREATE TABLE IF NOT EXISTS {s}.placegeo_search_layers (layer text PRIMARY KEY, version integer NOT NULL,
  n bigint NOT NULL);
"""

_KEYED = ("placegeo_search_postings", "placegeo_search_slips")  # the tables whose rows are their key
_RECORDS = "placegeo_search_records"
SEARCH_TABLES = (*_KEYED, _RECORDS, "placegeo_search_layers")

_ROW_BYTES = 32  # a key table's row in its B-tree, about (26-27 bytes a row at 2,000,000 names)
_RECORD_BYTES = 120  # a staged record, about (2,000,000 names' records: 225 MB)


class _Stage:
    """The rows of a bulk write (:meth:`SqliteSearchTables.bulk`), kept in temporary tables of the writer's
    connection ``con`` until :meth:`finish` puts them in: the records first, then each key table."""

    def __init__(self, con: sqlite3.Connection):
        self.con, self.rows, self.records = con, 0, 0
        # each layer's (format version, names held), written after its rows: a stage never put in (a
        # caller that stops taking batches and is closed only after the commit) leaves no layer claiming
        # names the index does not hold, and the next reader rebuilds it
        self.layers: dict[str, tuple[int, int]] = {}
        self.made = False  # the temporary tables, made by the first write staged (none: nothing to put in)

    @contextlib.contextmanager
    def space(self) -> Iterator[None]:
        """A full disk named with where the staged rows go and how much room they need (the temporary
        folder is not the atlas's, and a national layer's rows fill it after many minutes of work)."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
            need_gb = max((2 * self.rows * _ROW_BYTES + self.records * _RECORD_BYTES) / 1e9, 0.1)
            raise AtlasError(
                f"writing the place-name index ran out of disk space. Its rows are sorted in SQLite's temporary "
                f"folder (the folder SQLITE_TMPDIR names, else /var/tmp or /tmp) before they go in, which needs "
                f"more than {need_gb:.1f} GB for this write (its rows staged so far, and their sort), beside room "
                "for the index in the atlas's own folder; free space there, or set SQLITE_TMPDIR to a folder "
                "with room, and write again (nothing was written)") from exc

    def tables(self, rows: int, records: int) -> tuple[str, str, str]:
        """Where a batch of ``rows`` key rows and ``records`` records goes, records first."""
        if not self.made:
            for t in (_RECORDS, *_KEYED):  # rowid tables: rows go in at the end as they come
                self.con.execute(f"CREATE TEMP TABLE {t}_staged AS SELECT * FROM {t} WHERE 0")
            self.made = True
        self.rows, self.records = self.rows + rows, self.records + records
        return (f"temp.{_RECORDS}_staged", f"temp.{_KEYED[0]}_staged", f"temp.{_KEYED[1]}_staged")

    def finish(self, *, put: bool) -> None:
        """Put the staged rows in (``put``; else the transaction is failing and rolls back what was staged)
        and drop the temporary tables. The records go first, in name-id order and with their indexes made
        after them: they then lie at the front of the file, inside the memory map readers see it through
        (:data:`_MMAP_BYTES`), where ranking reads a record for each candidate. Each key table follows in
        key order, so a range scan reads neighbouring pages; then the layers' rows. A put that fails (a
        full disk, a name id staged twice) is undone whole, inside the transaction, before its error is
        raised: the records' indexes are back and nothing of it stays."""
        if not self.made:
            return
        try:
            if put:
                helpers = min(4, os.cpu_count() or 1)  # the sorts' helper threads
                with self.space(), _savepoint(self.con, "placegeo_bulk"), _threads(self.con, helpers):
                    self._put_records()
                    for t in _KEYED:
                        key = ", ".join(_key_columns(self.con, t))
                        self.con.execute(f"INSERT OR IGNORE INTO {t} SELECT * FROM temp.{t}_staged ORDER BY {key}")
                    self.con.executemany("INSERT OR REPLACE INTO placegeo_search_layers VALUES (?, ?, ?)",
                                         [(layer, *held) for layer, held in self.layers.items()])
        finally:
            for t in (_RECORDS, *_KEYED):
                with contextlib.suppress(sqlite3.Error):  # a failing transaction: its rollback drops them anyway
                    self.con.execute(f"DROP TABLE IF EXISTS temp.{t}_staged")

    def _put_records(self) -> None:
        indexes = self.con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                   "AND sql IS NOT NULL", (_RECORDS,)).fetchall()
        for name, _ in indexes:  # made again after the rows: sorted once, their pages after the table's
            self.con.execute(f"DROP INDEX {name}")
        self.con.execute(f"INSERT INTO {_RECORDS} SELECT * FROM temp.{_RECORDS}_staged ORDER BY name_id")
        for _, sql in indexes:
            self.con.execute(sql)


def _key_columns(con: sqlite3.Connection, table: str) -> list[str]:
    """The primary key's columns of ``table``, in order, as its DDL made them."""
    cols = [(pk, name) for _, name, _, _, _, pk in con.execute(f"PRAGMA table_info({table})") if pk]
    return [name for _, name in sorted(cols)]


@contextlib.contextmanager
def _savepoint(con: sqlite3.Connection, name: str) -> Iterator[None]:
    """The statements inside as one step of ``con``'s transaction: undone whole if one fails."""
    con.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled the whole transaction back itself
            con.execute(f"ROLLBACK TO {name}")
            con.execute(f"RELEASE {name}")
        raise
    con.execute(f"RELEASE {name}")


@contextlib.contextmanager
def _threads(con: sqlite3.Connection, n: int) -> Iterator[None]:
    """``con``'s sorts use up to ``n`` helper threads inside."""
    before = con.execute("PRAGMA threads").fetchone()[0]
    con.execute(f"PRAGMA threads = {n}")
    try:
        yield
    finally:
        con.execute(f"PRAGMA threads = {before}")


class SqliteSearchTables:
    """The index tables of a GeoPackage atlas.

    ``connect`` yields a connection to write with (the store's ``_sql``: inside a transaction, the
    transaction's); reads go through one read-only connection per thread, opened on first use, which
    keeps reading the file as it was when opened (a write replaces the file).

    >>> import tempfile
    >>> t = SqliteSearchTables(path=tempfile.mkdtemp() + "/a.gpkg")
    >>> row = (1, "x", "x:1", "芙蓉街", "", "", "", "", 117.0, 36.6, 0, 0.0, "", -100, "芙蓉街", 9, "fú róng jiē")
    >>> t.write("x", [row], [("e芙蓉街", -100, 1), ("pfurongjie", -100, 1)], [(42, -100, 1)], version=1, n=1)
    >>> t.postings(["e芙蓉街", "ex"], 10), t.prefix(["pfu"], 10, 5), t.slips([42], 5)
    ([('e芙蓉街', -100, 1)], [('pfu', -100, 1)], [(-100, 1)])
    >>> t.state()
    {'x': (1, 1)}
    """

    backend = "gpkg"

    def __init__(self, connect: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]] | None = None,
                 *, path: str | Path):
        self.path = Path(path)
        self._connect = connect or self._own_connection
        self._local = threading.local()
        self._stage: _Stage | None = None  # a bulk write's (:meth:`bulk`)

    @contextlib.contextmanager
    def _own_connection(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path)
        try:
            yield con
            con.commit()
        finally:
            con.close()

    def _read(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None or self._local.pid != _pid:  # a forked worker opens its own
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                  cached_statements=512)  # lookups differ in their number of keys and ids
            # the first 256 MB read through a memory map (a city's whole index): a lookup touches pages all
            # over the file, each otherwise a system call and a copy; mapped pages are shared by all workers
            con.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            self._local.con, self._local.pid = con, _pid
        return con

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see the file in one state: a query's statements cannot see a write between them
        (a name without its record), and the file is locked and checked for a writer's journal once a
        query rather than once a statement (seven system calls each)."""
        con = self._read()
        if con.in_transaction:  # nested: the outer snapshot holds
            yield
            return
        con.execute("BEGIN")
        try:
            yield
        finally:
            con.execute("COMMIT")  # a reader's: releases the shared lock

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- writing (inside the atlas's transaction) ------------------------------------------------
    def drop(self) -> None:
        """Remove every index table (before a rebuild in another format)."""
        with self._connect() as con:
            for t in SEARCH_TABLES:
                con.execute(f"DROP TABLE IF EXISTS {t}")

    def remove(self, layer: str, postings: Sequence[tuple], slips: Sequence[tuple]) -> None:
        """Delete a layer's records and the given postings ``(k, ord, name_id)`` and slips ``(h, ord, name_id)``."""
        with self._connect() as con:
            _create_tables(con)
            con.executemany("DELETE FROM placegeo_search_postings WHERE k = ? AND ord = ? AND name_id = ?", postings)
            con.executemany("DELETE FROM placegeo_search_slips WHERE h = ? AND ord = ? AND name_id = ?", slips)
            con.execute("DELETE FROM placegeo_search_records WHERE layer = ?", (layer,))
            con.execute("DELETE FROM placegeo_search_layers WHERE layer = ?", (layer,))

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Writes inside that fill empty tables are staged in temporary tables and put in at the end: the
        records first, then each key table by one sort.

        Each batch comes sorted, but its keys are spread over the whole key space: once the tables outgrow
        the writer's cache, every batch would rewrite pages all over them, and a build would grow with the
        square of the names (at 2,000,000 names the last batches cost twice the first). A sort costs a few
        passes over the rows. And the records, written batch by batch beside the key rows, would lie all
        over the file, mostly past the memory map readers read it through: put in first, the records of
        2,000,000 names (225 MB) lie inside it, and the slowest queries, which read a record for each
        candidate they rank, took about 12% less (the same answers). The temporary tables are the writer
        connection's own (SQLite's temporary files, about the size of the rows staged) and part of its
        transaction: a failed write rolls them back with the rows. The staged rows are put in however the
        writes inside end (a caller may stop early), unless an error ends them. Tables that already hold
        rows, or writes on connections of their own (outside a transaction), take each batch as it comes.
        """
        with self._connect() as con:
            _create_tables(con)
            empty = all(con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {t})").fetchone()[0]
                        for t in (_RECORDS, *_KEYED))
            if not empty or self._stage is not None:
                yield
                return
            stage = self._stage = _Stage(con)
            failed = True
            try:
                yield
                failed = False
            except GeneratorExit:  # the caller stopped taking batches: what it wrote stands
                failed = False
                raise
            finally:
                self._stage = None
                stage.finish(put=not failed)

    def write(self, layer: str, records: Sequence[tuple], postings: Sequence[tuple], slips: Sequence[tuple], *,
              version: int, n: int) -> None:
        """Add rows of ``layer`` and record that it holds ``n`` names in index format ``version``.

        ``postings`` and ``slips`` come sorted and without repeats (as :func:`placegeo.search.index_rows`
        gives them): each insert lands beside the last one in its B-tree, several times faster.
        """
        with self._connect() as con:
            _create_tables(con)
            stage = self._stage if self._stage is not None and self._stage.con is con else None
            tables = stage.tables(len(postings) + len(slips), len(records)) if stage is not None \
                else (_RECORDS, *_KEYED)
            with stage.space() if stage is not None else contextlib.nullcontext():
                con.executemany(f"INSERT INTO {tables[0]} VALUES ({', '.join('?' * len(RECORD_COLUMNS))})", records)
                for table, rows in zip(tables[1:], (postings, slips), strict=True):
                    con.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?, ?, ?)", rows)
            if stage is not None:
                stage.layers[layer] = (version, n)
            else:
                con.execute("INSERT OR REPLACE INTO placegeo_search_layers VALUES (?, ?, ?)", (layer, version, n))

    # -- reading ---------------------------------------------------------------------------------
    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self._read().execute(query, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise

    def state(self, *, write: bool = False) -> dict[str, tuple[int, int]]:
        """Layer -> (format version, names held) of what the index holds (``write``: as the writer sees it)."""
        rows = self.layer_records(write=write, query="SELECT layer, version, n FROM placegeo_search_layers")
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def atlas_layers(self) -> list[str]:
        """The atlas's layers (from ``gpkg_contents``; read without GDAL)."""
        return sorted(r[0] for r in self._rows("SELECT table_name FROM gpkg_contents")
                      if not str(r[0]).startswith("placegeo_"))

    def postings(self, keys: Sequence[str], limit: int | Sequence[int]) -> list[tuple[str, int, int]]:
        """The first ``limit`` rows ``(k, ord, name_id)`` of each key (``limit[j]`` of ``keys[j]``), best first."""
        return [r[1:] for r in self._union([_sqlite_postings(keys, limit)])]

    def prefix(self, prefixes: Sequence[str], scan: int, limit: int) -> list[tuple[str, int, int]]:
        """Of the first ``scan`` rows of the keys starting with each prefix (in key order), the best ``limit``
        names ``(prefix, ord, name_id)``."""
        return [r[1:] for r in self._union([_sqlite_prefix(prefixes, scan, limit)])]

    def counts(self, keys: Sequence[str], upto: int) -> list[int]:
        """How many rows each key has, counting at most ``upto``."""
        return [int(r[2]) for r in self._union([_sqlite_counts(keys, upto)])]

    def lookups(self, keys: Sequence[str], limit: int | Sequence[int], prefixes: Sequence[str], scan: int,
                prefix_limit: int, counted: Sequence[str], upto: int) -> Lookups:
        """:meth:`postings`, :meth:`prefix` and :meth:`counts` in one statement (each costs a round
        through SQLite and Python, about as much as reading a few dozen rows)."""
        return _split(self._union([_sqlite_postings(keys, limit), _sqlite_prefix(prefixes, scan, prefix_limit),
                                   _sqlite_counts(counted, upto)]))

    def _union(self, parts: list[tuple[list[str], list[Any]]]) -> list[tuple]:
        """The rows of every part's selects, in order, each led by its part's tag."""
        selects = [one for ones, _ in parts for one in ones]
        return self._rows(" UNION ALL ".join(selects), [v for _, params in parts for v in params]) if selects else []

    def all_of(self, keys: Sequence[str], scan: int, limit: int, whole: int = 1, *, read: int = 0,
               also: Sequence[int] = ()) -> tuple[list[tuple[int, int]], list[tuple]]:
        """``(ord, name_id)`` among the first ``scan`` of ``keys[0]`` that every other key also has, best first
        (the first ``limit``: the scan stops there, as its rows come best first and are not sorted again);
        and, when they are at most ``read`` names, their record rows with those of ``also`` (names ranking
        reads next), read in the same statement: ranking then needs no statement of its own for them.

        ``whole`` > 1: the lists of the first ``whole`` keys, each at most ``scan`` rows, are read whole and
        intersected, and only the names in all of them are checked against the other keys: a few hundred
        rows read in order cost less than a check of each against a long list."""
        return _found_and_read(self._rows(*_all_of(keys, scan, limit, whole, _SQLITE, read, also)), read)

    def all_of_records(self, keys: Sequence[str], scan: int, also: Sequence[int] = ()) -> list[tuple]:
        """The record rows of what :meth:`all_of` finds (all of it: for keys held by few names), each led
        by 0, followed by the rows of ``also`` led by 1 (names ranking reads next: one statement, not two)."""
        return self._parts([self._all_of_part(keys, scan)], also)

    def all_of_and_slips(self, keys: Sequence[str], scan: int, hashes: Sequence[int], limit: int,
                         exclude: Sequence[int], score: Closeness, k: int, also: Sequence[int] = ()) -> list[tuple]:
        """:meth:`all_of_records` (rows led by 0) and :meth:`best_slips` (rows led by 2) in one statement, with
        the rows of ``also`` led by 1: a query whose few names holding it leave ranking short reads both."""
        return self._parts([self._all_of_part(keys, scan), self._slips_part(hashes, limit, exclude, score, k, 2)], also)

    def _parts(self, parts: list[tuple[str, list[Any]]], also: Sequence[int]) -> list[tuple]:
        """The rows of each part's select, then of ``also`` led by 1, in one statement."""
        more, params = _also(also, _SQLITE)
        if len(parts) == 1:  # (most statements: no loops)
            return self._rows(f"SELECT * FROM ({parts[0][0]}){more}", parts[0][1] + params)
        return self._rows(" UNION ALL ".join([f"SELECT * FROM ({sql})" for sql, _ in parts]) + more,
                          [v for _, part in parts for v in part] + params)

    @staticmethod
    def _all_of_part(keys: Sequence[str], scan: int) -> tuple[str, list[Any]]:
        return ("SELECT 0, r.* FROM (SELECT ord, name_id FROM placegeo_search_postings WHERE k = ? ORDER BY ord, "
                "name_id LIMIT ?) p JOIN placegeo_search_records r ON r.name_id = p.name_id "
                f"WHERE 1{_has_all(keys, _SQLITE)}", [keys[0], scan, *keys[1:]])

    @staticmethod
    def _slips_part(hashes: Sequence[int], limit: int, exclude: Sequence[int], score: Closeness, k: int,
                    tag: int) -> tuple[str, list[Any]]:
        order, order_params = _score_sql(score, _SQLITE)
        return (f"SELECT {tag}, r.* FROM ({_sqlite_slips(len(hashes))}) s "
                "JOIN placegeo_search_records r ON r.name_id = s.name_id "
                f"WHERE r.name_id NOT IN ({', '.join('?' * len(exclude))}) ORDER BY {order} DESC, r.ord, r.name_id "
                "LIMIT ?", [*hashes, limit, *exclude, *order_params, k])

    def slips(self, hashes: Sequence[int], limit: int) -> list[tuple[int, int]]:
        """``(ord, name_id)`` of at least the best ``limit`` names of the slip keys together, best first."""
        if not hashes:
            return []
        return self._rows(_sqlite_slips(len(hashes)), [*hashes, limit])

    def best_slips(self, hashes: Sequence[int], limit: int, exclude: Sequence[int], score: Closeness, k: int,
                   also: Sequence[int] = ()) -> list[tuple]:
        """The record rows of the best ``k`` names by ``score`` (then rank order and id) of those
        :meth:`slips` finds (the best ``limit`` names by rank over every key), less ``exclude``: ranking
        needs no more of the lowest tier, and reads none of its other rows. Each row is led by 0, and
        followed by the rows of ``also`` led by 1 (names ranking reads next: one statement, not two)."""
        if not hashes:
            return []
        return self._parts([self._slips_part(hashes, limit, exclude, score, k, 0)], also)

    def best_prefix(self, groups: Sequence[tuple[str, Closeness, Sequence[int]]], scan: int, limit: int, k: int,
                    also: Sequence[int] = ()) -> list[tuple]:
        """Of each group ``(prefix, score, exclude)``, the record rows of the best ``k`` names by ``score`` (then
        rank order and id) of those :meth:`prefix` finds (the best ``limit`` names by rank of the first ``scan``
        rows), less ``exclude``, each led by its group's place in ``groups``; followed by the rows of ``also``
        led by -1 (names ranking reads next). A prefix of a short query of letters is a long range: ranking
        it where it is reads ten rows, not a hundred, in the statement that looks it up."""
        parts, params = [], []
        for n, (p, score, exclude) in enumerate(groups):
            order, more = _score_sql(score, _SQLITE)
            parts.append(f"SELECT * FROM (SELECT {n}, r.* FROM (SELECT name_id FROM (SELECT ord, name_id FROM "
                         f"placegeo_search_postings WHERE k >= ? AND k < ? LIMIT ?){_EACH_NAME}?) s "
                         "JOIN placegeo_search_records r ON r.name_id = s.name_id WHERE "
                         f"r.name_id NOT IN ({', '.join('?' * len(exclude))}) ORDER BY {order} DESC, r.ord, r.name_id "
                         "LIMIT ?)")
            params += [p, p + _TOP, scan, limit, *exclude, *more, k]
        rest, rest_params = _also(also, _SQLITE, tag=-1)
        return self._rows(" UNION ALL ".join(parts) + rest, params + rest_params) if parts else []

    def best_records(self, groups: Sequence[tuple[Sequence[int], Closeness]], k: int) -> list[tuple]:
        """Of each group of ids, the record rows of the best ``k`` by its ``score`` (then rank order and id),
        each row led by its group's place in ``groups``: ranking needs no more of a tier."""
        parts, params = [], []
        for n, (ids, score) in enumerate(groups):
            order, more = _score_sql(score, _SQLITE)
            parts.append(f"SELECT * FROM (SELECT {n}, r.* FROM placegeo_search_records r WHERE r.name_id IN "
                         f"({', '.join('?' * len(ids))}) ORDER BY {order} DESC, r.ord, r.name_id LIMIT ?)")
            params += [*ids, *more, k]
        return self._rows(" UNION ALL ".join(parts), params) if parts else []

    def records(self, ids: Sequence[int], columns: Sequence[str] = RECORD_COLUMNS) -> list[tuple]:
        """The record rows of ``ids``, in no particular order: their ``columns`` (of :data:`RECORD_COLUMNS`,
        in that order; ranking reads a few, as each column read costs about as much as finding the row)."""
        out: list[tuple] = []
        ids, wanted = list(ids), _columns(columns)
        for j in range(0, len(ids), 900):
            chunk = ids[j:j + 900]
            out += self._rows(f"SELECT {wanted} FROM placegeo_search_records WHERE name_id IN "
                              f"({', '.join('?' * len(chunk))})", chunk)
        return out

    def layer_records(self, layer: str | None = None, *, write: bool = False, query: str = "") -> list[tuple]:
        """Every record row of ``layer`` (all layers: None) in name-id order; ``write``: as the writer sees them."""
        where, params = ("WHERE layer = ?", [layer]) if layer else ("", [])
        query = query or f"SELECT * FROM placegeo_search_records {where} ORDER BY name_id"
        if not write:
            return self._rows(query, params)
        with self._connect() as con:
            try:
                return con.execute(query, params).fetchall()
            except sqlite3.OperationalError:
                return []

    def near(self, lat: float, dlat: float, lon: float | None = None, dlon: float | None = None) -> list[tuple]:
        """Record rows within ``dlat`` degrees of latitude ``lat`` (and ``dlon`` of longitude ``lon``, if given)."""
        box, params = _near(lat, dlat, lon, dlon, "?")
        return self._rows(f"SELECT * FROM placegeo_search_records WHERE {box}", params)


class PgSearchTables:
    """The index tables of a PostGIS atlas, in its schema; ``connect`` yields the store's connection
    (inside a transaction, the transaction's)."""

    backend = "postgis"

    def __init__(self, connect: Callable[[], contextlib.AbstractContextManager[Any]], schema: str):
        from psycopg import sql

        self._connect = connect
        self._sql = sql
        self.schema = schema
        self._t = {t: sql.Identifier(schema, t) for t in (*SEARCH_TABLES, "placegeo_layers")}

    def close(self) -> None:
        pass

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """No transaction around a query: each statement is one round trip, which BEGIN and COMMIT would
        make three. A reader's statement sees the database as of its start."""
        yield

    def _q(self, text: str, values: dict[str, Any] | None = None) -> Any:
        """``text`` with its ``{table}`` names, and ``values`` written in as literals (see :meth:`layer_records`)."""
        names = {t.removeprefix("placegeo_search_"): i for t, i in self._t.items()}
        names["layers_info"] = names.pop("placegeo_layers")
        return self._sql.SQL(text).format(**names, **{k: self._sql.Literal(v) for k, v in (values or {}).items()})

    def _rows(self, text: str, params: Sequence[Any] = (), values: dict[str, Any] | None = None) -> list[tuple]:
        import psycopg

        with self._connect() as conn:
            try:
                if conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    return conn.execute(self._q(text, values), params).fetchall()  # a reader: no BEGIN, no COMMIT
                with conn.transaction():  # a missing table is an error that must not end an outer transaction
                    return conn.execute(self._q(text, values), params).fetchall()
            except psycopg.errors.UndefinedTable:
                return []

    def drop(self) -> None:
        with self._connect() as conn:
            for t in (self._t[n] for n in SEARCH_TABLES):
                conn.execute(self._sql.SQL("DROP TABLE IF EXISTS {}").format(t))

    def _ensure(self, conn: Any) -> None:
        conn.execute(self._sql.SQL(_PG_DDL).format(s=self._sql.Identifier(self.schema)))

    def remove(self, layer: str, postings: Sequence[tuple], slips: Sequence[tuple]) -> None:
        with self._connect() as conn, conn.cursor() as cur:
            self._ensure(conn)
            for table, col, rows in (("postings", "k", postings), ("slips", "h", slips)):
                if rows:
                    cur.executemany(self._q(f"DELETE FROM {{{table}}} WHERE {col} = %s AND ord = %s AND "
                                            "name_id = %s"), list(rows))
            cur.execute(self._q("DELETE FROM {records} WHERE layer = %s"), (layer,))
            cur.execute(self._q("DELETE FROM {layers} WHERE layer = %s"), (layer,))

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Writes inside that fill empty key tables build their primary keys once, at the end, by sorting.

        Hundreds of millions of rows (a national layer) each put into a B-tree larger than the server's
        cache cost a random page each; one sort at the end costs a few passes over them. Inside the
        writer's transaction: a failed write rolls back the dropped keys with the rows, and readers of
        tables that were empty wait for the commit rather than see them without keys. The keys are built
        however the writes inside end (a caller may stop early), unless the transaction has failed.
        """
        import psycopg

        dropped = []  # (table, key name, key definition): as the tables' DDL made them
        with self._connect() as conn:
            self._ensure(conn)
            for t in ("postings", "slips"):
                if conn.execute(self._q(f"SELECT NOT EXISTS (SELECT 1 FROM {{{t}}})")).fetchone()[0]:
                    name, definition = conn.execute(
                        "SELECT conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class r ON "
                        "r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = %s "
                        "AND r.relname = %s AND c.contype = 'p'", (self.schema, f"placegeo_search_{t}")).fetchone()
                    conn.execute(self._sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                        self._t[f"placegeo_search_{t}"], self._sql.Identifier(name)))
                    dropped.append((t, name, definition))
        try:
            yield
        finally:
            with self._connect() as conn:
                if dropped and conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
                    with conn.transaction():  # SET LOCAL needs one (a savepoint in the writer's)
                        conn.execute(f"SET LOCAL maintenance_work_mem = '{_SORT_MEMORY}'")
                        for t, name, definition in dropped:
                            conn.execute(self._sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                                self._t[f"placegeo_search_{t}"], self._sql.Identifier(name),
                                self._sql.SQL(definition)))

    def write(self, layer: str, records: Sequence[tuple], postings: Sequence[tuple], slips: Sequence[tuple], *,
              version: int, n: int) -> None:
        with self._connect() as conn, conn.cursor() as cur:
            self._ensure(conn)
            for table, rows in (("records", records), ("postings", postings), ("slips", slips)):  # sorted, unique
                with cur.copy(self._q(f"COPY {{{table}}} FROM STDIN")) as copy:
                    for row in rows:
                        copy.write_row(row)
            cur.execute(self._q("INSERT INTO {layers} VALUES (%s, %s, %s) ON CONFLICT (layer) DO UPDATE "
                                "SET version = excluded.version, n = excluded.n"), (layer, version, n))

    def state(self, *, write: bool = False) -> dict[str, tuple[int, int]]:
        return {r[0]: (int(r[1]), int(r[2])) for r in self._rows("SELECT layer, version, n FROM {layers}")}

    def atlas_layers(self) -> list[str]:
        return sorted(r[0] for r in self._rows("SELECT name FROM {layers_info}"))

    def postings(self, keys: Sequence[str], limit: int | Sequence[int]) -> list[tuple[str, int, int]]:
        return self._union([_pg_postings(keys, limit)])

    def prefix(self, prefixes: Sequence[str], scan: int, limit: int) -> list[tuple[str, int, int]]:
        return self._union([_pg_prefix(prefixes, scan, limit)])

    def counts(self, keys: Sequence[str], upto: int) -> list[int]:
        counted = {r[0]: int(r[1]) for r in self._union([_pg_counts(keys, upto)])}
        return [counted[k] for k in keys]

    def lookups(self, keys: Sequence[str], limit: int | Sequence[int], prefixes: Sequence[str], scan: int,
                prefix_limit: int, counted: Sequence[str], upto: int) -> Lookups:
        return _split(self._union([_pg_postings(keys, limit), _pg_prefix(prefixes, scan, prefix_limit),
                                   _pg_counts(counted, upto)], tagged=True))

    def _union(self, parts: list[tuple[str, list[Any]]], *, tagged: bool = False) -> list[tuple]:
        selects = [(f"SELECT {tag}, t{tag}.* FROM ({one}) t{tag}" if tagged else one)
                   for tag, (one, _) in enumerate(parts) if one]
        params = [v for one, p in parts if one for v in p]
        return self._rows(" UNION ALL ".join(selects), params) if selects else []

    def all_of(self, keys: Sequence[str], scan: int, limit: int, whole: int = 1, *, read: int = 0,
               also: Sequence[int] = ()) -> tuple[list[tuple[int, int]], list[tuple]]:
        return _found_and_read(self._rows(*_all_of(keys, scan, limit, whole, _PG, read, also)), read)

    def all_of_records(self, keys: Sequence[str], scan: int, also: Sequence[int] = ()) -> list[tuple]:
        return self._parts([self._all_of_part(keys, scan)], also)

    def all_of_and_slips(self, keys: Sequence[str], scan: int, hashes: Sequence[int], limit: int,
                         exclude: Sequence[int], score: Closeness, k: int, also: Sequence[int] = ()) -> list[tuple]:
        return self._parts([self._all_of_part(keys, scan), self._slips_part(hashes, limit, exclude, score, k, 2)], also)

    def _parts(self, parts: list[tuple[str, list[Any]]], also: Sequence[int]) -> list[tuple]:
        more, params = _also(also, _PG)
        return self._rows(" UNION ALL ".join([f"({sql})" for sql, _ in parts]) + more,
                          [v for _, part in parts for v in part] + params)

    @staticmethod
    def _all_of_part(keys: Sequence[str], scan: int) -> tuple[str, list[Any]]:
        return ("SELECT 0, r.* FROM (SELECT ord, name_id FROM {postings} WHERE k = %s ORDER BY ord, name_id "
                f"LIMIT %s) p JOIN {{records}} r ON r.name_id = p.name_id WHERE true{_has_all(keys, _PG)}",
                [keys[0], scan, *keys[1:]])

    @staticmethod
    def _slips_part(hashes: Sequence[int], limit: int, exclude: Sequence[int], score: Closeness, k: int,
                    tag: int) -> tuple[str, list[Any]]:
        order, order_params = _score_sql(score, _PG)
        return (f"SELECT {tag}, r.* FROM (SELECT name_id FROM (SELECT p.ord, p.name_id FROM "
                "unnest(%s::bigint[]) AS q(h) CROSS JOIN LATERAL (SELECT ord, name_id FROM {slips} WHERE h = q.h "
                f"ORDER BY ord, name_id LIMIT %s) p) c{_EACH_NAME}%s) s "
                "JOIN {records} r ON r.name_id = s.name_id "
                f"WHERE r.name_id <> ALL(%s::bigint[]) ORDER BY {order} DESC, r.ord, r.name_id LIMIT %s",
                [list(hashes), limit, limit, [int(i) for i in exclude], *order_params, k])

    def slips(self, hashes: Sequence[int], limit: int) -> list[tuple[int, int]]:
        if not hashes:
            return []
        return self._rows("SELECT p.ord, p.name_id FROM unnest(%s::bigint[]) AS q(h) CROSS JOIN LATERAL "
                          "(SELECT ord, name_id FROM {slips} WHERE h = q.h ORDER BY ord, name_id LIMIT %s) p",
                          (list(hashes), limit))

    def best_slips(self, hashes: Sequence[int], limit: int, exclude: Sequence[int], score: Closeness, k: int,
                   also: Sequence[int] = ()) -> list[tuple]:
        if not hashes:
            return []
        return self._parts([self._slips_part(hashes, limit, exclude, score, k, 0)], also)

    def best_prefix(self, groups: Sequence[tuple[str, Closeness, Sequence[int]]], scan: int, limit: int, k: int,
                    also: Sequence[int] = ()) -> list[tuple]:
        parts, params = [], []
        for n, (p, score, exclude) in enumerate(groups):
            order, more = _score_sql(score, _PG)
            parts.append(f"SELECT * FROM (SELECT {n}, r.* FROM (SELECT name_id FROM (SELECT ord, "
                         "name_id FROM {postings} WHERE k >= %s AND k < %s ORDER BY k, ord, name_id LIMIT %s) c"
                         f"{_EACH_NAME}%s) s JOIN {{records}} r ON r.name_id = s.name_id "
                         f"WHERE r.name_id <> ALL(%s::bigint[]) ORDER BY {order} DESC, r.ord, r.name_id LIMIT %s) b{n}")
            params += [p, p + _TOP, scan, limit, [int(i) for i in exclude], *more, k]
        rest, rest_params = _also(also, _PG, tag=-1)
        return self._rows(" UNION ALL ".join(parts) + rest, params + rest_params) if parts else []

    def best_records(self, groups: Sequence[tuple[Sequence[int], Closeness]], k: int) -> list[tuple]:
        parts, params = [], []
        for n, (ids, score) in enumerate(groups):
            order, more = _score_sql(score, _PG)
            # the tier's best k from the index holding what they are ranked by (placegeo_search_records_rank), and
            # only then their rows: a heap page for each of a tier's hundreds of names was half the statement
            parts.append(f"SELECT b{n}.t, w.* FROM (SELECT {n} AS t, r.name_id FROM {{records}} r WHERE r.name_id = "
                         f"ANY(%s) ORDER BY {order} DESC, r.ord, r.name_id LIMIT %s) b{n} JOIN {{records}} w "
                         f"ON w.name_id = b{n}.name_id")
            params += [[int(i) for i in ids], *more, k]
        return self._rows(" UNION ALL ".join(parts), params) if parts else []

    def records(self, ids: Sequence[int], columns: Sequence[str] = RECORD_COLUMNS) -> list[tuple]:
        if not len(ids):
            return []
        return self._rows(f"SELECT {_columns(columns)} FROM {{records}} WHERE name_id = ANY(%s)",
                          ([int(i) for i in ids],))

    def layer_records(self, layer: str | None = None, *, write: bool = False) -> list[tuple]:
        if layer:
            # the layer written in, not a parameter: the search's connections plan a statement once for any value
            # (prepare_search_session), and for a layer of a few rows beside 13,000,000 of another, that plan
            # read every row in name order (2.2 s on each new connection), not the few through the layer's index
            return self._rows("SELECT * FROM {records} WHERE layer = {layer} ORDER BY name_id", values={"layer": layer})
        return self._rows("SELECT * FROM {records} ORDER BY name_id")

    def near(self, lat: float, dlat: float, lon: float | None = None, dlon: float | None = None) -> list[tuple]:
        box, params = _near(lat, dlat, lon, dlon, "%s")
        return self._rows(f"SELECT * FROM {{records}} WHERE {box}", params)


def _near(lat: float, dlat: float, lon: float | None, dlon: float | None, p: str) -> tuple[str, list[float]]:
    """The condition of :meth:`SqliteSearchTables.near` (``p``: the dialect's placeholder), and its parameters."""
    if lon is None or dlon is None:
        return f"lat BETWEEN {p} AND {p}", [lat - dlat, lat + dlat]
    return f"lat BETWEEN {p} AND {p} AND lon BETWEEN {p} AND {p}", [lat - dlat, lat + dlat, lon - dlon, lon + dlon]


def _columns(columns: Sequence[str]) -> str:
    """``columns`` as a select list, each checked against :data:`RECORD_COLUMNS` (no other text reaches SQL)."""
    unknown = [c for c in columns if c not in RECORD_COLUMNS]
    if unknown or not columns:
        raise ValueError(f"record columns {unknown or '(none)'} are not among {RECORD_COLUMNS}")
    return "*" if tuple(columns) == RECORD_COLUMNS else ", ".join(columns)


def _all_of(keys: Sequence[str], scan: int, limit: int, whole: int, dialect: tuple[str, ...], read: int = 0,
            also: Sequence[int] = ()) -> tuple[str, list[Any]]:
    """The statement of :meth:`SqliteSearchTables.all_of` in ``dialect``, and its parameters."""
    table, p = "placegeo_search_postings" if dialect is _SQLITE else "{postings}", dialect[0]
    if whole <= 1:  # the first rows of keys[0] come best first: the scan stops at `limit`
        found, params = (f"SELECT p.ord, p.name_id FROM (SELECT ord, name_id FROM {table} WHERE k = {p} ORDER BY "
                         f"ord, name_id LIMIT {p}) p WHERE 1 = 1{_has_all(keys, dialect)} LIMIT {p}",
                         [keys[0], scan, *keys[1:], limit])
    else:
        lists = " INTERSECT ".join([f"SELECT ord, name_id FROM {table} WHERE k = {p}"] * whole)
        # the names of the intersection are postings of its last key: checked against the keys after it
        found, params = (f"SELECT p.ord, p.name_id FROM ({lists}) p WHERE 1 = 1{_has_all(keys[whole - 1:], dialect)} "
                         f"ORDER BY p.ord, p.name_id LIMIT {p}", [*keys, limit])
    if not read:
        return found, params
    # the names found, each with its record row when they are few (else NULLs: ranking reads the best itself)
    records = "placegeo_search_records" if dialect is _SQLITE else "{records}"
    text = (f"WITH a AS MATERIALIZED ({found}), few AS MATERIALIZED (SELECT count(*) <= {p} AS yes FROM a) "
            f"SELECT a.ord, a.name_id, r.* FROM a LEFT JOIN {records} r ON (SELECT yes FROM few) "
            "AND r.name_id = a.name_id")
    more, more_params = _also(also, dialect, "NULL, NULL", "(SELECT yes FROM few)")  # in the found names' places
    return text + more, [*params, read, *more_params]


def _found_and_read(rows: list[tuple], read: int) -> tuple[list[tuple[int, int]], list[tuple]]:
    """What :meth:`SqliteSearchTables.all_of` returns, from its statement's rows."""
    if not read:
        return sorted(rows), []
    return sorted((r[0], r[1]) for r in rows if r[0] is not None), [r[2:] for r in rows if r[2] is not None]


def _has_all(keys: Sequence[str], dialect: tuple[str, ...]) -> str:
    """The condition that a posting ``p`` of ``keys[0]`` is also one of every other key (one parameter each).

    On PostgreSQL each check is kept a probe per posting (``OFFSET 0``): pulled up into joins, eight
    checks took the planner 26 ms to order, ten times the probes' own time, and one check became a
    merge join that read a common pair's whole list (51,797 rows at 13,000,000 names) to check 389.
    """
    table = "placegeo_search_postings" if dialect is _SQLITE else "{postings}"
    fence = "" if dialect is _SQLITE else " OFFSET 0"
    return "".join(f" AND EXISTS (SELECT 1 FROM {table} q WHERE q.k = {dialect[0]} AND q.ord = p.ord AND "
                   f"q.name_id = p.name_id{fence})" for _ in keys[1:])


def _also(ids: Sequence[int], dialect: tuple[str, ...], tag: int | str = 1, when: str = "") -> tuple[str, list[Any]]:
    """The record rows of ``ids``, each led by ``tag`` (a column's text), to add to a statement's rows (those
    for which ``when`` holds, if given), and their parameters."""
    if not ids:
        return "", []
    when = f" AND {when}" if when else ""
    if dialect is _SQLITE:
        return (f" UNION ALL SELECT {tag}, * FROM placegeo_search_records WHERE name_id IN "
                f"({', '.join('?' * len(ids))}){when}", list(ids))
    return (f" UNION ALL (SELECT {tag}, r.* FROM {{records}} r WHERE r.name_id = ANY(%s){when})",
            [[int(i) for i in ids]])


class Closeness(NamedTuple):
    """How ranking scores a candidate of a tier (:func:`placegeo.search._closeness`), for a store to rank
    in SQL with the same arithmetic: ``tier`` plus, for a query of characters (``head``: its first 16),
    the share of them a name has in place, and for both, how near the name's length is to ``b`` (characters,
    or pinyin letters for a query of letters), and its rank / 10,000."""

    tier: int
    head: str
    b: float


# The score in each dialect: parameter mark, a value as a double, smaller and larger of several, a truth as 0/1
_SQLITE = ("?", "CAST({} AS REAL)", "min", "max", "({})")
_PG = ("%s", "({})::float8", "least", "greatest", "({})::int")


def _score_sql(c: Closeness, dialect: tuple[str, str, str, str, str]) -> tuple[str, list[Any]]:
    """``c`` as an expression over a record row ``r`` and its parameters: the operations of
    :func:`placegeo.search._closeness` in its order, in doubles, so the score is the same to the last bit."""
    return _score_text(len(c.head), dialect), [c.tier, *c.head, c.b, c.b]


@functools.lru_cache(maxsize=64)
def _score_text(head: int, dialect: tuple[str, str, str, str, str]) -> str:
    """The text of :func:`_score_sql` for a head of ``head`` characters (the same for every query of that length)."""
    p, real, least, greatest, truth = dialect
    if head:
        chars = " + ".join(truth.format(f"substr(r.nkey, {j}, 1) = {p}") for j in range(1, head + 1))
        same = f"({real.format(chars)} / {real.format(head)})"
        a = real.format(f"{least}(length(r.nkey), 16)")
    else:
        same, a = real.format(0), real.format("r.py_len")
    b, one = real.format(p), real.format(1)
    return (f"({real.format(p)} + ({same} + {real.format(0.5)} * ({least}({a}, {b}) / {greatest}({a}, {b}, {one})) "
            f"+ ({real.format('r.ord')} / {real.format(-1000)}) / {real.format(10000)}))")


class Lookups(NamedTuple):
    """What :meth:`SqliteSearchTables.lookups` reads: posting rows, prefix rows, and key -> rows counted."""

    postings: list[tuple[str, int, int]]
    prefix: list[tuple[str, int, int]]
    counts: dict[str, int]


def _split(rows: list[tuple]) -> Lookups:
    out = Lookups([], [], {})
    for tag, key, a, b in rows:
        if tag == 2:
            out.counts[key] = int(a)
        else:
            (out.postings if tag == 0 else out.prefix).append((key, a, b))
    return out


def _sqlite_slips(n: int) -> str:
    """The best names by rank of ``n`` slip keys together (parameters: the keys, then how many), each once.

    A ``UNION`` in the order of the key's rows is merged key by key, and the merge stops at the limit: it
    reads a few rows past the limit, not the limit of every key (100 names from five keys of a census-size
    index: about 120 rows, not 500 grouped and sorted).
    """
    arms = " UNION ".join(["SELECT ord, name_id FROM placegeo_search_slips WHERE h = ?"] * n)
    return f"SELECT ord, name_id FROM ({arms} ORDER BY ord, name_id LIMIT ?)"


# Each part of a lookup: one select per key, its rows tagged with the part (as :func:`_split` reads them;
# a tag inside the select costs nothing, a select around it does)
def _sqlite_postings(keys: Sequence[str], limit: int | Sequence[int]) -> tuple[list[str], list[Any]]:
    one = "SELECT * FROM (SELECT 0, k, ord, name_id FROM placegeo_search_postings WHERE k = ? ORDER BY ord, " \
          "name_id LIMIT ?)"
    return [one] * len(keys), [v for k, n in zip(keys, _limits(limit, keys), strict=True) for v in (k, n)]


def _sqlite_prefix(prefixes: Sequence[str], scan: int, limit: int) -> tuple[list[str], list[Any]]:
    one = "SELECT * FROM (SELECT 1, ?, ord, name_id FROM (SELECT ord, name_id FROM " \
          f"placegeo_search_postings WHERE k >= ? AND k < ? LIMIT ?){_EACH_NAME}?)"
    return [one] * len(prefixes), [v for p in prefixes for v in (p, p, p + _TOP, scan, limit)]


def _sqlite_counts(keys: Sequence[str], upto: int) -> tuple[list[str], list[Any]]:
    one = "SELECT 2, ?, count(*), 0 FROM (SELECT 1 FROM placegeo_search_postings WHERE k = ? LIMIT ?)"
    return [one] * len(keys), [v for k in keys for v in (k, k, upto)]


def _pg_postings(keys: Sequence[str], limit: int | Sequence[int]) -> tuple[str, list[Any]]:
    return ("SELECT q.key, p.ord, p.name_id FROM unnest(%s::text[], %s::int[]) AS q(key, n) CROSS JOIN LATERAL "
            "(SELECT ord, name_id FROM {postings} WHERE k = q.key ORDER BY ord, name_id LIMIT q.n) p" if keys else "",
            [list(keys), _limits(limit, keys)])


def _pg_prefix(prefixes: Sequence[str], scan: int, limit: int) -> tuple[str, list[Any]]:
    return ("SELECT q.key, p.ord, p.name_id FROM unnest(%s::text[]) AS q(key) CROSS JOIN LATERAL (SELECT ord, "
            "name_id FROM (SELECT ord, name_id FROM {postings} WHERE k >= q.key AND k < q.key || %s ORDER BY k, ord, "
            f"name_id LIMIT %s) r{_EACH_NAME}%s) p" if prefixes else "",
            [list(prefixes), _TOP, scan, limit])


def _pg_counts(keys: Sequence[str], upto: int) -> tuple[str, list[Any]]:
    return ("SELECT q.key, (SELECT count(*) FROM (SELECT 1 FROM {postings} WHERE k = q.key LIMIT %s) c), 0::bigint "
            "FROM unnest(%s::text[]) AS q(key)" if keys else "", [upto, list(keys)])


def _limits(limit: int | Sequence[int], keys: Sequence[str]) -> list[int]:
    return [limit] * len(keys) if isinstance(limit, int) else [int(n) for n in limit]


def open_reader(location: str | Path) -> SqliteSearchTables | None:
    """The index tables of the atlas at ``location``, opened for reading without opening its store
    (no GDAL, pandas or GeoPandas: a cold ``placegeo search`` answers quickly)."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")) or not Path(text).is_file():
        return None  # a database atlas is opened through its store (its pool is shared by the process)
    return SqliteSearchTables(path=text)
