"""Settings of the web map: one typed object, read from ``PLACEGEO_``-prefixed environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["TILES", "WebSettings", "default_export_dir", "split_locations", "webmap_dir"]

TILES = {
    "none": None,
    "osm": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "datum": "wgs84",
            "attribution": "© OpenStreetMap contributors"},
    "tianditu": {"url": "https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                        "&TILECOL={x}&tk={key}", "datum": "wgs84", "attribution": "© 天地图"},
    "amap": {"url": "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}"
                    "&z={z}", "datum": "gcj02", "attribution": "© 高德地图"},
}


def webmap_dir() -> Path:
    """The folder of the page's templates and static files (``webmap/`` in a checkout)."""
    here = Path(__file__).resolve().parent.parent
    checkout = here.parent.parent / "webmap"
    return checkout if (checkout / "templates").exists() else here / "_webmap"


def default_export_dir(environ: dict[str, str] | None = None) -> Path:
    """Where downloads are made when ``PLACEGEO_EXPORT_DIR`` is not set: never the working directory.

    ``$XDG_CACHE_HOME/placegeo/exports`` (``~/.cache/placegeo/exports`` by default): the files are
    made again from the atlas whenever they are missing, so a cache folder is their place.

    >>> str(default_export_dir({"XDG_CACHE_HOME": "/var/cache/web"}))
    '/var/cache/web/placegeo/exports'
    """
    env = os.environ if environ is None else environ
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "placegeo" / "exports"


def split_locations(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Atlas locations from text: separated by commas, or by ``os.pathsep`` between file paths (a
    PostGIS URL holds ``:`` itself, so URLs are separated from the rest by commas). A list is taken as it is.

    >>> split_locations("jinan.gpkg, postgresql://gis:pw@db:5432/mz?schema=jining,weifang.gpkg")
    ('jinan.gpkg', 'postgresql://gis:pw@db:5432/mz?schema=jining', 'weifang.gpkg')
    >>> split_locations(os.pathsep.join(["a.gpkg", "b.gpkg"]))
    ('a.gpkg', 'b.gpkg')
    >>> split_locations(["C:/atlases/济南,2024.gpkg"])
    ('C:/atlases/济南,2024.gpkg',)
    """
    from placegeo.storage import is_database_url

    if not isinstance(text, str):
        return tuple(str(p).strip() for p in text if str(p).strip())
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if is_database_url(part):
            out.append(part)
        else:
            out.extend(p.strip() for p in part.split(os.pathsep) if p.strip())
    return tuple(out)


@dataclass(frozen=True)
class WebSettings:
    """Settings of the web map; each can be set by an environment variable ``PLACEGEO_<NAME>``."""

    atlas: str = "atlas.gpkg"
    atlases: tuple[str, ...] = ()  # several atlases, one per city (PLACEGEO_ATLASES); when set, `atlas` is unused
    export_dir: str = ""  # downloads made once per revision; "": placegeo/exports in the user's cache folder
    tiles: str = "none"  # none, osm, tianditu or amap
    tianditu_key: str = ""
    max_search_limit: int = 50
    search_cache: int = 4096  # answers kept per worker and atlas revision; 0: none
    refresh_ms: int = 1000  # how often a worker checks whether the atlas changed (an import); 0: every request
    max_items: int = 1000  # the largest page of OGC items (limit): bounds what one response costs
    default_items: int = 100
    computed_cache: int = 256  # expensive answers (cemetery, coverage, open now) kept per worker and revision
    public_url: str = ""  # the site's public base URL for links ("https://maps.example.org"); "": relative links
    cors_origins: str = "*"  # origins allowed to call the read-only APIs: "*" or space-separated origins
    cache_max_age: int = 60  # seconds a client or proxy may reuse a data answer without asking again
    gzip: int = 1  # 1: the app compresses JSON answers larger than 1 KB (0 where nginx does it)
    vector_tiles_above: int = 20000  # the page draws a layer with more features than this from vector tiles
    namecheck: int = 0  # 1: answer /api/namecheck (for the bureau's internal use; off on a public site)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> WebSettings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f"PLACEGEO_{f.name.upper()}"
            if key in env:
                if f.type == "int" and not re.fullmatch(r"\d{1,9}", env[key].strip()):
                    raise ValueError(f"{key}={env[key]!r}; give a whole number")
                values[f.name] = int(env[key]) if f.type == "int" else env[key]
        overrides = {k.lower(): v for k, v in overrides.items()}
        if "atlas" in overrides and "atlases" not in overrides:
            overrides["atlases"] = ()  # one atlas given outright: not the list of the environment
        values.update(overrides)
        values["atlases"] = split_locations(values.get("atlases", ()))
        settings = cls(**values)
        if settings.public_url and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", settings.public_url):
            raise ValueError(f"PLACEGEO_PUBLIC_URL={settings.public_url!r}; "
                             "give a base URL such as https://maps.example.org")
        if settings.tiles not in TILES:
            raise ValueError(f"PLACEGEO_TILES={settings.tiles!r}; use one of {', '.join(TILES)}")
        return settings

    @property
    def export_path(self) -> Path:
        """The download folder as an absolute path (``export_dir``, or :func:`default_export_dir`)."""
        return Path(self.export_dir).resolve() if self.export_dir else default_export_dir()

    @property
    def allowed_origins(self) -> frozenset[str]:
        """The origins of ``cors_origins`` (``{"*"}`` for any)."""
        return frozenset(self.cors_origins.split())

    @property
    def locations(self) -> tuple[str, ...]:
        """The atlases to serve, the default one first: ``atlases`` if set, else ``atlas``."""
        return self.atlases or (self.atlas,)
