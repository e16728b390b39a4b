"""Request parameters, parsed and checked where they enter: a bad one is a 400 that names it."""

from __future__ import annotations

import math
import re

from flask import request

from placegeo.crs import normalize_datum
from placegeo.errors import BadParameter, DatumError

__all__ = ["bbox_arg", "datum_arg", "float_arg", "int_arg", "text_arg"]

BBox = tuple[float, float, float, float]


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """A whole number from ``lo`` to ``hi`` (``default`` when absent)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d{1,9}", raw):
        raise BadParameter(name, f"'{name}' must be a whole number from {lo} to {hi}")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadParameter(name, f"'{name}' must be from {lo} to {hi}")
    return value


def float_arg(name: str, lo: float, hi: float, required: bool = True) -> float | None:
    """A finite number from ``lo`` to ``hi``."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise BadParameter(name, f"'{name}' is required")
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"'{name}' must be a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise BadParameter(name, f"'{name}' must be from {lo} to {hi}")
    return value


def datum_arg(name: str = "datum") -> str:
    """A datum name (default cgcs2000)."""
    raw = request.args.get(name, "cgcs2000")
    try:
        return normalize_datum(raw)
    except DatumError:
        raise BadParameter(name, f"'{name}' must be one of wgs84, cgcs2000, gcj02, bd09") from None


def bbox_arg() -> BBox | None:
    """``bbox=minlon,minlat,maxlon,maxlat`` (absent: None)."""
    raw = request.args.get("bbox")
    if not raw:
        return None
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        raise BadParameter("bbox", "'bbox' must be minlon,minlat,maxlon,maxlat") from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise BadParameter("bbox", "'bbox' must be four numbers: minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadParameter("bbox", "'bbox' must be minlon,minlat,maxlon,maxlat with min <= max")
    return minx, miny, maxx, maxy


def text_arg(name: str, max_len: int, required: bool = False) -> str | None:
    """Text of at most ``max_len`` characters, stripped (absent or blank: None)."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise BadParameter(name, f"'{name}' is required")
        return None
    if len(raw) > max_len:
        raise BadParameter(name, f"'{name}' must be at most {max_len} characters")
    return raw.strip()
