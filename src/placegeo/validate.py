"""Check a GeoDataFrame against a layer definition and report every problem at once.

:func:`validate_layer` maps column aliases (``名称`` → ``name``), converts values
to the declared types, and checks required values, enums, ranges, patterns, admin
codes, keys, cross-field rules and geometry (missing, empty, invalid, wrong type,
outside the atlas extent, longitude and latitude swapped). All checks are
vectorised; a message is built only for a row that fails, so validating 100,000
clean rows costs a few hundred milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from placegeo.crs import CGCS2000
from placegeo.errors import Problem, ValidationError
from placegeo.hours import parse_yes_no
from placegeo.registry import FieldSpec, LayerSpec, shorten_field_names

__all__ = ["ValidationReport", "conform", "rename_columns", "validate_layer"]

_LIST_SPLIT = re.compile(r"\s*[、,，;；|/]\s*")
_MAX_PROBLEMS_PER_CHECK = 10_000


@dataclass
class ValidationReport:
    """What :func:`validate_layer` found: the typed data, the problems and the rows they spoil."""

    layer: str
    data: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    notes: list[str] = field(default_factory=list)
    #: values an import filled in: row, field, value and how (see placegeo.derive)
    derived: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "field", "value", "how"]))
    #: what deserves a look but spoils no row (e.g. hours that could not be read beside a given open_24h)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def n_rows(self) -> int:
        return len(self.data)

    @property
    def n_bad(self) -> int:
        return int(self.bad.sum())

    def valid_rows(self) -> gpd.GeoDataFrame:
        """The rows without any problem (input-wide problems spoil every row)."""
        return self.data.loc[~self.bad].copy()

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ValidationError(self.problems, layer=self.layer)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([p.to_dict() for p in self.problems], columns=["row", "field", "message", "fix", "code"])

    def __str__(self) -> str:
        head = f"{self.layer}: {self.n_rows} rows, {self.n_bad} with problems, {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  - {p}" for p in self.problems[:50])])


class _Collector:
    def __init__(self, n: int, row_numbers: np.ndarray):
        self.problems: list[Problem] = []
        self.bad = np.zeros(n, dtype=bool)
        self.rows = row_numbers

    def add_mask(self, mask, field_name, message, fix="", code="invalid", values=None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        if callable(values):  # built only when a row fails: clean data pays nothing for messages
            values = values()
        idx = np.flatnonzero(mask)[:_MAX_PROBLEMS_PER_CHECK]
        for i in idx:
            msg = message(values[i]) if callable(message) else message
            self.problems.append(Problem(int(self.rows[i]), field_name, msg, fix, code))

    def add_input(self, field_name, message, fix="", code="invalid") -> None:
        self.bad[:] = True
        self.problems.append(Problem(None, field_name, message, fix, code))


def _norm_col(name: str) -> str:
    """A column name folded: full-width to half-width (（穴） -> (穴)), lower case, spaces as underscores."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"\s+", "_", text)


def rename_columns(df: pd.DataFrame, spec: LayerSpec) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with its columns named as the layer's fields, and notes on each renaming.

    A column is recognised by the field's name, its Chinese title (as ``placegeo layers show``
    prints it), its aliases, or the 10-byte Shapefile cut, after folding full-width characters
    and spaces.

    >>> import pandas as pd
    >>> from placegeo.registry import get_layer
    >>> out, notes = rename_columns(pd.DataFrame(columns=["设计容量(穴)", "Name ", "24小时开放"]),
    ...                             get_layer("cemeteries"))
    >>> list(out.columns)
    ['capacity_plots', 'name', '24小时开放']
    """
    lookup: dict[str, str] = {}
    # Shapefiles cut names to 10 bytes: accept GDAL's cut and placegeo's own export names too
    short = shorten_field_names(spec.columns)
    for f in spec.fields:
        for alias in (f.name, f.title_zh, *f.aliases, f.name[:10], short[f.name]):
            if alias:
                lookup.setdefault(_norm_col(alias), f.name)
    mapping: dict[str, str] = {}
    notes: list[str] = []
    names = {f.name for f in spec.fields}
    taken = {c for c in df.columns if c in names}  # a column already named as a field wins over aliases
    for col in df.columns:
        if isinstance(df, gpd.GeoDataFrame) and col == df.geometry.name:
            continue
        if col in names:
            mapping[col] = col
            continue
        target = lookup.get(_norm_col(col))
        if target and target not in taken:
            mapping[col] = target
            taken.add(target)
            notes.append(f"column '{col}' read as '{target}'")
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    extra = [c for c in df.columns if c not in mapping and c != geom]
    if extra:
        notes.append(f"columns not in layer '{spec.name}' were ignored: {', '.join(map(str, extra))}")
    return df.rename(columns=mapping), notes


_rename_aliases = rename_columns


def _yes_no(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Which values read as yes and which as no (hours.parse_yes_no, once per distinct value)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    answers = (parse_yes_no(u) for u in uniques)
    table = np.array([*(-1 if a is None else int(a) for a in answers), -1], dtype=np.int8)
    flags = table[codes]  # code -1 (missing) takes the last entry
    return flags == 1, flags == 0


def _as_text(s: pd.Series) -> pd.Series:
    """Strings with surrounding space removed; empty strings and NaN become <NA>."""
    if pd.api.types.is_float_dtype(s):
        # Excel turns codes and ids into floats: 110101.0 -> "110101"
        whole = s.notna() & (s == np.floor(s))
        out = s.astype(object).where(~whole, s.where(whole).astype("Int64").astype(str))
        s = out.astype(object).where(s.notna(), None)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "boolean":
        # yes/no columns (derived, defaults): their two values made text once each, not once per row
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        t = pd.Series(pd.array([str(u) for u in uniques], dtype="string").take(codes, allow_fill=True),
                      index=s.index)
    else:
        t = s.astype("string").str.strip()
    return t.mask(t == "", pd.NA)


#: Admin codes that exist (None: unchecked), or a lookup of which of a column's codes exist
Codes = Collection[str] | Callable[[list[str]], Collection[str] | None] | None


def _isin(text: pd.Series, values: Collection[str]) -> np.ndarray:
    """``text.isin(values)`` for many values (codes, keys): one Arrow call where pandas makes a scalar of each."""
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        wanted = pa.array([v for v in values if isinstance(v, str)], type=pa.large_string())
        found = pc.is_in(pa.array(text.array).cast(pa.large_string()), value_set=wanted, skip_nulls=True)
        return found.fill_null(False).to_numpy(zero_copy_only=False)
    return text.isin(values).to_numpy(dtype=bool)


def _check_field(
    f: FieldSpec, raw: pd.Series, col: _Collector, codes: Codes, *, check_required: bool = True
) -> pd.Series:
    """Return the column converted to its declared type, recording problems in ``col``."""
    text = _as_text(raw)
    present = text.notna().to_numpy()
    if f.default is not None:
        text = text.fillna(str(f.default))
        present = np.ones(len(text), dtype=bool)
    def vals():
        return text.to_numpy(dtype=object, na_value=None)


    if f.type in ("integer", "number"):
        num = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        notnum = present & num.isna().to_numpy()
        col.add_mask(notnum, f.name, lambda v: f"'{v}' is not a number", f"write a plain {f.type}", "type", vals)
        out = num
        if f.type == "integer":
            frac = (num.notna() & (num != np.floor(num))).to_numpy()
            col.add_mask(frac, f.name, lambda v: f"'{v}' is not a whole number", "round it", "type", vals)
            out = num.where(~frac).round().astype("Int64")
        else:
            out = num.astype("Float64")
        nums = num.to_numpy(dtype="float64", na_value=np.nan)
        unit = f" {f.unit}" if f.unit else ""
        if f.min is not None:
            col.add_mask(nums < f.min, f.name, lambda v: f"{v}{unit} is below the minimum {f.min:g}",
                         f"use a value of at least {f.min:g}", "range", vals)
        if f.max is not None:
            col.add_mask(nums > f.max, f.name, lambda v: f"{v}{unit} is above the maximum {f.max:g}",
                         f"use a value of at most {f.max:g}" + (" (a share is written 0-1, not in %)"
                                                              if f.max == 1 else ""), "range", vals)
    elif f.type == "boolean":
        is_true, is_false = _yes_no(text)
        unknown = present & ~is_true & ~is_false
        col.add_mask(unknown, f.name, lambda v: f"'{v}' is not yes/no", "write true/false (or 是/否)", "type", vals)
        out = pd.Series(pd.arrays.BooleanArray(is_true, ~(is_true | is_false)), index=raw.index)
    elif f.type == "date":
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        baddate = present & parsed.isna().to_numpy()
        col.add_mask(baddate, f.name, lambda v: f"'{v}' is not a date", "write dates as YYYY-MM-DD", "type", vals)
        out = parsed.dt.strftime("%Y-%m-%d").astype("string")
    elif f.type == "admin_code":
        if callable(codes):  # the atlas's lookup: asked for this column's distinct codes only
            codes = codes(text.dropna().unique().tolist())
        # a code found in the code table needs no further look; only the others are parsed
        known = _isin(text, codes) if codes is not None else np.zeros(len(text), dtype=bool)
        check = present & ~known
        wrong_len = np.zeros(len(text), dtype=bool)
        if check.any():
            sub = text[check]
            ok_form = (sub.str.fullmatch(r"\d+").fillna(False) & sub.str.len().isin(f.code_digits)).to_numpy()
            wrong_len[np.flatnonzero(check)[~ok_form]] = True
        want = " or ".join(f"{d}" for d in f.code_digits)
        col.add_mask(wrong_len, f.name, lambda v: f"'{v}' is not a {want}-digit admin code",
                     "use the GB/T 2260 (6-digit) or statistical (9/12-digit) code", "code", vals)
        if codes is not None:
            col.add_mask(check & ~wrong_len, f.name, lambda v: f"admin code {v} is not in the atlas's code table",
                         "check the code against the 2023 statistical division codes", "code", vals)
        out = text
    elif f.type == "string_list":
        out = text.map(lambda v: "、".join(p for p in _LIST_SPLIT.split(v) if p) if isinstance(v, str) else v)
        out = out.astype("string")
    else:  # string, text
        out = text
    if f.enum is not None:
        if f.enum_aliases:
            out = out.replace(f.enum_aliases) if out.dtype != "Int64" else out
        allowed = {str(e) for e in f.enum}
        outside = present & ~out.astype("string").isin(allowed).fillna(False).to_numpy()
        col.add_mask(outside, f.name, lambda v: f"'{v}' is not one of {', '.join(map(str, f.enum))}",
                     "use one of the listed values", "enum", vals)
    if f.max_length is not None and f.type in ("string", "text", "string_list"):
        too_long = (out.str.len() > f.max_length).fillna(False).to_numpy()
        col.add_mask(too_long, f.name, lambda v: f"'{str(v)[:20]}…' is longer than {f.max_length} characters",
                     "shorten it", "length", vals)
    if f.pattern is not None and f.type in ("string", "text"):
        mism = present & ~out.str.fullmatch(f.pattern).fillna(False).to_numpy()
        col.add_mask(mism, f.name, lambda v: f"'{v}' does not have the expected form", f"match {f.pattern}",
                     "pattern", vals)
    if f.required and check_required:
        missing = ~present
        col.add_mask(missing, f.name, "a value is required", f"fill in '{f.name}'", "required")
    return out


def _check_geometry(gs: gpd.GeoSeries, spec: LayerSpec, col: _Collector, extent,
                    written: np.ndarray | None = None) -> gpd.GeoSeries:
    arr = np.asarray(gs.values)
    missing = shapely.is_missing(arr)
    col.add_mask(missing, "geometry", "no geometry (empty or non-numeric coordinates)",
                 "give the location: longitude/latitude or a geometry", "geometry")
    empty = ~missing & shapely.is_empty(arr)
    col.add_mask(empty, "geometry", "the geometry is empty", "give the location", "geometry")
    types = np.asarray(shapely.get_type_id(arr))
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                      "MultiPolygon", "GeometryCollection"], dtype=object)
    type_names = np.where(types >= 0, names[np.clip(types, 0, 7)], None)
    wrong = ~missing & ~empty & ~np.isin(type_names, list(spec.geometry_types))
    col.add_mask(wrong, "geometry", lambda t: f"a {t} where layer '{spec.name}' holds {spec.geometry}s",
                 f"give {spec.geometry} geometries" + (" (use a point inside each area)" if spec.geometry == "Point"
                                                       else ""), "geometry_type", type_names)
    ok = ~missing & ~empty
    # every problem of a value: a bow-tie polygon offered to a point layer is both of the wrong type and invalid
    check = ok & (types != 0)  # points are always valid
    if check.any():
        invalid = np.zeros(len(arr), dtype=bool)
        invalid[check] = ~shapely.is_valid(arr[check])
        reasons = np.full(len(arr), None, dtype=object)
        if invalid.any():
            reasons[invalid] = shapely.is_valid_reason(arr[invalid])
        col.add_mask(invalid, "geometry", lambda r: f"invalid geometry ({r})",
                     "repair it with shapely.make_valid (QGIS: Fix geometries)", "invalid_geometry", reasons)
    if extent is not None and ok.any():
        minx, miny, maxx, maxy = extent
        b = shapely.bounds(arr)
        inside = (b[:, 0] >= minx) & (b[:, 2] <= maxx) & (b[:, 1] >= miny) & (b[:, 3] <= maxy)
        swapped_inside = (b[:, 1] >= minx) & (b[:, 3] <= maxx) & (b[:, 0] >= miny) & (b[:, 2] <= maxy)
        swapped = ok & ~inside & swapped_inside
        outside = ok & ~inside & ~swapped_inside

        def where(mask):
            def build():
                out = np.full(len(arr), None, dtype=object)
                if written is not None:
                    out[mask] = [f"({w})" for w in written[mask]]
                else:
                    xy = shapely.get_coordinates(shapely.centroid(arr[mask]))
                    out[mask] = [f"({x:.6f}, {y:.6f})" for x, y in xy]
                return out
            return build

        col.add_mask(swapped, "geometry", lambda w: f"longitude and latitude {w} look swapped (the point falls inside "
                     "the atlas only when they are exchanged)", "exchange the longitude and latitude columns",
                     "swapped", where(swapped))
        col.add_mask(outside, "geometry", lambda w: f"location {w} is outside the atlas extent",
                     f"check the coordinates and the declared datum (extent {minx:g},{miny:g},{maxx:g},{maxy:g})",
                     "extent", where(outside))
    if spec.geometry.startswith("Multi"):
        single = ok & (type_names != spec.geometry)
        if single.any():
            make = {"MultiPolygon": shapely.multipolygons, "MultiPoint": shapely.multipoints,
                    "MultiLineString": shapely.multilinestrings}[spec.geometry]
            arr = arr.copy()
            # one multi-part geometry per single part (indices), not one for all of them
            arr[single] = make(arr[single], indices=np.arange(int(single.sum())))
    return gpd.GeoSeries(arr, index=gs.index, crs=gs.crs, name="geometry")


def validate_layer(
    gdf: gpd.GeoDataFrame,
    spec: LayerSpec,
    *,
    codes: Codes = None,
    extent: tuple[float, float, float, float] | None = None,
    existing_keys: Iterable[str] | Callable[[list[str]], Collection[str]] | None = None,
    row_numbers: np.ndarray | None = None,
    defaults: dict[str, object] | None = None,
    written: np.ndarray | None = None,
) -> ValidationReport:
    """Validate ``gdf`` for layer ``spec``; returns a report, never raises for bad data.

    Parameters
    ----------
    gdf : GeoDataFrame
        Data in EPSG:4490 (or EPSG:4326), columns named as the layer's fields or their aliases.
    spec : LayerSpec
        The layer definition (see :func:`placegeo.registry.get_layer`).
    codes : collection of str, or callable, optional
        Admin codes that exist; codes outside it are reported. Or a function that, given a column's
        distinct codes, returns those of them that exist, or None when there is no code tree
        (:meth:`placegeo.atlas.Atlas.codes_present`: lookups instead of reading the whole tree).
    extent : (minx, miny, maxx, maxy), optional
        Features outside it are reported (as swapped when exchanging x and y puts them inside).
    existing_keys : iterable of str, or callable, optional
        Primary keys already stored (for append mode), or a function that, given this input's keys,
        returns those of them already stored (:meth:`placegeo.atlas.Atlas.keys_present`: an index
        lookup instead of reading every stored key).
    row_numbers : array of int, optional
        The row number a person sees for each feature (default: counting from
        ``gdf.attrs['first_row']``, or from 1).
    defaults : dict, optional
        Values for fields the input lacks or leaves empty (an import fills ``source`` this way).
    written : array of str, optional
        Each feature's coordinates as its file writes them, quoted in messages instead of the
        converted ones.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> from placegeo.registry import get_layer
    >>> g = gpd.GeoDataFrame({"point_id": ["a"], "name": ["芙蓉街"], "kind": ["避风港"], "open_24h": ["是"],
    ...                       "district_code": ["370102"], "source": ["survey"]},
    ...                      geometry=[Point(117.016, 36.664)], crs="EPSG:4490")
    >>> report = validate_layer(g, get_layer("relief_points"))
    >>> report.ok, report.data.loc[0, "kind"], bool(report.data.loc[0, "open_24h"])
    (True, 'relief_point', True)
    """
    n = len(gdf)
    if row_numbers is None:
        first = int(gdf.attrs.get("first_row", 1))
        row_numbers = np.arange(first, first + n)
    rows = np.asarray(row_numbers)
    col = _Collector(n, rows)
    renamed, notes = _rename_aliases(gdf, spec)
    if gdf.crs is not None and gdf.crs.to_epsg() not in (4490, 4326):
        renamed = renamed.to_crs(CGCS2000)
    out = {}
    defaults = defaults or {}
    for f in spec.fields:
        absent = False
        if f.name in renamed.columns:
            raw = renamed[f.name]
            if f.name in defaults:
                raw = raw.astype(object).where(_as_text(raw).notna(), defaults[f.name])
        elif f.name in defaults:
            raw = pd.Series([defaults[f.name]] * n, index=gdf.index, dtype=object)
        else:
            if f.required and f.default is None:
                names = ", ".join(dict.fromkeys([f.name, *filter(None, [f.title_zh]), *f.aliases]))
                col.add_input(f.name, f"no column holds the required field '{f.name}' ({f.title_zh}); the input's "
                              f"columns are {', '.join(map(str, gdf.columns.drop(gdf.geometry.name)))}",
                              f"add a column named {names}", "missing_field")
            raw = pd.Series([None] * n, index=gdf.index, dtype=object)
            absent = True
        out[f.name] = _check_field(f, raw, col, codes, check_required=not absent)
    data = pd.DataFrame(out, index=gdf.index)

    for rule in spec.rules:
        a, b = rule["fields"]
        over = (data[a] > data[b]).fillna(False).to_numpy(dtype=bool)
        pairs = np.full(n, None, dtype=object)
        pairs[over] = [f"{a}={x} > {b}={y}" for x, y in zip(data[a][over], data[b][over], strict=True)]
        col.add_mask(over, a, lambda v, r=rule: f"{r.get('message', 'rule broken')} ({v})",
                     f"make {a} at most {b}", "rule", pairs)

    key = data[spec.primary_key]
    dup = key.duplicated(keep="first").to_numpy() & key.notna().to_numpy()
    if dup.any():
        firsts = ~key.duplicated(keep="first").to_numpy()
        first_row = dict(zip(key[firsts], rows[firsts], strict=True))
        col.add_mask(dup, spec.primary_key, lambda v: f"duplicate key '{v}' (first used on row {first_row[v]})",
                     "give every feature its own key", "duplicate_key", lambda: key.to_numpy(dtype=object))
    if existing_keys is not None:
        stored = existing_keys(key.dropna().astype(str).unique().tolist()) if callable(existing_keys) \
            else existing_keys
        taken = _isin(key, set(stored))
        col.add_mask(taken, spec.primary_key, lambda v: f"key '{v}' is already stored in the atlas",
                     "use --mode replace, or give new keys", "duplicate_key", lambda: key.to_numpy(dtype=object))

    geom = _check_geometry(renamed.geometry.set_crs(CGCS2000, allow_override=True), spec, col, extent, written)
    result = gpd.GeoDataFrame(data, geometry=geom, crs=CGCS2000)
    return ValidationReport(spec.name, result, col.problems, col.bad, notes)


def conform(gdf: gpd.GeoDataFrame, spec: LayerSpec, **kwargs) -> gpd.GeoDataFrame:
    """Validate and return the typed data; raise :class:`ValidationError` listing every problem."""
    report = validate_layer(gdf, spec, **kwargs)
    report.raise_if_problems()
    return report.data
