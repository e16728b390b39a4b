"""placegeo: civil-affairs (民政) planning toolkit for Chinese cities.

The names below are loaded on first use (PEP 562), so ``placegeo --help`` and light commands
start without geopandas; ``from placegeo import Atlas`` works as always.

>>> import placegeo
>>> sorted(placegeo.load_registry())[:2]
['admin_units', 'cemeteries']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from placegeo.errors import (
    AtlasError,
    CRSError,
    DatumError,
    GeographicCRSError,
    LayerNotFoundError,
    PlacegeoError,
    Problem,
    SchemaError,
    ValidationError,
)

if TYPE_CHECKING:
    from placegeo.atlas import Atlas, copy_atlas, default_atlas_path, read_layer, write_layer
    from placegeo.crs import convert, gk_zone_crs, shift_datum, to_metric
    from placegeo.ingest import ImportResult, import_file
    from placegeo.readers import read_file
    from placegeo.registry import get_layer, load_registry

__version__ = "0.1.0"

#: Where each name loaded on first use lives.
_LAZY = {
    "Atlas": "atlas", "copy_atlas": "atlas", "default_atlas_path": "atlas", "read_layer": "atlas",
    "write_layer": "atlas", "convert": "crs", "gk_zone_crs": "crs", "shift_datum": "crs", "to_metric": "crs",
    "ImportResult": "ingest", "import_file": "ingest", "read_file": "readers", "get_layer": "registry",
    "load_registry": "registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"placegeo.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'placegeo' has no attribute {name!r}")


__all__ = [
    "Atlas",
    "AtlasError",
    "CRSError",
    "DatumError",
    "GeographicCRSError",
    "ImportResult",
    "LayerNotFoundError",
    "PlacegeoError",
    "Problem",
    "SchemaError",
    "ValidationError",
    "__version__",
    "convert",
    "copy_atlas",
    "default_atlas_path",
    "get_layer",
    "gk_zone_crs",
    "import_file",
    "load_registry",
    "read_file",
    "read_layer",
    "shift_datum",
    "to_metric",
    "write_layer",
]
