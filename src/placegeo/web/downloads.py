"""Downloads of whole layers in the export formats, made once per atlas revision and kept."""

from __future__ import annotations

import re

from flask import Blueprint, request, send_from_directory
from werkzeug.exceptions import NotFound

from placegeo.errors import BadParameter
from placegeo.storage import _atomic
from placegeo.web.state import view

__all__ = ["downloads"]

downloads = Blueprint("downloads", __name__)
DOWNLOAD_FORMATS = {"gpkg": "gpkg", "shp.zip": "shp", "geojson": "geojson", "kml": "kml", "csv": "csv"}
DOWNLOAD_CRS = {"4490": "EPSG:4490", "4326": "EPSG:4326", "gcj02": "gcj02"}


@downloads.get("/download/<filename>")
def download(filename: str):
    m = re.fullmatch(r"([a-z_]{2,40})\.(gpkg|shp\.zip|geojson|kml|csv)", filename)
    if not m or m.group(1) not in view().layers():
        raise NotFound(f"no download '{filename[:60]}'; see /api/layers")
    layer, ext = m.group(1), m.group(2)
    crs_key = request.args.get("crs", "4490")
    if crs_key not in DOWNLOAD_CRS:
        raise BadParameter("crs", f"'crs' must be one of {', '.join(DOWNLOAD_CRS)}")
    folder = view().export_dir / crs_key
    target = folder / filename
    made_from = folder / f".{filename}.revision"  # the atlas revision the file was made from
    revision = view().state.revision
    if not target.exists() or not made_from.exists() or made_from.read_text() != revision:
        from placegeo.export import export_layer

        # written beside and renamed in: a download is never half-written, whoever else is making it
        export_layer(view().layer(layer), target, fmt=DOWNLOAD_FORMATS[ext], crs=DOWNLOAD_CRS[crs_key], name=layer)
        _atomic.write_text(made_from, revision)
    return send_from_directory(folder, filename, as_attachment=True)
