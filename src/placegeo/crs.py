"""Datums and coordinate reference systems, all in one place.

Chinese data arrives in four datums:

========== ============================ =========================================
name       who uses it                  how placegeo handles it
========== ============================ =========================================
wgs84      GPS, OpenStreetMap           EPSG:4326
cgcs2000   national surveying, 天地图   EPSG:4490 (the atlas's storage CRS)
gcj02      Amap (高德), Tencent          obfuscated offset of WGS84: not a CRS
bd09       Baidu                        a further offset of GCJ-02: not a CRS
========== ============================ =========================================

CGCS2000 and WGS84 differ by a few centimetres, far below the accuracy of
any data placegeo handles, so (like pyproj's ballpark transformation) they are
treated as the same datum. GCJ-02 and BD-09 are shifts of up to ~700 m and are
converted here with vectorised numpy; their inverses are solved by fixed-point
iteration to better than 1e-9 degrees (~0.1 mm), not by the usual one-step
approximation that is off by metres.

EPSG:4490, like EPSG:4326, declares latitude before longitude. Every transform
here is built with ``always_xy=True`` so arrays are always (longitude, latitude).

Metric work uses a CGCS2000 3-degree Gauss-Kruger zone picked from the data's
longitude: EPSG:4534-4554 (central meridians 75°E-135°E, no zone prefix in the
easting; EPSG:4548 for Jinan at 117°E) or, with ``zone_prefix=True``,
EPSG:4513-4533 (zones 25-45, easting prefixed by the zone number).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely

from placegeo.errors import CRSError, DatumError, GeographicCRSError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CGCS2000",
    "DATUMS",
    "WGS84",
    "convert",
    "convert_geometry",
    "gk_zone_crs",
    "normalize_datum",
    "parse_crs",
    "require_metric",
    "shift_datum",
    "to_metric",
    "transformer",
]

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"

DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84", "gps": "wgs84",
    "cgcs2000": "cgcs2000", "cgcs": "cgcs2000", "epsg:4490": "cgcs2000", "4490": "cgcs2000",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "tencent": "gcj02", "mars": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "bd09ll": "bd09",
}

# Krasovsky 1940 ellipsoid as used by the GCJ-02 algorithm
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-10  # ~0.01 mm; far below the 1 cm promise
_INVERSE_MAX_ITER = 40


def normalize_datum(name: str) -> str:
    """Return the canonical datum name for ``name`` (case and dashes ignored).

    >>> normalize_datum("GCJ-02"), normalize_datum("baidu"), normalize_datum("EPSG:4490")
    ('gcj02', 'bd09', 'cgcs2000')
    """
    key = str(name).strip().lower().replace("_", "")
    try:
        return _ALIASES[key]
    except KeyError:
        raise DatumError(
            f"unknown datum {name!r}; use one of {', '.join(DATUMS)} "
            "(Amap/Tencent coordinates are gcj02, Baidu coordinates are bd09)"
        ) from None


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    # The GCJ-02 offset is only applied inside this box; outside it the datums coincide.
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration.

    Both offsets change slowly with position (their Jacobian is within 1e-4 of
    the identity), so x <- x - (forward(x) - target) converges by about four
    decimal digits per step.
    """
    x, y = lon.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        if np.nanmax(np.abs(ex), initial=0.0) < _INVERSE_TOL_DEG and np.nanmax(
            np.abs(ey), initial=0.0
        ) < _INVERSE_TOL_DEG:
            break
    return x, y


def _bd_to_gcj(lon, lat):
    return _invert(_gcj_to_bd, lon, lat)


def _gcj_to_wgs(lon, lat):
    return _invert(_wgs_to_gcj, lon, lat)


# Each datum's conversion to and from WGS84/CGCS2000 (the hub).
_TO_HUB = {
    "wgs84": None,
    "cgcs2000": None,
    "gcj02": _gcj_to_wgs,
    "bd09": lambda x, y: _gcj_to_wgs(*_bd_to_gcj(x, y)),
}
_FROM_HUB = {
    "wgs84": None,
    "cgcs2000": None,
    "gcj02": _wgs_to_gcj,
    "bd09": lambda x, y: _gcj_to_bd(*_wgs_to_gcj(x, y)),
}


def convert(lon, lat, *, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude arrays between datums.

    Parameters
    ----------
    lon, lat : array-like
        Longitudes and latitudes in degrees (scalars are accepted).
    src, dst : str
        Datum names: ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09`` (aliases such as
        ``amap`` or ``baidu`` are accepted).

    Returns
    -------
    tuple of numpy.ndarray
        Converted longitudes and latitudes (float64).

    Examples
    --------
    >>> lon, lat = convert(117.009416, 36.6605638, src="wgs84", dst="gcj02")
    >>> back = convert(lon, lat, src="gcj02", dst="wgs84")
    >>> round(float(back[0]), 9), round(float(back[1]), 9)
    (117.009416, 36.6605638)
    """
    src, dst = normalize_datum(src), normalize_datum(dst)
    x = np.array(lon, dtype="float64", copy=True)
    y = np.array(lat, dtype="float64", copy=True)
    if x.shape != y.shape:
        raise DatumError(f"lon and lat have different shapes {x.shape} and {y.shape}; pass one value each")
    bad = np.isfinite(x) & np.isfinite(y) & ((np.abs(x) > 180) | (np.abs(y) > 90))
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise DatumError(
            f"coordinate {i} ({x.ravel()[i]}, {y.ravel()[i]}) is not a longitude/latitude pair; "
            "projected coordinates must be converted to geographic ones first"
        )
    if src == dst or {src, dst} == {"wgs84", "cgcs2000"}:
        return x, y
    to_hub, from_hub = _TO_HUB[src], _FROM_HUB[dst]
    if to_hub is not None:
        x, y = to_hub(x, y)
    if from_hub is not None:
        x, y = from_hub(x, y)
    return x, y


def convert_geometry(geoms, *, src: str, dst: str):
    """Convert shapely geometries (a scalar or array) between datums, vertex by vertex."""

    def _f(coords: np.ndarray) -> np.ndarray:
        x, y = convert(coords[:, 0], coords[:, 1], src=src, dst=dst)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _f)


def shift_datum(gdf: gpd.GeoDataFrame, *, src: str, dst: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` with its coordinates converted from datum ``src`` to ``dst``.

    GCJ-02 and BD-09 have no CRS of their own, so a result in those datums has
    its CRS unset and ``attrs["datum"]`` recording the datum.
    """
    import geopandas as gpd

    src_n, dst_n = normalize_datum(src), normalize_datum(dst)
    name = gdf.geometry.name
    moved = convert_geometry(np.asarray(gdf.geometry.values), src=src_n, dst=dst_n)
    crs = {"wgs84": WGS84, "cgcs2000": CGCS2000}.get(dst_n)
    out = gpd.GeoDataFrame(
        gdf.drop(columns=[name]), geometry=gpd.GeoSeries(moved, index=gdf.index, name=name), crs=crs
    )[list(gdf.columns)]
    out.attrs = {**gdf.attrs, "datum": dst_n}
    return out


@lru_cache(maxsize=64)
def transformer(src, dst) -> pyproj.Transformer:
    """A cached pyproj transformer with (x, y) = (longitude/easting, latitude/northing) axis order."""
    return pyproj.Transformer.from_crs(pyproj.CRS(src), pyproj.CRS(dst), always_xy=True)


def gk_zone_crs(lon: float, *, zone_prefix: bool = False) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Kruger CRS whose zone contains ``lon``.

    >>> gk_zone_crs(117.0).to_epsg(), gk_zone_crs(117.0, zone_prefix=True).to_epsg()
    (4548, 4527)
    """
    if not np.isfinite(lon) or not 73.5 <= lon <= 136.5:
        raise CRSError(
            f"longitude {lon} is outside the CGCS2000 3-degree Gauss-Kruger zones (73.5°E-136.5°E); "
            "check that the data is in longitude/latitude and inside China"
        )
    zone = int(np.floor(lon / 3.0 + 0.5))  # central meridian = 3 * zone
    zone = min(max(zone, 25), 45)
    epsg = (4513 + zone - 25) if zone_prefix else (4534 + zone - 25)
    return pyproj.CRS.from_epsg(epsg)


def require_metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries, operation: str = "this operation") -> None:
    """Raise :class:`GeographicCRSError` unless ``gdf`` has a projected (metric) CRS."""
    crs = gdf.crs
    if crs is None:
        raise CRSError(
            f"{operation} needs metres but the data has no CRS; "
            "set one with .set_crs('EPSG:4490') and project it with placegeo.crs.to_metric(gdf)"
        )
    if not crs.is_projected:
        raise GeographicCRSError(
            f"{operation} needs metres but the data is in degrees ({crs.to_string()}); "
            "project it first with placegeo.crs.to_metric(gdf) (a CGCS2000 Gauss-Kruger zone)"
        )


def to_metric(gdf: gpd.GeoDataFrame, *, epsg: int | None = None, zone_prefix: bool = False) -> gpd.GeoDataFrame:
    """Project ``gdf`` to a metric CRS: ``epsg`` if given, else the Gauss-Kruger zone of its centre.

    Data outside China's zones (73.5°E-136.5°E) goes to its UTM zone instead.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(117.02, 36.67)], crs="EPSG:4490")
    >>> to_metric(g).crs.to_epsg()
    4548
    """
    if gdf.crs is None:
        raise CRSError(
            "the data has no CRS, so it cannot be projected; set the one it is in, e.g. "
            ".set_crs('EPSG:4490'), or convert GCJ-02/BD-09 data with placegeo.crs.shift_datum first"
        )
    if epsg is not None:
        return gdf.to_crs(epsg=epsg)
    if gdf.crs.is_projected:
        return gdf.copy()
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        raise CRSError("cannot choose a Gauss-Kruger zone for empty data; pass epsg= explicitly")
    minx, _, maxx, _ = gdf.to_crs(CGCS2000).total_bounds
    centre = (minx + maxx) / 2.0
    if not 73.5 <= centre <= 136.5:
        # outside China's Gauss-Kruger zones (test data from elsewhere): the local UTM zone
        return gdf.to_crs(gdf.to_crs(WGS84).estimate_utm_crs())
    return gdf.to_crs(gk_zone_crs(centre, zone_prefix=zone_prefix))


def parse_crs(value: str | int) -> tuple[str, pyproj.CRS | None]:
    """Parse a user's target: a datum name, ``gk`` (auto zone) or any CRS pyproj knows.

    Returns ``(datum, crs)``: for gcj02/bd09 the CRS is None; for ``gk`` the CRS is
    None and the caller picks the zone from the data.
    """
    text = str(value).strip()
    low = text.lower()
    if low in ("gk", "gauss-kruger", "metric"):
        return "gk", None
    try:
        datum = normalize_datum(low)
    except DatumError:
        datum = None
    if datum in ("gcj02", "bd09"):
        return datum, None
    if datum == "wgs84":
        return "wgs84", pyproj.CRS(WGS84)
    if datum == "cgcs2000":
        return "cgcs2000", pyproj.CRS(CGCS2000)
    try:
        crs = pyproj.CRS.from_user_input(int(text) if text.isdigit() else text)
    except pyproj.exceptions.CRSError:
        raise CRSError(
            f"unknown CRS {value!r}; use EPSG:4490, EPSG:4326, gk (Gauss-Kruger zone), "
            "an EPSG code such as 4548, or gcj02/bd09"
        ) from None
    return "crs", crs
