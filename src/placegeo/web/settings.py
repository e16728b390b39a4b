"""Settings of the web map: one typed object, read from ``PLACEGEO_``-prefixed environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["TILES", "WebSettings", "webmap_dir"]

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


@dataclass(frozen=True)
class WebSettings:
    """Settings of the web map; each can be set by an environment variable ``PLACEGEO_<NAME>``."""

    atlas: str = "atlas.gpkg"
    export_dir: str = "exports/web"
    tiles: str = "none"  # none, osm, tianditu or amap
    tianditu_key: str = ""
    max_search_limit: int = 50
    search_cache: int = 4096  # answers kept per worker and atlas revision; 0: none
    refresh_ms: int = 1000  # how often a worker checks whether the atlas changed (an import); 0: every request
    max_items: int = 5000
    default_items: int = 100
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
        values.update({k.lower(): v for k, v in overrides.items()})
        settings = cls(**values)
        if settings.tiles not in TILES:
            raise ValueError(f"PLACEGEO_TILES={settings.tiles!r}; use one of {', '.join(TILES)}")
        return settings
