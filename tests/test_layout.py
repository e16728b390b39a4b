"""The package's architecture, checked: no import circles, one error table, stored results that say
what they were computed with."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import placegeo
from placegeo import errors
from placegeo.cli import main
from placegeo.web.errors import STATUS

SRC = Path(placegeo.__file__).resolve().parent


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(SRC)], prefix="placegeo."))


def _imports(module: str) -> set[str]:
    """The placegeo modules a module imports when it runs (at any depth of its code), resolved to modules."""
    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    known = set(_modules()) | {"placegeo"}
    for node in ast.walk(tree):  # imports for type checkers only do not run
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("placegeo"):
            # `from package import module` imports that module; `from module import name`, the module
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("placegeo")]
        for name in names:
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known and name != module:
                found.add(name)
    return found


def test_no_module_imports_a_module_that_imports_it_back():
    graph = {m: _imports(m) - {"placegeo"} for m in _modules()}
    # every circle, however long: a module must not be reachable from the modules it imports
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == start:
                pytest.fail(f"{start} is imported back through its own imports")
            if m not in seen:
                seen.add(m)
                todo.extend(graph.get(m, ()))


def test_storage_sits_below_ingest_and_nothing_asks_for_the_backend():
    for m in _modules():
        if m.startswith("placegeo.storage"):
            assert not {"placegeo.atlas", "placegeo.ingest", "placegeo.readers", "placegeo.validate",
                        "placegeo.web"} & _imports(m), m
        source = Path(importlib.util.find_spec(m).origin).read_text(encoding="utf-8")
        if not m.startswith(("placegeo.storage", "placegeo.cli")):
            assert ".backend ==" not in source and "backend ==" not in source, f"{m} asks which back end it runs on"


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_placegeo_error_has_a_status_and_lives_in_errors():
    for m in _modules():
        importlib.import_module(m)
    classes = {errors.PlacegeoError, *_all_subclasses(errors.PlacegeoError)}
    for cls in classes:
        assert cls.__module__ == "placegeo.errors", f"{cls.__name__} is defined in {cls.__module__}"
        assert cls in STATUS, f"{cls.__name__} has no HTTP status in placegeo.web.errors.STATUS"


@pytest.fixture(scope="module")
def bare_client(tmp_path_factory):
    """The web map on an atlas holding only admin units: every other layer is missing."""
    from helpers import relief_points
    from placegeo.atlas import Atlas
    from placegeo.web import create_app

    path = tmp_path_factory.mktemp("bare") / "bare.gpkg"
    atlas = Atlas.create(path)
    atlas.write("relief_points", relief_points(2))
    app = create_app({"atlas": str(path), "export_dir": str(path.parent / "exports")})
    return app.test_client()


@pytest.mark.parametrize("url", [
    "/api/cemetery", "/api/coverage", "/api/reverse?lon=117.0&lat=36.6", "/api/places/cemeteries:c1",
    "/collections/cemeteries", "/collections/cemeteries/items", "/collections/cemeteries/items/c1",
    "/download/cemeteries.geojson",
])
def test_a_missing_layer_answers_404_on_every_route_that_reads_one(bare_client, url):
    r = bare_client.get(url)
    assert r.status_code == 404, (url, r.status_code, r.get_data(as_text=True))
    assert str(bare_client.application.config["PLACEGEO"].atlas) not in r.get_data(as_text=True)  # no paths


def test_coverage_written_at_10_minutes_is_served_as_10_minute_coverage(demo_gpkg, tmp_path):
    from placegeo.atlas import copy_atlas
    from placegeo.web import create_app

    atlas = copy_atlas(demo_gpkg, tmp_path / "c.gpkg")
    r = CliRunner().invoke(main, ["coverage", "--atlas", atlas.location, "--target-min", "10", "--write",
                                  "--by", "district", "--json"])
    assert r.exit_code == 0, r.output
    stored = atlas.read("coverage_units")
    assert set(stored["target_min"]) == {10} and set(stored["thresholds_min"]) == {"5,10,15"}
    assert stored["sample"].all()  # the demo's units and facilities are sample data
    client = create_app({"atlas": atlas.location, "export_dir": str(tmp_path / "x")}).test_client()
    doc = client.get("/api/coverage?by=district").get_json()
    assert doc["target_min"] == 10 and doc["thresholds_min"] == [5, 10, 15] and doc["sample"] is True
    assert doc["atlas_revision"] and doc["method"]
    cli = {a["district_code"]: a for a in __import__("json").loads(r.stdout)["areas"]}
    for area in doc["areas"]:
        assert area["share60_10min"] == cli[area["district_code"]]["share60_10min"]
        assert area["meets_target"] == cli[area["district_code"]]["meets_target"]  # judged at 10 minutes
