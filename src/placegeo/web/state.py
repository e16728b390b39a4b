"""What a web worker holds: the atlas and, per revision of it, what it has read.

Every ``refresh_ms`` a worker compares the atlas's revision with the one it has read; when an
import has changed the atlas it reads the new revision in a background thread (the layer list,
and again whatever the old snapshot had loaded: the search index, layers, counts) and swaps it in
when ready. Until then requests keep being answered from the previous revision: no request waits
on a rebuild. Across the workers of one machine a file lock lets one of them build a missing
search index while the others wait for it in their background threads and then load what it saved.
A request keeps the snapshot it started with (:meth:`AtlasView.begin`), and each layer is read
whole in one go, so a response shows a layer as it was before an import or after it, never a mix.
Pages and single features come from the atlas's store, which answers them from its own indexes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from flask import current_app, g, has_request_context

from placegeo.atlas import Atlas
from placegeo.registry import load_registry
from placegeo.web.lru import LRU
from placegeo.web.settings import WebSettings

__all__ = ["AtlasView", "Snapshot", "view"]

log = logging.getLogger("placegeo.web")

#: titles of what search finds beyond the registry's layers
EXTRA_TITLES = {"admin_codes": "村（居）委会"}


@dataclass
class Snapshot:
    """What a worker has read from one revision of the atlas; replaced whole when the atlas changes."""

    revision: str
    layer_names: list[str]
    names: dict[str, str]
    info: pd.DataFrame
    meta: dict[str, Any]
    summary: pd.DataFrame | None = None  # feature counts, read on first use
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    index: Any = None  # the SearchIndex, loaded on first use
    answers: LRU = field(default_factory=lambda: LRU(0))  # search answers by query string
    computed: LRU = field(default_factory=lambda: LRU(0))  # expensive answers of this revision


class AtlasView:
    """The atlas as the app reads it: snapshots per revision (see the module's description)."""

    def __init__(self, settings: WebSettings):
        self.settings = settings
        self.atlas = Atlas(settings.atlas)
        self.registry = load_registry()
        self.titles = {**{name: spec.title_zh for name, spec in self.registry.items()}, **EXTRA_TITLES}
        self._lock = threading.Lock()
        self._refreshing: threading.Thread | None = None
        self._state = self._read_state()
        self._checked = time.monotonic()

    def _read_state(self) -> Snapshot:
        revision = self.atlas.revision  # first: a change made while reading shows as a newer revision
        return Snapshot(revision, [n for n in self.atlas.layers() if n in self.registry], self.atlas.code_names(),
                        self.atlas.layer_info().set_index("name"), self.atlas.meta,
                        answers=LRU(self.settings.search_cache), computed=LRU(self.settings.computed_cache))

    def begin(self) -> Snapshot:
        """The snapshot for a new request; when the atlas has changed, the next one is read in the background."""
        now = time.monotonic()
        if now - self._checked >= self.settings.refresh_ms / 1000:
            with self._lock:
                if now - self._checked >= self.settings.refresh_ms / 1000 and self._refreshing is None:
                    self._checked = now
                    if self.atlas.revision != self._state.revision:
                        self._refreshing = threading.Thread(target=self._refresh, name="placegeo-refresh",
                                                            daemon=True)
                        self._refreshing.start()
        return self._state

    def _refresh(self) -> None:
        """Read the atlas's new revision, load what the current snapshot had loaded, then swap it in."""
        try:
            old = self._state
            new = self._read_state()
            if old.index is not None:
                new.index = self._load_index()
            for name in list(old.layers):
                if name in new.layer_names:
                    new.layers[name] = self.atlas.read(name)
            self._state = new
        except Exception:  # the old snapshot keeps serving; the next check tries again
            log.exception("reading the atlas's new revision failed")
        finally:
            with self._lock:
                self._refreshing = None
                self._checked = time.monotonic()

    def wait_refreshed(self, timeout_s: float = 60.0) -> None:
        """Wait for a background refresh that is under way (tests, and a clean shutdown)."""
        thread = self._refreshing
        if thread is not None:
            thread.join(timeout_s)

    def _load_index(self):
        """The search index of the atlas's revision: one worker of the machine builds and saves it at a time."""
        from placegeo.search import SearchIndex

        with _machine_lock(f"search-{self.settings.atlas}"):
            return SearchIndex.for_atlas(self.atlas)

    @property
    def state(self) -> Snapshot:
        return (g.get("placegeo_state") or self._state) if has_request_context() else self._state

    @property
    def names(self) -> dict[str, str]:
        return self.state.names

    @property
    def meta(self) -> dict[str, Any]:
        return self.state.meta

    @property
    def info(self) -> pd.DataFrame:
        return self.state.info

    def summary(self) -> pd.DataFrame:
        state = self.state
        if state.summary is None:
            state.summary = self.atlas.summary().set_index("layer")
        return state.summary

    def layers(self) -> list[str]:
        return self.state.layer_names

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A whole layer (raises :class:`~placegeo.errors.LayerNotFoundError` when the atlas has none)."""
        state = self.state
        if name not in state.layers:
            state.layers[name] = self.atlas.read(name)
        return state.layers[name]

    def page(self, name: str, bbox, *, limit: int, offset: int) -> tuple[gpd.GeoDataFrame, int]:
        """The features intersecting ``bbox`` (all when None), one page of them, and how many there are."""
        return self.atlas.query(name, bbox=bbox, limit=limit, offset=offset)

    def feature(self, name: str, key: str) -> gpd.GeoDataFrame:
        """The feature of a layer with primary key ``key`` (no rows if there is none)."""
        return self.atlas.feature(name, key)

    @property
    def index(self):
        state = self.state
        if state.index is None:
            state.index = self._load_index()
        return state.index


@contextlib.contextmanager
def _machine_lock(name: str):
    """An exclusive lock shared by the processes of this machine (a locked file in the temp folder)."""
    digest = hashlib.blake2b(name.encode(), digest_size=10).hexdigest()
    path = Path(tempfile.gettempdir()) / f"placegeo-{digest}.lock"
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def view() -> AtlasView:
    """The app's view of its atlas (inside a request or app context)."""
    return current_app.extensions["placegeo"]
