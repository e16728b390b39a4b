"""A bounded, thread-safe map that forgets the least recently used entry: per-revision answer caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["LRU"]


class LRU:
    """At most ``size`` entries (0: keeps nothing); reading an entry makes it the most recent.

    Examples
    --------
    >>> c = LRU(2)
    >>> c["a"] = 1; c["b"] = 2; _ = c.get("a"); c["c"] = 3
    >>> "b" in c, c.get("a"), len(c)
    (False, 1, 2)
    >>> c.get_or_make("d", lambda: 4), len(c)
    (4, 2)
    """

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __getitem__(self, key: Hashable) -> Any:
        with self._lock:
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The entry for ``key``, made by ``make()`` (outside the lock) and kept when missing."""
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            value = make()
            self[key] = value
        return value
