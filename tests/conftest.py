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
