"""Files into an atlas: read, derive, validate, look for duplicates, store, and report what was done.

This sits above storage: it reads a file (:func:`placegeo.readers.read_source`: datums row by row,
row numbers as a person sees them), names its columns as the layer's fields, fills in what can
be derived (:func:`placegeo.derive.derive_fields`), checks it against the layer's definition and
the atlas's code tree and extent (:func:`placegeo.validate.validate_layer`), looks for
duplicates in the file and in the atlas and for a datum that does not fit the stored features
(:mod:`placegeo.duplicates`), and writes the valid rows through :meth:`placegeo.atlas.Atlas.write`,
which lands them whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from placegeo.derive import derive_fields
from placegeo.duplicates import datum_offset, find_duplicates
from placegeo.errors import Problem, ValidationError
from placegeo.readers import Source, read_source
from placegeo.registry import LayerSpec, get_layer
from placegeo.validate import ValidationReport, rename_columns, validate_layer

if TYPE_CHECKING:
    from placegeo.atlas import Atlas

__all__ = ["ImportResult", "check_file", "import_file"]

MODES = ("append", "replace")
#: how far (degrees) around the imported features stored ones are read to compare positions by name
_OFFSET_SEARCH_DEG = 0.03


@dataclass
class ImportResult:
    """What an import did: rows read, rows written, and the report (problems, derived values, warnings)."""

    layer: str
    mode: str
    n_read: int
    n_written: int
    report: ValidationReport

    @property
    def n_skipped(self) -> int:
        return self.n_read - self.n_written

    @property
    def derived(self):
        """Every value the import filled in: row, field, value, how (a DataFrame)."""
        return self.report.derived

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "mode": self.mode,
            "read": self.n_read,
            "written": self.n_written,
            "skipped": self.n_skipped,
            "notes": self.report.notes,
            "derived": self.report.derived.astype({"row": int}).to_dict(orient="records"),
            "warnings": [p.to_dict() for p in self.report.warnings],
            "problems": [p.to_dict() for p in self.report.problems],
        }


def _near(atlas: Atlas, spec: LayerSpec, data: gpd.GeoDataFrame, margin_deg: float) -> gpd.GeoDataFrame | None:
    """Stored features of the layer within ``margin_deg`` of the imported ones (a bbox read, not a scan)."""
    geoms = np.asarray(data.geometry.values)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    if spec.name not in atlas.layers() or not len(geoms):
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    return atlas.read(spec.name, bbox=(minx - margin_deg, miny - margin_deg, maxx + margin_deg, maxy + margin_deg))


def _spoil(report: ValidationReport, problems: list[Problem], rows: np.ndarray) -> None:
    """Add row problems to the report and mark their rows bad."""
    explained = {(p.row, p.field) for p in problems}
    # "a value is required" says less than the reason it could not be derived
    report.problems[:] = [p for p in report.problems if not (p.code == "required" and (p.row, p.field) in explained)]
    if problems:
        report.bad[np.isin(rows, [p.row for p in problems if p.row is not None])] = True
    report.problems.extend(problems)
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))


def _check_duplicates(report: ValidationReport, spec: LayerSpec, src: Source, atlas: Atlas | None, *, mode: str,
                      allow: bool, distance_m: float) -> None:
    stored = None
    if atlas is not None and mode == "append":
        stored = _near(atlas, spec, report.data, 2 * distance_m / 80_000)  # ~80 km per degree of longitude here
    problems, _ = find_duplicates(report.data, name_field=spec.display_field, rows=src.rows, stored=stored,
                                  key_field=spec.primary_key, distance_m=distance_m)
    if allow:
        report.warnings.extend(problems)
    else:
        _spoil(report, problems, src.rows)


def _check_datum(report: ValidationReport, spec: LayerSpec, src: Source, atlas: Atlas) -> None:
    stored = _near(atlas, spec, report.data, _OFFSET_SEARCH_DEG)
    if stored is None or not len(stored):
        return
    for found in datum_offset(report.data, name_field=spec.display_field, datums=src.datums, stored=stored):
        report.warnings.append(found.warning())


def check_file(
    path: str | Path,
    layer: str,
    *,
    atlas: Atlas | None = None,
    mode: str = "append",
    datum: str | None = None,
    encoding: str | None = None,
    source: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    source_layer: str | None = None,
    derive: bool = True,
    allow_duplicates: bool = False,
    duplicate_distance_m: float = 50.0,
) -> ValidationReport:
    """Read a file and check it for ``layer`` (against ``atlas``'s codes, extent, units and keys when given).

    Nothing is written. ``source`` fills the ``source`` field where the file has none (default:
    the file's name); imported rows are never sample data. With ``derive`` (the default) empty
    keys, admin codes, ``open_24h``/``opening_hours`` and layer defaults are filled in and listed
    in the report's ``derived``. Features with the same or near-same name within
    ``duplicate_distance_m`` of another in the file, or of a stored one (append mode), are
    problems unless ``allow_duplicates``. Stored features of the same name sitting a datum
    shift away give a warning naming the likely datum.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'append' or 'replace', not {mode!r}")
    if not duplicate_distance_m > 0:
        raise ValueError(f"duplicate_distance_m must be a positive distance in metres, not {duplicate_distance_m}")
    spec = get_layer(layer)
    src = read_source(path, datum=datum, encoding=encoding, lon_col=lon_col, lat_col=lat_col, layer=source_layer)
    gdf, notes = rename_columns(src.gdf, spec)
    problems: list[Problem] = []
    derived = None
    if derive:
        d = derive_fields(gdf, spec, rows=src.rows, atlas=atlas, written=src.written)
        gdf, derived, problems = d.data, d.derived, d.problems
        notes += d.notes
    present = None
    if atlas is not None and mode == "append" and spec.primary_key in gdf.columns:
        present = atlas.keys_present(layer, gdf[spec.primary_key].dropna().astype(str).unique().tolist())
    report = validate_layer(gdf, spec, codes=atlas.codes_present if atlas is not None else None,
                            extent=atlas.extent if atlas is not None else None, existing_keys=present,
                            row_numbers=src.rows, written=src.written,
                            defaults={"source": source or Path(path).name, "sample": False})
    report.notes = list(dict.fromkeys([*src.notes, *notes, *report.notes]))
    if derive:
        report.derived = derived
        report.warnings.extend(d.warnings)
        _spoil(report, problems, src.rows)
    _check_duplicates(report, spec, src, atlas, mode=mode, allow=allow_duplicates, distance_m=duplicate_distance_m)
    if atlas is not None:
        _check_datum(report, spec, src, atlas)
    return report


def import_file(
    atlas: Atlas,
    path: str | Path,
    layer: str,
    *,
    mode: str = "append",
    strict: bool = False,
    **options: Any,
) -> ImportResult:
    """Read a file, validate it for ``layer`` and store it in ``atlas``.

    Without ``strict``, rows with problems are skipped and reported and the rest is written;
    with ``strict`` any problem refuses the whole file. When the input is refused
    (:class:`~placegeo.errors.ValidationError`) or anything fails, the atlas is unchanged.
    ``options`` are those of :func:`check_file` (``datum``, ``encoding``, ``source``,
    ``lon_col``, ``lat_col``, ``source_layer``, ``derive``, ``allow_duplicates``,
    ``duplicate_distance_m``).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from placegeo.atlas import Atlas
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "points.csv").write_text(
    ...     "编号,名称,类型,24小时,区县代码,经度,纬度\\n"
    ...     "p1,趵突泉派出所,泉城避风港,是,370103,117.0157,36.6666\\n", encoding="utf-8")
    >>> atlas = Atlas.create(folder / "a.gpkg")
    >>> import_file(atlas, folder / "points.csv", "relief_points", datum="gcj02").n_written
    1
    """
    report = check_file(path, layer, atlas=atlas, mode=mode, **options)
    if report.problems and (strict or report.n_bad == report.n_rows):
        raise ValidationError(report.problems, layer=layer)
    good = report.valid_rows()
    atlas.write(layer, good, mode=mode, validate=False)
    return ImportResult(layer, mode, report.n_rows, len(good), report)
