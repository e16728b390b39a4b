"""Files into an atlas: read, validate, store, and report what was done.

This sits above storage: it reads a file (:func:`placegeo.readers.read_file`), checks it against
the layer's definition and the atlas's code tree and extent
(:func:`placegeo.validate.validate_layer`), and writes the valid rows through
:meth:`placegeo.atlas.Atlas.write`, which lands them whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from placegeo.errors import ValidationError
from placegeo.readers import read_file
from placegeo.registry import get_layer
from placegeo.validate import ValidationReport, validate_layer

if TYPE_CHECKING:
    from placegeo.atlas import Atlas

__all__ = ["ImportResult", "check_file", "import_file"]

MODES = ("append", "replace")


@dataclass
class ImportResult:
    """What an import did: rows read, rows written, and the validation report."""

    layer: str
    mode: str
    n_read: int
    n_written: int
    report: ValidationReport

    @property
    def n_skipped(self) -> int:
        return self.n_read - self.n_written

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "mode": self.mode,
            "read": self.n_read,
            "written": self.n_written,
            "skipped": self.n_skipped,
            "notes": self.report.notes,
            "problems": [p.to_dict() for p in self.report.problems],
        }


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
) -> ValidationReport:
    """Read a file and check it for ``layer`` (against ``atlas``'s codes, extent and keys when given).

    Nothing is written. ``source`` fills the ``source`` field where the file has none (default:
    the file's name); imported rows are never sample data.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'append' or 'replace', not {mode!r}")
    spec = get_layer(layer)
    gdf = read_file(path, datum=datum, encoding=encoding, lon_col=lon_col, lat_col=lat_col, layer=source_layer)
    existing = (lambda keys: atlas.keys_present(layer, keys)) if atlas is not None and mode == "append" else None
    return validate_layer(gdf, spec, codes=atlas.code_set() if atlas is not None else None,
                          extent=atlas.extent if atlas is not None else None, existing_keys=existing,
                          defaults={"source": source or Path(path).name, "sample": False})


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
    ``lon_col``, ``lat_col``, ``source_layer``).

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
