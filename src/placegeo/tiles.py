"""Mapbox vector tiles of a layer in the WebMercatorQuad tiling: tile arithmetic and the encoder.

A store that can make tiles itself (PostGIS: ``ST_AsMVT``) does; for the others the atlas reads
the features in the tile's box and :func:`encode_tile` writes them. Both follow the same rules:
geometries clipped to the tile plus a small buffer, polygons and lines simplified to a pixel of the
zoom, points thinned to one per cell of :data:`POINT_CELL` tile units (a tile of 4096 units drawn
on 256 pixels: one point per 2 x 2 pixels), so a tile of a million-point layer stays small.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["BUFFER", "EXTENT", "MAX_ZOOM", "POINT_CELL", "WEB_MERCATOR_HALF_M", "encode_tile", "tile_bounds_3857",
           "tile_bounds_lonlat", "tile_in_range"]

#: tile units across a tile, and the clip buffer around it in the same units
EXTENT = 4096
BUFFER = 64
#: points closer than this many tile units keep one of them
POINT_CELL = 32
MAX_ZOOM = 22
#: half the width of the WebMercatorQuad square, in metres
WEB_MERCATOR_HALF_M = 20037508.342789244


def tile_in_range(z: int, x: int, y: int) -> bool:
    """Whether tile ``z/x/y`` exists in WebMercatorQuad.

    >>> tile_in_range(1, 1, 1), tile_in_range(1, 2, 0), tile_in_range(23, 0, 0)
    (True, False, False)
    """
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's box in EPSG:3857 metres (row 0 at the top).

    >>> [round(v) for v in tile_bounds_3857(1, 0, 0)]
    [-20037508, 0, 0, 20037508]
    """
    size = 2 * WEB_MERCATOR_HALF_M / 2**z
    minx = -WEB_MERCATOR_HALF_M + x * size
    maxy = WEB_MERCATOR_HALF_M - y * size
    return minx, maxy - size, minx + size, maxy


def tile_bounds_lonlat(z: int, x: int, y: int, *, buffer: float = 0.0) -> tuple[float, float, float, float]:
    """The tile's box in longitude/latitude, widened by ``buffer`` tile units on each side.

    >>> [round(v, 4) for v in tile_bounds_lonlat(2, 3, 1)]
    [90.0, 0.0, 180.0, 66.5133]
    """
    minx, miny, maxx, maxy = tile_bounds_3857(z, x, y)
    pad = (maxx - minx) * buffer / EXTENT
    lon = np.degrees(np.clip([minx - pad, maxx + pad], -WEB_MERCATOR_HALF_M, WEB_MERCATOR_HALF_M) / 6378137.0)
    lat = np.degrees(2 * np.arctan(np.exp(np.clip([miny - pad, maxy + pad], -WEB_MERCATOR_HALF_M,
                                                  WEB_MERCATOR_HALF_M) / 6378137.0)) - math.pi / 2)
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def _to_tile_units(geoms: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """Longitude/latitude geometries in tile units: x right, y down, 0..EXTENT across the tile."""
    minx, _miny, maxx, maxy = tile_bounds_3857(z, x, y)
    scale = EXTENT / (maxx - minx)

    def project(coords: np.ndarray) -> np.ndarray:
        lat = np.clip(coords[:, 1], -85.0511287798, 85.0511287798)
        mx = np.radians(coords[:, 0]) * 6378137.0
        my = np.log(np.tan(math.pi / 4 + np.radians(lat) / 2)) * 6378137.0
        return np.column_stack([(mx - minx) * scale, (maxy - my) * scale])

    return shapely.transform(geoms, project)


def encode_tile(gdf: gpd.GeoDataFrame, z: int, x: int, y: int, *, layer: str,
                columns: list[str] | None = None) -> bytes:
    """The features of ``gdf`` (longitude/latitude) that fall in tile ``z/x/y``, as one MVT layer.

    Returns empty bytes when nothing is left in the tile.

    >>> import geopandas as gpd, shapely, mapbox_vector_tile
    >>> pts = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(117.0, 36.65),
    ...                        shapely.Point(-70, 40)], crs=4490)
    >>> tile = encode_tile(pts, 8, 211, 99, layer="names")
    >>> [f["properties"] for f in mapbox_vector_tile.decode(tile)["names"]["features"]]
    [{'name': 'a'}]
    >>> encode_tile(pts, 8, 0, 0, layer="names")
    b''
    """
    import mapbox_vector_tile

    if gdf.empty:
        return b""
    geoms = _to_tile_units(np.asarray(gdf.geometry.values), z, x, y)
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    polygonal = shapely.get_type_id(geoms) >= 1  # lines and polygons (points are type 0)
    geoms[polygonal] = shapely.simplify(geoms[polygonal], EXTENT / 256 / 2, preserve_topology=True)
    keep = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    keep &= _one_point_per_cell(geoms)
    if not keep.any():
        return b""
    names = [c for c in (columns if columns is not None else gdf.columns) if c != gdf.geometry.name]
    values = [[_mvt_value(v) for v in gdf[c].to_numpy()[keep].tolist()] for c in names]
    features = [{"geometry": g, "properties": {n: col[i] for n, col in zip(names, values, strict=True)
                                               if col[i] is not None}}
                for i, g in enumerate(geoms[keep].tolist())]
    return mapbox_vector_tile.encode([{"name": layer, "features": features}],
                                     default_options={"quantize_bounds": None, "y_coord_down": True,
                                                      "extents": EXTENT})


def _one_point_per_cell(geoms: np.ndarray) -> np.ndarray:
    """True for the first point in each cell of POINT_CELL tile units, and for every other geometry."""
    keep = np.ones(len(geoms), dtype=bool)
    points = np.flatnonzero(shapely.get_type_id(geoms) == 0)
    if len(points):
        cells = np.floor(shapely.get_coordinates(geoms[points]) / POINT_CELL).astype(np.int64)
        _, first = np.unique(cells[:, 0] * 1_000_003 + cells[:, 1], return_index=True)
        keep[points] = False
        keep[points[first]] = True
    return keep


def _mvt_value(value: Any) -> Any:
    """A property value a vector tile can hold (None: left out of the feature)."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
