"""Strict JSON: NaN, infinities and pandas' missing values become ``null``, never a literal ``NaN``.

Python's :func:`json.dumps` writes ``NaN`` and ``Infinity`` by default, which strict JSON parsers
(browsers' ``JSON.parse``, jq, Go, Java) reject. Everything the CLI prints as JSON goes through
:func:`dumps_strict`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["dumps_strict", "to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: DataFrames as lists of records, missing and non-finite numbers as None.

    >>> import numpy as np, pandas as pd
    >>> to_jsonable({"a": np.float64("nan"), "b": [1.5, float("inf")], "c": pd.NA, "d": np.int64(3)})
    {'a': None, 'b': [1.5, None], 'c': None, 'd': 3}
    >>> to_jsonable(pd.DataFrame({"x": [1.0, None]}))
    [{'x': 1.0}, {'x': None}]
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(to_jsonable(k)) if not isinstance(k, str) else k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset | np.ndarray):
        return [to_jsonable(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dt.datetime | dt.date | pd.Timestamp):
        return None if pd.isna(obj) else obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)  # CRS, paths and the like: their text


def dumps_strict(obj: Any, **kwargs: Any) -> str:
    """Strict JSON text of ``obj`` (see :func:`to_jsonable`); keyword arguments go to :func:`json.dumps`.

    >>> dumps_strict({"share": float("nan")})
    '{"share": null}'
    """
    return json.dumps(to_jsonable(obj), allow_nan=False, **kwargs)
