"""The command being run, for the atlas's history: set by the ``placegeo`` command, read by the stores.

A leaf module without imports of its own, so the command line can set it without loading anything.

>>> token = CURRENT.set("placegeo import 避风港.csv --layer relief_points")
>>> CURRENT.get()
'placegeo import 避风港.csv --layer relief_points'
>>> CURRENT.reset(token)
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["CURRENT"]

#: The command line a write is made by, when it is a ``placegeo`` command.
CURRENT: ContextVar[str | None] = ContextVar("placegeo_command", default=None)
