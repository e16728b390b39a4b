"""Shared fixtures: small atlases made for each test, never the demo file of the checkout.

The storage, import and web tests run on both back ends: a module lists them in ``BACKENDS``
(default: GeoPackage only) and every test asking for ``atlas`` or ``backend`` runs once per back
end. The PostGIS ones need the server that ``.ci/start-postgis`` starts; ``make test`` starts it
and passes its URL in ``PLACEGEO_TEST_POSTGIS``. Without that variable they are skipped, unless
``PLACEGEO_REQUIRE_POSTGIS=1`` (set by ``make test``) makes that a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest

from helpers import CODES, JINAN_EXTENT
from placegeo.atlas import Atlas

PG_URL = os.environ.get("PLACEGEO_TEST_POSTGIS", "")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "BACKENDS", ["gpkg"])
        metafunc.parametrize("backend", backends, indirect=True, ids=backends, scope="module")


@pytest.fixture(scope="module")
def backend(request) -> str:
    name = getattr(request, "param", "gpkg")
    if name == "postgis" and not PG_URL:
        if os.environ.get("PLACEGEO_REQUIRE_POSTGIS") == "1":
            pytest.fail("PLACEGEO_TEST_POSTGIS is not set; start the server with .ci/start-postgis")
        pytest.skip("no PostGIS server: run .ci/start-postgis and set PLACEGEO_TEST_POSTGIS to its URL")
    return name


@pytest.fixture
def new_location(backend, tmp_path):
    """A function giving fresh atlas locations of the test's back end (dropped after the test)."""
    schemas: list[str] = []

    def make(stem: str = "test") -> str:
        if backend == "gpkg":
            return str(tmp_path / f"{stem}-{uuid.uuid4().hex[:6]}.gpkg")
        schema = f"t_{stem}_{uuid.uuid4().hex[:10]}"
        schemas.append(schema)
        return pg_location(schema)

    yield make
    if schemas:
        drop_schemas(schemas)


def pg_location(schema: str) -> str:
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"


def drop_schemas(schemas: list[str]) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_URL.split("?")[0], autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def atlas(new_location) -> Atlas:
    a = Atlas.create(new_location(), name="test", extent=JINAN_EXTENT)
    a.set_codes(CODES)
    yield a
    a.close()


@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory) -> Atlas:
    """The Jinan demo atlas, built once per test session (a few seconds)."""
    from placegeo.demo import build_demo_atlas

    return build_demo_atlas(tmp_path_factory.mktemp("demo") / "jinan.gpkg")


@pytest.fixture(scope="session")
def demo_postgis(demo_gpkg) -> Atlas:
    """The demo atlas copied into a PostGIS schema, once per session."""
    from placegeo.atlas import copy_atlas

    schema = f"t_demo_{uuid.uuid4().hex[:10]}"
    a = copy_atlas(demo_gpkg, pg_location(schema))
    yield a
    a.close()
    drop_schemas([schema])


@pytest.fixture(scope="module")
def demo_atlas(request, backend) -> Atlas:
    """The demo atlas on the test's back end."""
    return request.getfixturevalue("demo_gpkg" if backend == "gpkg" else "demo_postgis")


@pytest.fixture(scope="session")
def jining_atlas(tmp_path_factory) -> Atlas:
    """The Jining demo atlas, built once per test session (under ten seconds)."""
    from placegeo.demo import build_demo_atlas

    return build_demo_atlas(tmp_path_factory.mktemp("jining") / "jining.gpkg", city="jining")


@pytest.fixture(scope="session")
def weifang_atlas(tmp_path_factory) -> Atlas:
    """The Weifang demo atlas, built once per test session."""
    from placegeo.demo import build_demo_atlas

    return build_demo_atlas(tmp_path_factory.mktemp("weifang") / "weifang.gpkg", city="weifang")


@pytest.fixture(scope="session")
def demo_cities(demo_gpkg, jining_atlas, weifang_atlas) -> dict[str, str]:
    """The demo atlases of the three cities (GeoPackage paths by city), each built once per session."""
    return {"jinan": demo_gpkg.location, "jining": jining_atlas.location, "weifang": weifang_atlas.location}
