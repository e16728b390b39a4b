"""Every notebook runs top to bottom on the demo atlas, and its maps and charts really render."""

import base64
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def atlas_copy(demo_atlas, tmp_path_factory):
    path = tmp_path_factory.mktemp("nb") / "atlas.gpkg"
    shutil.copy(demo_atlas.location, path)
    return path


def _run(path: Path, atlas: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("PLACEGEO_ATLAS", str(atlas))
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(book, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return book


def _outputs(book, mime):
    return [o["data"][mime] for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "data" in o and mime in o["data"]]


def _text(book) -> str:
    parts = []
    for c in book.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            parts.append("".join(o.get("text", "")))
            parts.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_outputs_are_stripped_in_the_repository():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), path.name


def _city(path: Path) -> str | None:
    """The city a notebook is written for (its metadata ``placegeo.city``); None: the default demo atlas."""
    return nbformat.read(path, as_version=4).metadata.get("placegeo", {}).get("city")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_renders(path, request, tmp_path, monkeypatch):
    city = _city(path)
    if city is None:
        atlas = request.getfixturevalue("atlas_copy")
    else:  # a copy of the session's city atlas, so that a notebook cannot change what other tests read
        atlas = tmp_path / f"{city}.gpkg"
        shutil.copy(request.getfixturevalue(f"{city}_atlas").location, atlas)
    book = _run(path, atlas, monkeypatch)
    html = "\n".join(_outputs(book, "text/html"))
    pngs = _outputs(book, "image/png")
    if path.stem.startswith(("01", "02")):  # folium maps
        assert "L.map(" in html  # a folium map was drawn
        assert "geo_json" in html
    if path.stem.startswith(("03", "04")):  # matplotlib charts
        assert pngs and all(len(base64.b64decode(p)) > 10_000 for p in pngs)
    if path.stem.startswith("05"):
        text = _text(book)
        assert "Sample data" in text and "shp/traditional_place_names.shp.zip" in text
        assert "Fúróng Jiē" in text or "Bàotū Quán" in text or "pinyin" in html
    if path.stem.startswith("07"):
        text = _text(book)
        assert "L.map(" in html and "geo_json" in html  # the priority zones and graves were mapped
        assert "graves lie in a priority zone" in text and "residents aged 60+ in the central districts" in text
        assert "rests on sample data: True" in text
    if path.stem.startswith("08"):
        text = _text(book)
        assert "12 county-level and 120 sub-district service centres" in text
        assert pngs and all(len(base64.b64decode(p)) > 10_000 for p in pngs)
    if path.stem.startswith("06"):
        text = _text(book)
        assert "is not one of" in text and "swapped" in text  # what validation reported
        assert "3 rows written" in text
