"""Typed exceptions.

Every error placegeo raises on purpose is a :class:`PlacegeoError`. Errors about
bad input also subclass :class:`ValueError`, so generic code that catches
``ValueError`` keeps working. Each message says what was wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class PlacegeoError(Exception):
    """Base class of every error raised by placegeo."""


class PlacegeoWarning(UserWarning):
    """Something worth a planner's attention that does not stop the work."""


class DatumError(PlacegeoError, ValueError):
    """An unknown datum name or coordinates that cannot be converted."""


class CRSError(PlacegeoError, ValueError):
    """A CRS is missing, unknown or of the wrong kind for the operation."""


class GeographicCRSError(CRSError):
    """A metric operation was asked of data in degrees (a geographic CRS)."""


class SchemaError(PlacegeoError, ValueError):
    """A layer definition under ``layers/`` does not follow the registry schema."""


class LayerNotFoundError(PlacegeoError, KeyError):
    """A layer name that is neither registered nor stored in the atlas."""

    def __init__(self, message: str, *, layer: str | None = None):
        super().__init__(message)
        self.layer = layer

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AtlasError(PlacegeoError):
    """The atlas file is missing, locked or not a placegeo atlas."""


class ReadOnlyError(AtlasError):
    """A write to an atlas that this user or process may only read."""


class ImportFormatError(PlacegeoError, ValueError):
    """A file that cannot be read: unknown format, encoding or coordinate columns."""


class ExportError(PlacegeoError, ValueError):
    """An export that cannot be written as asked (format, CRS or encoding)."""


class NetworkError(PlacegeoError, ValueError):
    """A walking network that cannot be built or used as asked."""


class CoverageError(PlacegeoError, ValueError):
    """Coverage asked with inputs or parameters that cannot give a meaningful answer."""


class ParameterError(PlacegeoError, ValueError):
    """A planning parameter outside its valid range."""


class SearchError(PlacegeoError, ValueError):
    """A search asked with parameters that cannot be answered, or a search index that cannot be read."""


class BadParameter(PlacegeoError, ValueError):
    """A web request parameter that cannot be used; answered with 400 and the parameter's name."""

    def __init__(self, parameter: str, message: str):
        self.parameter = parameter
        super().__init__(message)


@dataclass(frozen=True)
class Problem:
    """One problem found in one row (or the whole input when ``row`` is None).

    ``row`` is the 1-based row number as a person counts rows in the source file
    (for a CSV or XLSX the header is row 1, so the first record is row 2).
    """

    row: int | None
    field: str | None
    message: str
    fix: str = ""
    code: str = "invalid"

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        head = ", ".join(where) or "input"
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{head}: {self.message}.{tail}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ValidationError(PlacegeoError, ValueError):
    """Input refused; :attr:`problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem], *, layer: str | None = None, max_shown: int = 20):
        self.problems = list(problems)
        self.layer = layer
        shown = "\n".join(f"  - {p}" for p in self.problems[:max_shown])
        more = len(self.problems) - max_shown
        if more > 0:
            shown += f"\n  … and {more} more (use --json or .problems for the full list)"
        target = f" for layer '{layer}'" if layer else ""
        super().__init__(f"{len(self.problems)} problem(s) found{target}; nothing was written:\n{shown}")


class OpeningHoursError(PlacegeoError, ValueError):
    """Opening hours asked about with a bad weekday or hour, or points without any hours columns."""


class NameCheckError(PlacegeoError, ValueError):
    """A proposed place name, area code or name-check rule file that cannot be checked as given."""


class ReadingsError(PlacegeoError, ValueError):
    """A place-name readings file (or the romanisation word lists) is malformed; the message names the
    file, the entry and the field."""


class CityError(PlacegeoError, ValueError):
    """An unknown city, a code of no known city, or a city profile under ``cities/`` that is invalid."""


class IndicatorError(PlacegeoError, ValueError):
    """An indicator asked for with a bad parameter (``by``, minutes, hours) or from an atlas lacking a layer."""


class ReportError(PlacegeoError, ValueError):
    """A planning report that cannot be written as asked (output path, city, or an atlas without what it needs)."""
