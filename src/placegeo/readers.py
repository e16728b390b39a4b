"""Read the files other departments send: CSV, XLSX, Shapefile, GeoJSON, GeoPackage, KML.

:func:`read_file` returns a GeoDataFrame in CGCS2000 (EPSG:4490) whatever the
input's datum, with ``attrs["first_row"]`` giving the row number a person sees
for the first feature (a spreadsheet's first record is row 2), so validation messages
point at the right line.

Encodings: a Shapefile's ``.cpg`` is honoured; without one the DBF's bytes are
tested as UTF-8 and otherwise read as GB18030 (a superset of GBK and GB2312),
which is what Chinese desktop GIS writes by default. CSV files get the same
test (UTF-8 with or without BOM, else GB18030).
"""

from __future__ import annotations

import re
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
import yaml

from placegeo.crs import CGCS2000, convert, normalize_datum, shift_datum
from placegeo.errors import CRSError, DatumError, ImportFormatError

__all__ = ["Source", "convert_table", "datum_of", "detect_encoding", "read_file", "read_source", "read_table"]

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".shp": "shapefile", ".zip": "shapefile",
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
    ".kml": "kml", ".kmz": "kml",
}
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "经度坐标")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "纬度坐标")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "几何")
_DATUM_HELP = (
    "declare the datum the coordinates are in with --datum: wgs84 (GPS, OpenStreetMap), cgcs2000 (天地图, "
    "surveying), gcj02 (Amap/高德, Tencent/腾讯) or bd09 (Baidu/百度)"
)


def detect_encoding(data: bytes) -> str:
    """``utf-8`` if ``data`` decodes as UTF-8, else ``gb18030`` (covers GBK and GB2312).

    >>> detect_encoding("趵突泉".encode("gbk")), detect_encoding("趵突泉".encode("utf-8"))
    ('gb18030', 'utf-8')
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _dbf_encoding(dbf: Path) -> str:
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return "utf-8"
    header_len = struct.unpack("<H", raw[8:10])[0]
    # field names in the header and every record after it
    return detect_encoding(raw[32:header_len] + raw[header_len:])


def _shapefile_encoding(shp: Path, encoding: str | None) -> tuple[str, str | None]:
    """The encoding of a Shapefile's DBF, and a note saying how it was chosen when no .cpg says it."""
    if encoding:
        return encoding, None
    cpg = shp.with_suffix(".cpg")
    if not cpg.exists():
        cpg = next((p for p in shp.parent.glob(shp.stem + ".*") if p.suffix.lower() == ".cpg"), cpg)
    if cpg.exists():
        text = cpg.read_text(encoding="ascii", errors="ignore").strip().lower()
        if text in ("936", "cp936", "gbk", "gb2312", "gb18030", "ansi 936"):
            return "gb18030", None
        if text:
            return ("utf-8" if text in ("65001", "utf8", "utf-8") else text), None
    dbf = next((p for p in shp.parent.glob(shp.stem + ".*") if p.suffix.lower() == ".dbf"), None)
    enc = _dbf_encoding(dbf) if dbf else "utf-8"
    label = "GB18030 (GBK)" if enc == "gb18030" else "UTF-8"
    return enc, (f"'{shp.name}' has no .cpg file: its text was read as {label}, the encoding its bytes fit; "
                 "if names look garbled, give the right one with --encoding")


@cache
def _table_words() -> dict:
    text = resources.files("placegeo").joinpath("data/datum_columns.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _fold(text: object) -> str:
    """Lower case, NFKC (full-width to half-width), without spaces, dashes and underscores."""
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s\-_—–]", "", t)


@cache
def _datum_words() -> dict[str, str]:
    return {_fold(w): d for d, words in _table_words()["values"].items() for w in words}


def datum_of(value: object) -> str | None:
    """The datum a cell of a 坐标系 column names, or None when it names none placegeo knows.

    >>> [datum_of(v) for v in ["GCJ-02(高德)", "火星坐标", "BD-09（百度）", "GPS", "2000国家大地坐标系", "UTM"]]
    ['gcj02', 'gcj02', 'bd09', 'wgs84', 'cgcs2000', None]
    """
    words = _datum_words()
    whole = _fold(value)
    outside = re.sub(r"\(.*?\)", "", whole)
    inside = re.findall(r"\((.*?)\)", whole)
    for candidate in (whole, re.sub(r"[()]", "", whole), outside, *inside):
        if candidate in words:
            return words[candidate]
    return None


def _header_row(raw: pd.DataFrame) -> int:
    """The index of the header among the first rows: skips titles merged across the columns."""
    known = {_fold(n) for n in (*_LON_NAMES, *_LAT_NAMES, *_WKT_NAMES)}
    head = raw.head(10)
    filled = head.notna() & head.astype(str).apply(lambda c: c.str.strip().ne(""))
    counts = filled.sum(axis=1).to_numpy()
    for i in range(len(head)):
        if any(_fold(v) in known for v in head.iloc[i] if isinstance(v, str)):
            return i
    widest = counts.max() if len(counts) else 0
    return int(np.argmax(counts >= max(2, widest / 2))) if widest else 0


def _is_note(row: pd.Series) -> bool:
    cells = [v for v in row if (isinstance(v, str) and v.strip()) or not (isinstance(v, str) or pd.isna(v))]
    if not cells:
        return True  # an empty row
    prefixes = tuple(_fold(p) for p in _table_words()["note_prefixes"])
    return len(cells) == 1 and isinstance(cells[0], str) and _fold(cells[0]).startswith(prefixes)


def _head_lines(text: str, n: int) -> list[str]:
    """The first ``n`` lines of ``text`` (without splitting all of a large file)."""
    head = text[:65536].splitlines()
    return head[:n] if len(head) > n else text.splitlines()[:n]


def _read_table_rows(path: Path, *, encoding: str | None, sheet: str | int | None
                     ) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """A table's records, the row number a person sees for each, and notes on how it was read."""
    kind = FORMATS.get(path.suffix.lower())
    notes: list[str] = []
    if kind == "xlsx":
        try:
            raw = pd.read_excel(path, sheet_name=sheet or 0, dtype=object, header=None)
        except ValueError as exc:
            raise ImportFormatError(f"cannot read sheet {sheet!r} of '{path.name}': {exc}") from None
        top = _header_row(raw)
        df = raw.iloc[top + 1:].copy()
        df.columns = [str(c).strip() if not pd.isna(c) else f"column {i + 1}" for i, c in enumerate(raw.iloc[top])]
        rows = np.arange(len(raw))[top + 1:] + 1  # Excel counts from 1
    else:
        raw_bytes = path.read_bytes()
        enc = encoding or ("utf-8-sig" if raw_bytes.startswith(b"\xef\xbb\xbf") else None)
        try:
            if enc is None:  # detect_encoding, decoding the file once
                try:
                    enc, text = "utf-8", raw_bytes.decode("utf-8")
                except UnicodeDecodeError:
                    enc = "gb18030"
                    notes.append(f"'{path.name}' is not UTF-8: it was read as GB18030 (GBK)")
                    text = raw_bytes.decode(enc)
            else:
                text = raw_bytes.decode(enc)
            lines = _head_lines(text, 10)
        except UnicodeDecodeError:
            raise ImportFormatError(
                f"'{path.name}' is not valid {enc}; give its encoding with --encoding (e.g. gbk or utf-8)"
            ) from None
        header = raw_bytes.split(b"\n", 1)[0]
        # the delimiter the header uses most (Chinese office exports use commas, tabs or semicolons)
        sep = max([",", "\t", ";"], key=lambda c: header.count(c.encode()))
        cells = [ln.split(sep) for ln in lines]
        width = max((len(c) for c in cells), default=0)
        top = _header_row(pd.DataFrame([c + [""] * (width - len(c)) for c in cells])) if cells else 0
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, sep=sep, skiprows=top)
        rows = np.arange(len(df)) + top + 2
    df.index = pd.RangeIndex(len(df))
    if kind == "xlsx" or top > 0:
        notes_mask = np.fromiter((_is_note(r) for _, r in df.iterrows()), dtype=bool, count=len(df))
        if top:
            notes.append(f"rows 1-{top} of '{path.name}' are titles above the header (row {top + 1}); skipped")
        texts = [r for r, n in zip(rows, notes_mask, strict=True) if n]
        if texts:
            notes.append(f"rows {', '.join(map(str, texts))} are empty or notes, not records; skipped")
        df, rows = df.loc[~notes_mask].reset_index(drop=True), rows[~notes_mask]
    return df, rows, notes


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file as text columns (nothing is guessed as a number yet).

    Title rows above the header and note rows (注：…) are skipped.
    """
    return _read_table_rows(Path(path), encoding=encoding, sheet=sheet)[0]


def _find_column(columns, wanted: tuple[str, ...], given: str | None, what: str) -> str | None:
    if given:
        if given not in columns:
            raise ImportFormatError(f"column '{given}' given for the {what} is not in the file; it has: "
                                    f"{', '.join(map(str, columns))}")
        return given
    norm = {str(c).strip().lower(): c for c in columns}
    for name in wanted:
        if name in norm:
            return norm[name]
    return None


def _parse_coordinate(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        try:  # plain numbers, the usual case: one Arrow cast (it refuses all that needs cleaning first)
            return pc.cast(pa.array(series.array), pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            pass
    text = series.astype("string").str.strip().str.replace("°", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def convert_table(
    df: pd.DataFrame, *, src: str, dst: str, lon_col: str | None = None, lat_col: str | None = None
) -> pd.DataFrame:
    """A copy of a table with its longitude/latitude columns converted from datum ``src`` to ``dst``.

    The columns are found by name (``lon``/``lat``, ``经度``/``纬度`` …) unless given. Empty
    coordinates stay empty; a coordinate that is not a number is an error naming its rows (as
    Excel numbers them, header = row 1).

    >>> import pandas as pd
    >>> out = convert_table(pd.DataFrame({"名称": ["泉城广场"], "经度": [117.0160], "纬度": [36.6611]}),
    ...                     src="wgs84", dst="gcj02")
    >>> round(float(out.loc[0, "经度"]) - 117.0160, 4)
    0.0059
    """
    lon_c = _find_column(df.columns, _LON_NAMES, lon_col, "longitude")
    lat_c = _find_column(df.columns, _LAT_NAMES, lat_col, "latitude")
    if lon_c is None or lat_c is None:
        raise ImportFormatError(f"no longitude/latitude columns found; give their names (--lon-col, --lat-col); "
                                f"the columns are {', '.join(map(str, df.columns))}")
    lon, lat = _parse_coordinate(df[lon_c]), _parse_coordinate(df[lat_c])
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    given = [df[c].notna() & df[c].astype(str).str.strip().ne("") for c in (lon_c, lat_c)]
    filled = (given[0] | given[1]).to_numpy()
    if (bad & filled).any():
        rows = (np.flatnonzero(bad & filled)[:10] + 2).tolist()
        raise ImportFormatError(f"rows {rows} have coordinates that are not numbers; fix them and retry")
    x, y = convert(lon, lat, src=src, dst=dst)
    out = df.copy()
    out[lon_c] = np.where(bad, "", np.round(x, 8).astype(str))
    out[lat_c] = np.where(bad, "", np.round(y, 8).astype(str))
    return out


@dataclass
class Source:
    """A file as read for an import: the features in EPSG:4490 and what a report needs about each.

    ``rows`` is the row number a person sees for each feature (Excel: the header is row 1, titles
    and notes skipped); ``written`` the coordinates as the file writes them (``117.0219, 36.6646``),
    or None for geometry files; ``datums`` the datum each row was read in; ``datum_from`` says who
    declared it (a column of the file, ``--datum``, or the file's CRS).
    """

    gdf: gpd.GeoDataFrame
    rows: np.ndarray
    datums: np.ndarray
    datum_from: str
    written: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def _row_list(rows: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(map(str, rows[:limit]))
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _row_datums(df: pd.DataFrame, rows: np.ndarray, datum: str | None, name: str
                ) -> tuple[np.ndarray, str, str | None]:
    """The datum of each row (from a 坐标系 column, else ``datum``), who said so, and the column used."""
    wanted = [_fold(c) for c in _table_words()["columns"]]
    col = next((c for w in wanted for c in df.columns if _fold(c) == w), None)
    if col is None:
        if datum is None:
            raise CRSError(f"'{name}' gives coordinates without saying their datum (no 坐标系 column); {_DATUM_HELP}")
        return np.repeat(np.array([datum], dtype=object), len(df)), "--datum", None
    cells = df[col].astype("string").str.strip()
    uniques = cells.dropna().unique()
    known = {u: datum_of(u) for u in uniques if u}
    unknown = [u for u, d in known.items() if d is None]
    if unknown:
        bad = rows[cells.isin(unknown).to_numpy(dtype=bool)]
        raise DatumError(f"column '{col}' of '{name}' names datums placegeo does not know ({', '.join(unknown[:5])}) "
                         f"on rows {_row_list(bad)}; write one of GCJ-02 (高德), BD-09 (百度), WGS84 (GPS) "
                         "or CGCS2000 (2000国家大地坐标系)")
    per_row = cells.map(lambda v: known.get(v) if isinstance(v, str) else None).to_numpy(dtype=object, na_value=None)
    per_row = per_row.copy()  # pandas hands out read-only views
    said = sorted({d for d in per_row if d})
    if datum is not None and any(d != datum for d in said):
        other = [d for d in said if d != datum]
        examples = [u for u, d in known.items() if d in other][:3]
        raise DatumError(f"--datum {datum} contradicts '{name}': its column '{col}' says {', '.join(other)} "
                         f"({', '.join(examples)}); drop --datum to use the file's, or correct the column")
    empty = np.array([d is None for d in per_row], dtype=bool)
    if empty.any():
        if datum is None:
            raise CRSError(f"column '{col}' of '{name}' is empty on rows {_row_list(rows[empty])}; fill it in, "
                           f"or {_DATUM_HELP}")
        per_row[empty] = datum
    return per_row, f"column '{col}'", col


def _convert_rows(x: np.ndarray, y: np.ndarray, datums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out_x, out_y = x.copy(), y.copy()
    for d in pd.unique(datums):
        sel = datums == d
        out_x[sel], out_y[sel] = convert(x[sel], y[sel], src=d, dst="cgcs2000")
    return out_x, out_y


def _points_from_table(df: pd.DataFrame, rows: np.ndarray, *, datum: str | None, lon_col, lat_col,
                       name: str) -> Source:
    lon_c = _find_column(df.columns, _LON_NAMES, lon_col, "longitude")
    lat_c = _find_column(df.columns, _LAT_NAMES, lat_col, "latitude")
    wkt_c = _find_column(df.columns, _WKT_NAMES, None, "geometry") if lon_c is None or lat_c is None else None
    if (lon_c is None or lat_c is None) and wkt_c is None:
        raise ImportFormatError(
            f"'{name}' has no coordinate columns: name them lon/lat (or 经度/纬度, longitude/latitude), "
            "give --lon-col and --lat-col, or add a WKT column named wkt; its columns are "
            + ", ".join(map(str, df.columns))
        )
    datums, said_by, datum_c = _row_datums(df, rows, datum, name)
    notes = [f"datums read row by row from {said_by}: "
             + ", ".join(f"{d} ({int((datums == d).sum())} rows)" for d in pd.unique(datums))] if datum_c else []
    rest = df.drop(columns=[c for c in (lon_c, lat_c, wkt_c, datum_c) if c is not None])
    if wkt_c is not None:
        text = df[wkt_c].astype("string").str.strip()
        geoms = shapely.from_wkt(text.mask(text == "", None).to_numpy(dtype=object, na_value=None),
                                 on_invalid="ignore")
        gdf = gpd.GeoDataFrame(rest, geometry=gpd.GeoSeries(geoms, index=df.index), crs=CGCS2000)
        parts = [shift_datum(gdf.loc[datums == d], src=d, dst="cgcs2000") if d in ("gcj02", "bd09")
                 else gdf.loc[datums == d] for d in pd.unique(datums)]
        gdf = gpd.GeoDataFrame(pd.concat(parts).loc[df.index], crs=CGCS2000)
        return Source(gdf, rows, datums, said_by, text.fillna("").to_numpy(dtype=object), notes)
    lon, lat = _parse_coordinate(df[lon_c]), _parse_coordinate(df[lat_c])
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    # swapped columns give |lat| > 90 around China: keep them (as swapped) so validation can say so
    swapped = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    x, y = _convert_rows(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan), datums)
    x, y = np.where(swapped, lon, x), np.where(swapped, lat, y)
    keep = ok | swapped
    geoms = np.full(len(df), None, dtype=object)
    geoms[keep] = shapely.points(x[keep], y[keep])
    written = (df[lon_c].astype("string").str.strip().fillna("") + ", "
               + df[lat_c].astype("string").str.strip().fillna("")).to_numpy(dtype=object)
    gdf = gpd.GeoDataFrame(rest, geometry=gpd.GeoSeries(geoms, index=df.index), crs=CGCS2000)
    return Source(gdf, rows, datums, said_by, written, notes)


def _to_cgcs2000(gdf: gpd.GeoDataFrame, datum: str | None, name: str) -> tuple[gpd.GeoDataFrame, str, str]:
    """The features in EPSG:4490, the datum they were in and who said so."""
    if datum is not None and datum in ("gcj02", "bd09"):
        if gdf.crs is not None and gdf.crs.is_projected:
            raise CRSError(f"'{name}' is projected ({gdf.crs.name}) but was declared {datum}; GCJ-02 and BD-09 "
                           "are longitude/latitude datums: drop --datum or give a geographic file")
        return shift_datum(gdf.set_crs(CGCS2000, allow_override=True), src=datum, dst="cgcs2000"), datum, "--datum"
    if gdf.crs is None:
        if datum is None:
            raise CRSError(f"'{name}' has no CRS (no .prj); {_DATUM_HELP}")
        return gdf.set_crs(CGCS2000), datum, "--datum"
    said, said_by = ("wgs84" if gdf.crs.to_epsg() == 4326 else "cgcs2000"), f"the file's CRS ({gdf.crs.name})"
    if gdf.crs.to_epsg() not in (4490, 4326):
        gdf = gdf.to_crs(CGCS2000)
    return gdf.set_crs(CGCS2000, allow_override=True), said, said_by


def read_source(
    path: str | Path,
    *,
    datum: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    layer: str | int | None = None,
    sheet: str | int | None = None,
) -> Source:
    """Read any supported file for an import: the features and, per row, its number, datum and coordinates
    as written (see :class:`Source`). Parameters as :func:`read_file`.

    A table's datum comes from its 坐标系 (坐标类型, coord_sys, crs) column row by row, where it has
    one; ``datum`` is needed only when the file says nothing, and is refused when it contradicts it.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "amap.csv"
    >>> _ = p.write_text("名称,经度,纬度,坐标系\\n芙蓉街,117.021969,36.664692,GCJ-02(高德)\\n", encoding="utf-8")
    >>> src = read_source(p)
    >>> src.datums.tolist(), src.rows.tolist(), src.written.tolist(), round(float(src.gdf.geometry.x[0]), 5)
    (['gcj02'], [2], ['117.021969, 36.664692'], 117.01606)
    """
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(f"no file at '{path}'")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ImportFormatError(
            f"cannot import '{path.name}': use CSV, XLSX, Shapefile (.shp or zipped), GeoJSON, GeoPackage or KML"
        )
    if datum is not None:
        datum = normalize_datum(datum)
    if kind in ("csv", "xlsx"):
        df, rows, notes = _read_table_rows(path, encoding=encoding, sheet=sheet)
        src = _points_from_table(df, rows, datum=datum, lon_col=lon_col, lat_col=lat_col, name=path.name)
        src.notes[:0] = notes
        return src
    with tempfile.TemporaryDirectory(prefix="placegeo-") as tmp:  # a zipped shapefile is unpacked here
        gdf, notes = _read_vector(path, kind, Path(tmp), encoding=encoding, layer=layer)
    if kind == "kml":
        gdf = gdf.rename(columns={"Name": "name", "Description": "description"})
        # LIBKML adds styling columns (altitudeMode, tessellate, …); drop those the file leaves empty
        kml_cols = ["id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
                    "visibility", "drawOrder", "icon"]
        defaults = {"tessellate": -1, "extrude": 0, "visibility": -1}
        gdf = gdf.drop(columns=[c for c in kml_cols if c in gdf and (
            gdf[c].isna() | (gdf[c] == defaults.get(c, "")) | (gdf[c].astype(str) == "")).all()])
        gdf = gdf.set_crs(gdf.crs or "EPSG:4326", allow_override=True)  # KML is WGS84 by definition
    gdf, said, said_by = _to_cgcs2000(gdf, datum, path.name)
    said_each = np.repeat(np.array([said], dtype=object), len(gdf))
    return Source(gdf, np.arange(1, len(gdf) + 1), said_each, said_by, None, notes)


def read_file(
    path: str | Path,
    *,
    datum: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    layer: str | int | None = None,
    sheet: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported file into a GeoDataFrame in EPSG:4490.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.xlsx``, ``.shp`` (or ``.zip`` holding one), ``.geojson``, ``.gpkg`` or ``.kml``.
    datum : str, optional
        The datum of the coordinates: required for CSV/XLSX without a 坐标系 column and for files
        without a CRS; for GCJ-02 or BD-09 data (which files label as WGS84) it overrides the file's CRS.
    encoding : str, optional
        Text encoding; detected when omitted.
    lon_col, lat_col : str, optional
        Coordinate columns of a table (found by name when omitted: lon/lng/经度, lat/纬度).
    layer : str or int, optional
        The layer to read from a multi-layer file (GeoPackage, KML).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pts.csv"
    >>> _ = p.write_text("名称,经度,纬度\\n芙蓉街,117.021969,36.664692\\n", encoding="utf-8")
    >>> g = read_file(p, datum="gcj02")
    >>> g.crs.to_epsg(), round(float(g.geometry.x[0]), 5), g.attrs["first_row"]
    (4490, 117.01606, 2)
    """
    src = read_source(path, datum=datum, encoding=encoding, lon_col=lon_col, lat_col=lat_col, layer=layer,
                      sheet=sheet)
    src.gdf.attrs["first_row"] = int(src.rows[0]) if len(src.rows) else 1
    return src.gdf


def _read_vector(path: Path, kind: str, tmp: Path, *, encoding: str | None, layer
                 ) -> tuple[gpd.GeoDataFrame, list[str]]:
    target = path
    kwargs: dict = {}
    notes: list[str] = []
    if kind == "shapefile":
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
                if len(shps) != 1:
                    raise ImportFormatError(f"'{path.name}' must hold exactly one .shp; it holds {len(shps)}")
                zf.extractall(tmp)
            target = tmp / shps[0]
        kwargs["encoding"], note = _shapefile_encoding(target, encoding)
        notes += [note] if note else []
    elif encoding:
        kwargs["encoding"] = encoding
    try:
        return pyogrio.read_dataframe(target, layer=layer, **kwargs), notes
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportFormatError(f"cannot read '{path.name}': {_clean(exc)}") from None


def _clean(exc: Exception) -> str:
    """An error message without the machine's paths."""
    return re.sub(r"(/[^\s:'\"]+)+/", "", str(exc))
