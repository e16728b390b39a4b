"""Every write keeps the previous revision: history lists them, undo restores the last one exactly.

Also: appends go in place (a GeoPackage keeps its file, GDAL still finds the rows through its
rtree), and the append key check asks the key index (keys_present) instead of reading every key.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pyogrio
import pytest

from helpers import CODES, atlas_digest, population_units, relief_points
from placegeo.errors import AtlasError, ValidationError

BACKENDS = ["gpkg", "postgis"]


def layer_rows(atlas, name: str) -> list[tuple]:
    """Every stored row of a layer as the database holds it: fid, attributes and geometry bytes."""
    if atlas.backend == "gpkg":
        with contextlib.closing(sqlite3.connect(atlas.location)) as con:
            return con.execute(f'SELECT * FROM "{name}" ORDER BY fid').fetchall()
    import psycopg
    from psycopg import sql

    store = atlas.store
    with psycopg.connect(store._conninfo) as conn:
        cols = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum", (f'"{store.schema}"."{name}"',))]
        select = sql.SQL(", ").join(sql.SQL("ST_AsEWKB({})").format(sql.Identifier(c)) if c == "geom"
                                    else sql.Identifier(c) for c in cols)
        return conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY fid").format(
            select, sql.Identifier(store.schema, name))).fetchall()


def test_undo_after_a_replace_restores_the_layer_row_for_row(atlas):
    atlas.write("relief_points", relief_points(4))
    atlas.write("relief_points", relief_points(2, start=10), mode="append")
    before_rows, before_info = layer_rows(atlas, "relief_points"), atlas.layer_info()
    before_revision = atlas.revision
    atlas.write("relief_points", relief_points(3, start=50).assign(name="新的"), mode="replace")
    assert atlas.count("relief_points") == 3
    undone = atlas.undo()
    assert undone["layers"] == {"relief_points": {"op": "replace", "rows_before": 6, "rows_after": 3}}
    assert layer_rows(atlas, "relief_points") == before_rows
    assert atlas.layer_info().equals(before_info)
    assert atlas.revision != before_revision  # an undo is a change readers must see
    assert atlas.read("relief_points", bbox=(117.0195, 36.65, 117.0205, 36.67))["point_id"].tolist() == ["rp0", "rp10"]
    # and the atlas goes on being written as usual
    atlas.write("relief_points", relief_points(1, start=20), mode="append")
    assert atlas.keys("relief_points").tolist() == ["rp0", "rp1", "rp2", "rp3", "rp10", "rp11", "rp20"]


def test_undo_after_an_append_removes_exactly_the_appended_rows(atlas):
    atlas.write("relief_points", relief_points(3))
    before = layer_rows(atlas, "relief_points")
    atlas.write("relief_points", relief_points(5).iloc[3:], mode="append")  # at 117.023 and 117.024
    assert len(atlas.read("relief_points", bbox=(117.0225, 36.65, 117.03, 36.67))) == 2
    if atlas.backend == "gpkg":  # GDAL's stored feature count followed (raised once, not by its per-row trigger)
        assert pyogrio.read_info(atlas.location, layer="relief_points")["features"] == 5
        with contextlib.closing(sqlite3.connect(atlas.location)) as con:
            assert con.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = "
                               "'relief_points'").fetchone() == (5,)
    assert atlas.history().loc[0, "layers"] == "relief_points: append 3→5"
    atlas.undo()
    assert layer_rows(atlas, "relief_points") == before
    assert atlas.keys_present("relief_points", ["rp3", "rp4", "rp2"]) == {"rp2"}
    assert len(atlas.read("relief_points", bbox=(117.0225, 36.65, 117.03, 36.67))) == 0  # the rtree followed


def test_history_lists_each_write_with_its_command_layers_and_counts(atlas, monkeypatch):
    monkeypatch.setenv("PLACEGEO_COMMAND", "placegeo import 避风港.csv relief_points")
    atlas.write("relief_points", relief_points(2))
    with atlas.transaction():
        atlas.write("population_units", population_units())
        atlas.write("relief_points", relief_points(1, start=2), mode="append")
    history = atlas.history()
    assert history["rev"].tolist() == sorted(history["rev"], reverse=True)
    assert history.loc[0, "layers"] == "population_units: create 0→2; relief_points: append 2→3"
    assert history.loc[1, "layers"] == "relief_points: create 0→2"
    assert (history["command"].head(2) == "placegeo import 避风港.csv relief_points").all()
    assert history["at"].str.match(r"\d{4}-\d\d-\d\dT").all()
    atlas.undo()  # one transaction, one revision: both layers go back
    assert atlas.layers() == ["relief_points"] and atlas.count("relief_points") == 2


def test_a_refused_write_leaves_no_revision(atlas):
    atlas.write("relief_points", relief_points(2))
    n = len(atlas.history())
    with pytest.raises(ValidationError):
        atlas.write("relief_points", relief_points(1).assign(kind="hotel"))
    assert len(atlas.history()) == n


def test_undo_restores_codes_and_metadata_and_says_when_nothing_is_left(new_location):
    from placegeo.atlas import Atlas

    atlas = Atlas.create(new_location(), name="济南")
    atlas.set_codes(CODES)
    atlas.set_codes(CODES.head(2))
    atlas.set_meta(name="济宁")
    atlas.undo()
    assert atlas.meta["name"] == "济南" and len(atlas.codes) == 2
    atlas.undo()
    assert len(atlas.codes) == len(CODES)
    atlas.undo()
    assert atlas.codes.empty
    with pytest.raises(AtlasError, match="no earlier revision"):
        atlas.undo()
    atlas.close()


def test_old_revisions_are_dropped_with_what_they_kept(atlas, monkeypatch):
    from placegeo.storage import base, gpkg, postgis

    for module in (base, gpkg, postgis):
        monkeypatch.setattr(module, "HISTORY_KEEP", 3)
    for i in range(6):
        atlas.write("relief_points", relief_points(2, start=10 * i), mode="replace")
    assert len(atlas.history()) == 3
    kept = _kept_tables(atlas)
    assert len(kept) == 3, kept  # the three replaces still undoable, no more
    for _ in range(3):
        atlas.undo()
    assert atlas.keys("relief_points").tolist() == ["rp20", "rp21"] and _kept_tables(atlas) == []


def _kept_tables(atlas) -> list[str]:
    if atlas.backend == "gpkg":
        with contextlib.closing(sqlite3.connect(atlas.location)) as con:
            return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                              r"name LIKE 'placegeo\_hist\_%' ESCAPE '\' AND name NOT LIKE '%rtree%'")]
    import psycopg

    with psycopg.connect(atlas.store._conninfo) as conn:
        return [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s AND "
                                           r"tablename LIKE 'placegeo\_hist\_%%'", (atlas.store.schema,))]


def test_keys_present_uses_the_key_index(atlas):
    atlas.write("relief_points", relief_points(5))
    assert atlas.keys_present("relief_points", ["rp1", "rp4", "rp9", "rp1' OR '1'='1"]) == {"rp1", "rp4"}
    assert atlas.keys_present("population_units", ["u1"]) == set()  # no such layer stored
    if atlas.backend == "gpkg":
        with contextlib.closing(sqlite3.connect(atlas.location)) as con:
            plan = " ".join(str(r) for r in con.execute(
                "EXPLAIN QUERY PLAN SELECT point_id FROM relief_points WHERE point_id IN ('rp1')"))
            unique = con.execute("SELECT sql FROM sqlite_master WHERE name = 'placegeo_key_relief_points'").fetchone()
        assert "INDEX placegeo_key_relief_points" in plan and unique[0].startswith("CREATE UNIQUE INDEX")
    else:
        import psycopg

        with psycopg.connect(atlas.store._conninfo) as conn:
            row = conn.execute("SELECT indisunique FROM pg_index WHERE indexrelid = to_regclass(%s)",
                               (f'"{atlas.store.schema}".relief_points_point_id_idx',)).fetchone()
        assert row == (True,)


def test_codes_are_checked_by_lookup_not_by_reading_the_tree(atlas, monkeypatch):
    assert atlas.codes_present(["370102", "370199", "370102' OR '1'='1"]) == {"370102"}
    atlas.write("relief_points", relief_points(2))

    def whole_tree(*args, **kwargs):
        raise AssertionError("a write read the whole code tree")

    monkeypatch.setattr(atlas.store, "read_codes", whole_tree)  # a national tree holds ~700,000 codes
    atlas.write("relief_points", relief_points(3).iloc[2:], mode="append")
    wrong = relief_points(4).iloc[3:].assign(district_code="370199")
    with pytest.raises(ValidationError, match="admin code 370199 is not in the atlas's code table"):
        atlas.write("relief_points", wrong, mode="append")
    assert atlas.count("relief_points") == 3
    monkeypatch.undo()  # (replacing the tree reads it: its village names are indexed)
    with atlas.transaction():  # a tree replaced inside the write is the one its codes are checked against
        atlas.set_codes(CODES[CODES["code"] != "370102"])
        assert atlas.codes_present(["370102", "370103"]) == {"370103"}
        with pytest.raises(ValidationError, match="admin code 370102 is not in the atlas's code table"):
            atlas.write("relief_points", relief_points(5).iloc[4:], mode="append")
        atlas.set_codes(CODES.iloc[:0])
        assert atlas.codes_present(["370102"]) is None  # no tree: codes go unchecked


def test_an_append_updates_the_layer_record_as_a_full_count_would(atlas):
    atlas.write("relief_points", relief_points(3).assign(sample=[True, False, True], source="甲"))
    atlas.write("relief_points", relief_points(3, start=3).assign(sample=[True, False, False], source="乙"),
                mode="append")
    info = atlas.layer_info().set_index("name").loc["relief_points"]
    sources, n, n_sample = atlas.store.layer_stats("relief_points")
    recorded = (int(info["feature_count"]), int(info["sample_count"]), info["sources"])
    assert recorded == (n, n_sample, " | ".join(sources))
    assert (n, n_sample, sources) == (6, 3, ["乙", "甲"])


def test_append_key_check_does_not_read_every_stored_key(atlas, monkeypatch):
    atlas.write("relief_points", relief_points(3))

    def refuse(*args, **kwargs):
        raise AssertionError("read every stored key")

    monkeypatch.setattr(type(atlas.store), "read_keys", refuse)
    with pytest.raises(ValidationError, match="rp2"):
        atlas.write("relief_points", relief_points(2, start=2), mode="append")
    atlas.write("relief_points", relief_points(2, start=3), mode="append")
    assert atlas.count("relief_points") == 5


def test_an_append_to_a_geopackage_is_made_in_place(new_location, backend):
    if backend != "gpkg":
        pytest.skip("the file and GDAL's rtree are the GeoPackage's")
    from placegeo.atlas import Atlas

    location = new_location()
    atlas = Atlas.create(location, name="t")
    atlas.write("relief_points", relief_points(3))
    inode = Path(location).stat().st_ino
    revision = atlas.revision
    atlas.write("relief_points", relief_points(5).iloc[3:].assign(hours=None), mode="append")
    assert Path(location).stat().st_ino == inode and atlas.revision != revision
    assert not list(Path(location).parent.glob(".*.gpkg*"))  # no staging copy, no layer file left
    # GDAL reads the appended rows, finds them through the rtree, and counts them
    box = (117.0225, 36.65, 117.0245, 36.67)
    got = pyogrio.read_dataframe(location, layer="relief_points", bbox=box)
    assert got["point_id"].tolist() == ["rp3", "rp4"] and got["open_24h"].tolist() == [False, True]
    assert pyogrio.read_info(location, layer="relief_points")["features"] == 5
    with contextlib.closing(sqlite3.connect(location)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        extent = con.execute("SELECT max_x FROM gpkg_contents WHERE table_name = 'relief_points'").fetchone()
    assert extent[0] == pytest.approx(117.024)


def _scatter(gdf, seed: int):
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    xy = np.column_stack([rng.uniform(116.9, 117.2, len(gdf)), rng.uniform(36.55, 36.75, len(gdf))])
    return gdf.set_geometry(shapely.points(xy), crs=gdf.crs)


def _rtree_rows(location) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(location)) as con:
        assert con.execute("SELECT rtreecheck('rtree_relief_points_geom')").fetchone() == ("ok",)
        return con.execute("SELECT * FROM rtree_relief_points_geom ORDER BY id").fetchall()


def test_a_large_append_bulk_loads_the_rtree_as_sqlite_would_fill_it(new_location, backend):
    if backend != "gpkg":
        pytest.skip("the rtree is the GeoPackage's")
    import shapely

    from placegeo.atlas import Atlas

    location = new_location()
    atlas = Atlas.create(location, name="t")
    atlas.write("relief_points", _scatter(relief_points(1500), 1))
    atlas.write("relief_points", _scatter(relief_points(3000, start=2000), 2), mode="append")  # packed tree
    stored = atlas.read("relief_points")
    got = _rtree_rows(location)
    # the same entries, rounded outwards to 32-bit floats, as SQLite's own inserts make them
    with contextlib.closing(sqlite3.connect(":memory:")) as con:
        con.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
        with contextlib.closing(sqlite3.connect(location)) as gpkg:
            fids = [r[0] for r in gpkg.execute("SELECT fid FROM relief_points ORDER BY fid")]
        b = shapely.bounds(stored.geometry.values)
        con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", zip(fids, b[:, 0].tolist(), b[:, 2].tolist(),
                                                                    b[:, 1].tolist(), b[:, 3].tolist(), strict=True))
        assert got == con.execute("SELECT * FROM r ORDER BY id").fetchall()
    box = (117.0, 36.6, 117.05, 36.65)
    inside = stored.loc[shapely.intersects(stored.geometry.values, shapely.box(*box)), "point_id"]
    assert sorted(pyogrio.read_dataframe(location, layer="relief_points", bbox=box)["point_id"]) == sorted(inside)
    atlas.write("relief_points", _scatter(relief_points(20, start=9000), 3), mode="append")  # one by one
    assert len(_rtree_rows(location)) == 4520
    atlas.undo()
    atlas.undo()
    assert len(_rtree_rows(location)) == 1500
    assert sorted(atlas.read("relief_points", bbox=box)["point_id"]) == \
        sorted(set(inside) & set(atlas.read("relief_points")["point_id"]))


def test_packed_rtree_rounds_as_sqlite_at_any_sign():
    import numpy as np

    from placegeo.storage._rtree import bulk_load

    rng = np.random.default_rng(5)
    lo = rng.uniform(-180, 180, (5000, 2))
    bounds = np.column_stack([lo, lo + rng.uniform(0, 0.01, (5000, 2)) * (rng.random((5000, 1)) < 0.5)])
    fids = np.arange(11, 5011)
    rows = {}
    for how in ("one by one", "packed"):
        with contextlib.closing(sqlite3.connect(":memory:")) as con:
            con.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
            con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)",
                            [(i, -i, 1e-7 - i, i, i + 3e-7) for i in range(1, 11)])
            if how == "packed":
                bulk_load(con, "r", fids, bounds)
            else:
                con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", zip(
                    fids.tolist(), bounds[:, 0].tolist(), bounds[:, 2].tolist(), bounds[:, 1].tolist(),
                    bounds[:, 3].tolist(), strict=True))
            # the same connection goes on inserting and deleting into the tree as SQLite built it
            con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)",
                            [(9000 + i, i, i + 1, -i, 1 - i) for i in range(300)])
            con.execute("DELETE FROM r WHERE id % 7 = 0")
            assert con.execute("SELECT rtreecheck('r')").fetchone() == ("ok",)
            rows[how] = con.execute("SELECT * FROM r ORDER BY id").fetchall()
    assert rows["packed"] == rows["one by one"] and len(rows["packed"]) == 4552


def test_a_failed_append_leaves_the_atlas_as_before(atlas, monkeypatch):
    atlas.write("relief_points", relief_points(3))
    before = atlas_digest(atlas)
    real = type(atlas.store).write_data

    def write_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(type(atlas.store), "write_data", write_then_fail)
    with pytest.raises(OSError):
        atlas.write("relief_points", relief_points(2, start=3), mode="append")
    monkeypatch.undo()
    assert atlas_digest(atlas) == before and len(atlas.history()) == 2


# -- the demo never builds over what it did not build -------------------------------------------------------
def test_demo_refuses_an_atlas_with_imports_and_keeps_a_backup_when_told(demo_gpkg, tmp_path):
    import shutil

    from placegeo.atlas import Atlas
    from placegeo.demo import build_demo_atlas, holds_only_the_demo

    path = tmp_path / "atlas.gpkg"
    shutil.copyfile(demo_gpkg.location, path)
    atlas = Atlas(path)
    assert holds_only_the_demo(atlas)
    n = atlas.count("relief_points")
    extra = atlas.read("relief_points").iloc[:1].assign(point_id="imported-1", name="新增避风港", sample=False)
    atlas.write("relief_points", extra, mode="append")
    assert not holds_only_the_demo(atlas)
    before = atlas_digest(atlas)
    with pytest.raises(AtlasError, match="--overwrite"):
        build_demo_atlas(path)
    assert atlas_digest(atlas) == before  # refused: untouched
    atlas.undo()  # back to the demo as built: it may be rebuilt over
    assert holds_only_the_demo(atlas) and atlas.count("relief_points") == n
    atlas.write("relief_points", extra, mode="append")
    rebuilt = build_demo_atlas(path, overwrite=True)
    assert rebuilt.count("relief_points") == n and holds_only_the_demo(rebuilt)
    backups = list(tmp_path.glob("atlas.backup-*.gpkg"))
    assert len(backups) == 1
    kept = Atlas(backups[0])
    assert "imported-1" in kept.keys_present("relief_points", ["imported-1"]) and kept.count("relief_points") == n + 1


def test_cli_history_and_undo(tmp_path):
    from click.testing import CliRunner

    from placegeo.atlas import Atlas
    from placegeo.cli import main

    path = tmp_path / "a.gpkg"
    atlas = Atlas.create(path, name="t")
    atlas.set_codes(CODES)
    atlas.write("relief_points", relief_points(3))
    csv = tmp_path / "more.csv"
    relief_points(5).iloc[3:].assign(lon=lambda d: d.geometry.x, lat=lambda d: d.geometry.y).drop(
        columns="geometry").to_csv(csv, index=False)
    runner = CliRunner()
    out = runner.invoke(main, ["import", str(csv), "--layer", "relief_points", "--atlas", str(path),
                               "--datum", "wgs84"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(main, ["atlas", "history", "--atlas", str(path)])
    assert out.exit_code == 0 and "relief_points append 3→5" in out.output
    assert "import" in out.output.splitlines()[0]
    out = runner.invoke(main, ["atlas", "undo", "--atlas", str(path)])
    assert out.exit_code == 0, out.output
    assert Atlas(path).count("relief_points") == 3
    for _ in range(3):
        runner.invoke(main, ["atlas", "undo", "--atlas", str(path)])
    out = runner.invoke(main, ["atlas", "undo", "--atlas", str(path)])
    assert out.exit_code == 2 and "no earlier revision" in out.output


def test_a_backup_is_a_whole_atlas_beside_the_original(atlas):
    from placegeo.atlas import Atlas, backup_atlas

    atlas.write("relief_points", relief_points(3))
    kept = backup_atlas(atlas)
    assert kept != atlas.location
    copy = Atlas(kept) if atlas.backend == "gpkg" else Atlas(kept.replace("***", ""))
    try:
        assert copy.read("relief_points")["point_id"].tolist() == ["rp0", "rp1", "rp2"]
        assert len(copy.codes) == len(CODES) and copy.meta["name"] == "test"
        copy.write("relief_points", relief_points(1, start=3), mode="append")  # a working atlas
        assert copy.count("relief_points") == 4 and atlas.count("relief_points") == 3
    finally:
        copy.close()
        if atlas.backend == "postgis":
            from conftest import drop_schemas

            drop_schemas([copy.store.schema])
