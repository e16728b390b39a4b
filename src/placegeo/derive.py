"""Fill in what an import can derive, and say how each value was derived.

Files planners hold lack fields the atlas needs but that follow from what the file does say:

- a missing key is generated from the layer's ``key_prefix`` and a sequence (``RP-00001``),
  never reusing a key of the atlas (looked up with :meth:`placegeo.atlas.Atlas.keys_present`);
- ``district_code``/``town_code`` come from the feature's position among the atlas's
  ``admin_units`` (a point in no unit is a problem; on a border the smallest code wins, so the
  answer does not depend on the order units are stored in);
- ``open_24h`` and ``opening_hours`` follow from the hours as written
  (:func:`placegeo.hours.hours_columns`); hours that cannot be read are reported, never guessed;
- a layer's ``defaults`` (``layers/*.yaml``, e.g. ``kind: relief_point``) fill empty fields.

Only empty values are filled; a value the file gives is never replaced. Every filled value is
listed (row, field, value, how) in :attr:`Derivation.derived`. All of it is vectorised: the
spatial join is one STRtree query, the hours are parsed once per distinct text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placegeo.errors import Problem
from placegeo.hours import hours_columns
from placegeo.registry import LayerSpec

if TYPE_CHECKING:
    from placegeo.atlas import Atlas

__all__ = ["DERIVED_COLUMNS", "Derivation", "admin_codes_at", "derive_fields", "new_keys"]

DERIVED_COLUMNS = ["row", "field", "value", "how"]
_LEVELS = ("district", "town", "village")


@dataclass
class Derivation:
    """The data with derived values filled in, the list of them, and what could not be derived."""

    data: gpd.GeoDataFrame
    derived: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _empty(gdf: pd.DataFrame, name: str) -> np.ndarray:
    """Rows where field ``name`` is absent, missing or blank."""
    if name not in gdf.columns:
        return np.ones(len(gdf), dtype=bool)
    col = gdf[name]
    if col.dtype == object:
        # filled-in columns hold few distinct values (yes/no, codes): each is looked at once
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        return np.append(_blank(pd.Series(uniques, dtype=object)), True)[codes]
    return _blank(col)


def _blank(col: pd.Series) -> np.ndarray:
    blank = col.isna().to_numpy(dtype=bool)
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        blank = blank | col.astype("string").str.strip().eq("").fillna(True).to_numpy(dtype=bool)
    return blank


def _lookup(values) -> np.ndarray:
    """``values`` as objects with None after them, for indexing by codes where -1 means missing."""
    return np.array([*values, None], dtype=object)


def _repeat(value: object, n: int) -> np.ndarray:
    """``value`` ``n`` times as objects (np.full makes a new string for each of them: 30 times slower)."""
    return np.repeat(np.array([value], dtype=object), n)


def _record(rows: np.ndarray, mask: np.ndarray, name: str, values, how) -> tuple:
    """The derived values of field ``name`` where ``mask``: arrays, made a table once at the end."""
    n = int(mask.sum())
    how_values = np.asarray(how, dtype=object)[mask] if isinstance(how, np.ndarray) else _repeat(how, n)
    return rows[mask], _repeat(name, n), np.asarray(values, dtype=object)[mask], how_values


def _table(found: list[tuple]) -> pd.DataFrame:
    """The derived values as one table ordered by row (fields of a row in the order they were derived)."""
    found = [f for f in found if len(f[0])]
    if not found:
        return pd.DataFrame(columns=DERIVED_COLUMNS)
    parts = [np.concatenate(p) for p in zip(*found, strict=True)]
    order = np.argsort(parts[0], kind="stable")
    # object columns: building Arrow strings for 100,000 values costs more than the rest of the derivation
    return pd.DataFrame({c: pd.Series(p[order], dtype=None if c == "row" else object)
                         for c, p in zip(DERIVED_COLUMNS, parts, strict=True)})


def _fill(gdf: pd.DataFrame, name: str, mask: np.ndarray, values) -> None:
    """Put ``values`` into column ``name`` where ``mask`` (``gdf`` is the function's own copy)."""
    col = gdf[name].to_numpy(dtype=object, na_value=None).copy() if name in gdf.columns \
        else np.full(len(gdf), None, dtype=object)
    col[mask] = np.asarray(values, dtype=object)[mask]
    gdf[name] = pd.Series(col, index=gdf.index, dtype=object)


def new_keys(prefix: str, n: int, *, taken_in_file: set[str], atlas: Atlas | None, layer: str) -> list[str]:
    """``n`` keys ``<prefix>-00001`` … that neither the file nor the atlas's layer uses yet.

    >>> new_keys("RP", 3, taken_in_file={"RP-00002"}, atlas=None, layer="relief_points")
    ['RP-00001', 'RP-00003', 'RP-00004']
    """
    out: list[str] = []
    start = 1
    while len(out) < n:
        batch = [f"{prefix}-{i:05d}" for i in range(start, start + 2 * (n - len(out)) + 8)]
        taken = atlas.keys_present(layer, batch) if atlas is not None else set()
        out += [k for k in batch if k not in taken and k not in taken_in_file][: n - len(out)]
        start += len(batch)
    return out


def admin_codes_at(points: np.ndarray, units: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The code of the unit holding each point (None outside all), and how many units hold it.

    A point on a border touches two units: the smaller code is taken, whatever their order.

    >>> import geopandas as gpd
    >>> from shapely import box, points
    >>> units = gpd.GeoDataFrame({"code": ["370103", "370102"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)])
    >>> codes, hits = admin_codes_at(points([[0.5, 0.5], [1, 0.5], [5, 5]]), units)
    >>> codes.tolist(), hits.tolist()
    (['370102', '370102', None], [1, 2, 0])
    """
    idx, hits = _unit_at(points, units)
    codes = _lookup(units["code"].astype(str))
    return codes[idx], hits


def _unit_at(points: np.ndarray, units: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`admin_codes_at` as the position of the unit among ``units`` (-1 outside all)."""
    codes = units["code"].astype(str).tolist()
    shapes = np.asarray(units.geometry.values)
    xy = shapely.get_coordinates(points)
    # boxes first (cheap), then each unit's prepared polygon against only the points in its box
    box_pt, box_unit = shapely.STRtree(shapes).query(points)
    order = np.argsort(box_unit, kind="stable")
    starts = np.searchsorted(box_unit[order], np.arange(len(shapes) + 1))
    out = np.full(len(points), -1, dtype=np.intp)
    hits = np.zeros(len(points), dtype=np.intp)
    # the largest code first, so that the smallest of a point's units is written last and wins
    for u in sorted(range(len(shapes)), key=codes.__getitem__, reverse=True):
        pts = box_pt[order[starts[u]:starts[u + 1]]]
        if not len(pts):
            continue
        shapely.prepare(shapes[u])
        pts = pts[shapely.intersects_xy(shapes[u], xy[pts, 0], xy[pts, 1])]
        out[pts] = u
        hits[pts] += 1  # a point appears once per unit's box
    return out, hits


def _as_points(geoms: np.ndarray) -> np.ndarray:
    """Points as they are; other geometries by a point on their surface."""
    out = geoms.copy()
    other = np.asarray(shapely.get_type_id(geoms)) != 0
    if other.any():
        out[other] = shapely.point_on_surface(geoms[other])
    return out


def _derive_defaults(gdf, spec: LayerSpec, rows) -> list[tuple]:
    found = []
    for name, value in spec.defaults.items():
        mask = _empty(gdf, name)
        if mask.any():
            _fill(gdf, name, mask, _repeat(value, len(gdf)))
            found.append(_record(rows, mask, name, _repeat(value, len(gdf)),
                                 f"default of layer '{spec.name}' (layers/{spec.name}.yaml)"))
    return found


def _derive_hours(gdf, spec: LayerSpec, rows, result: Derivation) -> list[tuple]:
    if not spec.has_field("hours") or "hours" not in gdf.columns:
        return []
    # each distinct text is read once (a column holds few), then spread to its rows by code
    codes, uniques = pd.factorize(gdf["hours"], use_na_sentinel=True)
    codes = np.where(_empty(gdf, "hours"), -1, codes)
    texts = _lookup(uniques)
    hc = hours_columns(pd.Series(texts[:-1], dtype=object))
    how = np.array([*(f"from the hours '{u}'" for u in texts[:-1]), ""], dtype=object)[codes]
    osm = _lookup(hc["opening_hours"].to_numpy(dtype=object))[codes]
    always = _lookup(hc["open_24h"].to_numpy(dtype=object, na_value=None))[codes]
    problem = _lookup(hc["problem"].to_numpy(dtype=object))[codes]
    found = []
    if spec.has_field("opening_hours"):
        mask = _empty(gdf, "opening_hours") & (osm != None)  # noqa: E711
        if mask.any():
            _fill(gdf, "opening_hours", mask, osm)
            found.append(_record(rows, mask, "opening_hours", osm, how))
    if spec.has_field("open_24h"):
        mask = _empty(gdf, "open_24h") & (always != None)  # noqa: E711
        if mask.any():
            _fill(gdf, "open_24h", mask, always)
            found.append(_record(rows, mask, "open_24h", np.where(always == True, "true", "false"), how))  # noqa: E712
    unread = problem != None  # noqa: E711
    still_missing = _empty(gdf, "open_24h") if spec.has_field("open_24h") else np.zeros(len(gdf), dtype=bool)
    for i in np.flatnonzero(unread):
        fix, written = f"{problem[i]}", texts[codes[i]]
        if still_missing[i]:
            result.problems.append(Problem(int(rows[i]), "open_24h", f"cannot be derived: the hours '{written}' "
                                           "could not be read", fix + "; or fill in open_24h", "hours"))
        else:
            result.warnings.append(Problem(int(rows[i]), "hours", f"the hours '{written}' could not be read; kept "
                                           "as text, opening_hours left empty", fix, "hours"))
    return found


def _admin_units(atlas: Atlas | None, level: str, bounds) -> gpd.GeoDataFrame | None:
    if atlas is None or "admin_units" not in atlas.layers():
        return None
    units = atlas.read("admin_units", bbox=tuple(bounds), where=f"level = '{level}'")
    return units if len(units) else None


def _derive_admin(gdf, spec: LayerSpec, rows, atlas, written, result: Derivation) -> list[tuple]:
    found = []
    geoms = np.asarray(gdf.geometry.values)
    usable = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    for f in spec.fields:
        if f.type != "admin_code" or not f.levels or len(f.levels) != 1 or f.levels[0] not in _LEVELS:
            continue
        mask = _empty(gdf, f.name) & usable
        if not mask.any():
            continue
        pts = _as_points(geoms[mask])
        units = _admin_units(atlas, f.levels[0], shapely.total_bounds(pts))
        if units is None:
            result.notes.append(f"{f.name} cannot be derived: the atlas holds no {f.levels[0]} units (admin_units)")
            continue
        idx, hits = _unit_at(pts, units)
        codes = units["code"].astype(str).tolist()
        names = dict(zip(codes, units["name"].astype(str), strict=True))
        # the explanation of each unit written once, then spread to its points
        said = [f"position inside {names[c]} (atlas admin_units)" for c in codes]
        said += [f"position in more than one unit (on a border, or in an overlapping zone); the smallest code, "
                 f"{names[c]}" for c in codes]
        inside = np.zeros(len(gdf), dtype=bool)
        inside[mask] = idx >= 0
        values = np.full(len(gdf), None, dtype=object)
        values[mask] = _lookup(codes)[idx]
        how = np.full(len(gdf), None, dtype=object)
        how[mask] = _lookup(said)[np.where(idx >= 0, idx + len(codes) * (hits > 1), -1)]
        if inside.any():
            _fill(gdf, f.name, inside, values)
            found.append(_record(rows, inside, f.name, values, how))
        outside = mask & ~inside
        if outside.any() and f.required:
            where_rows = written if written is not None else np.full(len(gdf), None, dtype=object)
            if written is None:
                xy = shapely.get_coordinates(pts[outside[mask]])
                where_rows[outside] = [f"{x:.6f}, {y:.6f}" for x, y in xy]
            for i in np.flatnonzero(outside):
                result.problems.append(Problem(
                    int(rows[i]), f.name, f"the location ({where_rows[i]}) lies in no {f.levels[0]} of the atlas, "
                    f"so {f.name} cannot be derived", f"check the coordinates and their datum, or fill in {f.name}",
                    "outside_units"))
    return found


def _derive_keys(gdf, spec: LayerSpec, rows, atlas) -> list[tuple]:
    key = spec.primary_key
    mask = _empty(gdf, key)
    if not spec.key_prefix or not mask.any():
        return []
    given = set(gdf.loc[~mask, key].astype(str)) if key in gdf.columns else set()
    keys = new_keys(spec.key_prefix, int(mask.sum()), taken_in_file=given, atlas=atlas, layer=spec.name)
    values = np.full(len(gdf), None, dtype=object)
    values[mask] = keys
    _fill(gdf, key, mask, values)
    return [_record(rows, mask, key, values, f"generated: prefix {spec.key_prefix} and the next number free in the "
                    "atlas")]


def derive_fields(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    rows: np.ndarray,
    atlas: Atlas | None = None,
    written: np.ndarray | None = None,
) -> Derivation:
    """Fill the empty fields of ``gdf`` that can be derived; ``gdf`` (columns named as fields) is not changed.

    Parameters
    ----------
    gdf : GeoDataFrame
        Features in EPSG:4490 with columns named as the layer's fields
        (:func:`placegeo.validate.rename_columns`).
    spec : LayerSpec
        The layer's definition: its ``defaults``, ``key_prefix`` and fields.
    rows : array of int
        The row number a person sees for each feature (quoted in the report).
    atlas : Atlas, optional
        Gives the admin units for the codes and the keys already used; without it, neither is derived.
    written : array of str, optional
        Coordinates as the file writes them, quoted in problems.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> from shapely import Point
    >>> from placegeo.registry import get_layer
    >>> g = gpd.GeoDataFrame({"name": ["芙蓉街避风港"], "hours": ["8:30-17:30"]}, geometry=[Point(117.02, 36.66)],
    ...                      crs="EPSG:4490")
    >>> d = derive_fields(g, get_layer("relief_points"), rows=np.array([2]))
    >>> d.derived[["field", "value"]].values.tolist()
    [['kind', 'relief_point'], ['opening_hours', '08:30-17:30'], ['open_24h', 'false'], ['point_id', 'RP-00001']]
    """
    out = gdf.copy(deep=False)  # columns are replaced whole, never changed in place: gdf is left as it is
    result = Derivation(out, pd.DataFrame(columns=DERIVED_COLUMNS))
    found = _derive_defaults(out, spec, rows)
    found += _derive_hours(out, spec, rows, result)
    found += _derive_admin(out, spec, rows, atlas, written, result)
    found += _derive_keys(out, spec, rows, atlas)
    result.derived = _table(found)
    return result
