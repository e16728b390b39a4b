"""placegeo: civil-affairs (民政) planning toolkit for Chinese cities.

>>> import placegeo
>>> sorted(placegeo.load_registry())[:2]
['admin_units', 'cemeteries']
"""

import importlib
from typing import Any

# Imported on first use (PEP 562): `import placegeo.search` must not pay for GeoPandas and GDAL,
# so a cold `placegeo search` answers quickly.
_EXPORTS = {
    "placegeo.atlas": ["Atlas", "copy_atlas", "default_atlas_path", "read_layer", "write_layer"],
    "placegeo.crs": ["convert", "gk_zone_crs", "shift_datum", "to_metric"],
    "placegeo.errors": ["AtlasError", "CRSError", "DatumError", "GeographicCRSError", "LayerNotFoundError",
                        "PlacegeoError", "Problem", "SchemaError", "ValidationError"],
    "placegeo.ingest": ["ImportResult", "import_file"],
    "placegeo.readers": ["read_file"],
    "placegeo.registry": ["get_layer", "load_registry"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'placegeo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__version__ = "0.1.0"

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
