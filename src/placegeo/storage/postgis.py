"""An atlas in PostgreSQL with PostGIS: the store behind :class:`~placegeo.atlas.Atlas` for a shared atlas.

For a bureau that shares one atlas between planners and serves the public map from several
web workers. The atlas lives in one schema of a database, chosen by the URL's ``schema``
parameter (default ``public``), so one database can hold the atlases of several cities::

    postgresql://planner@db.example:5432/minzheng?schema=jinan

Each layer is a table with a ``fid`` key, the layer's fields in their types and a ``geom``
column typed ``geometry(<type>, 4490)`` with a GiST index, so QGIS and other GIS open it as it
is. The atlas's own tables are those of the GeoPackage atlas plus ``placegeo_artifacts``
(derived data such as the search index).

Every committed write is a revision in ``placegeo_history`` (when, what command, which layers,
rows before and after): a replaced layer's old rows are copied into a ``placegeo_hist_*`` table,
an append remembers its first ``fid``, and the small tables are saved as they were, so
:meth:`PostGISStore.undo` restores the previous revision row for row. The last
:data:`~placegeo.storage.base.HISTORY_KEEP` revisions are kept.

Every write is a database transaction (:meth:`PostGISStore.transaction`): a refused or failed
import leaves the database as it was. A replaced layer is emptied with ``DELETE`` and filled
with ``COPY`` in the same transaction, not dropped and re-created, so a reader's snapshot sees
the old rows or the new ones, never a mix and never an empty table; dead rows are reclaimed by
autovacuum. Writers take a transaction-scoped advisory lock of the atlas and wait for each
other up to ``lock_wait_s``. Each committed write sets a new ``revision`` in ``placegeo_meta``,
which readers (web workers) compare to know when their caches are stale.

psycopg 3 is the driver (COPY for writes, binary results for reads) with one connection pool
per process: a forked web worker opens its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool

from placegeo.crs import CGCS2000
from placegeo.errors import AtlasError, LayerNotFoundError, ReadOnlyError
from placegeo.registry import LayerSpec
from placegeo.storage.base import HISTORY_KEEP, LAYER_INFO_COLUMNS, BBox, history_command
from placegeo.storage.searchdb import SEARCH_TABLES, PgSearchTables
from placegeo.tiles import BUFFER, EXTENT, POINT_CELL

__all__ = ["PostGISStore", "split_url"]

_READ_ONLY = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
_PG_TYPES = {"integer": "bigint", "number": "double precision", "boolean": "boolean", "date": "date"}
_INTERNAL = ("placegeo_meta", "placegeo_layers", "placegeo_admin_codes", "placegeo_artifacts", "placegeo_history",
             *SEARCH_TABLES)
_DDL = """
CREATE TABLE {schema}.placegeo_meta (key text PRIMARY KEY, value text);
CREATE TABLE {schema}.placegeo_layers (name text PRIMARY KEY, title_zh text, title_en text,
  feature_count bigint, sample_count bigint, sources text, licence text, attribution text, updated text);
CREATE TABLE {schema}.placegeo_admin_codes (code text PRIMARY KEY, name text NOT NULL, level text NOT NULL,
  parent_code text);
CREATE TABLE {schema}.placegeo_artifacts (name text PRIMARY KEY, data bytea NOT NULL,
  updated timestamptz NOT NULL DEFAULT now());
"""
_HISTORY_DDL = ("CREATE TABLE IF NOT EXISTS {} (rev bigserial PRIMARY KEY, at text NOT NULL, command text, "
                "changes jsonb NOT NULL)")


def split_url(url: str) -> tuple[str, str, str]:
    """Split an atlas URL into (libpq URL, schema, URL to show with the password hidden).

    >>> libpq, schema, shown = split_url("postgresql://u:secret@127.0.0.1:5432/db?schema=jinan&sslmode=disable")
    >>> libpq
    'postgresql://u:secret@127.0.0.1:5432/db?sslmode=disable'
    >>> schema, shown
    ('jinan', 'postgresql://u:***@127.0.0.1:5432/db?schema=jinan&sslmode=disable')
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "public") or "public"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", schema):
        raise AtlasError(f"schema={schema!r} in the atlas URL: use letters, digits and _ (at most 63), "
                         "not starting with a digit, e.g. ?schema=city_atlas")
    libpq = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "schema"])))
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    shown = urlunsplit(parts._replace(netloc=netloc, query=urlencode([("schema", schema)] + [
        (k, v) for k, v in query if k != "schema"])))
    return libpq, schema, shown


def _connect_error(shown: str, exc: Exception) -> AtlasError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return AtlasError(f"cannot connect to the PostGIS atlas '{shown}': {reason}; check that the server runs and "
                      "the URL (user, host, port, database) is right (tests start one with .ci/start-postgis)")


class PostGISStore:
    """An atlas kept in a PostgreSQL/PostGIS schema (see this module).

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database[?schema=name]``; other parameters
        go to libpq (``sslmode`` …). A password is better kept in ``~/.pgpass`` or ``PGPASSWORD``.
    lock_wait_s : float
        How long a write waits for another writer of the same atlas before giving up.
    """

    backend = "postgis"

    def __init__(self, url: str, *, lock_wait_s: float = 30.0):
        self.url = url
        self._conninfo, self.schema, self.location = split_url(url)
        self.lock_wait_s = lock_wait_s
        self._pools: dict[bool, ConnectionPool] = {}  # the atlas's, and (True) the search's: see _get_pool
        self._pool_pid = 0
        self._pool_lock = threading.Lock()
        self._local = threading.local()
        if not self._has_tables():
            raise AtlasError(
                f"no atlas in schema '{self.schema}' of '{self.location}'; create one with "
                f"`placegeo atlas copy atlas.gpkg '{self.location}'` or `placegeo demo --atlas '{self.location}'`")

    # -- connections ------------------------------------------------------------------------------
    def _get_pool(self, search: bool = False) -> ConnectionPool:
        """The process's pool of connections to the atlas, or (``search``) of those the place-name search reads
        through, each set up by :func:`prepare_search_session`."""
        with self._pool_lock:
            if self._pool_pid != os.getpid():
                # a forked web worker must not share its parent's sockets: it gets pools of its own (an inherited
                # pool is left alone: its sockets are the parent's, closing them would end its sessions)
                self._pools, self._pool_pid = {}, os.getpid()
            if search not in self._pools:
                _connect(self._conninfo, self.location).close()  # the pool would retry quietly: this says why
                pool = ConnectionPool(self._conninfo, min_size=1, max_size=8, open=False,
                                      name="placegeo-search" if search else "placegeo",
                                      kwargs={"autocommit": True, "connect_timeout": 10},
                                      configure=prepare_search_session if search else prepare_session)
                try:
                    pool.open(wait=True, timeout=15)
                except Exception as exc:
                    pool.close()
                    raise _connect_error(self.location, exc) from None
                self._pools[search] = pool
                weakref.finalize(self, _close_in_owner, pool, os.getpid())
            return self._pools[search]

    def close(self) -> None:
        with self._pool_lock:
            for pool in self._pools.values():
                _close_in_owner(pool, self._pool_pid)
            self._pools = {}

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        tx = getattr(self._local, "conn", None)
        if tx is not None:
            yield tx
            return
        with self._get_pool().connection() as conn:
            yield conn

    def _t(self, name: str) -> sql.Composable:
        return sql.Identifier(self.schema, name)

    def _has_tables(self) -> bool:
        with self._conn() as conn:
            return _holds_atlas(conn, self.schema)

    @classmethod
    def exists(cls, location: str | os.PathLike) -> bool:
        """Whether the URL's schema holds an atlas (False also when the schema does not exist)."""
        libpq, schema, shown = split_url(str(location))
        with _connect(libpq, shown) as conn:
            return _holds_atlas(conn, schema)

    @classmethod
    def create(cls, location: str | os.PathLike, *, meta: dict[str, str], overwrite: bool) -> PostGISStore:
        libpq, schema, shown = split_url(str(location))
        with _connect(libpq, shown) as conn:
            if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is None:
                try:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                except psycopg.Error as exc:
                    raise AtlasError(f"the database of '{shown}' has no PostGIS and this user cannot add it "
                                     f"({exc.diag.message_primary}); ask its administrator to run "
                                     "CREATE EXTENSION postgis") from None
            s = sql.Identifier(schema)
            with conn.transaction():
                if _holds_atlas(conn, schema):
                    if not overwrite:
                        raise AtlasError(f"'{shown}' already holds an atlas; pass overwrite=True (CLI: --overwrite) "
                                         "to replace it")
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"placegeo:{schema}",))
                    _drop_atlas_tables(conn, schema)
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s))
                conn.execute(sql.SQL(_DDL).format(schema=s))
                meta = {**meta, "revision": uuid.uuid4().hex}
                with conn.cursor() as cur:
                    cur.executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(
                        sql.Identifier(schema, "placegeo_meta")), list(meta.items()))
        return cls(str(location))

    def same_place(self, location: str | os.PathLike) -> bool:
        def place(url: str) -> tuple:
            libpq, schema, _ = split_url(url)
            p = urlsplit(libpq)
            return p.hostname or "localhost", p.port or 5432, p.path, schema

        return place(str(location)) == place(self.url)

    @classmethod
    def replace_with(cls, location: str | os.PathLike, fill: Callable[[PostGISStore], None]) -> PostGISStore:
        url = str(location)
        if not cls.exists(url):
            cls.create(url, meta={}, overwrite=False)
            target = cls(url)
            try:
                with target.transaction():
                    fill(target)
            except BaseException:
                with target._conn() as conn, conn.transaction():  # it was not there: it is not left there
                    _drop_atlas_tables(conn, target.schema)
                raise
            return target
        target = cls(url)
        with target.transaction(), target._conn() as conn:
            # the old atlas is emptied in the same transaction the copy is written in, kept for undo
            for table in target.layers():
                target._changing(conn, table, "replace", keep_key=None)
                conn.execute(sql.SQL("DROP TABLE {}").format(target._t(table)))
            target._save_codes(conn)
            for table in ("placegeo_layers", "placegeo_admin_codes", "placegeo_artifacts"):
                conn.execute(sql.SQL("DELETE FROM {}").format(target._t(table)))
            for table in SEARCH_TABLES:  # derived from the layers: rebuilt as fill writes them
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target._t(table)))
            conn.execute(sql.SQL("DELETE FROM {} WHERE key <> 'revision'").format(target._t("placegeo_meta")))
            fill(target)
        return target

    def backup(self, stamp: str) -> str:
        """Copy the atlas's layers and own tables (not its history) into the schema
        ``<schema>_backup_<stamp>`` of the same database, in one transaction; returns its URL (password hidden)."""
        schema = re.sub(r"\W", "_", f"{self.schema}_backup_{stamp}")[:63]
        keys = {"placegeo_meta": "key", "placegeo_layers": "name", "placegeo_admin_codes": "code",
                "placegeo_artifacts": "name"}
        with self._get_pool().connection() as conn, conn.transaction():
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            for table in [*self.layers(), *keys]:
                conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(
                    sql.Identifier(schema, table), self._t(table)))
                conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                    sql.Identifier(schema, table), sql.Identifier(keys.get(table, "fid"))))
            for table in self.layers():  # a layer that can be written again: its fid sequence and GiST index
                target = sql.Identifier(schema, table)
                seq = sql.Identifier(schema, f"{table}_fid_seq")
                conn.execute(sql.SQL("CREATE SEQUENCE {} OWNED BY {}.fid").format(seq, target))
                conn.execute(sql.SQL("SELECT setval(%s, greatest((SELECT max(fid) FROM {}), 1))").format(target),
                             (f'"{schema}"."{table}_fid_seq"',))
                conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN fid SET DEFAULT nextval({})").format(
                    target, sql.Literal(f'"{schema}"."{table}_fid_seq"')))
                conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(target))
        base, _, query = self.location.partition("?")
        params = [p for p in query.split("&") if p and not p.startswith("schema=")]
        return base + "?" + "&".join([f"schema={schema}", *params])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:  # nested: the outer transaction decides
            yield
            return
        with self._get_pool().connection() as conn, conn.transaction():
            try:
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(
                    sql.Literal(f"{int(self.lock_wait_s * 1000)}ms")))
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"placegeo:{self.schema}",))
            except psycopg.errors.LockNotAvailable:
                raise AtlasError(f"another process has been writing to '{self.location}' for "
                                 f"{self.lock_wait_s:g} s; wait for it to finish and try again") from None
            self._local.conn = conn
            try:
                conn.execute(sql.SQL(_HISTORY_DDL).format(self._t("placegeo_history")))
                self._local.tx = {"tag": uuid.uuid4().hex[:10], "layers": {}, "codes_saved": None, "record": True,
                                  "before": self._small_tables(conn)}
                yield
                if self._local.tx["record"]:
                    self._record(conn, self._local.tx)
                conn.execute(sql.SQL("UPDATE {} SET value = %s WHERE key = 'revision'").format(
                    self._t("placegeo_meta")), (uuid.uuid4().hex,))
            except _READ_ONLY as exc:
                raise ReadOnlyError(f"the database user of '{self.location}' may not write to the atlas "
                                 f"({exc.diag.message_primary}); write as a planner's role, or ask the "
                                 "database administrator for rights on the schema") from None
            finally:
                self._local.conn = None
                self._local.tx = None

    @property
    def revision(self) -> str:
        with self._conn() as conn:
            row = conn.execute(sql.SQL("SELECT value FROM {} WHERE key = 'revision'").format(
                self._t("placegeo_meta"))).fetchone()
        return str(row[0]) if row else ""

    # -- history ----------------------------------------------------------------------------------
    def _small_tables(self, conn: psycopg.Connection) -> dict:
        meta = conn.execute(sql.SQL("SELECT key, value FROM {} WHERE key <> 'revision'").format(
            self._t("placegeo_meta"))).fetchall()
        layers = conn.execute(sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, LAYER_INFO_COLUMNS)), self._t("placegeo_layers"))).fetchall()
        return {"meta": [list(r) for r in meta], "layer_info": [list(r) for r in layers]}

    def _put_small_tables(self, conn: psycopg.Connection, before: dict) -> None:
        conn.execute(sql.SQL("DELETE FROM {} WHERE key <> 'revision'").format(self._t("placegeo_meta")))
        conn.execute(sql.SQL("DELETE FROM {}").format(self._t("placegeo_layers")))
        with conn.cursor() as cur:
            if before["meta"]:
                cur.executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(self._t("placegeo_meta")),
                                before["meta"])
            if before["layer_info"]:
                cur.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    self._t("placegeo_layers"), sql.SQL(", ").join(map(sql.Identifier, LAYER_INFO_COLUMNS)),
                    sql.SQL(", ").join(sql.Placeholder() * 9)), before["layer_info"])

    def _changing(self, conn: psycopg.Connection, name: str, op: str, *, keep_key: str | None) -> dict:
        """Keep what layer ``name`` is before its first change in this transaction (for undo)."""
        tx = self._local.tx
        if name in tx["layers"]:
            return tx["layers"][name]
        stored = self._columns(conn, name, must_exist=False)
        change: dict[str, Any] = {"op": op if stored else "create", "rows_before": 0}
        if stored:
            change["rows_before"] = self._count(conn, name)
            if op == "replace":
                saved = f"placegeo_hist_{tx['tag']}_{len(tx['layers'])}"
                conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(self._t(saved), self._t(name)))
                gtype = conn.execute("SELECT type FROM geometry_columns WHERE f_table_schema = %s AND "
                                     "f_table_name = %s", (self.schema, name)).fetchone()
                title = conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')",
                                     (f'"{self.schema}"."{name}"',)).fetchone()
                change.update(saved=saved, columns=stored, geometry=gtype[0] if gtype else "GEOMETRY",
                              title=title[0] if title else None, key=keep_key)
            else:
                change["fid_from"] = int(_one(conn.execute(sql.SQL("SELECT coalesce(max(fid), 0) + 1 FROM {}").format(
                    self._t(name)))))
        tx["layers"][name] = change
        return change

    def _save_codes(self, conn: psycopg.Connection) -> None:
        tx = self._local.tx
        if tx["codes_saved"] is None:
            saved = tx["codes_saved"] = f"placegeo_hist_{tx['tag']}_codes"
            conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(
                self._t(saved), self._t("placegeo_admin_codes")))

    def _count(self, conn: psycopg.Connection, name: str) -> int:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._t(name))).fetchone()
        return int(row[0]) if row else 0

    def _record(self, conn: psycopg.Connection, tx: dict) -> None:
        for name, change in tx["layers"].items():
            exists = bool(self._columns(conn, name, must_exist=False))
            change["rows_after"] = self._count(conn, name) if exists else 0
        changes = {"layers": tx["layers"], "before": tx["before"], "codes_saved": tx["codes_saved"]}
        history = self._t("placegeo_history")
        conn.execute(sql.SQL("INSERT INTO {} (at, command, changes) VALUES (%s, %s, %s)").format(history),
                     (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), history_command(),
                      json.dumps(changes, ensure_ascii=False)))
        old = conn.execute(sql.SQL("SELECT rev, changes FROM {0} WHERE rev <= (SELECT max(rev) FROM {0}) - %s").format(
            history), (HISTORY_KEEP,)).fetchall()
        for rev, kept in old:  # too old to undo to: what it kept aside goes
            for table in [c.get("saved") for c in kept["layers"].values()] + [kept.get("codes_saved")]:
                if table:
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._t(table)))
            conn.execute(sql.SQL("DELETE FROM {} WHERE rev = %s").format(history), (rev,))

    def history(self) -> list[dict]:
        with self._conn() as conn:
            if _one(conn.execute("SELECT to_regclass(%s)", (f'"{self.schema}".placegeo_history',))) is None:
                return []
            rows = conn.execute(sql.SQL("SELECT rev, at, command, changes FROM {} ORDER BY rev DESC").format(
                self._t("placegeo_history"))).fetchall()
        return [_history_record(*row) for row in rows]

    def undo(self) -> dict:
        with self.transaction(), self._conn() as conn:
            self._local.tx["record"] = False
            row = conn.execute(sql.SQL("SELECT rev, at, command, changes FROM {} ORDER BY rev DESC LIMIT 1").format(
                self._t("placegeo_history"))).fetchone()
            if row is None:
                raise AtlasError(f"atlas '{self.location}' keeps no earlier revision to go back to "
                                 "(`placegeo atlas history` lists what can be undone)")
            changes = row[3]
            for name, change in changes["layers"].items():
                self._undo_layer(conn, name, change)
            if changes.get("codes_saved"):
                codes = self._t("placegeo_admin_codes")
                conn.execute(sql.SQL("DELETE FROM {}").format(codes))
                conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(codes, self._t(changes["codes_saved"])))
                conn.execute(sql.SQL("DROP TABLE {}").format(self._t(changes["codes_saved"])))
            self._put_small_tables(conn, changes["before"])
            conn.execute(sql.SQL("DELETE FROM {} WHERE rev = %s").format(self._t("placegeo_history")), (row[0],))
        return _history_record(*row)

    def _undo_layer(self, conn: psycopg.Connection, name: str, change: dict) -> None:
        if change["op"] == "create":
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._t(name)))
        elif change["op"] == "append":
            conn.execute(sql.SQL("DELETE FROM {} WHERE fid >= %s").format(self._t(name)), (change["fid_from"],))
        else:
            saved, columns = change["saved"], change["columns"]
            stored = self._columns(conn, name, must_exist=False)
            if stored == columns:  # emptied, not dropped: readers' snapshots keep the rows until this commits
                conn.execute(sql.SQL("DELETE FROM {}").format(self._t(name)))
            else:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._t(name)))
                self._create_table(conn, name, columns, change["geometry"], title=change["title"], key=change["key"])
            cols = sql.SQL(", ").join(map(sql.Identifier, ["fid", *columns, "geom"]))
            conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                self._t(name), cols, cols, self._t(saved)))
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'fid'), "
                                 "greatest((SELECT max(fid) FROM {}), 1))").format(self._t(name)),
                         (f'"{self.schema}"."{name}"',))
            conn.execute(sql.SQL("DROP TABLE {}").format(self._t(saved)))

    # -- small tables -----------------------------------------------------------------------------
    def load_artifact(self, name: str) -> bytes | None:
        with self._conn() as conn:
            row = conn.execute(sql.SQL("SELECT data FROM {} WHERE name = %s").format(self._t("placegeo_artifacts")),
                               (name,)).fetchone()
        return bytes(row[0]) if row else None

    def save_artifact(self, name: str, data: bytes) -> None:
        try:
            with self._conn() as conn:
                conn.execute(sql.SQL("INSERT INTO {} (name, data) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                                     "SET data = excluded.data, updated = now()").format(
                                         self._t("placegeo_artifacts")), (name, data))
        except _READ_ONLY as exc:  # a read-only role (the public web map's)
            raise ReadOnlyError(f"cannot save '{name}' in '{self.location}': {exc.diag.message_primary}") from None

    def search_tables(self) -> PgSearchTables:
        """The place-name index's tables in this schema (:mod:`placegeo.storage.searchdb`), written on the
        transaction's connection and read through the search's own pool (:func:`prepare_search_session`)."""
        return PgSearchTables(self._search_conn, self.schema)

    @contextlib.contextmanager
    def _search_conn(self) -> Iterator[psycopg.Connection]:
        tx = getattr(self._local, "conn", None)
        if tx is not None:  # inside a write: the index is written, and read, with the layer
            yield tx
            return
        with self._get_pool(search=True).connection() as conn:
            yield conn

    def meta_items(self) -> dict[str, str]:
        with self._conn() as conn:
            return dict(conn.execute(sql.SQL("SELECT key, value FROM {}").format(self._t("placegeo_meta"))).fetchall())

    def put_meta(self, items: dict[str, str]) -> None:
        with self._conn() as conn, conn.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                                    "SET value = excluded.value").format(self._t("placegeo_meta")), list(items.items()))

    def read_codes(self) -> pd.DataFrame:
        with self._conn() as conn:
            rows = conn.execute(sql.SQL("SELECT code, name, level, parent_code FROM {} ORDER BY code").format(
                self._t("placegeo_admin_codes"))).fetchall()
        return _text_frame(rows, ["code", "name", "level", "parent_code"])

    def codes_present(self, codes: Sequence[str]) -> set[str] | None:
        table = self._t("placegeo_admin_codes")
        with self._conn() as conn:
            rows = conn.execute(sql.SQL("SELECT code FROM {} WHERE code = ANY(%s) UNION ALL (SELECT NULL WHERE "
                                        "NOT EXISTS (SELECT 1 FROM {}))").format(table, table),
                                (list(dict.fromkeys(str(c) for c in codes)),)).fetchall()
        return None if rows == [(None,)] else {r[0] for r in rows}

    def put_codes(self, table: pd.DataFrame) -> None:
        with self._conn() as conn, conn.cursor() as cur:
            if getattr(self._local, "tx", None) is not None:
                self._save_codes(conn)
            cur.execute(sql.SQL("DELETE FROM {}").format(self._t("placegeo_admin_codes")))
            with cur.copy(sql.SQL("COPY {} (code, name, level, parent_code) FROM STDIN").format(
                    self._t("placegeo_admin_codes"))) as copy:
                for row in table.itertuples(index=False, name=None):
                    copy.write_row(row)

    def read_layer_info(self) -> pd.DataFrame:
        with self._conn() as conn:
            rows = conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY name").format(
                sql.SQL(", ").join(map(sql.Identifier, LAYER_INFO_COLUMNS)), self._t("placegeo_layers"))).fetchall()
        return _text_frame(rows, LAYER_INFO_COLUMNS, counts=("feature_count", "sample_count"))

    def put_layer_info(self, rows: list[tuple]) -> None:
        cols = sql.SQL(", ").join(map(sql.Identifier, LAYER_INFO_COLUMNS))
        update = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
                                    for c in LAYER_INFO_COLUMNS[1:])
        with self._conn() as conn, conn.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (name) DO UPDATE SET {}").format(
                self._t("placegeo_layers"), cols, sql.SQL(", ").join(sql.Placeholder() * 9), update), rows)

    # -- layers -----------------------------------------------------------------------------------
    def layers(self) -> list[str]:
        # the atlas's layers only: other spatial tables may share the schema (public, say)
        with self._conn() as conn:
            rows = conn.execute(sql.SQL(
                "SELECT g.f_table_name FROM geometry_columns g JOIN {} l ON l.name = g.f_table_name "
                "WHERE g.f_table_schema = %s").format(self._t("placegeo_layers")), (self.schema,)).fetchall()
        return sorted(str(r[0]) for r in rows)

    def count(self, name: str) -> int:
        with self._conn() as conn:
            self._columns(conn, name)  # raises LayerNotFoundError
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(self._t(name))).fetchone()
        return int(row[0]) if row else 0

    def _columns(self, conn: psycopg.Connection, name: str, *, must_exist: bool = True) -> dict[str, str]:
        """The table's columns (but fid and geom), in order, with their types."""
        rows = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (f'"{self.schema}"."{name}"',)).fetchall()
        if not rows and must_exist:
            raise LayerNotFoundError(f"layer '{name}' is not in atlas '{self.location}' "
                                     f"(stored: {', '.join(self.layers()) or 'none'})", layer=name)
        return {r[0]: r[1] for r in rows if r[0] not in ("fid", "geom")}

    def _select(self, columns: dict[str, str], prefix: str | None = None) -> sql.Composable:
        def ref(c: str) -> sql.Composable:
            return sql.Identifier(prefix, c) if prefix else sql.Identifier(c)

        parts = [sql.SQL("{}::text AS {}").format(ref(c), sql.Identifier(c)) if t == "date" else ref(c)
                 for c, t in columns.items()]
        return sql.SQL(", ").join([*parts, sql.SQL("ST_AsBinary({})").format(ref("geom"))])

    def _frame(self, rows: list[tuple], columns: dict[str, str]) -> gpd.GeoDataFrame:
        values = list(zip(*rows, strict=True)) if rows else [()] * (len(columns) + 1)
        data = {}
        kinds = {"bigint": "Int64", "integer": "Int64", "double precision": "Float64", "boolean": "boolean"}
        for (col, typ), vals in zip(columns.items(), values, strict=False):
            data[col] = pd.array(list(vals), dtype=kinds[typ]) if typ in kinds else _strings(vals)
        geom = shapely.from_wkb(np.array(values[-1], dtype=object))
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geom, crs=CGCS2000), crs=CGCS2000)

    def read(self, name: str, *, bbox: BBox | None = None, columns: list[str] | None = None,
             where: str | None = None) -> gpd.GeoDataFrame:
        with self._conn() as conn:
            stored = self._columns(conn, name)
            if columns is not None:
                unknown = [c for c in columns if c not in stored]
                if unknown:
                    raise AtlasError(f"layer '{name}' has no field {', '.join(unknown)}; it has "
                                     f"{', '.join(stored)}")
                stored = {c: stored[c] for c in columns}
            clause, params = self._where(bbox=bbox, where=where)
            query = sql.SQL("SELECT {} FROM {}").format(self._select(stored), self._t(name)) + clause
            cur = conn.cursor(binary=True)
            rows = cur.execute(query + sql.SQL(" ORDER BY fid"), params).fetchall()
        return self._frame(rows, stored)

    def _where(self, *, bbox=None, key=None, key_field="", where=None) -> tuple[sql.Composable, list[Any]]:
        """The WHERE clause (or nothing) for a box, a key (a bound parameter) and trusted SQL."""
        conds: list[sql.Composable] = []
        params: list[Any] = []
        if bbox is not None:
            conds.append(sql.SQL("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4490))"))
            params.extend(float(v) for v in bbox)
        if key is not None:
            conds.append(sql.SQL("{} = %s").format(sql.Identifier(key_field)))
            params.append(str(key))
        if where:
            conds.append(sql.SQL("({})").format(sql.SQL(where)))
        if not conds:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds), params

    def page(self, name: str, *, bbox: BBox | None = None, key: str | None = None, key_field: str = "",
             limit: int = 100, offset: int = 0) -> tuple[gpd.GeoDataFrame, int]:
        # found on the GiST index or the key's index, one statement: never a whole layer in a worker
        with self._conn() as conn:
            stored = self._columns(conn, name)
            query, params = self.page_sql(name, stored, bbox=bbox, key=key, key_field=key_field, limit=limit,
                                          offset=offset)
            rows = conn.cursor(binary=True).execute(query, params).fetchall()
        matched = int(rows[0][0]) if rows else 0
        return self._frame([r[2:] for r in rows if r[1] is not None], stored), matched

    def page_sql(self, name, stored, *, bbox, key, key_field, limit, offset) -> tuple[sql.Composed, list[Any]]:
        """The statement of :meth:`page`: the number matched, then the page's rows."""
        where, params = self._where(bbox=bbox, key=key, key_field=key_field)
        # one statement, so one snapshot: the count and the page show the same state of the layer.
        # The matches are found on the GiST index first, then sorted: a plan walking the key
        # in order and testing each row against the box can be a thousand times slower.
        query = sql.SQL(
            "WITH m AS MATERIALIZED (SELECT fid FROM {t}{where}), "
            "p AS (SELECT fid FROM m ORDER BY fid LIMIT %s OFFSET %s) "
            "SELECT c.n, t.fid, {cols} FROM (SELECT count(*) AS n FROM m) c "
            "LEFT JOIN (p JOIN {t} t USING (fid)) ON true ORDER BY t.fid"
        ).format(t=self._t(name), where=where, cols=self._select(stored, prefix="t"))
        return query, [*params, int(limit), int(offset)]

    def tile(self, name: str, z: int, x: int, y: int, *, columns: list[str]) -> bytes | None:
        # ST_AsMVTGeom clips, snaps and simplifies to the tile grid, once per row (materialised); points
        # are thinned to the first (by fid) per POINT_CELL units, as placegeo.tiles does; the box test
        # uses the GiST index in EPSG:4490. (JIT is off, as on every connection: PostGIS's function costs
        # would make the planner compile a query that runs in milliseconds.)
        with self._conn() as conn, conn.transaction():
            stored = self._columns(conn, name)
            kept = [c for c in columns if c in stored]
            props = [sql.SQL("{}::text AS {}").format(sql.Identifier(c), sql.Identifier(c)) if stored[c] == "date"
                     else sql.SQL("t.{}").format(sql.Identifier(c)) for c in kept]
            query = sql.SQL(
                "WITH f AS MATERIALIZED (SELECT t.fid, ST_AsMVTGeom(ST_Transform(t.geom, 3857), "
                "ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(extent)s, %(buffer)s, true) AS geom{props} FROM {t} t "
                "WHERE t.geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4490)), "
                "p AS (SELECT *, GeometryType(geom) = 'POINT' AS pt FROM f WHERE geom IS NOT NULL), "
                "thin AS (SELECT DISTINCT ON (pt, k1, k2) * FROM (SELECT *, "
                "CASE WHEN pt THEN floor(ST_X(geom) / %(cell)s) ELSE fid::float8 END AS k1, "
                "CASE WHEN pt THEN floor(ST_Y(geom) / %(cell)s) ELSE 0 END AS k2 FROM p) k "
                "ORDER BY pt, k1, k2, fid) "
                "SELECT ST_AsMVT(m, %(layer)s, %(extent)s, 'geom') FROM (SELECT geom{names} FROM thin) m"
            ).format(t=self._t(name), props=sql.SQL("").join(sql.SQL(", ") + p for p in props),
                     names=sql.SQL("").join(sql.SQL(", ") + sql.Identifier(c) for c in kept))
            row = conn.execute(query, {"z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER,
                                       "margin": BUFFER / EXTENT, "cell": POINT_CELL, "layer": name}).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""

    def read_keys(self, name: str, key: str) -> pd.Series:
        with self._conn() as conn:
            rows = conn.execute(sql.SQL("SELECT {}::text FROM {} ORDER BY fid").format(
                sql.Identifier(key), self._t(name))).fetchall()
        return pd.Series([r[0] for r in rows], dtype=object)

    def keys_present(self, name: str, key_field: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` layer ``name`` holds in ``key_field``: lookups on the key's index, not a scan."""
        wanted = list(dict.fromkeys(str(k) for k in keys))
        with self._conn() as conn:
            stored = self._columns(conn, name, must_exist=False)
            if key_field not in stored or not wanted:
                return set()
            # compared as stored (text keys: the index is used); other types are cast to text
            column = sql.Identifier(key_field) if stored[key_field] == "text" else \
                sql.SQL("{}::text").format(sql.Identifier(key_field))
            rows = conn.execute(sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
                column, self._t(name), column), (wanted,)).fetchall()
        return {str(r[0]) for r in rows}

    def _create_table(self, conn: psycopg.Connection, name: str, wanted: dict[str, str], gtype: str, *,
                      title: str | None, key: str | None) -> None:
        cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in wanted.items())
        conn.execute(sql.SQL("CREATE TABLE {} (fid bigserial PRIMARY KEY, {}, geom geometry({}, 4490))").format(
            self._t(name), cols, sql.SQL(gtype)))
        conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{name}_geom_idx"), self._t(name)))
        if key in wanted:
            self._key_index(conn, name, key)
        if title:
            conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(self._t(name), sql.Literal(title)))

    def _key_index(self, conn: psycopg.Connection, name: str, key: str) -> None:
        """A unique index on the key column (a plain one if stored keys repeat): key lookups, not scans."""
        index = sql.Identifier(f"{name}_{key}_idx")
        if _one(conn.execute("SELECT to_regclass(%s)", (f'"{self.schema}"."{name}_{key}_idx"',))):
            return
        try:
            with conn.transaction():  # a savepoint: a failed unique index leaves the write going on
                conn.execute(sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(
                    index, self._t(name), sql.Identifier(key)))
        except psycopg.errors.UniqueViolation:
            conn.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(index, self._t(name), sql.Identifier(key)))

    def _wanted_columns(self, spec: LayerSpec, data: gpd.GeoDataFrame) -> dict[str, str]:
        types = {f.name: _PG_TYPES.get(f.type, "text") for f in spec.fields}
        out = {}
        for col in data.columns:
            if col == data.geometry.name:
                continue
            if col in types:
                out[col] = types[col]
            else:
                dtype = data[col].dtype
                out[col] = ("boolean" if pd.api.types.is_bool_dtype(dtype) else
                            "bigint" if pd.api.types.is_integer_dtype(dtype) else
                            "double precision" if pd.api.types.is_float_dtype(dtype) else "text")
        return out

    def write_data(self, spec: LayerSpec, data: gpd.GeoDataFrame, *, append: bool) -> None:
        name = spec.name
        wanted = self._wanted_columns(spec, data)
        gtype = spec.geometry
        with self.transaction(), self._conn() as conn:
            self._changing(conn, name, "append" if append else "replace", keep_key=spec.primary_key)
            stored = self._columns(conn, name, must_exist=False)
            geom_type = conn.execute("SELECT type FROM geometry_columns WHERE f_table_schema = %s AND "
                                     "f_table_name = %s", (self.schema, name)).fetchone()
            same = geom_type is not None and geom_type[0].lower() == gtype.lower()
            if append and not same:
                raise AtlasError(f"layer '{name}' is stored as {geom_type[0] if geom_type else 'no geometry'}, not "
                                 f"{gtype}; replace the layer (mode='replace') instead of appending to it")
            if append:
                for col, typ in wanted.items():
                    if col not in stored:
                        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                            self._t(name), sql.Identifier(col), sql.SQL(typ)))
            elif stored and same and stored == wanted:
                # emptied, not dropped: readers' snapshots keep the old rows until this commits
                conn.execute(sql.SQL("DELETE FROM {}").format(self._t(name)))
            else:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._t(name)))
                self._create_table(conn, name, wanted, gtype, title=f"{spec.title_zh} ({spec.title_en})",
                                   key=spec.primary_key)
            columns = [_copy_values(data[c], t) for c, t in wanted.items()]
            geoms = shapely.set_srid(np.asarray(data.geometry.values), 4490)
            hexes = shapely.to_wkb(geoms, hex=True, include_srid=True).tolist()
            target = sql.SQL("COPY {} ({}) FROM STDIN").format(
                self._t(name), sql.SQL(", ").join([*map(sql.Identifier, wanted), sql.Identifier("geom")]))
            with conn.cursor() as cur, cur.copy(target) as copy:
                for row in zip(*columns, hexes, strict=True):
                    copy.write_row(row)
            if spec.primary_key in wanted:
                self._key_index(conn, name, spec.primary_key)
            conn.execute(sql.SQL("ANALYZE {}").format(self._t(name)))  # the planner then uses the GiST index

    def layer_stats(self, name: str) -> tuple[list[str], int, int]:
        with self._conn() as conn:
            stored = self._columns(conn, name)
            sources: list[str] = []
            if "source" in stored:
                sources = sorted(r[0] for r in conn.execute(sql.SQL("SELECT DISTINCT source FROM {}").format(
                    self._t(name))) if r[0])
            sample = sql.SQL("coalesce(sum(sample::int), 0)") if "sample" in stored else sql.SQL("0")
            row = conn.execute(sql.SQL("SELECT count(*), {} FROM {}").format(sample, self._t(name))).fetchone()
        assert row is not None
        return sources, int(row[0]), int(row[1])


def prepare_session(conn: psycopg.Connection) -> None:
    """Set up a new connection to an atlas: no JIT compilation.

    An atlas's statements are short reads through indexes, but the planner's estimates of some cross
    ``jit_above_cost`` (a national index's search statement, a tile's): compiling such a 3 ms search
    statement took 32 ms more. (An autocommit connection: the setting holds for its session.)
    """
    conn.execute("SET jit = off")


def prepare_search_session(conn: psycopg.Connection) -> None:
    """Set up a new connection the place-name search reads through: :func:`prepare_session`, and each of its
    statements planned once per connection, not on every run.

    The search's statements are a fixed set of reads through the index tables' B-trees, whose best plan does
    not depend on the keys and limits given. PostgreSQL plans a statement psycopg has prepared (after its
    fifth run) anew on each run while that plan looks cheaper than the generic one: at 13,000,000 names
    planning was 0.1-0.3 ms of statements of 0.4-1 ms, and always-generic plans cut p50 by 15-25 % for
    every kind of query, with the same answers (``benchmarks/bench_national.py``). The atlas's other
    statements (tiles, layers) keep PostgreSQL's own choice.
    """
    prepare_session(conn)
    conn.execute("SET plan_cache_mode = force_generic_plan")


def _connect(libpq: str, shown: str) -> psycopg.Connection:
    """One autocommit connection, or an :class:`AtlasError` saying why there is none."""
    try:
        return psycopg.connect(libpq, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise _connect_error(shown, exc) from None


def _holds_atlas(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}".placegeo_meta',)).fetchone()
    return row is not None and row[0] is not None


def _drop_atlas_tables(conn: psycopg.Connection, schema: str) -> None:
    """Drop an atlas's layers and own tables; anything else kept in the schema stays."""
    names = [r[0] for r in conn.execute(sql.SQL("SELECT name FROM {}").format(
        sql.Identifier(schema, "placegeo_layers")))]
    kept = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s AND "
                                       "tablename LIKE 'placegeo\\_hist\\_%%'", (schema,))]
    for table in [*names, *_INTERNAL, *kept]:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table)))


def _close_in_owner(pool: ConnectionPool, pid: int) -> None:
    if os.getpid() == pid:
        pool.close()


def _text_frame(rows: list[tuple], columns: list[str], counts: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows as a frame typed as pandas reads them from SQLite: text (missing: NaN) and ``counts`` int64."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame({c: np.asarray(v, dtype="int64") if c in counts else _strings(v)
                         for c, v in zip(columns, values, strict=True)})


def _strings(values) -> pd.api.extensions.ExtensionArray:
    """Text values (None for missing) as pandas' ``str`` column; through Arrow, 5x faster than from a list."""
    return pd.array(pa.array(values, type=pa.string()), dtype="str")


def _copy_values(col: pd.Series, pg_type: str) -> list[Any]:
    """A column as Python values for COPY: None for missing, plain int/float/bool/str otherwise."""
    missing = col.isna().to_numpy()
    if pg_type == "boolean":
        vals = col.astype("boolean").fillna(False).astype(bool).tolist()
    elif pg_type == "bigint":
        vals = col.astype("Int64").fillna(0).astype("int64").tolist()
    elif pg_type == "double precision":
        vals = col.astype("float64").tolist()
    else:
        vals = [str(v) for v in col.astype(object).where(~missing, "").tolist()]
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            vals[i] = None
    return vals


def _one(cur: psycopg.Cursor) -> Any:
    """The first value of a statement's one row."""
    row = cur.fetchone()
    if row is None:
        raise AtlasError("the database answered no row where one was expected")
    return row[0]


def _history_record(rev: int, at: str, command: str | None, changes: dict) -> dict:
    return {"rev": int(rev), "at": at, "command": command, "layers": {
        name: {k: c.get(k) for k in ("op", "rows_before", "rows_after")} for name, c in changes["layers"].items()}}
