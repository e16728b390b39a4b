"""An atlas in one GeoPackage file, the embedded store for one planner.

A write (or a transaction holding several) works on a copy of the file beside it and replaces the
original only when everything succeeded (:mod:`placegeo.storage._atomic`), so a failure at any
point, a crash included, leaves the atlas exactly as it was, and a reader that opened the file
before the write keeps seeing the old version. The cost is one file copy per transaction (about
0.1 s for a 50 MB atlas). A lock file beside the atlas serialises writers.

Pages and key lookups are answered from a per-process copy of the layer (read once per revision,
with an STRtree for boxes), which a web worker keeps between requests.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from placegeo.errors import AtlasError, LayerNotFoundError
from placegeo.registry import LayerSpec
from placegeo.storage import _atomic
from placegeo.storage.base import INTERNAL_PREFIX, LAYER_INFO_COLUMNS, BBox
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
        self._staging: Path | None = None
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
                con.executescript(_GPKG_DDL.replace("{wgs84}", wgs84) + _META_DDL)
                con.executemany("INSERT INTO placegeo_meta VALUES (?, ?)", meta.items())
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

    def close(self) -> None:
        with self._held_lock:
            self._held.clear()

    @property
    def _file(self) -> Path:
        """The file reads and writes go to: the staging copy inside a transaction."""
        return self._staging or self.path

    @contextlib.contextmanager
    def _sql(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self._file)
        try:
            yield con
            con.commit()
        finally:
            con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._staging is not None:  # nested: the outer transaction decides
            yield
            return
        with _writer_lock(self.path), _atomic.replacing(self.path, copy=True, tag="tmp") as staging:
            self._staging = staging
            try:
                yield
            finally:
                self._staging = None

    @property
    def revision(self) -> str:
        # every write replaces the file: a new inode and modification time
        st = self.path.stat()
        return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"

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

    def put_codes(self, table: pd.DataFrame) -> None:
        with self._sql() as con:
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
        listed = pyogrio.list_layers(self._file)
        return sorted(str(n) for n, _ in listed if not str(n).startswith(INTERNAL_PREFIX))

    def count(self, name: str) -> int:
        with self._layer_errors(name):
            return int(pyogrio.read_info(self._file, layer=name)["features"])

    @contextlib.contextmanager
    def _layer_errors(self, name: str) -> Iterator[None]:
        try:
            yield
        except pyogrio.errors.DataLayerError:
            if name in self.layers():
                raise
            raise LayerNotFoundError(f"layer '{name}' is not in atlas '{self.location}' "
                                     f"(stored: {', '.join(self.layers()) or 'none'})", layer=name) from None

    def read(self, name: str, *, bbox: BBox | None = None, columns: list[str] | None = None,
             where: str | None = None) -> gpd.GeoDataFrame:
        if bbox is None and columns is None and where is None:
            held = self._held_now(name)
            if held is not None:
                return held.gdf.copy(deep=False)
        with self._layer_errors(name):
            gdf = pyogrio.read_dataframe(self._file, layer=name, bbox=bbox, columns=columns, where=where,
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
        if self._staging is not None or self._held_pid != os.getpid():
            return None
        held = self._held.get(name)
        return held if held is not None and held.revision == self.revision else None

    def _hold(self, name: str) -> _Held:
        if self._staging is not None:
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
            df = pyogrio.read_dataframe(self._file, layer=name, columns=[key], read_geometry=False, use_arrow=True)
        return df[key].astype(str)

    def write_data(self, spec: LayerSpec, data: gpd.GeoDataFrame, *, append: bool) -> None:
        pyogrio.write_dataframe(
            data, self._file, layer=spec.name, driver="GPKG", append=append, use_arrow=True,
            geometry_type=spec.geometry,
            layer_options=None if append else {"OVERWRITE": "YES", "DESCRIPTION": spec.title_zh},
        )

    def layer_stats(self, name: str) -> tuple[list[str], int, int]:
        table = name.replace('"', '""')
        with self._sql() as con:
            columns = {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}
            sources = sorted(r[0] for r in con.execute(f'SELECT DISTINCT source FROM "{table}"') if r[0]) \
                if "source" in columns else []
            sample = "coalesce(sum(sample), 0)" if "sample" in columns else "0"
            n, n_sample = con.execute(f'SELECT count(*), {sample} FROM "{table}"').fetchone()
        return sources, int(n), int(n_sample)


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
