"""Small test layers and helpers shared by the tests."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point, box

#: Jinan's extent with a margin (longitude/latitude)
JINAN_EXTENT = (116.1, 35.9, 118.1, 37.6)

CODES = pd.DataFrame(
    [
        ("370102", "历下区", "district", None),
        ("370103", "市中区", "district", None),
        ("370113", "长清区", "district", None),
        ("370102001", "解放路街道", "town", "370102"),
        ("370102001002", "解放桥社区居民委员会", "village", "370102001"),
    ],
    columns=["code", "name", "level", "parent_code"],
)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def relief_points(n: int = 3, *, start: int = 0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "point_id": [f"rp{i}" for i in range(start, start + n)],
            "name": [f"避风港{i}" for i in range(start, start + n)],
            "kind": ["relief_point"] * n,
            "host": ["便利店"] * n,
            "open_24h": [i % 2 == 0 for i in range(n)],
            "hours": [None if i % 2 == 0 else "08:00-20:00" for i in range(n)],
            "district_code": ["370102"] * n,
            "source": ["test"] * n,
        },
        geometry=[Point(117.02 + 0.001 * i, 36.66) for i in range(n)],
        crs="EPSG:4490",
    )


def population_units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "unit_id": ["u1", "u2"],
            "residents": [1000, 2000],
            "residents_60plus": [200, 500],
            "residents_65plus": [150, 300],
            "district_code": ["370102", "370103"],
            "town_code": ["370102001", None],
            "source": ["test", "test"],
        },
        geometry=[box(117.0, 36.6, 117.01, 36.61), box(117.01, 36.6, 117.02, 36.61)],
        crs="EPSG:4490",
    )


def atlas_digest(atlas) -> str:
    """A fingerprint of everything stored: the file's bytes (GeoPackage), or every table's rows (PostGIS)."""
    if atlas.backend == "gpkg":
        return file_digest(atlas.location)
    h = hashlib.sha256()
    h.update(repr(sorted(atlas.store.meta_items().items())).encode())  # includes the revision
    h.update(atlas.codes.to_csv().encode())
    h.update(atlas.layer_info().to_csv().encode())
    for name in atlas.layers():
        gdf = atlas.read(name)
        h.update(name.encode())
        h.update(gdf.drop(columns="geometry").to_csv().encode())
        h.update(b"".join(gdf.geometry.to_wkb()))
    return h.hexdigest()


#: Debian's chromium, launched as the project's browser tests launch it (no downloaded browser, no network)
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def require_chromium() -> str:
    """The browser's path; a skip where it is not installed, a failure in CI (`make test` installs it)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make test` installs it with .ci/install-chromium")
        pytest.skip("chromium is not installed (run .ci/install-chromium as root)")
    return CHROMIUM
