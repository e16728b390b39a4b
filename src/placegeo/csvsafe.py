"""CSV cells that a spreadsheet will not run: text starting like a formula gets a leading apostrophe.

Excel, WPS and LibreOffice take a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, after a
tab or carriage return, the same) as a formula, so an imported name such as ``=HYPERLINK(...)``
would run when a downloaded CSV is opened. Every CSV placegeo writes passes its cells through
:func:`safe_cell` (one rule, OWASP's "CSV injection" advice); numbers, and text that is exactly a
number such as ``-3.5``, stay as they are, so a negative coordinate or count is still a number.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["FORMULA_START", "safe_cell", "safe_table"]

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell: text starting like a formula gets a ``'`` in front; all else unchanged.

    Examples
    --------
    >>> [safe_cell(v) for v in ["=HYPERLINK(\\"x\\")", "+1+1地名", "@SUM(1)", "\\tx", "-3.5", -3.5, "芙蓉街"]]
    ['\\'=HYPERLINK("x")', "'+1+1地名", "'@SUM(1)", "'\\tx", '-3.5', -3.5, '芙蓉街']
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells (and column names) pass through :func:`safe_cell`.

    Only text columns are looked at: number columns are written as numbers.

    Examples
    --------
    >>> df = pd.DataFrame({"name": ["=1+1", "泉"], "x": [-3.5, 1.0]})
    >>> safe_table(df).to_dict(orient="list")
    {'name': ["'=1+1", '泉'], 'x': [-3.5, 1.0]}
    >>> df.loc[0, "name"]  # the input is not changed
    '=1+1'
    """
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(safe_cell, na_action="ignore")
    return out.rename(columns=lambda c: safe_cell(c) if isinstance(c, str) else c)
