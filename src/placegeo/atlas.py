"""The atlas: every layer of a city in one place, a GeoPackage file or a PostGIS database.

Layers are stored in CGCS2000 geographic coordinates (EPSG:4490), checked against their
definitions in ``layers/`` on every write. Beside the layers an atlas holds small tables of its
own: metadata (name, extent, revision), the layer records (title, sources, licence and
attribution of each layer) and the admin code tree every admin code is checked against.

Where the atlas is kept is a :class:`~placegeo.storage.Store`, chosen by the location: a ``.gpkg``
path or a ``postgresql://`` URL (:func:`placegeo.storage.open_store`). :class:`Atlas` holds one
and gives both the same API; :func:`copy_atlas` moves a whole atlas between them. Writes are
atomic on both: a write, or a :meth:`Atlas.transaction` holding several, lands whole or not at
all, and readers see the atlas before it or after it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placegeo.crs import CGCS2000
from placegeo.errors import AtlasError, CRSError, LayerNotFoundError
from placegeo.registry import LayerSpec, get_layer, load_registry
from placegeo.storage import create_store, is_database_url, open_store, store_class, store_exists
from placegeo.storage.base import ATLAS_FORMAT, Store, none_for_missing, none_if_na
from placegeo.validate import validate_layer

if TYPE_CHECKING:
    from placegeo.ingest import ImportResult

__all__ = ["CHINA_EXTENT", "Atlas", "atlas_exists", "backup_atlas", "copy_atlas", "default_atlas_path",
           "is_database_url", "read_layer", "write_layer"]

#: China's extent, used when an atlas has none of its own: it still catches swapped coordinates.
CHINA_EXTENT = (73.4, 3.8, 135.1, 53.6)
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


def default_atlas_path() -> str:
    """``$PLACEGEO_ATLAS`` if set (a path or a ``postgresql://`` URL), else ``atlas.gpkg``."""
    return os.environ.get("PLACEGEO_ATLAS") or "atlas.gpkg"


def atlas_exists(location: str | os.PathLike) -> bool:
    """Whether an atlas is at ``location`` (a file that exists, or a database schema holding one)."""
    return store_exists(location)


def _new_meta(name: str, extent: tuple[float, float, float, float] | None) -> dict[str, str]:
    return {"name": name, "extent": json.dumps(list(extent or CHINA_EXTENT)),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "format": ATLAS_FORMAT}


class Atlas:
    """An atlas: a GeoPackage file or a PostGIS database schema, chosen by ``location``.

    Parameters
    ----------
    location : str or Path, optional
        A ``.gpkg`` file, or a ``postgresql://user@host:port/db?schema=name`` URL (schema
        default ``public``); default :func:`default_atlas_path`. The atlas must exist: use
        :meth:`Atlas.create` for a new one, ``placegeo demo`` for the demo, or
        ``placegeo atlas copy`` to move one.
    store : Store, optional
        An opened store instead of a location (e.g. a PostGIS store with its own lock wait).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import Point
    >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
    >>> atlas.backend
    'gpkg'
    >>> pts = gpd.GeoDataFrame({"point_id": ["p1"], "name": ["趵突泉派出所"], "kind": ["relief_point"],
    ...                         "open_24h": [True], "district_code": ["370103"], "source": ["test"]},
    ...                        geometry=[Point(117.009, 36.660)], crs="EPSG:4490")
    >>> atlas.write("relief_points", pts)
    1
    >>> atlas.read("relief_points").loc[0, "name"]
    '趵突泉派出所'
    """

    def __init__(self, location: str | os.PathLike | None = None, *, store: Store | None = None):
        self.store: Store = store if store is not None else open_store(
            location if location is not None else default_atlas_path())

    @property
    def location(self) -> str:
        """Where the atlas is (a path, or a URL with any password shown as ``***``)."""
        return self.store.location

    @property
    def backend(self) -> str:
        """The kind of store, for display: ``gpkg`` or ``postgis``."""
        return self.store.backend

    def __repr__(self) -> str:
        return f"Atlas('{self.location}')"

    def __enter__(self) -> Atlas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release connections (PostGIS); the atlas can still be used, it reconnects."""
        self.store.close()

    @classmethod
    def create(
        cls,
        location: str | os.PathLike,
        *,
        name: str = "",
        extent: tuple[float, float, float, float] | None = None,
        overwrite: bool = False,
    ) -> Atlas:
        """Create an empty atlas; ``extent`` (lon/lat bounds) bounds where features may lie."""
        return cls(store=create_store(location, meta=_new_meta(name, extent), overwrite=overwrite))

    @classmethod
    def build(
        cls,
        location: str | os.PathLike,
        fill: Callable[[Atlas], None],
        *,
        name: str = "",
        extent: tuple[float, float, float, float] | None = None,
    ) -> Atlas:
        """Make the atlas at ``location`` hold only what ``fill`` writes into it, at once or not at all.

        An atlas already there is replaced when ``fill`` has succeeded (GeoPackage: built beside it
        and swapped in; PostGIS: emptied and filled in one transaction); a failure leaves it as it was.

        >>> import tempfile
        >>> path = tempfile.mkdtemp() + "/a.gpkg"
        >>> Atlas.build(path, lambda a: a.set_meta(note="filled"), name="济南").meta["note"]
        'filled'
        """
        meta = _new_meta(name, extent)

        def fill_store(store: Store) -> None:
            store.put_meta(meta)
            fill(cls(store=store))

        return cls(store=store_class(location).replace_with(location, fill_store))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Atlas]:
        """Group writes so they all land, or none does; readers see the atlas before or after, never between.

        >>> import tempfile
        >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
        >>> with atlas.transaction():
        ...     atlas.set_meta(name="济南")
        >>> atlas.meta["name"]
        '济南'
        """
        with self.store.transaction():
            yield self

    @property
    def revision(self) -> str:
        """A token that changes whenever anything in the atlas changes (for caches of its contents)."""
        return self.store.revision

    def layers(self) -> list[str]:
        """Names of the layers stored in the atlas."""
        return self.store.layers()

    def count(self, name: str) -> int:
        """Number of features in layer ``name``."""
        return self.store.count(name)

    def load_artifact(self, name: str) -> bytes | None:
        """Bytes derived from the atlas (the search index) saved with :meth:`save_artifact`, or None."""
        return self.store.load_artifact(name)

    def save_artifact(self, name: str, data: bytes) -> None:
        """Keep bytes derived from the atlas with it; saving one does not change :attr:`revision`."""
        self.store.save_artifact(name, data)

    # -- metadata ---------------------------------------------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.store.meta_items()
        meta.pop("revision", None)  # see Atlas.revision
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
        with self.transaction():
            self.store.put_meta({k: str(v) for k, v in values.items()})

    @property
    def codes(self) -> pd.DataFrame:
        """The admin code tree: code, name, level (district/town/village), parent_code."""
        return self.store.read_codes()

    def code_names(self) -> dict[str, str]:
        """Admin code → name, for every code of the code tree (the one map of codes to names)."""
        return dict(self.codes[["code", "name"]].itertuples(index=False))

    def codes_present(self, codes: Sequence[str]) -> set[str] | None:
        """Which of ``codes`` the code tree holds, or None when the atlas has no code tree (codes then go
        unchecked): lookups on the code's key, so checking a write costs as its codes, not as the tree
        (a national tree holds some 700,000 village codes).

        >>> import tempfile
        >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
        >>> atlas.codes_present(["370102"]) is None  # no code tree yet
        True
        >>> atlas.set_codes(pd.DataFrame({"code": ["370102"], "name": ["历下区"], "level": ["district"],
        ...                               "parent_code": ["370100"]}))
        >>> atlas.codes_present(["370102", "370199"])
        {'370102'}
        """
        return self.store.codes_present(codes)

    def set_codes(self, codes: pd.DataFrame) -> None:
        """Replace the admin code tree (columns code, name, level, parent_code)."""
        missing = {"code", "name", "level", "parent_code"} - set(codes.columns)
        if missing:
            raise ValueError(f"the code table lacks columns {', '.join(sorted(missing))}; give code, name, "
                             "level (district/town/village) and parent_code")
        table = none_for_missing(codes[["code", "name", "level", "parent_code"]])
        dup = table["code"].duplicated()
        if dup.any():
            raise ValueError(
                f"the code table repeats codes: {', '.join(table.loc[dup, 'code'].astype(str)[:5])}")
        with self.transaction():
            self.store.put_codes(table)
            self._index_names("admin_codes")

    def layer_info(self) -> pd.DataFrame:
        """Title, counts, sources, licence and attribution of every stored layer."""
        info = self.store.read_layer_info()
        text = ["title_zh", "title_en", "sources", "licence", "attribution", "updated"]
        info[text] = info[text].astype(object).where(info[text].notna(), "")
        return info

    # -- layers -----------------------------------------------------------------------------------
    def _require(self, name: str) -> None:
        stored = self.layers()
        if name not in stored:
            raise LayerNotFoundError(
                f"layer '{name}' is not in atlas '{self.location}' (stored: {', '.join(stored) or 'none'})", layer=name)

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
        ``where`` is an SQL condition on the layer's fields, passed to the store as it is:
        give it only text you wrote yourself, never text from a web request.
        """
        self._require(name)
        return _typed(self.store.read(name, bbox=bbox, columns=columns, where=where), name)

    def query(
        self,
        name: str,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        key: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[gpd.GeoDataFrame, int]:
        """One page of a layer's features that intersect ``bbox`` (and have primary key ``key``),
        and how many match in all.

        Both come from the same state of the layer, also while another process replaces it. The
        store answers from its indexes (GeoPackage: this process's copy of the layer with an
        STRtree; PostGIS: the GiST and key indexes), so paging a large layer stays cheap.
        """
        key_field = get_layer(name).primary_key if key is not None else ""
        page, matched = self.store.page(name, bbox=bbox, key=key, key_field=key_field, limit=limit, offset=offset)
        return _typed(page, name), matched

    def feature(self, name: str, key: str) -> gpd.GeoDataFrame:
        """The feature of layer ``name`` whose primary key is ``key`` (no rows when there is none)."""
        return self.query(name, key=key, limit=1)[0]

    def tile(self, name: str, z: int, x: int, y: int, *, columns: list[str]) -> bytes:
        """Tile ``z/x/y`` (WebMercatorQuad) of layer ``name`` as a Mapbox vector tile whose features carry
        ``columns``; empty bytes when no feature falls in it. See :mod:`placegeo.tiles` for the rules.

        The store makes it when it can (PostGIS: ``ST_AsMVT``); otherwise the features in the tile's
        box come from the store's index and :func:`placegeo.tiles.encode_tile` writes them.
        """
        from placegeo.tiles import BUFFER, encode_tile, tile_bounds_lonlat

        # no layer listing first (tens of ms on a GeoPackage): the store names a missing layer itself
        made = self.store.tile(name, z, x, y, columns=columns)
        if made is not None:
            return made
        box = tile_bounds_lonlat(z, x, y, buffer=BUFFER)
        found, _ = self.store.page(name, bbox=box, limit=2**62, offset=0)
        return encode_tile(found, z, x, y, layer=name, columns=[c for c in columns if c in found.columns])

    def keys_present(self, name: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` layer ``name`` already holds as primary keys: index lookups, cost as ``keys``.

        >>> import tempfile
        >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
        >>> atlas.keys_present("relief_points", ["p1"])  # no such layer yet: nothing is stored
        set()
        """
        return self.store.keys_present(name, get_layer(name).primary_key, [str(k) for k in keys])

    def history(self) -> pd.DataFrame:
        """The revisions that can be undone, newest first: rev, at (UTC), command, and per changed layer
        what was done and the rows before and after (``layers``, e.g. ``relief_points: append 168→170``).

        >>> import tempfile
        >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg")
        >>> atlas.set_meta(name="济南")
        >>> atlas.history()[["rev", "layers"]].to_dict("records")
        [{'rev': 1, 'layers': ''}]
        """
        rows = [{"rev": h["rev"], "at": h["at"], "command": h["command"],
                 "layers": "; ".join(f"{n}: {c['op']} {c['rows_before']}→{c['rows_after']}"
                                     for n, c in sorted(h["layers"].items()))} for h in self.store.history()]
        return pd.DataFrame(rows, columns=["rev", "at", "command", "layers"])

    def undo(self) -> dict:
        """Put the atlas back as it was before its last write (see :meth:`history`); returns that write's record.

        >>> import tempfile
        >>> atlas = Atlas.create(tempfile.mkdtemp() + "/a.gpkg", name="济南")
        >>> atlas.set_meta(name="济宁")
        >>> atlas.undo()["rev"], atlas.meta["name"]
        (1, '济南')
        """
        from placegeo.search import unindex_layer

        with self.store.transaction():  # the place-name index goes back with the layers, in one write
            record = self.store.undo()
            present = set(self.layers())
            for layer in record["layers"]:
                if layer in present:
                    self._index_names(layer)
                else:
                    unindex_layer(self, layer)
            self._index_names("admin_codes")  # the code tree may have gone back too
        return record

    def keys(self, name: str) -> pd.Index:
        """The primary keys stored in a layer."""
        spec = get_layer(name)
        if name not in self.layers():
            return pd.Index([], dtype=object)
        return pd.Index(self.store.read_keys(name, spec.primary_key).astype(str))

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
        With ``validate=False`` the data is stored as it is (it must already be valid, e.g. checked
        by :func:`placegeo.ingest.import_file`); keys appended are checked again either way.
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
            existing = (lambda keys: self.keys_present(name, keys)) if mode == "append" else None
            report = validate_layer(gdf, spec, codes=self.codes_present, extent=self.extent, existing_keys=existing)
            report.raise_if_problems()
            data = report.data
        else:
            data = gdf.to_crs(CGCS2000) if gdf.crs.to_epsg() != 4490 else gdf
        self._put(spec, data, mode=mode, licence=licence, attribution=attribution)
        return len(data)

    def _put(self, spec: LayerSpec, data: gpd.GeoDataFrame, *, mode: str, licence, attribution) -> None:
        data = _promote_to_multi(data, spec)
        with self.transaction():
            append = mode == "append" and spec.name in self.layers()
            if append and spec.primary_key in data.columns:
                # checked again under the writers' lock: another planner may have added them since validation
                keys = data[spec.primary_key].astype(str)
                clash = keys.isin(self.keys_present(spec.name, keys.tolist()))
                if clash.any():
                    raise AtlasError(
                        f"keys {', '.join(data.loc[clash, spec.primary_key].astype(str)[:5])} of '{spec.name}' were "
                        "stored by another writer in the meantime; nothing was written, import again")
            self.store.write_data(spec, data, append=append)
            self._record_layer(spec, licence=licence, attribution=attribution, added=data if append else None)
            self._index_names(spec.name, data, append=append)

    def _index_names(self, layer: str, data: gpd.GeoDataFrame | None = None, *, append: bool = False) -> None:
        """Keep the place-name index (tables beside the layers) in step, inside the write's transaction."""
        from placegeo.search import index_layer

        index_layer(self, layer, data, append=append)

    def _record_layer(self, spec: LayerSpec, *, licence: str | None, attribution: str | None,
                      added: gpd.GeoDataFrame | None = None) -> None:
        info = self.store.read_layer_info().set_index("name")
        if added is not None and spec.name in info.index:
            # an append updates the record from the rows it adds: its cost does not grow with the layer
            old = info.loc[spec.name]
            new_sources = added["source"].dropna().astype(str) if "source" in added.columns else []
            sources = sorted({s for s in str(none_if_na(old["sources"]) or "").split(" | ") if s} | set(new_sources))
            n_features = int(old["feature_count"]) + len(added)
            n_sample = int(old["sample_count"]) + (int(added["sample"].fillna(False).astype(bool).sum())
                                                   if "sample" in added.columns else 0)
        else:
            sources, n_features, n_sample = self.store.layer_stats(spec.name)
        if spec.name in info.index:
            old = info.loc[spec.name]
            licence = licence if licence is not None else none_if_na(old["licence"])
            attribution = attribution if attribution is not None else none_if_na(old["attribution"])
        has_osm = any("openstreetmap" in s.lower() or "osm" in s.lower().split() for s in sources)
        # ODbL: the notice travels with every layer that holds OpenStreetMap data
        if has_osm and (not attribution or OSM_ATTRIBUTION not in attribution):
            attribution = "; ".join(filter(None, [attribution, OSM_ATTRIBUTION]))
        self.store.put_layer_info([(spec.name, spec.title_zh, spec.title_en, n_features, int(n_sample),
                                    " | ".join(sources), licence, attribution,
                                    dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))])

    def summary(self) -> pd.DataFrame:
        """One row per stored layer: titles, feature count, share of sample features, sources, attribution."""
        info = self.layer_info().set_index("name")
        rows = []
        for name in self.layers():
            r = info.loc[name] if name in info.index else None
            count = self.count(name)
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

    def import_file(self, path: str | Path, layer: str, **options: Any) -> ImportResult:
        """Read a file, validate it for ``layer`` and store it: :func:`placegeo.ingest.import_file`."""
        from placegeo.ingest import import_file

        return import_file(self, path, layer, **options)


def _promote_to_multi(data: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Single parts in a Multi* layer become one-part multis, as both stores declare the column Multi*."""
    if not spec.geometry.startswith("Multi"):
        return data
    geoms = np.asarray(data.geometry.values)
    single = np.asarray(shapely.get_type_id(geoms)) == {"MultiPoint": 0, "MultiLineString": 1,
                                                        "MultiPolygon": 3}[spec.geometry]
    if not single.any():
        return data
    make = {"MultiPoint": shapely.multipoints, "MultiLineString": shapely.multilinestrings,
            "MultiPolygon": shapely.multipolygons}[spec.geometry]
    geoms = geoms.copy()
    geoms[single] = [make([g]) for g in geoms[single]]
    return data.set_geometry(gpd.GeoSeries(geoms, index=data.index, crs=data.crs))


def copy_atlas(src: str | os.PathLike | Atlas, dst: str | os.PathLike, *, overwrite: bool = False) -> Atlas:
    """Copy a whole atlas, between GeoPackage and PostGIS in either direction.

    Everything is copied as it is, without validating again: metadata (name, extent, creation
    date), the code tree, every layer with its attributes and geometries in their order, and the
    layer records (title, counts, sources, licence, attribution, time of the last update). The
    copy lands whole or not at all: a failure leaves ``dst`` as it was, an atlas it replaces
    included. The place-name index is built anew in the copy, in the same transaction.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> a = Atlas.create(folder + "/a.gpkg", name="济南")
    >>> copy_atlas(a, folder + "/b.gpkg").meta["name"]
    '济南'
    """
    source = src if isinstance(src, Atlas) else Atlas(src)
    target_class = store_class(dst)
    if target_class is type(source.store) and source.store.same_place(dst):
        raise AtlasError(f"the copy would overwrite its source '{source.location}'; give another destination")
    if store_exists(dst) and not overwrite:
        raise AtlasError(f"'{dst}' already holds an atlas; pass overwrite=True (CLI: --overwrite) to replace it")
    registry = load_registry()
    missing = [name for name in source.layers() if name not in registry]
    if missing:
        raise AtlasError(f"layers {', '.join(missing)} of '{source.location}' have no definition in layers/; add "
                         "their YAML files before copying the atlas")

    def fill(target: Store) -> None:  # runs inside the target's transaction
        target.put_meta({k: v for k, v in source.store.meta_items().items() if k != "revision"})
        target.put_codes(none_for_missing(source.store.read_codes()))
        for name in source.layers():
            spec = registry[name]
            target.write_data(spec, _promote_to_multi(source.read(name), spec), append=False)
        info = source.store.read_layer_info()
        target.put_layer_info(list(none_for_missing(info).itertuples(index=False, name=None)))
        from placegeo.search import rebuild_index

        rebuild_index(Atlas(store=target))

    return Atlas(store=target_class.replace_with(dst, fill))


def backup_atlas(atlas: Atlas | str | os.PathLike) -> str:
    """Copy an atlas to a dated backup beside it; returns where it went.

    A GeoPackage ``atlas.gpkg`` goes to ``atlas.backup-20250301-093000.gpkg`` in the same folder
    (SQLite's online backup: a consistent copy even while others read it); a PostGIS atlas to the
    schema ``<schema>_backup_20250301_093000`` of the same database. A file that is not an atlas
    is copied as it is.

    >>> import tempfile
    >>> from pathlib import Path
    >>> kept = backup_atlas(Atlas.create(tempfile.mkdtemp() + "/a.gpkg", name="济南"))
    >>> Path(kept).name.startswith("a.backup-"), Atlas(kept).meta["name"]
    (True, '济南')
    """
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if isinstance(atlas, Atlas):
        return atlas.store.backup(stamp)
    if is_database_url(atlas):
        return Atlas(atlas).store.backup(stamp)
    import shutil

    path = Path(atlas)
    target = path.with_name(f"{path.stem}.backup-{stamp}{path.suffix}")
    shutil.copyfile(path, target)
    return str(target)


def _typed(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """A frame read from a store, in EPSG:4490 with the registry's column types."""
    if gdf.crs is None:
        gdf = gdf.set_crs(CGCS2000)
    registry = load_registry()
    if name not in registry:
        return gdf
    casts = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}
    for f in registry[name].fields:
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
