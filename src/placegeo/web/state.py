"""What a web worker holds: the atlas and, per revision of it, what it has read.

Every ``refresh_ms`` a worker compares the atlas's revision with the one it has read; when an
import has changed the atlas it drops what it had and reads again, so a running server shows new
data without a restart. A request keeps the snapshot it started with (:meth:`AtlasView.begin`),
and each layer is read whole in one go, so a response shows a layer as it was before an import or
after it, never a mix. Pages and single features come from the atlas's store, which answers them
from its own indexes whatever it is.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from flask import current_app, g, has_request_context

from placegeo.atlas import Atlas
from placegeo.registry import load_registry
from placegeo.web.settings import WebSettings

__all__ = ["AtlasView", "Snapshot", "view"]

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
    answers: OrderedDict[str, bytes] = field(default_factory=OrderedDict)  # search answers by query string
    computed: dict[Any, Any] = field(default_factory=dict)  # expensive answers of this revision


class AtlasView:
    """The atlas as the app reads it: snapshots per revision (see the module's description)."""

    def __init__(self, settings: WebSettings):
        self.settings = settings
        self.atlas = Atlas(settings.atlas)
        self.registry = load_registry()
        self.titles = {**{name: spec.title_zh for name, spec in self.registry.items()}, **EXTRA_TITLES}
        self._lock = threading.Lock()
        self._state = self._read_state()
        self._checked = time.monotonic()

    def _read_state(self) -> Snapshot:
        revision = self.atlas.revision  # first: a change made while reading shows as a newer revision
        return Snapshot(revision, [n for n in self.atlas.layers() if n in self.registry], self.atlas.code_names(),
                        self.atlas.layer_info().set_index("name"), self.atlas.meta)

    def begin(self) -> Snapshot:
        """The snapshot for a new request: re-read when the atlas changed since the last check."""
        now = time.monotonic()
        if now - self._checked >= self.settings.refresh_ms / 1000:
            with self._lock:
                if now - self._checked >= self.settings.refresh_ms / 1000:
                    self._checked = now
                    if self.atlas.revision != self._state.revision:
                        self._state = self._read_state()
        return self._state

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
            from placegeo.search import SearchIndex

            state.index = SearchIndex.for_atlas(self.atlas)
        return state.index


def view() -> AtlasView:
    """The app's view of its atlas (inside a request or app context)."""
    return current_app.extensions["placegeo"]
