"""Where an atlas is kept: a GeoPackage file or a PostGIS schema, behind one :class:`Store` interface.

:func:`open_store` chooses the store by the location: a path gives a
:class:`~placegeo.storage.gpkg.GeoPackageStore`, a ``postgresql://`` URL a
:class:`~placegeo.storage.postgis.PostGISStore` (imported only when used: the database driver is
not loaded for a GeoPackage atlas).
"""

from __future__ import annotations

import os

from placegeo.errors import AtlasError
from placegeo.storage.base import LAYER_INFO_COLUMNS, Store

__all__ = ["LAYER_INFO_COLUMNS", "Store", "create_store", "is_database_url", "open_store", "store_class",
           "store_exists"]


def is_database_url(location: str | os.PathLike | None) -> bool:
    """Whether an atlas location is a PostgreSQL URL rather than a file.

    >>> is_database_url("postgresql://planner@db/minzheng?schema=jinan"), is_database_url("atlas.gpkg")
    (True, False)
    """
    return isinstance(location, str) and location.split("://", 1)[0].lower() in ("postgresql", "postgres")


def store_class(location: str | os.PathLike) -> type[Store]:
    """The kind of store a location names."""
    if is_database_url(location):
        from placegeo.storage.postgis import PostGISStore

        return PostGISStore
    text = str(location)
    if "://" in text:
        raise AtlasError(f"'{text.split('://')[0]}://' atlases are not supported; give a .gpkg file or a "
                         "postgresql://user@host:port/database URL")
    from placegeo.storage.gpkg import GeoPackageStore

    return GeoPackageStore


def open_store(location: str | os.PathLike) -> Store:
    """The store of the atlas at ``location``; it must exist."""
    return store_class(location)(location)  # type: ignore[call-arg]


def create_store(location: str | os.PathLike, *, meta: dict[str, str], overwrite: bool = False) -> Store:
    """A new, empty store at ``location`` holding ``meta``."""
    return store_class(location).create(location, meta=meta, overwrite=overwrite)


def store_exists(location: str | os.PathLike) -> bool:
    """Whether an atlas is kept at ``location`` (a file, or a database schema holding one)."""
    return store_class(location).exists(location)
