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
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from placegeo.crs import CGCS2000, convert, normalize_datum, shift_datum
from placegeo.errors import CRSError, ImportFormatError

__all__ = ["convert_table", "detect_encoding", "read_file", "read_table"]

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


def _shapefile_encoding(shp: Path, encoding: str | None) -> str:
    if encoding:
        return encoding
    cpg = shp.with_suffix(".cpg")
    if not cpg.exists():
        cpg = next((p for p in shp.parent.glob(shp.stem + ".*") if p.suffix.lower() == ".cpg"), cpg)
    if cpg.exists():
        text = cpg.read_text(encoding="ascii", errors="ignore").strip().lower()
        if text in ("936", "cp936", "gbk", "gb2312", "gb18030", "ansi 936"):
            return "gb18030"
        if text:
            return "utf-8" if text in ("65001", "utf8", "utf-8") else text
    dbf = next((p for p in shp.parent.glob(shp.stem + ".*") if p.suffix.lower() == ".dbf"), None)
    return _dbf_encoding(dbf) if dbf else "utf-8"


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file as text columns (nothing is guessed as a number yet)."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind == "xlsx":
        try:
            return pd.read_excel(path, sheet_name=sheet or 0, dtype=object)
        except ValueError as exc:
            raise ImportFormatError(f"cannot read sheet {sheet!r} of '{path.name}': {exc}") from None
    raw = path.read_bytes()
    enc = encoding or ("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else detect_encoding(raw))
    header = raw.split(b"\n", 1)[0]
    # the delimiter the header uses most (Chinese office exports use commas, tabs or semicolons)
    sep = max([",", "\t", ";"], key=lambda c: header.count(c.encode()))
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, sep=sep)
    except UnicodeDecodeError:
        raise ImportFormatError(
            f"'{path.name}' is not valid {enc}; give its encoding with --encoding (e.g. gbk or utf-8)"
        ) from None


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


def _points_from_table(df: pd.DataFrame, *, datum: str | None, lon_col, lat_col, name: str) -> gpd.GeoDataFrame:
    lon_c = _find_column(df.columns, _LON_NAMES, lon_col, "longitude")
    lat_c = _find_column(df.columns, _LAT_NAMES, lat_col, "latitude")
    if lon_c is not None and lat_c is not None:
        if datum is None:
            raise CRSError(f"'{name}' gives longitude/latitude without a datum; {_DATUM_HELP}")
        lon, lat = _parse_coordinate(df[lon_c]), _parse_coordinate(df[lat_c])
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        # swapped columns give |lat| > 90 around China: keep them (as swapped) so validation can say so
        swapped = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
        x, y = np.where(ok, lon, np.nan), np.where(ok, lat, np.nan)
        x, y = convert(x, y, src=datum, dst="cgcs2000")
        x, y = np.where(swapped, lon, x), np.where(swapped, lat, y)
        keep = ok | swapped
        geoms = np.full(len(df), None, dtype=object)
        geoms[keep] = shapely.points(x[keep], y[keep])
        rest = df.drop(columns=[lon_c, lat_c])
        return gpd.GeoDataFrame(rest, geometry=gpd.GeoSeries(geoms, index=df.index), crs=CGCS2000)
    wkt_c = _find_column(df.columns, _WKT_NAMES, None, "geometry")
    if wkt_c is not None:
        if datum is None:
            raise CRSError(f"'{name}' gives WKT geometries without a datum; {_DATUM_HELP}")
        text = df[wkt_c].astype("string").str.strip()
        geoms = shapely.from_wkt(text.mask(text == "", None).to_numpy(dtype=object, na_value=None),
                                 on_invalid="ignore")
        gdf = gpd.GeoDataFrame(df.drop(columns=[wkt_c]), geometry=gpd.GeoSeries(geoms, index=df.index),
                               crs=CGCS2000)
        return shift_datum(gdf, src=datum, dst="cgcs2000") if normalize_datum(datum) in ("gcj02", "bd09") else gdf
    raise ImportFormatError(
        f"'{name}' has no coordinate columns: name them lon/lat (or 经度/纬度, longitude/latitude), "
        "give --lon-col and --lat-col, or add a WKT column named wkt; its columns are "
        + ", ".join(map(str, df.columns))
    )


def _to_cgcs2000(gdf: gpd.GeoDataFrame, datum: str | None, name: str) -> gpd.GeoDataFrame:
    if datum is not None and normalize_datum(datum) in ("gcj02", "bd09"):
        if gdf.crs is not None and gdf.crs.is_projected:
            raise CRSError(f"'{name}' is projected ({gdf.crs.name}) but was declared {datum}; GCJ-02 and BD-09 "
                           "are longitude/latitude datums: drop --datum or give a geographic file")
        return shift_datum(gdf.set_crs(CGCS2000, allow_override=True), src=datum, dst="cgcs2000")
    if gdf.crs is None:
        if datum is None:
            raise CRSError(f"'{name}' has no CRS (no .prj); {_DATUM_HELP}")
        gdf = gdf.set_crs(CGCS2000)
    elif gdf.crs.to_epsg() not in (4490, 4326):
        gdf = gdf.to_crs(CGCS2000)
    return gdf.set_crs(CGCS2000, allow_override=True)


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
        The datum of the coordinates: required for CSV/XLSX and for files without a CRS; for GCJ-02 or
        BD-09 data (which files label as WGS84) it overrides the file's CRS.
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
        df = read_table(path, encoding=encoding, sheet=sheet)
        gdf = _points_from_table(df, datum=datum, lon_col=lon_col, lat_col=lat_col, name=path.name)
        gdf.attrs["first_row"] = 2  # the header is row 1
        return gdf
    with tempfile.TemporaryDirectory(prefix="placegeo-") as tmp:  # a zipped shapefile is unpacked here
        gdf = _read_vector(path, kind, Path(tmp), encoding=encoding, layer=layer)
    if kind == "kml":
        gdf = gdf.rename(columns={"Name": "name", "Description": "description"})
        # LIBKML adds styling columns (altitudeMode, tessellate, …); drop those the file leaves empty
        kml_cols = ["id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
                    "visibility", "drawOrder", "icon"]
        defaults = {"tessellate": -1, "extrude": 0, "visibility": -1}
        gdf = gdf.drop(columns=[c for c in kml_cols if c in gdf and (
            gdf[c].isna() | (gdf[c] == defaults.get(c, "")) | (gdf[c].astype(str) == "")).all()])
        gdf = gdf.set_crs(gdf.crs or "EPSG:4326", allow_override=True)  # KML is WGS84 by definition
    gdf = _to_cgcs2000(gdf, datum, path.name)
    gdf.attrs["first_row"] = 1
    return gdf


def _read_vector(path: Path, kind: str, tmp: Path, *, encoding: str | None, layer) -> gpd.GeoDataFrame:
    target = path
    kwargs: dict = {}
    if kind == "shapefile":
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
                if len(shps) != 1:
                    raise ImportFormatError(f"'{path.name}' must hold exactly one .shp; it holds {len(shps)}")
                zf.extractall(tmp)
            target = tmp / shps[0]
        kwargs["encoding"] = _shapefile_encoding(target, encoding)
    elif encoding:
        kwargs["encoding"] = encoding
    try:
        return pyogrio.read_dataframe(target, layer=layer, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ImportFormatError(f"cannot read '{path.name}': {_clean(exc)}") from None


def _clean(exc: Exception) -> str:
    """An error message without the machine's paths."""
    return re.sub(r"(/[^\s:'\"]+)+/", "", str(exc))
