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
    blank = col.isna().to_numpy(dtype=bool)
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        blank = blank | col.astype("string").str.strip().eq("").fillna(True).to_numpy(dtype=bool)
    return blank


def _record(rows: np.ndarray, mask: np.ndarray, name: str, values, how) -> pd.DataFrame:
    n = int(mask.sum())
    how_values = np.asarray(how, dtype=object)[mask] if isinstance(how, np.ndarray) else np.full(n, how, dtype=object)
    text = np.asarray(values, dtype=object)[mask]
    # object columns: building Arrow strings for 100,000 values costs more than the rest of the derivation
    return pd.DataFrame({"row": rows[mask], "field": pd.Series(np.full(n, name, dtype=object), dtype=object),
                         "value": pd.Series(text, dtype=object), "how": pd.Series(how_values, dtype=object)})


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
    codes = units["code"].astype(str).to_numpy(dtype=object)
    shapes = np.asarray(units.geometry.values)
    xy = shapely.get_coordinates(points)
    # boxes first (cheap), then each unit's prepared polygon against only the points in its box
    box_pt, box_unit = shapely.STRtree(shapes).query(points)
    keep = np.zeros(len(box_pt), dtype=bool)
    for u in np.unique(box_unit):
        sel = np.flatnonzero(box_unit == u)
        shapely.prepare(shapes[u])
        keep[sel] = shapely.intersects_xy(shapes[u], xy[box_pt[sel], 0], xy[box_pt[sel], 1])
    pi, ui = box_pt[keep], box_unit[keep]
    out = np.full(len(points), None, dtype=object)
    hits = np.bincount(pi, minlength=len(points)) if len(pi) else np.zeros(len(points), dtype=int)
    if len(pi):
        order = np.lexsort((codes[ui].astype(str), pi))
        first = np.unique(pi[order], return_index=True)[1]
        out[pi[order][first]] = codes[ui[order][first]]
    return out, hits


def _as_points(geoms: np.ndarray) -> np.ndarray:
    """Points as they are; other geometries by a point on their surface."""
    out = geoms.copy()
    other = np.asarray(shapely.get_type_id(geoms)) != 0
    if other.any():
        out[other] = shapely.point_on_surface(geoms[other])
    return out


def _derive_defaults(gdf, spec: LayerSpec, rows) -> list[pd.DataFrame]:
    found = []
    for name, value in spec.defaults.items():
        mask = _empty(gdf, name)
        if mask.any():
            _fill(gdf, name, mask, np.full(len(gdf), value, dtype=object))
            found.append(_record(rows, mask, name, np.full(len(gdf), value, dtype=object),
                                 f"default of layer '{spec.name}' (layers/{spec.name}.yaml)"))
    return found


def _derive_hours(gdf, spec: LayerSpec, rows, result: Derivation) -> list[pd.DataFrame]:
    if not spec.has_field("hours") or "hours" not in gdf.columns:
        return []
    text = gdf["hours"].astype(object).where(~_empty(gdf, "hours"), None)
    hc = hours_columns(text)
    codes, uniques = pd.factorize(text.astype(object), use_na_sentinel=True)
    how = np.array([*(f"from the hours '{u}'" for u in uniques), ""], dtype=object)[codes]
    found = []
    if spec.has_field("opening_hours"):
        mask = _empty(gdf, "opening_hours") & hc["opening_hours"].notna().to_numpy()
        if mask.any():
            _fill(gdf, "opening_hours", mask, hc["opening_hours"].to_numpy(dtype=object))
            found.append(_record(rows, mask, "opening_hours", hc["opening_hours"].to_numpy(dtype=object), how))
    if spec.has_field("open_24h"):
        derived = hc["open_24h"].to_numpy(dtype=object, na_value=None)
        mask = _empty(gdf, "open_24h") & hc["open_24h"].notna().to_numpy()
        if mask.any():
            _fill(gdf, "open_24h", mask, derived)
            found.append(_record(rows, mask, "open_24h", np.where(derived == True, "true", "false"), how))  # noqa: E712
    unread = hc["problem"].notna().to_numpy()
    still_missing = _empty(gdf, "open_24h") if spec.has_field("open_24h") else np.zeros(len(gdf), dtype=bool)
    for i in np.flatnonzero(unread):
        fix = f"{hc['problem'].iloc[i]}"
        if still_missing[i]:
            result.problems.append(Problem(int(rows[i]), "open_24h", f"cannot be derived: the hours '{text.iloc[i]}' "
                                           "could not be read", fix + "; or fill in open_24h", "hours"))
        else:
            result.warnings.append(Problem(int(rows[i]), "hours", f"the hours '{text.iloc[i]}' could not be read; kept "
                                           "as text, opening_hours left empty", fix, "hours"))
    return found


def _admin_units(atlas: Atlas | None, level: str, bounds) -> gpd.GeoDataFrame | None:
    if atlas is None or "admin_units" not in atlas.layers():
        return None
    units = atlas.read("admin_units", bbox=tuple(bounds), where=f"level = '{level}'")
    return units if len(units) else None


def _derive_admin(gdf, spec: LayerSpec, rows, atlas, written, result: Derivation) -> list[pd.DataFrame]:
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
        codes, hits = admin_codes_at(pts, units)
        names = dict(zip(units["code"].astype(str), units["name"].astype(str), strict=True))
        inside = np.zeros(len(gdf), dtype=bool)
        inside[mask] = codes != None  # noqa: E711
        values = np.full(len(gdf), None, dtype=object)
        values[mask] = codes
        how = np.full(len(gdf), None, dtype=object)
        border = np.zeros(len(gdf), dtype=bool)
        border[mask] = hits > 1
        unit_name = pd.Series(values).map(names).fillna("").to_numpy(dtype=object)
        how[inside] = "position inside " + unit_name[inside] + " (atlas admin_units)"
        how[border] = "position in more than one unit (on a border, or in an overlapping zone); the smallest code, " \
            + unit_name[border]
        if inside.any():
            _fill(gdf, f.name, inside, values)
            found.append(_record(rows, inside, f.name, values, how))
        outside = mask & ~inside
        if outside.any() and f.required:
            where_rows = written if written is not None else np.full(len(gdf), None, dtype=object)
            if written is None:
                where_rows[mask] = [f"{x:.6f}, {y:.6f}" for x, y in shapely.get_coordinates(pts)]
            for i in np.flatnonzero(outside):
                result.problems.append(Problem(
                    int(rows[i]), f.name, f"the location ({where_rows[i]}) lies in no {f.levels[0]} of the atlas, "
                    f"so {f.name} cannot be derived", f"check the coordinates and their datum, or fill in {f.name}",
                    "outside_units"))
    return found


def _derive_keys(gdf, spec: LayerSpec, rows, atlas) -> list[pd.DataFrame]:
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
    out = gdf.copy()
    result = Derivation(out, pd.DataFrame(columns=DERIVED_COLUMNS))
    found = _derive_defaults(out, spec, rows)
    found += _derive_hours(out, spec, rows, result)
    found += _derive_admin(out, spec, rows, atlas, written, result)
    found += _derive_keys(out, spec, rows, atlas)
    found = [f for f in found if len(f)]
    if found:
        result.derived = pd.concat(found, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)
    return result
