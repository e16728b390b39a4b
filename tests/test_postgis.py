"""What only the PostGIS atlas has: URLs and schemas, typed and indexed tables, copies both ways."""

import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers import relief_points
from placegeo.atlas import Atlas, copy_atlas
from placegeo.errors import AtlasError
from placegeo.registry import get_layer

BACKENDS = ["postgis"]


def _table_facts(atlas, name):
    import psycopg

    from placegeo.storage.postgis import split_url

    libpq, schema, _ = split_url(atlas.location)
    with psycopg.connect(libpq) as conn:
        geom = conn.execute("SELECT type, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
                            (schema, name)).fetchone()
        indexes = [r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s", (schema, name))]
    return geom, indexes


def _plan(atlas, name, **query):
    """The plan PostgreSQL chooses for the statement the web map's items endpoint runs."""
    import psycopg
    from psycopg import sql

    from placegeo.storage.postgis import split_url

    with psycopg.connect(split_url(atlas.location)[0]) as conn:
        store = atlas.store
        key_field = get_layer(name).primary_key if query.get("key") is not None else ""
        statement, params = store.page_sql(name, store._columns(conn, name), key_field=key_field, **query)
        return "\n".join(r[0] for r in conn.execute(sql.SQL("EXPLAIN ") + statement, params))


def test_layers_are_typed_4490_with_a_spatial_index_that_box_queries_use(atlas):
    import geopandas as gpd
    import numpy as np

    n = 20_000  # enough rows for the planner to prefer the index, as on a real layer
    rng = np.random.default_rng(3)
    pts = relief_points(n)
    pts["point_id"] = [f"p{i}" for i in range(n)]
    pts = pts.set_geometry(gpd.points_from_xy(rng.uniform(116.5, 117.5, n), rng.uniform(36.3, 37.0, n)), crs=4490)
    atlas.write("relief_points", pts, validate=False)
    (gtype, srid), indexes = _table_facts(atlas, "relief_points")
    assert (gtype, srid) == ("POINT", 4490)
    assert any("USING gist (geom)" in i for i in indexes)
    box = (117.0, 36.6, 117.02, 36.62)
    plan = _plan(atlas, "relief_points", bbox=box, key=None, limit=100, offset=0)
    assert "relief_points_geom_idx" in plan, plan
    page, matched = atlas.query("relief_points", bbox=box)
    inside = pts.cx[box[0]:box[2], box[1]:box[3]]
    assert 0 < matched == len(inside) <= 100
    assert page["point_id"].tolist() == inside["point_id"].tolist()  # in the layer's order
    plan = _plan(atlas, "relief_points", bbox=None, key="p5", limit=1, offset=0)
    assert "relief_points_point_id_idx" in plan, plan


def test_schema_and_password_in_urls(backend):
    from placegeo.storage.postgis import split_url

    libpq, schema, shown = split_url("postgresql://me:s3cret@db:5433/minzheng?schema=jinan&sslmode=require")
    assert schema == "jinan" and "schema" not in libpq and "sslmode=require" in libpq
    assert "s3cret" not in shown and "***" in shown
    assert split_url("postgresql://db/minzheng")[1] == "public"


def test_missing_atlas_and_unreachable_server_get_clear_errors(new_location):
    with pytest.raises(AtlasError, match="no atlas in schema"):
        Atlas(new_location("missing"))
    with pytest.raises(AtlasError, match=r"cannot connect.*check that the server runs"):
        Atlas("postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(AtlasError, match="not supported"):
        Atlas("mysql://db/atlas")


def test_create_refuses_to_overwrite_unless_asked_and_keeps_other_tables(atlas):
    import psycopg

    from placegeo.storage.postgis import split_url

    libpq, schema, _ = split_url(atlas.location)
    with psycopg.connect(libpq, autocommit=True) as conn:  # someone else's table in the same schema
        conn.execute(f'CREATE TABLE "{schema}".roads (id int, geom geometry(LineString, 4490))')
    atlas.write("relief_points", relief_points(2))
    assert atlas.layers() == ["relief_points"]  # not the roads: they are not the atlas's
    with pytest.raises(AtlasError, match="already holds an atlas"):
        Atlas.create(atlas.location)
    fresh = Atlas.create(atlas.location, overwrite=True, name="new")
    assert fresh.layers() == [] and fresh.meta["name"] == "new"
    with psycopg.connect(libpq) as conn:
        assert conn.execute(f'SELECT to_regclass(\'"{schema}".roads\')').fetchone()[0] is not None


def _everything(atlas):
    layers = {}
    for name in atlas.layers():
        gdf = atlas.read(name)
        layers[name] = gdf
    info = atlas.layer_info()
    return atlas.meta, atlas.codes, info, layers


def _assert_same(a, b):
    meta_a, codes_a, info_a, layers_a = _everything(a)
    meta_b, codes_b, info_b, layers_b = _everything(b)
    assert meta_a == meta_b
    pd.testing.assert_frame_equal(codes_a.astype(object), codes_b.astype(object))
    pd.testing.assert_frame_equal(info_a.astype(object), info_b.astype(object))
    assert list(layers_a) == list(layers_b)
    for name, ga in layers_a.items():
        gb = layers_b[name]
        assert len(ga) == len(gb), name
        assert list(ga.columns) == list(gb.columns), name
        attrs_a, attrs_b = ga.drop(columns="geometry"), gb.drop(columns="geometry")
        pd.testing.assert_frame_equal(attrs_a, attrs_b, check_dtype=True, obj=name)
        # geometries bit for bit: the same WKB, coordinates to the last digit
        assert ga.geometry.to_wkb().tolist() == gb.geometry.to_wkb().tolist(), name
        assert gb.crs.to_epsg() == 4490


def test_copy_the_demo_atlas_to_postgis_and_back_loses_nothing(demo_gpkg, new_location, tmp_path):
    pg = copy_atlas(demo_gpkg, new_location("copy"))
    assert pg.backend == "postgis" and len(pg.layers()) == len(demo_gpkg.layers()) >= 7
    _assert_same(demo_gpkg, pg)
    back = copy_atlas(pg, tmp_path / "back.gpkg")
    assert back.backend == "gpkg"
    _assert_same(demo_gpkg, back)
    with pytest.raises(AtlasError, match="already"):
        copy_atlas(demo_gpkg, pg.location)


def test_atlas_copy_command_and_demo_on_postgis(demo_gpkg, new_location, tmp_path):
    dst = new_location("cli")
    cmd = [sys.executable, "-m", "placegeo.cli", "atlas", "copy", str(demo_gpkg.location), dst]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stderr and "admin codes" in done.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    info = subprocess.run([sys.executable, "-m", "placegeo.cli", "atlas", "info", "--atlas", dst, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert info.returncode == 0 and '"backend": "postgis"' in info.stdout


def test_search_index_is_kept_in_the_database(demo_atlas):
    from placegeo.search import SearchIndex, StoredSearchIndex, index_complete

    idx = SearchIndex.for_atlas(demo_atlas)
    assert isinstance(idx, StoredSearchIndex) and index_complete(demo_atlas.store.search_tables())
    again = SearchIndex.for_atlas(demo_atlas)
    assert again.meta["stamp"] == demo_atlas.revision == idx.meta["stamp"]
    assert again.query("芙蓉街", limit=1)[0].record.name == "芙蓉街"


def test_the_atlas_connections_compile_no_statement(atlas):
    """JIT is off on every connection of the atlas's pool: its statements are short reads through indexes,
    which compiling made ten times slower where the planner's estimate crossed jit_above_cost."""
    store = atlas.store
    with store._conn() as first, store._conn() as second:  # two of the pool's connections
        assert [c.execute("SHOW jit").fetchone()[0] for c in (first, second)] == ["off", "off"]
        assert first.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"


def test_the_search_reads_through_connections_that_plan_each_statement_once(atlas):
    """The place-name search reads through a pool of its own, whose prepared statements keep one generic plan
    (its statements' plans do not depend on their values); inside a write it reads on the writer's connection,
    and sees what the write has added."""
    tables = atlas.store.search_tables()
    with tables._connect() as first, tables._connect() as second:
        assert [c.execute("SHOW plan_cache_mode").fetchone()[0] for c in (first, second)] == \
            ["force_generic_plan"] * 2
        assert first.execute("SHOW jit").fetchone()[0] == "off"
    with atlas.store.transaction(), tables._connect() as conn, atlas.store._conn() as writer:
        assert conn is writer


def _recording(tables) -> list:
    """Make ``tables`` keep each (statement, params) its reads run; the list they go in."""
    import contextlib

    seen, connect = [], tables._connect

    class Recording:  # the search connection, keeping what it runs
        def __init__(self, conn):
            self.conn, self.autocommit, self.info, self.transaction = conn, conn.autocommit, conn.info, conn.transaction

        def execute(self, statement, params=None):
            seen.append((statement, params))
            return self.conn.execute(statement, params)

    @contextlib.contextmanager
    def recording():
        with connect() as conn:
            yield Recording(conn)

    tables._connect = recording
    return seen


def _search_plan(atlas, tables, statement, params) -> str:
    """The plan a search connection keeps for ``statement`` (prepared, planned once for any values)."""
    from placegeo.storage.postgis import prepare_search_session

    with atlas.store._conn() as conn:
        prepare_search_session(conn)
        try:
            at = iter(range(1, 99))
            conn.execute("PREPARE s AS " + re.sub("%s", lambda _: f"${next(at)}", statement.as_string(conn)))
            args = tables._sql.SQL(", ").join(map(tables._sql.Literal, params or ()))
            run = tables._sql.SQL("EXPLAIN EXECUTE s") + (tables._sql.SQL("({})").format(args) if params
                                                          else tables._sql.SQL(""))
            return "\n".join(r[0] for r in conn.execute(run))
        finally:
            conn.execute("DEALLOCATE ALL")
            conn.execute("RESET plan_cache_mode")


def _index_rows(atlas, tables, n: int) -> None:
    """Three admin units in the index, ``n`` rows of another layer beside them, and the tables vacuumed."""
    from placegeo.search import NameRecord, write_batches

    units = [NameRecord(f"u{j}", name, "admin_units", district_code="370102") for j, name in enumerate("甲乙丙")]
    with atlas.store.transaction():
        write_batches(tables, "admin_units", [units])
    with atlas.store._conn() as conn:  # the planner's statistics, and the map of pages an index alone can answer
        conn.execute(tables._q("INSERT INTO {records} (name_id, layer, name, nkey, py_len, ord) SELECT 1000 + g, "
                               "'traditional_place_names', 'x' || g, 'x' || g, g %% 20, g "
                               "FROM generate_series(1, %s) g"), (n,))
        conn.execute(tables._q("VACUUM (ANALYZE) {records}"))


def test_a_layers_few_rows_are_read_by_a_plan_made_for_that_layer_on_a_search_connection(atlas):
    """The search's connections plan each statement once for any values: the statement reading one layer's
    rows (the units an address may start with, read by every new index) is planned for the layer it reads,
    a few rows beside many of another, through the layer's index (2.2 s at 13,000,000 names when not)."""
    tables = atlas.store.search_tables()
    _index_rows(atlas, tables, 30_000)
    seen = _recording(tables)
    assert sorted(r[3] for r in tables.layer_records("admin_units")) == sorted("甲乙丙")
    (statement, params), = seen
    plan = _search_plan(atlas, tables, statement, params)
    # planned for this layer's three rows (a plan for any layer expects a third of all rows: at 13,000,000 names
    # it read them all in name order rather than sort millions)
    scan = next(line for line in plan.splitlines() if "Scan" in line)
    assert "placegeo_search_records_layer" in scan and int(re.search(r"rows=(\d+)", scan)[1]) < 10, plan


def test_ranking_reads_a_tiers_names_from_the_index_holding_what_they_are_ranked_by(atlas):
    """A tier's best names are picked from an index holding their rank, key and pinyin length, and only those
    names' rows are read (a heap page for each of a tier's hundreds of names was half the statement)."""
    from placegeo.storage.searchdb import Closeness

    tables = atlas.store.search_tables()
    _index_rows(atlas, tables, 30_000)
    seen = _recording(tables)
    ids = list(range(1001, 1400, 2))  # pinyin lengths 1, 3, ... 19 in turn
    for score in (Closeness(3, "", 7.0), Closeness(3, "x1", 4.0)):  # a query of letters, and of characters
        seen.clear()
        tables.best_records([(ids, score)], 5)
        (statement, params), = seen
        assert "Index Only Scan using placegeo_search_records_rank" in _search_plan(atlas, tables, statement, params)
    # the five of the query's length (7 letters), first in rank order, with their rows
    assert sorted((r[1], r[4]) for r in tables.best_records([(ids, Closeness(3, "", 7.0))], 5)) == \
        [(1000 + g, f"x{g}") for g in (7, 27, 47, 67, 87)]


def test_the_public_map_runs_on_a_read_only_role(demo_gpkg, new_location):
    """The web map's database user may only read: it serves everything, keeps the search index in
    memory, and a write through it is refused with a clear message, leaving the atlas as it was."""
    import psycopg
    from psycopg import sql

    from helpers import atlas_digest
    from placegeo.storage.postgis import split_url
    from placegeo.web import create_app

    planner = copy_atlas(demo_gpkg, new_location("ro"))
    libpq, schema, _ = split_url(planner.location)
    role = f"reader_{schema[-10:]}"
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)))
    reader_url = planner.location.replace("postgresql://postgres@", f"postgresql://{role}@")
    try:
        client = create_app({"atlas": reader_url}).test_client()
        assert client.get("/api/search?q=frj&limit=1").get_json()["features"][0]["properties"]["name"] == "芙蓉街"
        doc = client.get("/collections/relief_points/items?bbox=116.9,36.6,117.1,36.7&limit=5").get_json()
        assert doc["numberMatched"] > 0 and len(doc["features"]) == 5
        tile = client.get("/collections/traditional_place_names/tiles/WebMercatorQuad/12/1598/3379")  # ST_AsMVT
        assert tile.status_code == 200 and tile.mimetype == "application/vnd.mapbox-vector-tile"
        assert planner.load_artifact("search") is None  # the index tables came with the copy: opened, not built
        reader = Atlas(reader_url)
        before = atlas_digest(planner)
        with pytest.raises(AtlasError, match="may not write"):
            reader.write("relief_points", relief_points(1), mode="append")
        assert atlas_digest(planner) == before
        reader.close()
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_schema_names_are_checked(backend):
    with pytest.raises(AtlasError, match="schema="):
        Atlas('postgresql://db/x?schema=a"; DROP TABLE b')


def test_a_failed_copy_leaves_the_destination_as_it_was(demo_gpkg, new_location, tmp_path, monkeypatch):
    """Over an existing atlas (PostGIS and GeoPackage) and where there was none."""
    from helpers import atlas_digest
    from placegeo import atlas as atlas_mod

    pg = copy_atlas(demo_gpkg, new_location("keep"))
    gpkg = copy_atlas(demo_gpkg, tmp_path / "keep.gpkg")
    before = {a.location: atlas_digest(a) for a in (pg, gpkg)}
    real = atlas_mod._promote_to_multi
    calls = []

    def fail_on_the_fourth_layer(data, spec):
        calls.append(spec.name)
        if len(calls) == 4:
            raise OSError("connection lost")
        return real(data, spec)

    monkeypatch.setattr(atlas_mod, "_promote_to_multi", fail_on_the_fourth_layer)
    for target in (pg, gpkg):
        calls.clear()
        with pytest.raises(OSError, match="connection lost"):
            copy_atlas(demo_gpkg, target.location, overwrite=True)
        assert atlas_digest(target) == before[target.location]
    fresh_pg, fresh_gpkg = new_location("none"), tmp_path / "none.gpkg"
    for dst in (fresh_pg, fresh_gpkg):
        calls.clear()
        with pytest.raises(OSError, match="connection lost"):
            copy_atlas(demo_gpkg, dst)
    assert not atlas_mod.atlas_exists(fresh_pg) and not fresh_gpkg.exists()
    assert not list(tmp_path.glob(".*.gpkg*")), "a half-built copy was left behind"
    monkeypatch.undo()
    assert copy_atlas(demo_gpkg, pg.location, overwrite=True).count("relief_points") == 167  # and then it works
