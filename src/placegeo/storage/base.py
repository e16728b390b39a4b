"""What an atlas needs of the place it is kept in: the :class:`Store` protocol.

A store keeps an atlas's layers (in EPSG:4490) and its own small tables: metadata, the layer
records (:data:`LAYER_INFO_COLUMNS`), the admin code tree and derived artifacts (the search
index). It owns how it reads: a page of features in a box, a feature by key, a whole layer. It
knows nothing of validation, imports or the registry's field types: those live above it, in
:class:`placegeo.atlas.Atlas`, which is the only caller of a store.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # imported lazily: a cold `placegeo search` reads the index tables without pandas
    import geopandas as gpd
    import pandas as pd

    from placegeo.registry import LayerSpec
    from placegeo.storage.searchdb import PgSearchTables, SqliteSearchTables

__all__ = ["ATLAS_FORMAT", "HISTORY_KEEP", "INTERNAL_PREFIX", "LAYER_INFO_COLUMNS", "Store", "history_command",
           "none_for_missing"]

ATLAS_FORMAT = "placegeo-atlas/1"
INTERNAL_PREFIX = "placegeo_"
#: The columns of the layer records every store keeps (``placegeo_layers``).
LAYER_INFO_COLUMNS = ["name", "title_zh", "title_en", "feature_count", "sample_count", "sources", "licence",
                      "attribution", "updated"]

#: How many revisions an atlas keeps for undo (older ones, and what they kept aside, are dropped).
HISTORY_KEEP = 20

BBox = tuple[float, float, float, float]


def history_command() -> str:
    """The command a revision is recorded with: the ``placegeo`` command being run
    (:data:`placegeo._command.CURRENT`), else ``$PLACEGEO_COMMAND``, else this process's command line.

    >>> import os; os.environ["PLACEGEO_COMMAND"] = "placegeo import x.csv"; history_command()
    'placegeo import x.csv'
    >>> del os.environ["PLACEGEO_COMMAND"]
    """
    from placegeo._command import CURRENT

    if CURRENT.get():
        return str(CURRENT.get())
    if os.environ.get("PLACEGEO_COMMAND"):
        return os.environ["PLACEGEO_COMMAND"]
    argv = sys.argv or [""]
    return shlex.join([Path(argv[0]).name, *argv[1:]])[:500]


class Store(Protocol):
    """The storage hooks of an atlas; :mod:`placegeo.storage.gpkg` and :mod:`placegeo.storage.postgis`
    implement them.

    Reads return raw frames in EPSG:4490 (the atlas applies the registry's column types). Writes
    happen inside :meth:`transaction`, which lands everything written in it or nothing.
    """

    backend: str
    location: str

    # -- lifecycle ----------------------------------------------------------------------------------
    @classmethod
    def create(cls, location: str | os.PathLike, *, meta: dict[str, str], overwrite: bool) -> Store:
        """A new, empty store at ``location`` holding ``meta``."""
        ...

    @classmethod
    def exists(cls, location: str | os.PathLike) -> bool:
        """Whether an atlas is kept at ``location``."""
        ...

    @classmethod
    def replace_with(cls, location: str | os.PathLike, fill: Callable[[Store], None]) -> Store:
        """Make the store at ``location`` hold only what ``fill`` writes into it, at once or not at all."""
        ...

    def backup(self, stamp: str) -> str:
        """Copy the whole atlas beside itself (a file, a schema) named with ``stamp``; returns its location."""
        ...

    def same_place(self, location: str | os.PathLike) -> bool:
        """Whether ``location`` names this very store."""
        ...

    def close(self) -> None:
        """Release connections; the store can still be used, it reconnects."""
        ...

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Writes inside land together or not at all; nested transactions join the outer one."""
        ...

    @property
    def revision(self) -> str:
        """A token that changes with every committed write."""
        ...

    # -- small tables -------------------------------------------------------------------------------
    def meta_items(self) -> dict[str, str]: ...

    def put_meta(self, items: dict[str, str]) -> None: ...

    def read_codes(self) -> pd.DataFrame:
        """The admin code tree: code, name, level, parent_code (text; missing as NaN)."""
        ...

    def put_codes(self, table: pd.DataFrame) -> None: ...

    def codes_present(self, codes: Sequence[str]) -> set[str] | None:
        """Which of ``codes`` the code tree holds (lookups on its key, not a read of the tree); None when
        the tree is empty."""
        ...

    def read_layer_info(self) -> pd.DataFrame:
        """The layer records, :data:`LAYER_INFO_COLUMNS`."""
        ...

    def put_layer_info(self, rows: list[tuple]) -> None: ...

    def load_artifact(self, name: str) -> bytes | None: ...

    def search_tables(self) -> SqliteSearchTables | PgSearchTables:
        """The place-name index's tables beside the layers, written inside the store's transaction."""
        ...

    def save_artifact(self, name: str, data: bytes) -> None:
        """Keep derived bytes; saving does not change :attr:`revision`."""
        ...

    # -- layers -------------------------------------------------------------------------------------
    def layers(self) -> list[str]:
        """The atlas's layers (not its own tables), sorted."""
        ...

    def count(self, name: str) -> int: ...

    def read(self, name: str, *, bbox: BBox | None = None, columns: list[str] | None = None,
             where: str | None = None) -> gpd.GeoDataFrame:
        """Features of a layer in stored order; ``where`` is trusted SQL."""
        ...

    def page(self, name: str, *, bbox: BBox | None = None, key: str | None = None, key_field: str = "",
             limit: int = 100, offset: int = 0) -> tuple[gpd.GeoDataFrame, int]:
        """One page of the features intersecting ``bbox`` (with ``key_field == key``), and how many match;
        both from the same state of the layer."""
        ...

    def read_keys(self, name: str, key: str) -> pd.Series:
        """The values of field ``key`` as text, in stored order."""
        ...

    def keys_present(self, name: str, key_field: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` the layer holds in ``key_field`` (an index lookup, not a scan); none if no layer."""
        ...

    def write_data(self, spec: LayerSpec, data: gpd.GeoDataFrame, *, append: bool) -> None: ...

    def history(self) -> list[dict]:
        """The revisions that can be undone, newest first: ``rev``, ``at`` (UTC), ``command`` and
        ``layers`` ({name: {op, rows_before, rows_after}}; op is create, replace or append)."""
        ...

    def undo(self) -> dict:
        """Restore the atlas as before its last recorded write (layers, metadata, layer records, codes);
        returns that write's record, as :meth:`history` lists it."""
        ...

    def layer_stats(self, name: str) -> tuple[list[str], int, int]:
        """Distinct sources, feature count and sample count of a stored layer."""
        ...

    def tile(self, name: str, z: int, x: int, y: int, *, columns: list[str]) -> bytes | None:
        """Tile ``z/x/y`` (WebMercatorQuad) of a layer as a Mapbox vector tile with ``columns`` as properties,
        made by the store itself following :mod:`placegeo.tiles`' rules (empty bytes: no feature in it);
        None when the store does not make tiles and the atlas encodes the features it reads."""
        ...


def none_for_missing(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as Python objects with None where a value is missing, as the stores take rows."""
    return df.astype(object).where(df.notna(), None)


def none_if_na(value: Any) -> Any:
    """None for a missing value (None, NaN, pandas NA), else the value."""
    import pandas as pd

    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value
