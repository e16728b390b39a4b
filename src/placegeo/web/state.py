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

An app serves one atlas or several, one per city (:class:`AtlasSet`): each is known by the id of
its city profile (``jinan`` …), the first is the default that the unprefixed routes answer with,
and :class:`Province` shows every city's layers as one OGC service with ids ``<city>-<layer>``.
Which atlas a request reads is decided by its path alone (see :mod:`placegeo.web.cityroutes`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from flask import current_app, g, has_request_context

from placegeo.atlas import CHINA_EXTENT, Atlas
from placegeo.cities import City, city_of_atlas
from placegeo.errors import BadParameter, CityError
from placegeo.registry import LayerSpec, load_registry
from placegeo.web.cityroutes import request_city
from placegeo.web.lru import LRU
from placegeo.web.settings import WebSettings

__all__ = ["AtlasSet", "AtlasView", "Province", "Snapshot", "atlases", "collections_view", "view"]

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

    def __init__(self, settings: WebSettings, location: str | None = None, *, export_dir: str | None = None):
        self.settings = settings
        self.atlas = Atlas(location or settings.atlas)
        self.export_dir: Path = Path(export_dir) if export_dir else settings.export_path  # downloads of this atlas
        self.registry = load_registry()
        self.titles = {**{name: spec.title_zh for name, spec in self.registry.items()}, **EXTRA_TITLES}
        self._lock = threading.Lock()
        self._refreshing: threading.Thread | None = None
        self._state = self._read_state()
        self._checked = time.monotonic()
        try:
            self.city: City | None = city_of_atlas(self.atlas)
        except CityError:
            self.city = None  # an atlas of no known city is served alone, as before city profiles

    @property
    def city_id(self) -> str:
        """The city profile's id (``jinan`` …), or "" for an atlas of no known city."""
        return self.city.name if self.city else ""

    def city_info(self) -> dict[str, str] | None:
        """Which city the atlas holds, as answers name it: id and Chinese name."""
        return {"id": self.city.name, "name": self.city.names["zh"]} if self.city else None

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

        with _machine_lock(f"search-{self.atlas.location}"):
            return SearchIndex.for_atlas(self.atlas)

    @property
    def state(self) -> Snapshot:
        """The request's snapshot of this atlas, taken when the request first reads it."""
        if not has_request_context():
            return self._state
        states = g.setdefault("placegeo_states", {})
        if id(self) not in states:
            states[id(self)] = self.begin()
        return states[id(self)]

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

    def tile(self, name: str, z: int, x: int, y: int, *, columns: list[str]) -> bytes | None:
        """The Mapbox vector tile of a layer (None when empty)."""
        return self.atlas.tile(name, z, x, y, columns=columns)

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


class AtlasSet:
    """The atlases an app serves, by city id, the default (first) one first.

    Raises :class:`~placegeo.errors.CityError` when two atlases hold the same city, or when one of
    several names no city (each must be told apart by its city).
    """

    def __init__(self, settings: WebSettings):
        locations = settings.locations
        several = len(locations) > 1
        self.views: dict[str, AtlasView] = {}
        for location in locations:
            v = AtlasView(settings, location, export_dir=None)
            if several and v.city is None:
                raise CityError(f"the atlas {v.atlas.location} names no city, so it cannot be served beside "
                                "others; set its city with atlas.set_meta(city=NAME) (a profile under cities/)")
            if v.city_id in self.views:
                raise CityError(f"the atlases {self.views[v.city_id].atlas.location} and {v.atlas.location} both "
                                f"hold the city '{v.city_id}'; serve each city once")
            if several:  # each city's downloads in a folder of its own
                v.export_dir = settings.export_path / v.city_id
            self.views[v.city_id] = v
        self.default = next(iter(self.views.values()))
        self.province = Province(self) if several else None
        self._answers: tuple[tuple[str, ...], LRU] = ((), LRU(settings.search_cache))

    @property
    def cities(self) -> list[str]:
        """The ids of the cities served (none for a single atlas of no known city)."""
        return [c for c in self.views if c]

    def wait_refreshed(self, timeout_s: float = 60.0) -> None:
        """Wait for the background refreshes under way in every atlas (tests, and a clean shutdown)."""
        for v in self.views.values():
            v.wait_refreshed(timeout_s)

    def for_request(self) -> AtlasView:
        """The atlas the request's path names (``/<city>/…``), else the default one."""
        city = request_city()
        return self.views[city] if city else self.default

    def scope(self, city: str | None) -> list[AtlasView]:
        """The atlases a search covers: ``city`` (an id or ``all``), else the request's city, else every
        city at the unprefixed routes."""
        if city == "all":
            return list(self.views.values())
        if city:
            if city not in self.cities:
                raise BadParameter("city", f"'city' must be all or one of {', '.join(self.cities)}")
            return [self.views[city]]
        if request_city():
            return [self.for_request()]
        return list(self.views.values())

    def answers(self, views: list[AtlasView]) -> LRU:
        """The answer cache for a search over ``views``: one atlas's own, or one for these revisions."""
        if len(views) == 1:
            return views[0].state.answers
        revisions = tuple(f"{v.city_id}@{v.state.revision}" for v in views)
        if self._answers[0] != revisions:
            self._answers = (revisions, LRU(self.default.settings.search_cache))
        return self._answers[1]


class _CollectionIds(list):
    """Collection ids as listed, which also hold the default city's plain layer names (old links)."""

    def __init__(self, listed: list[str], aliases: list[str]):
        super().__init__(listed)
        self.aliases = frozenset(aliases)

    def __contains__(self, name: object) -> bool:
        return list.__contains__(self, name) or name in self.aliases


class Province:
    """Every city's layers as one OGC API - Features service: collection ids ``<city>-<layer>``.

    It answers what the OGC blueprint asks of an :class:`AtlasView` (registry, layers, meta, page,
    feature). A plain layer name is still answered from the default city, so links made when the
    server held one city keep working; it is not listed.
    """

    def __init__(self, atlas_set: AtlasSet):
        self.atlas_set = atlas_set
        self.registry: dict[str, LayerSpec] = dict(atlas_set.default.registry)
        for city, v in atlas_set.views.items():
            assert v.city is not None  # AtlasSet requires a city of each of several atlases
            zh, en = v.city.names["zh"], v.city.names["en"]
            for name, spec in v.registry.items():
                self.registry[f"{city}-{name}"] = replace(spec, title_zh=f"{zh} {spec.title_zh}",
                                                          title_en=f"{en}: {spec.title_en}")

    def _split(self, collection: str) -> tuple[AtlasView, str]:
        city, sep, layer = collection.partition("-")
        if sep and city in self.atlas_set.views:
            return self.atlas_set.views[city], layer
        return self.atlas_set.default, collection

    def layers(self) -> list[str]:
        views = self.atlas_set.views
        return _CollectionIds([f"{c}-{name}" for c, v in views.items() for name in v.layers()],
                              self.atlas_set.default.layers())

    @property
    def meta(self) -> dict[str, Any]:
        views = list(self.atlas_set.views.values())
        extents = [v.meta.get("extent", CHINA_EXTENT) for v in views]
        return {"name": "placegeo: " + " · ".join(v.city.names["zh"] for v in views if v.city),
                "extent": [min(e[0] for e in extents), min(e[1] for e in extents),
                           max(e[2] for e in extents), max(e[3] for e in extents)]}

    def page(self, name: str, bbox, *, limit: int, offset: int) -> tuple[gpd.GeoDataFrame, int]:
        v, layer = self._split(name)
        return v.page(layer, bbox, limit=limit, offset=offset)

    def feature(self, name: str, key: str) -> gpd.GeoDataFrame:
        v, layer = self._split(name)
        return v.feature(layer, key)

    def tile(self, name: str, z: int, x: int, y: int, *, columns: list[str]) -> bytes | None:
        v, layer = self._split(name)
        return v.tile(layer, z, x, y, columns=columns)


def atlases() -> AtlasSet:
    """The app's atlases (inside a request or app context)."""
    return current_app.extensions["placegeo"]


def view() -> AtlasView:
    """The atlas the request reads: the city its path names, else the default (first) one."""
    return atlases().for_request()


def collections_view() -> AtlasView | Province:
    """What the OGC routes show: the city the path names; at the unprefixed routes, every city when
    several are served."""
    s = atlases()
    city = request_city()
    return s.province if s.province is not None and not city else s.for_request()
