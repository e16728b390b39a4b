"""The atlas: every layer of a city in one GeoPackage file.

Layers are stored in CGCS2000 geographic coordinates (EPSG:4490), checked
against their definitions in ``layers/`` on every write. Beside the layers the
file holds three small tables of its own: ``placegeo_meta`` (atlas name and
extent), ``placegeo_layers`` (title, sources, licence and attribution of each
layer) and ``placegeo_admin_codes`` (the code tree every admin code is checked
against).

Writes are atomic. A write (or a :meth:`Atlas.transaction` holding several)
works on a copy of the file beside it and replaces the original with
``os.replace`` only when everything succeeded, so a failure at any point,
a crash included, leaves the atlas exactly as it was, and a reader that opened
the file before the write keeps seeing the old version. The cost is one file
copy per transaction (about 0.1 s for a 50 MB atlas), which is why the demo
build writes all its layers in one transaction. A lock file serialises writers.
For a multi-user atlas see the PostGIS back end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from placegeo.crs import CGCS2000
from placegeo.errors import AtlasError, CRSError, LayerNotFoundError, ValidationError
from placegeo.registry import LayerSpec, get_layer, load_registry
from placegeo.validate import ValidationReport, validate_layer

__all__ = ["Atlas", "ImportResult", "default_atlas_path", "read_layer", "write_layer"]

#: China's extent, used when an atlas has none of its own: it still catches swapped coordinates.
CHINA_EXTENT = (73.4, 3.8, 135.1, 53.6)
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_INTERNAL_PREFIX = "placegeo_"

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


def default_atlas_path() -> Path:
    """``$PLACEGEO_ATLAS`` if set, else ``atlas.gpkg`` in the current folder."""
    return Path(os.environ.get("PLACEGEO_ATLAS", "atlas.gpkg"))


@dataclass
class ImportResult:
    """What an import did: rows read, rows written, and the validation report."""

    layer: str
    mode: str
    n_read: int
    n_written: int
    report: ValidationReport

    @property
    def n_skipped(self) -> int:
        return self.n_read - self.n_written

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "mode": self.mode,
            "read": self.n_read,
            "written": self.n_written,
            "skipped": self.n_skipped,
            "notes": self.report.notes,
            "problems": [p.to_dict() for p in self.report.problems],
        }


class Atlas:
    """A GeoPackage atlas.

    Parameters
    ----------
    path : str or Path, optional
        The ``.gpkg`` file (default: :func:`default_atlas_path`). It must exist;
        use :meth:`Atlas.create` for a new one or ``placegeo demo`` for the demo.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import Point
    >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
    >>> pts = gpd.GeoDataFrame({"point_id": ["p1"], "name": ["趵突泉派出所"], "kind": ["relief_point"],
    ...                         "open_24h": [True], "district_code": ["370103"], "source": ["test"]},
    ...                        geometry=[Point(117.009, 36.660)], crs="EPSG:4490")
    >>> atlas.write("relief_points", pts)
    1
    >>> atlas.read("relief_points").loc[0, "name"]
    '趵突泉派出所'
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_atlas_path()
        self._staging: Path | None = None
        if not self.path.exists():
            raise AtlasError(
                f"no atlas at '{self.path}'; build the demo with `placegeo demo --atlas {self.path}` "
                "or create an empty one with Atlas.create()"
            )
        self._check_format(self.path)

    def __repr__(self) -> str:
        return f"Atlas('{self.path}')"

    # -- creation and low-level access ------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        name: str = "",
        extent: tuple[float, float, float, float] | None = None,
        overwrite: bool = False,
    ) -> Atlas:
        """Create an empty atlas (atomically); ``extent`` (lon/lat bounds) bounds where features may lie."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise AtlasError(f"'{path}' already exists; pass overwrite=True (CLI: --overwrite) to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp.gpkg")
        try:
            wgs84 = gpd.GeoSeries([], crs=4326).crs.to_wkt().replace("'", "''")
            con = sqlite3.connect(tmp)
            con.executescript(_GPKG_DDL.replace("{wgs84}", wgs84) + _META_DDL)
            meta = {"name": name, "extent": json.dumps(list(extent or CHINA_EXTENT)),
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "format": "placegeo-atlas/1"}
            con.executemany("INSERT INTO placegeo_meta VALUES (?, ?)", meta.items())
            con.commit()
            con.close()
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return cls(path)

    @staticmethod
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
    def transaction(self) -> Iterator[Atlas]:
        """Group writes so they all land, or none does.

        >>> import tempfile
        >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
        >>> with atlas.transaction():
        ...     atlas.set_meta(name="济南")
        >>> atlas.meta["name"]
        '济南'
        """
        if self._staging is not None:  # nested: the outer transaction decides
            yield self
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AtlasError(
                    f"another process is writing to '{self.path}'; wait for it to finish and try again"
                ) from None
            staging = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex}.tmp.gpkg")
            try:
                shutil.copyfile(self.path, staging)
                self._staging = staging
                yield self
                with open(staging, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.replace(staging, self.path)
                dir_fd = os.open(self.path.parent.resolve(), os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
            finally:
                self._staging = None
                staging.unlink(missing_ok=True)
                for suffix in ("-journal", "-wal", "-shm"):
                    Path(str(staging) + suffix).unlink(missing_ok=True)

    # -- metadata ---------------------------------------------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        with self._sql() as con:
            meta: dict[str, Any] = dict(con.execute("SELECT key, value FROM placegeo_meta").fetchall())
        if "extent" in meta:
            meta["extent"] = tuple(json.loads(meta["extent"]))
        return meta

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return self.meta.get("extent", CHINA_EXTENT)

    def set_meta(self, **values: Any) -> None:
        """Set atlas-level metadata (``name``, ``extent`` …)."""
        if "extent" in values:
            values["extent"] = json.dumps(list(values["extent"]))
        with self.transaction(), self._sql() as con:
            con.executemany("INSERT OR REPLACE INTO placegeo_meta VALUES (?, ?)",
                            [(k, str(v)) for k, v in values.items()])

    @property
    def codes(self) -> pd.DataFrame:
        """The admin code tree: code, name, level (district/town/village), parent_code."""
        with self._sql() as con:
            return pd.read_sql("SELECT code, name, level, parent_code FROM placegeo_admin_codes ORDER BY code", con)

    def code_set(self) -> set[str] | None:
        """All admin codes, or None when the atlas has no code table (codes then go unchecked)."""
        with self._sql() as con:
            rows = con.execute("SELECT code FROM placegeo_admin_codes").fetchall()
        return {r[0] for r in rows} or None

    def set_codes(self, codes: pd.DataFrame) -> None:
        """Replace the admin code tree (columns code, name, level, parent_code)."""
        missing = {"code", "name", "level", "parent_code"} - set(codes.columns)
        if missing:
            raise ValueError(f"the code table lacks columns {', '.join(sorted(missing))}; give code, name, "
                             "level (district/town/village) and parent_code")
        table = codes[["code", "name", "level", "parent_code"]].astype(object).where(codes.notna(), None)
        dup = table["code"].duplicated()
        if dup.any():
            raise ValueError(
                f"the code table repeats codes: {', '.join(table.loc[dup, 'code'].astype(str)[:5])}")
        with self.transaction(), self._sql() as con:
            con.execute("DELETE FROM placegeo_admin_codes")
            con.executemany("INSERT INTO placegeo_admin_codes VALUES (?, ?, ?, ?)",
                            table.itertuples(index=False, name=None))

    def layer_info(self) -> pd.DataFrame:
        """Title, counts, sources, licence and attribution of every stored layer."""
        with self._sql() as con:
            info = pd.read_sql("SELECT * FROM placegeo_layers ORDER BY name", con)
        text = ["title_zh", "title_en", "sources", "licence", "attribution", "updated"]
        info[text] = info[text].astype(object).where(info[text].notna(), "")
        return info

    # -- layers -----------------------------------------------------------------------------------
    def layers(self) -> list[str]:
        """Names of the layers stored in the atlas."""
        listed = pyogrio.list_layers(self._file)
        return sorted(str(n) for n, _ in listed if not str(n).startswith(_INTERNAL_PREFIX))

    def _require(self, name: str) -> None:
        if name not in self.layers():
            stored = ", ".join(self.layers()) or "none"
            raise LayerNotFoundError(f"layer '{name}' is not in atlas '{self.path}' (stored: {stored})")

    def read(
        self,
        name: str,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        columns: list[str] | None = None,
        where: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a layer as a GeoDataFrame in EPSG:4490, with the registry's column types.

        ``bbox`` is (minx, miny, maxx, maxy) in longitude/latitude and uses the spatial index.
        """
        self._require(name)
        gdf = pyogrio.read_dataframe(self._file, layer=name, bbox=bbox, columns=columns, where=where,
                                     use_arrow=True)
        if gdf.crs is None:
            gdf = gdf.set_crs(CGCS2000)
        registry = load_registry()
        if name in registry:
            gdf = _apply_types(gdf, registry[name])
        return gdf

    def keys(self, name: str) -> pd.Index:
        """The primary keys stored in a layer."""
        spec = get_layer(name)
        if name not in self.layers():
            return pd.Index([], dtype=object)
        df = pyogrio.read_dataframe(self._file, layer=name, columns=[spec.primary_key], read_geometry=False,
                                    use_arrow=True)
        return pd.Index(df[spec.primary_key].astype(str))

    def count(self, name: str) -> int:
        self._require(name)
        return int(pyogrio.read_info(self._file, layer=name)["features"])

    def write(
        self,
        name: str,
        gdf: gpd.GeoDataFrame,
        *,
        mode: str = "replace",
        licence: str | None = None,
        attribution: str | None = None,
        validate: bool = True,
    ) -> int:
        """Validate ``gdf`` against layer ``name`` and store it; returns the number of features written.

        ``mode`` is ``replace`` (the layer becomes ``gdf``) or ``append`` (keys must be new).
        Raises :class:`~placegeo.errors.ValidationError` listing every problem; then nothing is written.
        """
        if mode not in ("replace", "append"):
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        spec = get_layer(name)
        if gdf.crs is None:
            raise CRSError(
                "the data has no CRS; set the one its coordinates are in (e.g. .set_crs('EPSG:4490')), "
                "or convert GCJ-02/BD-09 data with placegeo.crs.shift_datum first"
            )
        if validate:
            existing = self.keys(name) if mode == "append" else None
            report = validate_layer(gdf, spec, codes=self.code_set(), extent=self.extent, existing_keys=existing)
            report.raise_if_problems()
            data = report.data
        else:
            data = gdf.to_crs(CGCS2000) if gdf.crs.to_epsg() != 4490 else gdf
        self._store(spec, data, mode=mode, licence=licence, attribution=attribution)
        return len(data)

    def _store(self, spec: LayerSpec, data: gpd.GeoDataFrame, *, mode: str, licence, attribution) -> None:
        append = mode == "append" and spec.name in self.layers()
        with self.transaction():
            pyogrio.write_dataframe(
                data, self._file, layer=spec.name, driver="GPKG", append=append, use_arrow=True,
                geometry_type=spec.geometry,
                layer_options=None if append else {"OVERWRITE": "YES", "DESCRIPTION": spec.title_zh},
            )
            self._record_layer(spec, licence=licence, attribution=attribution)

    def _record_layer(self, spec: LayerSpec, *, licence: str | None, attribution: str | None) -> None:
        with self._sql() as con:
            table = spec.name.replace('"', '""')
            sources = sorted(r[0] for r in con.execute(f'SELECT DISTINCT source FROM "{table}"') if r[0])
            n_features, n_sample = con.execute(f'SELECT count(*), coalesce(sum(sample), 0) FROM "{table}"').fetchone()
            old = con.execute("SELECT licence, attribution FROM placegeo_layers WHERE name=?",
                              (spec.name,)).fetchone() or (None, None)
            licence = licence if licence is not None else old[0]
            attribution = attribution if attribution is not None else old[1]
            has_osm = any("openstreetmap" in s.lower() or "osm" in s.lower().split() for s in sources)
            # ODbL: the notice travels with every layer that holds OpenStreetMap data
            if has_osm and (not attribution or OSM_ATTRIBUTION not in attribution):
                attribution = "; ".join(filter(None, [attribution, OSM_ATTRIBUTION]))
            con.execute(
                "INSERT OR REPLACE INTO placegeo_layers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (spec.name, spec.title_zh, spec.title_en, n_features, int(n_sample),
                 " | ".join(sources), licence, attribution, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
            )

    def summary(self) -> pd.DataFrame:
        """One row per stored layer: titles, feature count, share of sample features, sources, attribution."""
        info = self.layer_info().set_index("name")
        rows = []
        for name in self.layers():
            r = info.loc[name] if name in info.index else None
            count = int(pyogrio.read_info(self._file, layer=name)["features"])
            sample = int(r["sample_count"]) if r is not None else 0
            rows.append({
                "layer": name,
                "title": r["title_zh"] if r is not None else "",
                "features": count,
                "sample_share": round(sample / count, 3) if count else 0.0,
                "sources": r["sources"] if r is not None else "",
                "attribution": r["attribution"] if r is not None else "",
            })
        return pd.DataFrame(rows, columns=["layer", "title", "features", "sample_share", "sources", "attribution"])

    # -- import -----------------------------------------------------------------------------------
    def import_file(
        self,
        path: str | Path,
        layer: str,
        *,
        datum: str | None = None,
        encoding: str | None = None,
        mode: str = "append",
        strict: bool = False,
        source: str | None = None,
        lon_col: str | None = None,
        lat_col: str | None = None,
        source_layer: str | None = None,
    ) -> ImportResult:
        """Read a file, validate it for ``layer`` and store it.

        Without ``strict``, rows with problems are skipped and reported and the rest is written;
        with ``strict`` any problem refuses the whole file. When the input is refused
        (:class:`~placegeo.errors.ValidationError`) or anything fails, the atlas is unchanged.
        ``source`` fills the ``source`` field where the file has none (default: the file's name).
        """
        from placegeo.readers import read_file

        if mode not in ("replace", "append"):
            raise ValueError(f"--mode must be 'append' or 'replace', not {mode!r}")
        spec = get_layer(layer)
        gdf = read_file(path, datum=datum, encoding=encoding, lon_col=lon_col, lat_col=lat_col,
                        layer=source_layer)
        existing = self.keys(layer) if mode == "append" else None
        report = validate_layer(gdf, spec, codes=self.code_set(), extent=self.extent, existing_keys=existing,
                                defaults={"source": source or Path(path).name, "sample": False})
        if report.problems and (strict or report.n_bad == report.n_rows):
            raise ValidationError(report.problems, layer=layer)
        good = report.valid_rows()
        self._store(spec, good, mode=mode, licence=None, attribution=None)
        return ImportResult(layer, mode, report.n_rows, len(good), report)


def _apply_types(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    casts = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}
    for f in spec.fields:
        if f.name in gdf.columns and f.type in casts:
            col = gdf[f.name]
            if f.type == "boolean" and col.dtype == object:
                col = col.map(lambda v: None if v is None or v != v else bool(v))
            gdf[f.name] = col.astype(casts[f.type])
    return gdf


def read_layer(atlas: str | Path | Atlas, name: str, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read layer ``name`` from an atlas (path or :class:`Atlas`); see :meth:`Atlas.read`."""
    return (atlas if isinstance(atlas, Atlas) else Atlas(atlas)).read(name, **kwargs)


def write_layer(atlas: str | Path | Atlas, name: str, gdf: gpd.GeoDataFrame, **kwargs: Any) -> int:
    """Validate and write layer ``name`` into an atlas (atomically); see :meth:`Atlas.write`."""
    return (atlas if isinstance(atlas, Atlas) else Atlas(atlas)).write(name, gdf, **kwargs)
