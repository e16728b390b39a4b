"""Fixtures of every test collected, the doctests of ``src/placegeo`` included (``tests/conftest.py``
holds those of the test suite)."""

from __future__ import annotations

import tempfile

import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(autouse=True)
def _doctest_temp_folder(request, monkeypatch):
    """A doctest's ``tempfile.mkdtemp()`` makes its folder in the test's own temporary folder: the
    examples stay as a reader would type them, and a test run leaves nothing in the system's."""
    if isinstance(request.node, DoctestItem):
        monkeypatch.setattr(tempfile, "tempdir", str(request.getfixturevalue("tmp_path")))
    yield
