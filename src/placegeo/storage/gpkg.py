"""An atlas in one GeoPackage file, the embedded store for one planner.

A write (or a transaction holding several) is one SQLite transaction on one connection
(:meth:`GeoPackageStore._sql` yields it to every write inside, side tables included): appended
rows go in place (:mod:`placegeo.storage._gpkgsql`), so an append costs what it adds; a replaced
layer is written by GDAL into a file beside the atlas and copied in. SQLite's rollback journal
makes a failure at any point, a crash included, leave the atlas exactly as it was, and readers
see it before or after a write, never between. A lock file beside the atlas serialises writers.

Every committed write is a revision kept in ``placegeo_history``: a replaced layer is renamed
aside (not copied), an append remembers its first feature id, and the small tables are saved
as they were, so :meth:`GeoPackageStore.undo` restores the previous revision byte for byte.
The last :data:`~placegeo.storage.base.HISTORY_KEEP` revisions are kept.

Whole-atlas replacement (:meth:`GeoPackageStore.replace_with`: the demo, ``atlas copy``) still
builds a new file beside the old one and renames it over.

Pages and key lookups are answered from a per-process copy of the layer (read once per revision,
with an STRtree for boxes), which a web worker keeps between requests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from placegeo.errors import AtlasError, LayerNotFoundError
from placegeo.registry import LayerSpec
from placegeo.storage import _atomic, _gpkgsql
from placegeo.storage._gpkgsql import q
from placegeo.storage.base import HISTORY_KEEP, INTERNAL_PREFIX, LAYER_INFO_COLUMNS, BBox, history_command
from placegeo.storage.searchdb import SqliteSearchTables

__all__ = ["GeoPackageStore"]

_GPKG_DDL = """
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10400;
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL);
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL);
INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{wgs84}', NULL);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
"""
_META_DDL = """
CREATE TABLE IF NOT EXISTS placegeo_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS placegeo_layers (name TEXT PRIMARY KEY, title_zh TEXT, title_en TEXT,
  feature_count INTEGER, sample_count INTEGER, sources TEXT, licence TEXT, attribution TEXT, updated TEXT);
CREATE TABLE IF NOT EXISTS placegeo_admin_codes (code TEXT PRIMARY KEY, name TEXT NOT NULL,
  level TEXT NOT NULL, parent_code TEXT);
"""
_CODES_DDL = ("CREATE TABLE placegeo_admin_codes (code TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, "
              "parent_code TEXT)")
_HISTORY_DDL = ("CREATE TABLE IF NOT EXISTS placegeo_history (rev INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
                "command TEXT, changes TEXT NOT NULL)")


@dataclass
class _Tx:
    """One open write: its connection, and what it changed (to keep the previous revision)."""

    con: sqlite3.Connection
    tag: str
    before: dict
    layers: dict[str, dict] = field(default_factory=dict)
    codes_saved: str | None = None
    record: bool = True


@dataclass
class _Held:
    """A whole layer as this process read it at one revision, with lookups built on first use."""

    revision: str
    gdf: gpd.GeoDataFrame
    keys: dict[str, pd.Index] = field(default_factory=dict)

    def key_index(self, key_field: str) -> pd.Index:
        if key_field not in self.keys:
            self.keys[key_field] = pd.Index(self.gdf[key_field].astype(str).to_numpy(dtype=object))
        return self.keys[key_field]


class GeoPackageStore:
    """An atlas kept in a GeoPackage file (see the module's description)."""

    backend = "gpkg"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.location = str(self.path)
        self._local = threading.local()
        self._held: dict[str, _Held] = {}
        self._held_pid = os.getpid()
        self._held_lock = threading.Lock()
        if not self.path.exists():
            raise AtlasError(
                f"no atlas at '{self.path}'; build the demo with `placegeo demo --atlas {self.path}` "
                "or create an empty one with Atlas.create()"
            )
        _check_format(self.path)

    # -- lifecycle ----------------------------------------------------------------------------------
    @classmethod
    def create(cls, location: str | os.PathLike, *, meta: dict[str, str], overwrite: bool) -> GeoPackageStore:
        path = Path(location)
        if path.exists() and not overwrite:
            raise AtlasError(f"'{path}' already exists; pass overwrite=True (CLI: --overwrite) to replace it")
        with _atomic.replacing(path, tag="new") as tmp:
            wgs84 = gpd.GeoSeries([], crs=4326).crs.to_wkt().replace("'", "''")
            with contextlib.closing(sqlite3.connect(tmp)) as con:
                con.executescript(_GPKG_DDL.replace("{wgs84}", wgs84) + _META_DDL + _HISTORY_DDL + ";")
                con.executemany("INSERT INTO placegeo_meta VALUES (?, ?)",
                                {**meta, "revision": uuid.uuid4().hex}.items())
                con.commit()
        return cls(path)

    @classmethod
    def exists(cls, location: str | os.PathLike) -> bool:
        return Path(location).exists()

    @classmethod
    def replace_with(cls, location: str | os.PathLike, fill: Callable[[GeoPackageStore], None]) -> GeoPackageStore:
        # built in a new file beside the old one and swapped in, under the writers' lock all along:
        # a writer of the old file meanwhile is told to wait rather than having its work swapped away
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _writer_lock(path), _atomic.replacing(path, tag="copy") as build:
            target = cls.create(build, meta={}, overwrite=True)
            try:
                with target.transaction():
                    fill(target)
            finally:
                _lock_file(build).unlink(missing_ok=True)
        return cls(path)

    def same_place(self, location: str | os.PathLike) -> bool:
        return Path(location).resolve() == self.path.resolve()

    def backup(self, stamp: str) -> str:
        """A consistent copy of the whole file beside it, ``<stem>.backup-<stamp>.gpkg`` (SQLite's online
        backup, history included); returns its path."""
        target = self.path.with_name(f"{self.path.stem}.backup-{stamp}{self.path.suffix}")
        with _atomic.replacing(target, tag="backup") as tmp, \
                contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)) as src, \
                contextlib.closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
        return str(target)

    def close(self) -> None:
        with self._held_lock:
            self._held.clear()

    def _tx(self) -> _Tx | None:
        return getattr(self._local, "tx", None)

    @contextlib.contextmanager
    def _sql(self) -> Iterator[sqlite3.Connection]:
        """The connection to run SQL on: the open transaction's (C1), else a new one committed at the end."""
        tx = self._tx()
        if tx is not None:
            yield tx.con
            return
        con = _connect(self.path)
        try:
            yield con
            con.commit()
        finally:
            con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._tx() is not None:  # nested: the outer transaction decides
            yield
            return
        with _writer_lock(self.path):
            con = _connect(self.path, autocommit=True)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute(_HISTORY_DDL)
                tx = _Tx(con, uuid.uuid4().hex[:10], _small_tables(con))
                self._local.tx = tx
                try:
                    yield
                    if tx.record:
                        self._record(tx)
                    con.execute("INSERT OR REPLACE INTO placegeo_meta VALUES ('revision', ?)", (uuid.uuid4().hex,))
                    con.execute("COMMIT")
                except BaseException:
                    if con.in_transaction:  # SQLite rolls back by itself on a full disk (SQLITE_FULL)
                        con.execute("ROLLBACK")
                    raise
                finally:
                    self._local.tx = None
            finally:
                con.close()

    @property
    def revision(self) -> str:
        # the file's identity (a whole-atlas replacement is a new file) and the token each commit sets
        ino = self.path.stat().st_ino
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)) as con:
            row = con.execute("SELECT value FROM placegeo_meta WHERE key = 'revision'").fetchone()
        if row is None:  # an atlas written before revisions were kept in it
            st = self.path.stat()
            return f"{ino}:{st.st_size}:{st.st_mtime_ns}"
        return f"{ino}:{row[0]}"

    # -- history ------------------------------------------------------------------------------------
    def _record(self, tx: _Tx) -> None:
        con = tx.con
        for name, change in tx.layers.items():
            change["rows_after"] = self._rows(con, name) if _gpkgsql.layer_exists(con, name) else 0
        changes = {"layers": tx.layers, "before": tx.before, "codes_saved": tx.codes_saved}
        con.execute("INSERT INTO placegeo_history (at, command, changes) VALUES (?, ?, ?)",
                    (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), history_command(),
                     json.dumps(changes, ensure_ascii=False)))
        old = con.execute("SELECT rev, changes FROM placegeo_history WHERE rev <= "
                          "(SELECT max(rev) FROM placegeo_history) - ?", (HISTORY_KEEP,)).fetchall()
        for rev, text in old:  # too old to undo to: what it kept aside goes
            _drop_kept(con, json.loads(text))
            con.execute("DELETE FROM placegeo_history WHERE rev = ?", (rev,))

    def history(self) -> list[dict]:
        """The revisions that can be undone, newest first: rev, at, command, layers {name: op, rows}."""
        with self._sql() as con:
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'placegeo_history'").fetchone():
                return []
            rows = con.execute("SELECT rev, at, command, changes FROM placegeo_history ORDER BY rev DESC").fetchall()
        return [{"rev": rev, "at": at, "command": command, "layers": {
            name: {k: c.get(k) for k in ("op", "rows_before", "rows_after")}
            for name, c in json.loads(text)["layers"].items()}} for rev, at, command, text in rows]

    def undo(self) -> dict:
        """Restore the atlas as it was before its last recorded write; returns that write's record."""
        with self.transaction():
            tx = self._tx()
            assert tx is not None
            tx.record = False
            con = tx.con
            row = con.execute("SELECT rev, at, command, changes FROM placegeo_history "
                              "ORDER BY rev DESC LIMIT 1").fetchone()
            if row is None:
                raise AtlasError(f"atlas '{self.location}' keeps no earlier revision to go back to "
                                 "(`placegeo atlas history` lists what can be undone)")
            rev, at, command, text = row
            changes = json.loads(text)
            for name, change in changes["layers"].items():
                _undo_layer(con, name, change)
                tx.layers.setdefault(name, {"op": "undo"})  # reads in this transaction see the restored layer
            if changes.get("codes_saved"):
                con.execute("DROP TABLE placegeo_admin_codes")
                con.execute(f"ALTER TABLE {q(changes['codes_saved'])} RENAME TO placegeo_admin_codes")
            _put_small_tables(con, changes["before"])
            con.execute("DELETE FROM placegeo_history WHERE rev = ?", (rev,))
        return {"rev": rev, "at": at, "command": command, "layers": {
            name: {k: c.get(k) for k in ("op", "rows_before", "rows_after")}
            for name, c in changes["layers"].items()}}

    def _changing(self, name: str, op: str) -> _Tx:
        """The open transaction, having kept what layer ``name`` was before its first change in it."""
        tx = self._tx()
        if tx is None:
            raise AtlasError("a GeoPackage layer is written inside store.transaction() only")
        con = tx.con
        if name in tx.layers:  # changed before in this transaction: the kept state is from before that
            if op == "replace" and _gpkgsql.layer_exists(con, name):
                _gpkgsql.drop_layer(con, name)
            return tx
        exists = _gpkgsql.layer_exists(con, name)
        change: dict = {"op": op if exists else "create", "rows_before": self._rows(con, name) if exists else 0}
        if exists and op == "replace":
            change["saved"] = f"placegeo_hist_{tx.tag}_{len(tx.layers)}"
            change["schema"] = _gpkgsql.move_layer(con, name, change["saved"])
        elif exists:
            change["schema"] = _gpkgsql.layer_schema(con, name)
        tx.layers[name] = change
        return tx

    # -- small tables -------------------------------------------------------------------------------
    def _artifact_path(self, name: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{name}")

    def load_artifact(self, name: str) -> bytes | None:
        path = self._artifact_path(name)
        return path.read_bytes() if path.exists() else None

    def save_artifact(self, name: str, data: bytes) -> None:
        _atomic.write_bytes(self._artifact_path(name), data)

    def search_tables(self) -> SqliteSearchTables:
        """The place-name index's tables in this file (:mod:`placegeo.storage.searchdb`); written with
        :meth:`_sql`, so inside a transaction they land with it."""
        return SqliteSearchTables(self._sql, path=self.path)

    def meta_items(self) -> dict[str, str]:
        with self._sql() as con:
            return dict(con.execute("SELECT key, value FROM placegeo_meta").fetchall())

    def put_meta(self, items: dict[str, str]) -> None:
        with self._sql() as con:
            con.executemany("INSERT OR REPLACE INTO placegeo_meta VALUES (?, ?)", items.items())

    def read_codes(self) -> pd.DataFrame:
        with self._sql() as con:
            return pd.read_sql("SELECT code, name, level, parent_code FROM placegeo_admin_codes ORDER BY code", con)

    def codes_present(self, codes: Sequence[str]) -> set[str] | None:
        with self._sql() as con:
            if con.execute("SELECT NOT EXISTS (SELECT 1 FROM placegeo_admin_codes)").fetchone()[0]:
                return None
            return _present(con, "placegeo_admin_codes", "code", codes)

    def put_codes(self, table: pd.DataFrame) -> None:
        tx = self._tx()
        with self._sql() as con:
            if tx is not None and tx.codes_saved is None:  # the old tree is kept aside, for undo
                tx.codes_saved = f"placegeo_hist_{tx.tag}_codes"
                con.execute(f"ALTER TABLE placegeo_admin_codes RENAME TO {q(tx.codes_saved)}")
                con.execute(_CODES_DDL)
            con.execute("DELETE FROM placegeo_admin_codes")
            con.executemany("INSERT INTO placegeo_admin_codes VALUES (?, ?, ?, ?)",
                            table.itertuples(index=False, name=None))

    def read_layer_info(self) -> pd.DataFrame:
        with self._sql() as con:
            return pd.read_sql(f"SELECT {', '.join(LAYER_INFO_COLUMNS)} FROM placegeo_layers ORDER BY name", con)

    def put_layer_info(self, rows: list[tuple]) -> None:
        with self._sql() as con:
            con.executemany(f"INSERT OR REPLACE INTO placegeo_layers VALUES ({', '.join('?' * 9)})", rows)

    # -- layers -------------------------------------------------------------------------------------
    def layers(self) -> list[str]:
        with self._sql() as con:
            names = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        return sorted(str(n) for n in names if not str(n).startswith(INTERNAL_PREFIX))

    @staticmethod
    def _rows(con: sqlite3.Connection, name: str) -> int:
        # GDAL's triggers keep the count in gpkg_ogr_contents: no scan of a large layer
        with contextlib.suppress(sqlite3.OperationalError):
            row = con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (name,)).fetchone()
            if row is not None and row[0] is not None:
                return int(row[0])
        return int(con.execute(f"SELECT count(*) FROM {q(name)}").fetchone()[0])

    def count(self, name: str) -> int:
        with self._sql() as con:
            if not _gpkgsql.layer_exists(con, name):
                raise self._not_found(name)
            return self._rows(con, name)

    def _not_found(self, name: str) -> LayerNotFoundError:
        return LayerNotFoundError(f"layer '{name}' is not in atlas '{self.location}' "
                                  f"(stored: {', '.join(self.layers()) or 'none'})", layer=name)

    @contextlib.contextmanager
    def _layer_errors(self, name: str) -> Iterator[None]:
        try:
            yield
        except pyogrio.errors.DataLayerError:
            if name in self.layers():
                raise
            raise self._not_found(name) from None

    def read(self, name: str, *, bbox: BBox | None = None, columns: list[str] | None = None,
             where: str | None = None) -> gpd.GeoDataFrame:
        tx = self._tx()
        if tx is not None and name in tx.layers:  # GDAL would see the committed layer, not this write's
            return _read_in(tx.con, name, bbox=bbox, columns=columns, where=where)
        if bbox is None and columns is None and where is None:
            held = self._held_now(name)
            if held is not None:
                return held.gdf.copy(deep=False)
        with self._layer_errors(name):
            gdf = pyogrio.read_dataframe(self.path, layer=name, bbox=bbox, columns=columns, where=where,
                                         use_arrow=True)
        # Arrow hands text columns over in batches of 65,536 rows; one chunk makes taking rows
        # (a page of a large layer) a single gather instead of one per batch: ~50x faster at 1M rows
        for col in gdf.columns.drop(gdf.geometry.name):
            arr = gdf[col].array
            if hasattr(arr, "__arrow_array__") and arr.__arrow_array__().num_chunks > 1:
                gdf[col] = pd.array(arr.__arrow_array__().combine_chunks(), dtype=gdf[col].dtype)
        return gdf

    def _held_now(self, name: str) -> _Held | None:
        """This process's copy of a layer if it is of the current revision (never inside a transaction)."""
        if self._tx() is not None or self._held_pid != os.getpid():
            return None
        held = self._held.get(name)
        return held if held is not None and held.revision == self.revision else None

    def _hold(self, name: str) -> _Held:
        if self._tx() is not None:
            return _Held("", self.read(name))
        with self._held_lock:
            if self._held_pid != os.getpid():  # a forked worker starts with its parent's copies: fine to share,
                self._held, self._held_pid = dict(self._held), os.getpid()  # but the lock is its own
            held = self._held_now(name)
            if held is None:
                revision = self.revision  # first: a write while reading shows as a newer revision next time
                held = _Held(revision, self.read(name))
                self._held[name] = held
            return held

    def page(self, name: str, *, bbox: BBox | None = None, key: str | None = None, key_field: str = "",
             limit: int = 100, offset: int = 0) -> tuple[gpd.GeoDataFrame, int]:
        held = self._hold(name)
        gdf = held.gdf
        hits: np.ndarray | None = None
        if key is not None:
            found = held.key_index(key_field).get_indexer_for([str(key)])
            hits = found[found >= 0]
        if bbox is not None:
            # positions in layer order; only the page's rows are taken from the (large) frame
            inside = gdf.sindex.query(shapely.box(*bbox), predicate="intersects")
            hits = inside if hits is None else np.intersect1d(hits, inside)
        if hits is None:
            return gdf.iloc[offset: offset + limit].reset_index(drop=True), len(gdf)
        hits = np.sort(hits)
        return gdf.iloc[hits[offset: offset + limit]].reset_index(drop=True), len(hits)

    def read_keys(self, name: str, key: str) -> pd.Series:
        with self._layer_errors(name):
            df = pyogrio.read_dataframe(self.path, layer=name, columns=[key], read_geometry=False, use_arrow=True)
        return df[key].astype(str)

    def keys_present(self, name: str, key_field: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` layer ``name`` holds in ``key_field``: lookups on the key's index, not a scan."""
        with self._sql() as con:
            return _present(con, name, key_field, keys) if _gpkgsql.layer_exists(con, name) else set()

    def write_data(self, spec: LayerSpec, data: gpd.GeoDataFrame, *, append: bool) -> None:
        with self.transaction():
            tx = self._tx()
            assert tx is not None
            if append and _gpkgsql.layer_exists(tx.con, spec.name):
                self._changing(spec.name, "append")
                first = _gpkgsql.append_rows(tx.con, spec.name, data)
                tx.layers[spec.name].setdefault("fid_from", first)
            else:
                self._replace(tx, spec, data)
            if spec.primary_key in data.columns:
                _gpkgsql.key_index(tx.con, spec.name, spec.primary_key)

    def _replace(self, tx: _Tx, spec: LayerSpec, data: gpd.GeoDataFrame) -> None:
        """GDAL writes the layer into a file beside the atlas; it is copied in, in this transaction."""
        stem = self.path.name.partition(".")[0]
        tmp = self.path.with_name(f".{stem}.{uuid.uuid4().hex[:12]}.layer.gpkg")
        try:
            pyogrio.write_dataframe(data, tmp, layer=spec.name, driver="GPKG", use_arrow=True,
                                    geometry_type=spec.geometry,
                                    layer_options={"OVERWRITE": "YES", "DESCRIPTION": spec.title_zh})
            with contextlib.closing(sqlite3.connect(tmp)) as src:
                self._changing(spec.name, "replace")
                _gpkgsql.install_layer(tx.con, src, spec.name)
        finally:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)

    def layer_stats(self, name: str) -> tuple[list[str], int, int]:
        table = name.replace('"', '""')
        with self._sql() as con:
            columns = {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}
            sources = sorted(r[0] for r in con.execute(f'SELECT DISTINCT source FROM "{table}"') if r[0]) \
                if "source" in columns else []
            sample = "coalesce(sum(sample), 0)" if "sample" in columns else "0"
            n, n_sample = con.execute(f'SELECT count(*), {sample} FROM "{table}"').fetchone()
        return sources, int(n), int(n_sample)

    def tile(self, name: str, z: int, x: int, y: int, *, columns: list[str]) -> bytes | None:
        return None  # SQLite has no tile encoder: the atlas encodes this process's held features


def _read_in(con: sqlite3.Connection, name: str, *, bbox: BBox | None, columns: list[str] | None,
             where: str | None) -> gpd.GeoDataFrame:
    """A layer as an open transaction sees it (see :func:`placegeo.storage._gpkgsql.read_rows`)."""
    gdf = _gpkgsql.read_rows(con, name, columns=columns, where=where)
    if bbox is not None:
        gdf = gdf[gdf.geometry.intersects(shapely.box(*bbox))].reset_index(drop=True)
    return gdf


def _check_format(path: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        raise AtlasError(f"'{path}' is not a GeoPackage; an atlas is a .gpkg file made by placegeo") from None
    if "placegeo_meta" not in tables:
        raise AtlasError(
            f"'{path}' is a GeoPackage but not a placegeo atlas (no placegeo_meta table); "
            "import its layers into an atlas with `placegeo import`"
        )


def _lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    """The lock file beside a GeoPackage atlas that keeps a second writer out (it is told to wait)."""
    with open(_lock_file(path), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AtlasError(f"another process is writing to '{path}'; wait for it to finish and try again") from None
        yield


def _present(con: sqlite3.Connection, table: str, column: str, values: Sequence[str]) -> set[str]:
    """Which of ``values`` ``column`` of ``table`` holds, as text: lookups on its index, 500 values a statement."""
    wanted = list(dict.fromkeys(str(v) for v in values))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        chunk = wanted[i: i + 500]
        found.update(str(r[0]) for r in con.execute(
            f"SELECT {q(column)} FROM {q(table)} WHERE {q(column)} IN ({', '.join('?' * len(chunk))})", chunk))
    return found


#: The page cache of a writing connection (``PRAGMA cache_size``: negative is KiB, so 1 GiB).
WRITER_CACHE = -1048576


def _connect(path: Path, *, autocommit: bool = False) -> sqlite3.Connection:
    """A connection that can write layers: GDAL's rtree triggers find their SQL functions.

    The cache is large enough that a write does not spill pages into the file before it commits,
    which would keep readers out meanwhile.
    """
    con = sqlite3.connect(path, timeout=30, isolation_level=None if autocommit else "DEFERRED")
    _gpkgsql.register_functions(con)
    con.execute(f"PRAGMA cache_size = {WRITER_CACHE}")
    return con


def _small_tables(con: sqlite3.Connection) -> dict:
    """The atlas's metadata and layer records as they are (a few rows), to be put back by undo."""
    meta = [list(r) for r in con.execute("SELECT key, value FROM placegeo_meta WHERE key <> 'revision'")]
    layers = [list(r) for r in con.execute("SELECT * FROM placegeo_layers")]
    return {"meta": meta, "layer_info": layers}


def _put_small_tables(con: sqlite3.Connection, before: dict) -> None:
    con.execute("DELETE FROM placegeo_meta WHERE key <> 'revision'")
    con.executemany("INSERT INTO placegeo_meta VALUES (?, ?)", before["meta"])
    con.execute("DELETE FROM placegeo_layers")
    con.executemany(f"INSERT INTO placegeo_layers VALUES ({', '.join('?' * 9)})", before["layer_info"])


def _undo_layer(con: sqlite3.Connection, name: str, change: dict) -> None:
    if change["op"] == "create":
        _gpkgsql.drop_layer(con, name)
    elif change["op"] == "replace":
        _gpkgsql.restore_layer(con, name, change["saved"], change["schema"])
    elif change["op"] == "append":
        if "fid_from" in change:
            con.execute(f"DELETE FROM {q(name)} WHERE fid >= ?", (change["fid_from"],))
        _gpkgsql.put_records(con, change["schema"])


def _drop_kept(con: sqlite3.Connection, changes: dict) -> None:
    for change in changes["layers"].values():
        if change.get("saved"):
            _gpkgsql.drop_saved(con, change["saved"], change["schema"])
    if changes.get("codes_saved"):
        con.execute(f"DROP TABLE IF EXISTS {q(changes['codes_saved'])}")
