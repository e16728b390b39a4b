"""OGC API - Tiles: Mapbox vector tiles of each collection in the WebMercatorQuad tiling scheme.

The route does not know where the atlas is kept: :meth:`placegeo.atlas.Atlas.tile` has PostGIS
make the tile (``ST_AsMVT``) or encodes the features the store finds in the tile's box. A tile with
no feature is a 204, as OGC API - Tiles allows, so the page draws nothing there without an error.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import NotFound

from placegeo.errors import BadParameter
from placegeo.tiles import MAX_ZOOM, WEB_MERCATOR_HALF_M, tile_in_range
from placegeo.web.geojson import url
from placegeo.web.ogc import check_params, output_format, require_collection, respond, self_links
from placegeo.web.state import collections_view as view  # every city's collections at /collections

__all__ = ["MVT", "TMS_ID", "ogc_tiles", "tile_properties"]

ogc_tiles = Blueprint("ogc_tiles", __name__)
MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


def _tile_matrix_set() -> dict[str, Any]:
    """The WebMercatorQuad definition (OGC Two Dimensional Tile Matrix Set 2.0), zoom 0 to MAX_ZOOM."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        cell = 2 * WEB_MERCATOR_HALF_M / 256 / 2**z
        matrices.append({"id": str(z), "scaleDenominator": cell / 0.00028, "cellSize": cell,
                         "cornerOfOrigin": "topLeft", "pointOfOrigin": [-WEB_MERCATOR_HALF_M, WEB_MERCATOR_HALF_M],
                         "tileWidth": 256, "tileHeight": 256, "matrixWidth": 2**z, "matrixHeight": 2**z})
    return {"id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI, "crs": _3857,
            "orderedAxes": ["X", "Y"], "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
            "tileMatrices": matrices}


@ogc_tiles.get("/tileMatrixSets")
def tile_matrix_sets():
    check_params("f")
    fmt = output_format()
    return respond({"tileMatrixSets": [{"id": TMS_ID, "title": "WebMercatorQuad", "uri": TMS_URI,
                                        "links": [{"href": url(f"/tileMatrixSets/{TMS_ID}"), "type": "application/json",
                                                   "rel": f"{_REL}tiling-scheme"}]}],
                    "links": self_links("/tileMatrixSets", fmt)}, fmt, title="Tiling schemes")


@ogc_tiles.get("/tileMatrixSets/<tms>")
def tile_matrix_set(tms: str):
    _require_tms(tms)
    check_params("f")
    fmt = output_format()
    return respond({**_tile_matrix_set(), "links": self_links(f"/tileMatrixSets/{TMS_ID}", fmt)}, fmt)


def _require_tms(tms: str) -> None:
    if tms != TMS_ID:
        raise NotFound(f"no tiling scheme '{tms[:40]}'; this site offers {TMS_ID}")


def _tileset(name: str, fmt: str, *, listed: bool = False) -> dict[str, Any]:
    path = f"/collections/{name}/tiles/{TMS_ID}"
    spec = view().registry[name]
    links = [{"href": url(path), "rel": "self", "type": "application/json"}] if listed else self_links(path, fmt)
    return {"title": f"{spec.title_zh} ({TMS_ID})", "dataType": "vector", "crs": _3857, "tileMatrixSetURI": TMS_URI,
            "layers": [{"id": name, "dataType": "vector", "geometryType": spec.geometry.lower(),
                        "propertiesSchema": {"type": "object", "properties": {
                            c: {"type": "string" if c != "sample" else "integer"} for c in tile_properties(name)}}}],
            "links": [*links,
                      {"href": url(f"/tileMatrixSets/{TMS_ID}"), "rel": f"{_REL}tiling-scheme",
                       "type": "application/json"},
                      {"href": url(f"/collections/{name}"), "rel": "collection", "type": "application/json"},
                      {"href": url(path) + "/{tileMatrix}/{tileRow}/{tileCol}", "rel": "item", "type": MVT,
                       "templated": True}]}


def tile_properties(name: str) -> list[str]:
    """The fields a tile's features carry: key, display name, sample mark and admin level (those the layer has)."""
    spec = view().registry[name]
    return [c for c in dict.fromkeys([spec.primary_key, spec.display_field, "sample", "level"]) if c in spec.columns]


@ogc_tiles.get("/collections/<name>/tiles")
def tilesets(name: str):
    require_collection(name)
    check_params("f")
    fmt = output_format()
    return respond({"tilesets": [_tileset(name, fmt, listed=True)],
                    "links": self_links(f"/collections/{name}/tiles", fmt)},
                   fmt, title=f"{view().registry[name].title_zh}: vector tiles")


@ogc_tiles.get("/collections/<name>/tiles/<tms>")
def tileset(name: str, tms: str):
    require_collection(name)
    _require_tms(tms)
    check_params("f")
    fmt = output_format()
    return respond(_tileset(name, fmt), fmt)


@ogc_tiles.get("/collections/<name>/tiles/<tms>/<int:z>/<int:y>/<int:x>")
def tile(name: str, tms: str, z: int, y: int, x: int):
    require_collection(name)
    _require_tms(tms)
    check_params("f")
    if request.args.get("f", "mvt") != "mvt":
        raise BadParameter("f", "'f' must be mvt: tiles are Mapbox vector tiles")
    if not tile_in_range(z, x, y):
        raise NotFound(f"no tile {z}/{y}/{x} in {TMS_ID}: tileMatrix 0 to {MAX_ZOOM}, tileRow and tileCol "
                       "0 to 2^tileMatrix - 1")
    data = view().tile(name, z, x, y, columns=tile_properties(name))
    if not data:
        return Response(status=204)
    return Response(data, mimetype=MVT)
