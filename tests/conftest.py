"""Shared fixtures: small atlases made in a temporary folder, never the demo file of the checkout."""

from __future__ import annotations

import pytest

from helpers import CODES, JINAN_EXTENT
from placegeo.atlas import Atlas


@pytest.fixture
def atlas(tmp_path) -> Atlas:
    a = Atlas.create(tmp_path / "test.gpkg", name="test", extent=JINAN_EXTENT)
    a.set_codes(CODES)
    return a


@pytest.fixture(scope="session")
def demo_atlas(tmp_path_factory) -> Atlas:
    """The Jinan demo atlas, built once per test session (a few seconds)."""
    from placegeo.demo import build_demo_atlas

    return build_demo_atlas(tmp_path_factory.mktemp("demo") / "jinan.gpkg")
