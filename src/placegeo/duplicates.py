"""Duplicates on the way in, and coordinates in the wrong datum.

:func:`find_duplicates` finds features that are the same place twice: the same or near-same name
(full-width characters, spaces, traditional characters and generic suffixes folded, so that
``芙蓉街`` and ``芙蓉 街`` and ``芙蓉路`` agree) within ``distance_m`` of each other, in the file
and against the features already stored. Pairs are found by a k-d tree over local metric
coordinates first, then their names compared: 100,000 points cost a fraction of a second.

:func:`datum_offset` compares imported features with stored ones of the same name: when they sit
consistently a few hundred metres apart, and reading the file's coordinates in another datum
puts them on top of each other, the file's datum is probably that one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from placegeo.crs import DATUMS, convert
from placegeo.errors import Problem
from placegeo.generics import equivalence_key, load_generic_classes
from placegeo.text import normalize

__all__ = ["DatumOffset", "datum_offset", "find_duplicates", "name_key"]

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


_PUNCT = re.compile(r"[\s'’·\-_.()（）]")
#: what :func:`_fold` changes besides case: spaces and full-width forms
_ODD = re.compile(r"[\s\u3000\uff01-\uff5e]")


@lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    """:func:`placegeo.text.normalize`, skipping its traditional-to-simplified step for text that is
    all simplified already (it fits GB2312), which is most names and the slow part."""
    quick = _PUNCT.sub("", unicodedata.normalize("NFKC", text).strip().lower())
    try:
        quick.encode("gb2312")
    except UnicodeEncodeError:
        return normalize(text)
    return quick


@lru_cache(maxsize=1)
def _all_terms() -> tuple[str, ...]:
    return tuple(t for terms in load_generic_classes().values() for t in terms)


def name_key(name: object) -> str | None:
    """A name folded for comparison: normalised, generic suffix reduced to its class.

    >>> name_key("芙蓉街") == name_key(" 芙蓉 街") == name_key("芙蓉路"), name_key("趵突泉"), name_key(None)
    (True, '趵突|spring', None)
    """
    if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
        return None
    text = _folded(str(name))
    if not text:
        return None
    # most names end in no generic term: one C call says so, before the term-by-term look
    key = equivalence_key(text) if text.endswith(_all_terms()) else None
    return f"{key[0]}|{key[1]}" if key else text


def _keys(names: np.ndarray, idx: np.ndarray) -> dict[int, str | None]:
    return {int(i): name_key(names[i]) for i in np.unique(idx)}


def _xy(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat of points as they are, of other geometries a point on their surface."""
    if (np.asarray(shapely.get_type_id(geoms)) == 0).all():
        return shapely.get_coordinates(geoms)
    return shapely.get_coordinates(shapely.point_on_surface(geoms))


def _fold(names: pd.Series) -> np.ndarray:
    """Names folded cheaply and vectorised (full-width, spaces, case) for exact matching."""
    # a comprehension over Python strings is several times faster here than pandas' string methods
    return np.array([None if not isinstance(v, str) else "".join(unicodedata.normalize("NFKC", v).split()).lower()
                     for v in names.astype(object).tolist()], dtype=object)


def _metric(geoms: np.ndarray, lat0: float) -> np.ndarray:
    """Local east/north metres (equirectangular about ``lat0``): exact enough at tens of metres."""
    return _to_metres(_xy(geoms), lat0)


def _to_metres(xy: np.ndarray, lat0: float) -> np.ndarray:
    return np.column_stack([xy[:, 0] * _M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0)), xy[:, 1] * _M_PER_DEG_LAT])


def _usable(geoms: np.ndarray) -> np.ndarray:
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def find_duplicates(
    data: gpd.GeoDataFrame,
    *,
    name_field: str,
    rows: np.ndarray,
    stored: gpd.GeoDataFrame | None = None,
    key_field: str | None = None,
    distance_m: float = 50.0,
    ignore: np.ndarray | None = None,
) -> tuple[list[Problem], np.ndarray]:
    """Features that repeat another of the file or of the atlas: problems naming both, and their mask.

    Parameters
    ----------
    data : GeoDataFrame
        The imported features (EPSG:4490) with a name column.
    name_field : str
        The column holding the names (the layer's display field).
    rows : array of int
        The row number a person sees for each feature.
    stored : GeoDataFrame, optional
        Features already in the atlas near the imported ones.
    key_field : str, optional
        The stored features' key, quoted in messages.
    distance_m : float
        How close two features of the same name must be to count as one place.
    ignore : array of bool, optional
        Rows left out (e.g. already refused for other reasons).

    Returns
    -------
    problems, mask
        One problem per repeating row (the later one of a pair in the file), and which rows repeat.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> g = gpd.GeoDataFrame({"name": ["芙蓉街", "芙蓉 街", "芙蓉街"]},
    ...                      geometry=gpd.points_from_xy([117.0200, 117.0201, 117.0300], [36.66, 36.66, 36.66]),
    ...                      crs="EPSG:4490")
    >>> problems, mask = find_duplicates(g, name_field="name", rows=np.array([2, 3, 4]))
    >>> mask.tolist(), problems[0].message
    ([False, True, False], "'芙蓉 街' repeats row 2 ('芙蓉街', 9 m away)")
    """
    n = len(data)
    mask = np.zeros(n, dtype=bool)
    problems: list[Problem] = []
    geoms = np.asarray(data.geometry.values)
    ok = _usable(geoms) & (np.ones(n, dtype=bool) if ignore is None else ~ignore)
    if n == 0 or not ok.any():
        return problems, mask
    where = np.flatnonzero(ok)
    lonlat = _xy(geoms[where])
    lat0 = float(np.nanmean(lonlat[:, 1]))
    xy = _to_metres(lonlat, lat0)
    names = data[name_field].to_numpy(dtype=object, na_value=None) if name_field in data else np.full(n, None)
    tree = cKDTree(xy, balanced_tree=False, compact_nodes=False)  # half the build time, as quick to ask
    pairs = tree.query_pairs(distance_m, output_type="ndarray")
    if len(pairs):
        a, b = where[pairs.min(axis=1)], where[pairs.max(axis=1)]
        keys = _keys(names, np.concatenate([a, b]))
        for i, j in sorted(zip(a.tolist(), b.tolist(), strict=True), key=lambda p: (p[1], p[0])):
            if mask[j] or keys[i] is None or keys[i] != keys[j]:
                continue
            mask[j] = True
            dist = float(np.hypot(*(_metric(geoms[[i]], lat0)[0] - _metric(geoms[[j]], lat0)[0])))
            problems.append(Problem(int(rows[j]), name_field, f"'{names[j]}' repeats row {rows[i]} "
                                    f"('{names[i]}', {dist:.0f} m away)",
                                    "remove one of the two rows, or import with --allow-duplicates", "duplicate"))
    if stored is not None and len(stored):
        s_geoms = np.asarray(stored.geometry.values)
        s_ok = np.flatnonzero(_usable(s_geoms))
        if len(s_ok):
            s_tree = cKDTree(_metric(s_geoms[s_ok], lat0))
            near = tree.sparse_distance_matrix(s_tree, distance_m, output_type="ndarray")
            s_names = stored[name_field].to_numpy(dtype=object, na_value=None)
            s_keys = stored[key_field].to_numpy(dtype=object, na_value=None) if key_field in stored else None
            order = np.lexsort((near["j"], near["v"], near["i"])) if len(near) else np.zeros(0, dtype=int)
            for k in order:
                i, j, dist = int(where[near["i"][k]]), int(s_ok[near["j"][k]]), float(near["v"][k])
                if mask[i] or name_key(names[i]) is None or name_key(names[i]) != name_key(s_names[j]):
                    continue
                mask[i] = True
                key = f" {s_keys[j]}" if s_keys is not None else ""
                problems.append(Problem(int(rows[i]), name_field, f"'{names[i]}' is already in the atlas as"
                                        f"{key} '{s_names[j]}', {dist:.0f} m away",
                                        "leave the row out, use --mode replace, or import with --allow-duplicates",
                                        "duplicate"))
    problems.sort(key=lambda p: p.row or 0)
    return problems, mask


@dataclass(frozen=True)
class DatumOffset:
    """Imported features that sit off their stored namesakes the way a datum shift would put them."""

    declared: str
    likely: str
    n_matched: int
    median_off_m: float
    median_if_likely_m: float

    def warning(self) -> Problem:
        return Problem(None, "geometry",
                       f"{self.n_matched} features whose names are already in the atlas sit a median "
                       f"{self.median_off_m:.0f} m from them, but {self.median_if_likely_m:.0f} m when the file's "
                       f"coordinates are read as {self.likely} instead of {self.declared}: the file is probably "
                       f"in {self.likely}",
                       f"check where the coordinates come from; import again with --datum {self.likely} "
                       "(or correct the file's 坐标系 column)", "datum_offset")


def _median_off_m(x: np.ndarray, y: np.ndarray, target: np.ndarray, lat0: float) -> float:
    dx = (x - target[:, 0]) * _M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0))
    return float(np.median(np.hypot(dx, (y - target[:, 1]) * _M_PER_DEG_LAT)))


def _written_oddly(names: np.ndarray) -> np.ndarray:
    """Names with spaces or full-width forms: one search over all of them says whether any has one."""
    text = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v) for v in names]
    search = _ODD.search
    if search("\x00".join(v for v in text if v is not None)) is None:  # NUL is neither a space nor full-width
        return np.zeros(len(text), dtype=bool)
    return np.array([v is not None and search(v) is not None for v in text], dtype=bool)


def datum_offset(
    data: gpd.GeoDataFrame,
    *,
    name_field: str,
    datums: np.ndarray,
    stored: gpd.GeoDataFrame,
    min_matches: int = 2,
) -> list[DatumOffset]:
    """For each declared datum of the file, the datum its coordinates are more likely in, if any.

    Features are matched by name (full-width, spaces and case folded) to stored features whose name
    is unique. A
    finding needs ``min_matches`` matches, a median offset of 100 m or more, and another datum
    that brings the median under a quarter of it.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> from placegeo.crs import convert
    >>> lon, lat = np.array([117.0094, 117.0160, 117.0177]), np.array([36.6605, 36.6643, 36.6748])
    >>> stored = gpd.GeoDataFrame({"name": ["趵突泉", "芙蓉街", "大明湖"]},
    ...                           geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490")
    >>> gx, gy = convert(lon, lat, src="wgs84", dst="gcj02")   # GCJ-02 numbers read as WGS84
    >>> found = datum_offset(stored.set_geometry(gpd.points_from_xy(gx, gy, crs="EPSG:4490")),
    ...                      name_field="name", datums=np.array(["wgs84"] * 3, dtype=object), stored=stored)
    >>> found[0].likely, found[0].n_matched, round(found[0].median_off_m, -1) > 300
    ('gcj02', 3, True)
    """
    if not len(data) or not len(stored) or name_field not in data or name_field not in stored:
        return []
    s_names = pd.Series(_fold(stored[name_field]))
    keep = (~s_names.duplicated(keep=False) & s_names.notna()).to_numpy(dtype=bool)
    keep = keep & _usable(np.asarray(stored.geometry.values))
    s_xy = _xy(np.asarray(stored.geometry.values)[keep])
    by_name = dict(zip(s_names[keep].tolist(), range(int(keep.sum())), strict=True))
    raw = data[name_field]
    # fold only the names that might match: those written as a stored one, or with spaces or full-width forms
    text = raw.to_numpy(dtype=object, na_value=None)
    maybe = pd.Series(text, dtype=object).isin(set(stored[name_field].dropna()) | set(by_name)).to_numpy(dtype=bool)
    maybe = maybe | _written_oddly(text)
    names = np.full(len(raw), None, dtype=object)
    names[maybe] = _fold(raw[maybe])
    geoms = np.asarray(data.geometry.values)
    found = []
    for declared in pd.unique(datums):
        sel = np.flatnonzero((datums == declared) & _usable(geoms) & pd.Series(names).isin(by_name).to_numpy())
        if len(sel) < min_matches:
            continue
        xy = _xy(geoms[sel])
        target = s_xy[[by_name[nm] for nm in names[sel]]]
        lat0 = float(xy[:, 1].mean())

        now = _median_off_m(xy[:, 0], xy[:, 1], target, lat0)
        if now < 100:
            continue
        ox, oy = convert(xy[:, 0], xy[:, 1], src="cgcs2000", dst=declared)  # the numbers as the file wrote them
        alts = {d: _median_off_m(*convert(ox, oy, src=d, dst="cgcs2000"), target, lat0)
                for d in DATUMS if d != declared}
        best = min(alts, key=alts.__getitem__)
        if alts[best] < now / 4:
            found.append(DatumOffset(str(declared), best, len(sel), now, alts[best]))
    return found
