"""SQLite identifiers quoted, for the GeoPackage modules (layer and table names come from users)."""

from __future__ import annotations

__all__ = ["q"]


def q(name: str) -> str:
    """An SQL identifier, quoted.

    >>> q('relief"points')
    '"relief""points"'
    """
    return '"' + name.replace('"', '""') + '"'
