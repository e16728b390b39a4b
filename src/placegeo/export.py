"""Exports that other departments open without trouble.

Formats: GeoPackage, zipped Shapefile, GeoJSON, KML and CSV with WKT. Targets:
EPSG:4490 (CGCS2000, the default), EPSG:4326 (WGS84), a CGCS2000 Gauss-Kruger
zone (``gk`` picks it from the data, or any EPSG code), or GCJ-02 / BD-09 for
Chinese web maps.

Shapefiles get the care their age needs: a ``.cpg`` naming the encoding
(UTF-8, or code page 936 = GBK for older Chinese desktop GIS), field names
shortened to at most 10 bytes with a ``*_fields.csv`` mapping beside them, and
text over the DBF's 254-byte limit cut at a character boundary (the mapping
file says which fields were cut; the GeoPackage keeps the full text).
"""

from __future__ import annotations

import csv
import io
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from placegeo.crs import parse_crs, shift_datum, to_metric
from placegeo.csvsafe import safe_cell, safe_table
from placegeo.errors import ExportError
from placegeo.registry import load_registry, shorten_field_names
from placegeo.storage import _atomic

__all__ = ["FORMATS", "export_bundle", "export_layer", "shorten_field_names", "to_target_crs"]

FORMATS = {
    "gpkg": ".gpkg",
    "shp": ".shp.zip",
    "geojson": ".geojson",
    "kml": ".kml",
    "csv": ".csv",
}
ENCODINGS = {"utf-8": "UTF-8", "utf8": "UTF-8", "gbk": "CP936", "cp936": "CP936", "gb2312": "CP936",
             "gb18030": "CP936"}
_DBF_TEXT_BYTES = 254
#: pyogrio hands the frame to GDAL through Arrow (1.8-3.4x faster on 1M points, the same files:
#: tests/test_export.py compares both paths); False writes feature by feature, as before.
USE_ARROW = True


def to_target_crs(gdf: gpd.GeoDataFrame, target: str | int = "EPSG:4490") -> tuple[gpd.GeoDataFrame, str]:
    """Reproject or shift ``gdf`` to an export target; returns the data and a label for it."""
    kind, crs = parse_crs(target)
    if kind == "gk":
        out = to_metric(gdf)
        return out, f"EPSG:{out.crs.to_epsg()} ({out.crs.name})"
    if kind in ("gcj02", "bd09"):
        label = {"gcj02": "GCJ-02 (Amap/Tencent web maps)", "bd09": "BD-09 (Baidu web maps)"}[kind]
        return shift_datum(gdf.to_crs("EPSG:4490"), src="cgcs2000", dst=kind), label
    assert crs is not None
    out = gdf.to_crs(crs)
    return out, f"EPSG:{crs.to_epsg()} ({crs.name})" if crs.to_epsg() else crs.name


def _gbk_fold(text: str) -> str:
    """Capital pinyin vowels with tone marks (È, Ā …) are missing from GBK, their lower-case forms are not."""
    out = []
    for ch in text:
        try:
            ch.encode("gbk")
        except UnicodeEncodeError:
            low = ch.lower()
            try:
                low.encode("gbk")
                ch = low
            except UnicodeEncodeError:
                pass
        out.append(ch)
    return "".join(out)


def _dbf_safe(gdf: gpd.GeoDataFrame, enc: str) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Fit text to the DBF: cut at 254 bytes, fold what GBK lacks, refuse what cannot be written.

    Returns the data and a note per field that was changed (for the field mapping file).
    """
    py_enc = "gbk" if enc == "CP936" else "utf-8"
    out = gdf.copy()
    notes: dict[str, str] = {}
    for col in gdf.columns:
        if col == gdf.geometry.name or not (pd.api.types.is_string_dtype(gdf[col]) or gdf[col].dtype == object):
            continue
        text = gdf[col].astype("string")
        try:
            nbytes = text.str.encode(py_enc).str.len()
        except UnicodeEncodeError:
            folded = text.map(lambda v: _gbk_fold(v) if isinstance(v, str) else v).astype("string")
            for row, v in enumerate(folded):
                try:
                    if isinstance(v, str):
                        v.encode(py_enc)
                except UnicodeEncodeError as exc:
                    raise ExportError(
                        f"row {row + 1}, field '{col}': '{v[exc.start: exc.end]}' in '{v[:30]}' cannot be written "
                        "in GBK; export with --encoding utf-8 (QGIS and ArcGIS 10.x+ read UTF-8 shapefiles with "
                        "a .cpg)"
                    ) from None
            text = folded
            notes[col] = "capital pinyin letters with tone marks written in lower case (GBK lacks them)"
            nbytes = text.str.encode(py_enc).str.len()
        over = (nbytes > _DBF_TEXT_BYTES).fillna(False).to_numpy()
        if over.any():
            cut = [v.encode(py_enc)[:_DBF_TEXT_BYTES].decode(py_enc, errors="ignore") for v in text[over]]
            text = text.copy()
            text[over] = cut
            notes[col] = "; ".join(filter(None, [notes.get(col), "text cut to 254 bytes; full text in the GeoPackage"]))
        out[col] = text
    return out, notes


def _write_shapefile_zip(gdf: gpd.GeoDataFrame, path: Path, name: str, *, encoding: str, titles: dict) -> Path:
    enc = ENCODINGS.get(encoding.lower())
    if enc is None:
        raise ExportError(f"unknown shapefile encoding {encoding!r}; use utf-8 or gbk")
    mapping = shorten_field_names([c for c in gdf.columns if c != gdf.geometry.name], encoding=encoding)
    safe, notes = _dbf_safe(gdf, enc)
    safe = safe.rename(columns=mapping)
    for col in safe.columns:  # DBF has no nullable booleans: write them as 1/0
        if safe[col].dtype == "boolean":
            safe[col] = safe[col].astype("Int64")
    with tempfile.TemporaryDirectory(prefix="placegeo-shp-") as tmp:
        shp = Path(tmp) / f"{name}.shp"
        pyogrio.write_dataframe(safe, shp, driver="ESRI Shapefile", encoding=enc, use_arrow=USE_ARROW)
        # "936" is the code page number ArcGIS and GDAL/QGIS both read; "UTF-8" likewise
        (Path(tmp) / f"{name}.cpg").write_text("936" if enc == "CP936" else "UTF-8", encoding="ascii")
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["field", "shapefile_field", "title_zh", "note"])
        for long, short in mapping.items():
            w.writerow([safe_cell(v) for v in (long, short, titles.get(long, ""), notes.get(long, ""))])
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(Path(tmp).iterdir()):
                zf.write(f, f.name)
            zf.writestr(f"{name}_fields.csv", "\ufeff" + buf.getvalue())
    return path


def export_layer(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    *,
    fmt: str | None = None,
    crs: str | int = "EPSG:4490",
    encoding: str = "utf-8",
    name: str | None = None,
    titles: dict[str, str] | None = None,
) -> Path:
    """Write one layer in an export format; returns the path written.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer (any CRS).
    path : str or Path
        Output file. For ``shp`` a ``.shp.zip`` holding .shp/.shx/.dbf/.prj/.cpg and the field mapping.
    fmt : {'gpkg', 'shp', 'geojson', 'kml', 'csv'}, optional
        Taken from the file name when omitted.
    crs : str or int
        ``EPSG:4490`` (default), ``EPSG:4326``, ``gk`` (Gauss-Kruger zone of the data), an EPSG code,
        ``gcj02`` or ``bd09``.
    encoding : {'utf-8', 'gbk'}
        Text encoding of Shapefile and CSV output (the other formats are always UTF-8).
    name : str, optional
        Layer name inside the file (default: the file name's stem).
    titles : dict, optional
        Titles of the fields, written to the Shapefile's field mapping (default: the registry's
        titles of layer ``name``).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"name": ["芙蓉街"]}, geometry=[Point(117.016, 36.664)], crs="EPSG:4490")
    >>> p = export_layer(g, tempfile.mkdtemp() + "/names.geojson", crs="gcj02")
    >>> gpd.read_file(p).geometry.x.round(3).tolist()
    [117.022]
    """
    path = Path(path)
    if fmt is None:
        fmt = next((k for k, ext in FORMATS.items() if path.name.lower().endswith(ext)), path.suffix.lstrip("."))
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    name = name or path.name.split(".")[0]
    if titles is None:
        registry = load_registry()
        titles = registry[name].field_titles if name in registry else {}
    data, label = to_target_crs(gdf, crs)
    projected = data.crs is not None and data.crs.is_projected
    with _atomic.replacing(path, tag="part") as tmp, warnings.catch_warnings():
        # GCJ-02/BD-09 have no CRS to record; the README and layer description say which datum it is
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        _write(data, tmp, fmt=fmt, name=name, label=label, projected=projected, encoding=encoding, titles=titles)
    return path


def _write(data, path: Path, *, fmt: str, name: str, label: str, projected: bool, encoding: str, titles) -> None:
    if fmt == "gpkg":
        pyogrio.write_dataframe(data, path, layer=name, driver="GPKG", use_arrow=USE_ARROW,
                                layer_options={"DESCRIPTION": f"coordinates: {label}"})
    elif fmt == "shp":
        _write_shapefile_zip(data, path, name, encoding=encoding, titles=titles or {})
    elif fmt == "geojson":
        # RFC 7946 means WGS84 longitude/latitude; CGCS2000 coincides with it. GCJ-02/BD-09 are written as
        # plain longitude/latitude for web maps; a projected target keeps a "crs" member (not RFC 7946).
        rfc = not projected and label.startswith(("EPSG:4490", "EPSG:4326"))
        opts = {"RFC7946": "YES", "WRITE_BBOX": "YES"} if rfc else {"COORDINATE_PRECISION": 3 if projected else 7}
        if rfc:
            data = data.set_crs("EPSG:4326", allow_override=True)
        pyogrio.write_dataframe(data, path, driver="GeoJSON", layer_options=opts, use_arrow=USE_ARROW)
    elif fmt == "kml":
        if projected:
            raise ExportError("KML holds longitude/latitude only; export KML to EPSG:4326, EPSG:4490 or gcj02")
        kml = data if data.crs is None else data.set_crs("EPSG:4326", allow_override=True)
        name_field = next((c for c in ("name", "unit_id") if c in kml.columns), None)
        opts = {"NameField": name_field} if name_field else {}
        pyogrio.write_dataframe(kml, path, driver="KML", dataset_options=opts, use_arrow=USE_ARROW)
    elif fmt == "csv":
        enc = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig"}.get(encoding.lower(), encoding)  # BOM: Excel reads it
        table = pd.DataFrame(data.drop(columns=data.geometry.name))
        arr = np.asarray(data.geometry.values)
        if (shapely.get_type_id(arr) == 0).all():
            xy = shapely.get_coordinates(arr)
            table["lon" if not projected else "x"] = np.round(xy[:, 0], 3 if projected else 7)
            table["lat" if not projected else "y"] = np.round(xy[:, 1], 3 if projected else 7)
        table["wkt"] = shapely.to_wkt(arr, rounding_precision=3 if projected else 7)
        try:
            # no cell runs as a formula; CRLF rows (RFC 4180) so a carriage return inside a cell is quoted
            safe_table(table).to_csv(path, index=False, encoding=enc, lineterminator="\r\n")
        except UnicodeEncodeError as exc:
            raise ExportError(f"a character cannot be written in {encoding}: {exc.object[exc.start:exc.end]!r}; "
                              "export with --encoding utf-8") from None


def export_bundle(
    atlas,
    out: str | Path,
    *,
    formats: Iterable[str] = ("gpkg", "shp", "geojson", "csv"),
    crs: str | int = "EPSG:4490",
    encoding: str = "utf-8",
    layers: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Export every layer (or ``layers``) of an atlas into one zip with a README of sources and licences."""
    out = Path(out)
    if out.suffix.lower() != ".zip":
        out = out.with_suffix(".zip")
    formats = [f.lower() for f in formats]
    for f in formats:
        if f not in FORMATS:
            raise ExportError(f"unknown export format {f!r}; use one of {', '.join(FORMATS)}")
    names = list(layers) if layers is not None else atlas.layers()
    stored = set(atlas.layers())
    missing = [n for n in names if n not in stored]
    if missing:
        raise ExportError(f"not in the atlas: {', '.join(missing)}; stored layers are {', '.join(sorted(stored))}")
    registry = load_registry()
    info = atlas.layer_info().set_index("name")
    label = str(crs)
    with _atomic.replacing(out, tag="part") as tmp_zip, tempfile.TemporaryDirectory(prefix="placegeo-bundle-") as tmp, \
            zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        rows = []
        for name in names:
            gdf = atlas.read(name)
            spec = registry.get(name)
            for fmt in formats:
                if progress:
                    progress(f"{name}.{fmt}")
                p = export_layer(gdf, Path(tmp) / fmt / f"{name}{FORMATS[fmt]}", fmt=fmt, crs=crs,
                                 encoding=encoding, name=name)
                zf.write(p, f"{fmt}/{p.name}")
            if len(gdf):
                label = to_target_crs(gdf.iloc[:1], crs)[1]
            r = info.loc[name].to_dict() if name in info.index else {}
            n_sample = int(gdf["sample"].fillna(False).sum()) if "sample" in gdf else 0
            rows.append((name, spec.title_zh if spec else "", len(gdf), n_sample,
                         *(str(r.get(k, "")) for k in ("sources", "licence", "attribution"))))
        zf.writestr("README.md", _bundle_readme(atlas, rows, formats, label, encoding))
    return out


def _bundle_readme(atlas, rows, formats, crs_label, encoding) -> str:
    lines = [
        f"# {atlas.meta.get('name') or 'placegeo atlas'} — data bundle",
        "",
        f"Coordinates: {crs_label}. Text: UTF-8" + (" (Shapefile and CSV: GBK, code page 936)"
                                                   if encoding.lower() != "utf-8" else "") + ".",
        f"Formats: {', '.join(formats)}. Shapefiles are zipped with a .cpg and a *_fields.csv that maps the "
        "10-byte DBF field names back to the full names.",
        "",
        "| layer | 名称 | features | sample features | sources | licence | attribution |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, title, n, n_sample, sources, licence, attribution in rows:
        lines.append(f"| {name} | {title} | {n} | {n_sample} | {sources} | {licence} | {attribution} |")
    if any(r[3] for r in rows):
        lines += ["", "**Sample data:** features with `sample = true` were generated for demonstration and "
                  "are not real facilities, boundaries or figures. Do not use them for decisions."]
    if any("OpenStreetMap" in (r[6] or "") for r in rows):
        lines += ["", "Layers holding OpenStreetMap data: © OpenStreetMap contributors, available under the "
                  "Open Database License (ODbL) 1.0. Keep this notice with the data."]
    return "\n".join(lines) + "\n"
