"""placegeo: civil-affairs (民政) planning toolkit for Chinese cities.

>>> import placegeo
>>> sorted(placegeo.load_registry())[:2]
['admin_units', 'cemeteries']
"""

from placegeo.atlas import Atlas, copy_atlas, default_atlas_path, read_layer, write_layer
from placegeo.crs import convert, gk_zone_crs, shift_datum, to_metric
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
from placegeo.ingest import ImportResult, import_file
from placegeo.readers import read_file
from placegeo.registry import get_layer, load_registry

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
