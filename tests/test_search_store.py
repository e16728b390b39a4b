"""The place-name index kept in the atlas's own database (issue 19): written in the same transaction as
the layer whose names it holds, the same across processes and back ends."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys

import geopandas as gpd
import pytest
from shapely import Point

from helpers import relief_points
from placegeo import search
from placegeo.atlas import Atlas
from placegeo.errors import AtlasError, ValidationError
from placegeo.search import INDEX_VERSION, SearchIndex, StoredSearchIndex, index_complete, open_index
from placegeo.storage import searchdb

BACKENDS = ["gpkg", "postgis"]
QUERIES = ["芙蓉街", "frj", "芙容街", "曲水街", "baotuqun", "济南市历下区芙蓉街", "历下区芙蓉街", "经2路", "经10路",
           "Baotu Spring", "Daming Lake", "Thousand Buddha Mountain", "Furong Street", "经二大街", "大明湖公园",
           "千佛山景区", "鞭指胡同", "历山", "zhangqiu", "shanghe", "泉", "社区", "花园小区", "dmh", "芙rj", "長清",
           "华不注", "huabuzhu", "高新区", "章丘", "明湖", "lixiaqu furongjie"]


def _names(idx, q: str, **kw) -> list[str]:
    return [h.record.name for h in idx.query(q, **kw)]


def _ids(idx, queries=QUERIES) -> dict[str, list[str]]:
    return {q: [h.record.id for h in idx.query(q)] for q in queries}


@pytest.fixture
def atlas(new_location) -> Atlas:
    a = Atlas.create(new_location("search"))
    a.write("relief_points", relief_points(3))
    return a


def _point(point_id: str, name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"point_id": [point_id], "name": [name], "kind": ["relief_point"], "host": ["便利店"],
                             "open_24h": [True], "hours": [None], "district_code": ["370102"], "source": ["test"]},
                            geometry=[Point(117.03, 36.66)], crs="EPSG:4490")


def _names_of_several_orders(idx: StoredSearchIndex) -> int:
    """Names whose postings or slips carry more than one rank order: none, as the stores' lookups take
    each name once by grouping its rows by rank order and id (``searchdb._EACH_NAME``)."""
    pg = idx.tables.backend == "postgis"
    found = 0
    for table in ("postings", "slips"):
        name = f"{{{table}}}" if pg else f"placegeo_search_{table}"
        found += idx.tables._rows(f"SELECT count(*) FROM (SELECT name_id FROM {name} GROUP BY name_id "
                                  "HAVING count(DISTINCT ord) > 1) x")[0][0]
    return found


def test_the_write_that_adds_a_name_makes_it_findable(atlas):
    idx = SearchIndex.for_atlas(atlas)
    assert isinstance(idx, StoredSearchIndex) and _names(idx, "避风港1")[0] == "避风港1"
    assert _names(idx, "曲水亭避风点") == []
    atlas.write("relief_points", _point("rp9", "曲水亭避风点"), mode="append")
    idx = SearchIndex.for_atlas(atlas)
    assert _names(idx, "曲水亭避风点")[0] == "曲水亭避风点"
    assert _names(idx, "qstbfd")[0] == "曲水亭避风点" and _names(idx, "曲水亭避风店")[0] == "曲水亭避风点"  # slip
    assert _names(idx, "避风港2")[0] == "避风港2"  # the appended rows joined the others
    assert _names_of_several_orders(idx) == 0
    atlas.write("relief_points", _point("rp1", "泉城避风港"))  # replaced: the old names are gone
    idx = SearchIndex.for_atlas(atlas)
    assert _names(idx, "泉城避风港") == ["泉城避风港"]
    assert [n for n in _names(idx, "避风港", limit=20) if n.startswith("避风港")] == []
    assert _names(idx, "曲水亭避风点") == [] and len(idx.records) == 1
    assert _names_of_several_orders(idx) == 0


def test_a_query_reads_one_state_of_the_index(atlas):
    """A write that would commit between a query's statements waits for the query: they all read one
    state of the index, never a name found in one and gone from the next."""
    if atlas.backend != "gpkg":
        pytest.skip("a PostGIS reader's statement sees the database as of its start; a query is not wrapped")
    idx = SearchIndex.for_atlas(atlas)
    assert isinstance(idx, StoredSearchIndex)
    real, tried, calls = idx.tables._rows, [], []

    def rows(*args):
        calls.append(args)
        if len(calls) == 2:  # between two statements of the query: another connection tries to commit
            with contextlib.closing(sqlite3.connect(atlas.location, timeout=0, isolation_level=None)) as con:
                con.execute("BEGIN IMMEDIATE")
                con.execute("CREATE TABLE probe (x)")
                try:
                    con.execute("COMMIT")
                    tried.append("committed")
                except sqlite3.OperationalError as exc:
                    tried.append(str(exc))
                    con.execute("ROLLBACK")
        return real(*args)

    idx.tables._rows = rows
    assert _names(idx, "避风港1")[0] == "避风港1"
    assert tried == ["database is locked"]
    idx.tables._rows = real
    _names(idx, "避风港2")
    with contextlib.closing(sqlite3.connect(atlas.location, timeout=0)) as con:  # after the query: no wait
        con.execute("CREATE TABLE probe (x)")
        con.execute("DROP TABLE probe")
        con.commit()


def test_a_failed_write_leaves_the_index_as_it_was(atlas):
    before = _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1"])
    with pytest.raises(ValidationError):  # a refused import: nothing written
        atlas.write("relief_points", _point("rp9", "").assign(district_code="999999"), mode="append")
    with pytest.raises(RuntimeError), atlas.transaction():  # a write that fails after the layer was written
        atlas.write("relief_points", _point("rp8", "新避风港"), mode="append")
        raise RuntimeError("fails later in the same transaction")
    idx = SearchIndex.for_atlas(atlas)
    assert _ids(idx, ["避风港", "bfg", "避风港1"]) == before and "新避风港" not in _names(idx, "新避风港")
    with pytest.raises(AtlasError):  # a key clash found under the writers' lock
        atlas.write("relief_points", relief_points(1), mode="append", validate=False)
    assert _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1"]) == before


def _keys(tables) -> set[str]:
    return {r[0] for r in tables._rows("SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname "
                                       "LIKE 'placegeo_search_%%_pkey'", (tables.schema,))}


def test_postgis_builds_the_keys_of_empty_index_tables_after_their_rows(atlas, monkeypatch):
    tables = atlas.store.search_tables()
    if tables.backend != "postgis":
        pytest.skip("a GeoPackage's index tables are WITHOUT ROWID: the key is the table, never dropped")
    keys = {f"placegeo_search_{t}_pkey" for t in ("postings", "slips", "records", "layers")}
    assert _keys(tables) == keys  # the first write, into empty tables, built them at its end
    before = _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1"])
    with pytest.raises(RuntimeError), atlas.transaction():  # keys dropped for the rebuild come back with the rows
        tables.drop()
        search.rebuild_index(atlas)
        raise RuntimeError("fails after the rebuild, in the same transaction")
    assert _keys(tables) == keys and _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1"]) == before
    during: list[set[str]] = []
    write = type(tables).write
    monkeypatch.setattr(type(tables), "write", lambda self, *a, **kw: (during.append(_keys(self)),
                                                                        write(self, *a, **kw)))
    with atlas.transaction():
        search.rebuild_index(atlas)
    # the first layer's rows went into tables without the two keys; the next layers' into tables with them
    assert during[0] == keys - {"placegeo_search_postings_pkey", "placegeo_search_slips_pkey"}
    assert during[1:] and all(d == keys for d in during[1:])
    monkeypatch.undo()
    assert _keys(tables) == keys and _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1"]) == before
    atlas.write("relief_points", _point("rp9", "曲水亭避风点"), mode="append")  # into tables that hold rows
    assert _keys(tables) == keys and _names(SearchIndex.for_atlas(atlas), "曲水亭避风点")[0] == "曲水亭避风点"
    with pytest.raises(RuntimeError), atlas.transaction():
        tables.drop()
        batches = [[search.NameRecord(str(i), f"避风点{i}", "relief_points")] for i in range(3)]

        def stop(held: int) -> None:
            raise ValueError("stopped after the first batch")

        with pytest.raises(ValueError):
            search.write_batches(tables, "relief_points", batches, workers=1, progress=stop)
        assert _keys(tables) == keys  # the keys are made again however the write ends
        raise RuntimeError("rolled back")


def test_a_geopackage_stages_a_bulk_write_and_puts_the_records_first(atlas, monkeypatch):
    tables = atlas.store.search_tables()
    if tables.backend != "gpkg":
        pytest.skip("PostGIS builds the keys of empty tables after their rows (the test above)")

    def rows(con=None) -> dict[str, list[tuple]]:  # (con: the writer's, inside its transaction)
        read = (lambda sql: con.execute(sql).fetchall()) if con else tables._rows
        return {t: read(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in (*searchdb._KEYED, searchdb._RECORDS)}

    def staged(con) -> list[str]:
        return [r[0] for r in con.execute("SELECT name FROM temp.sqlite_master WHERE type = 'table'")]

    atlas.write("relief_points", relief_points(12), mode="replace")
    before, answers = rows(), _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1", "避风港11"])
    went: list[tuple[str, ...]] = []
    monkeypatch.setattr(search, "_BATCH", 3)
    route = searchdb._Stage.tables
    monkeypatch.setattr(searchdb._Stage, "tables", lambda self, *n: went.append(route(self, *n)) or went[-1])
    with atlas.transaction(), atlas.store._sql() as con:
        tables.drop()
        search.rebuild_index(atlas)
        assert staged(con) == []
    assert len(went) >= 4 and all(t.startswith("temp.") for w in went for t in w)  # every batch was staged
    assert rows() == before  # the same rows as before, and the same answers
    assert _ids(SearchIndex.for_atlas(atlas), ["避风港", "bfg", "避风港1", "避风港11"]) == answers

    first = search._slot("relief_points")
    batches = [[search.NameRecord(str(i), f"曲水亭避风点{i}", "relief_points") for i in range(j, j + 3)]
               for j in range(0, 12, 3)]
    seen: list[dict] = []

    def stop(held: int) -> None:  # told after each batch; the third one fails
        seen.append(rows(con))
        if len(seen) == 3:
            raise ValueError("the third batch failed")

    with pytest.raises(RuntimeError), atlas.transaction(), atlas.store._sql() as con:
        tables.drop()
        with pytest.raises(ValueError):  # a write that fails: nothing staged is put in
            search.write_batches(tables, "relief_points", batches, workers=1, progress=stop)
        assert all(now == {t: [] for t in now} for now in seen)  # staged: nothing in the tables meanwhile
        assert staged(con) == [] and rows(con) == {t: [] for t in rows(con)}
        assert con.execute("SELECT * FROM placegeo_search_layers").fetchall() == []
        # a whole write is in when it returns: records, keys and the layer's claim
        assert search.write_batches(tables, "relief_points", batches, workers=1) == 12
        now = rows(con)
        assert {r[2] for r in now["placegeo_search_postings"]} == {first + i for i in range(12)}
        assert [r[0] for r in now["placegeo_search_records"]] == [first + i for i in range(12)]
        assert con.execute("SELECT * FROM placegeo_search_layers").fetchall() == [("relief_points",
                                                                                  INDEX_VERSION, 12)]
        raise RuntimeError("rolled back")
    assert rows() == before
    with pytest.raises(AtlasError, match="SQLITE_TMPDIR") as full, atlas.transaction(), atlas.store._sql() as con:
        con.execute("PRAGMA temp.page_size = 512")  # small pages, opened (a page limit holds once it is open),
        con.execute("CREATE TEMP TABLE opened (x)")  # and room for the staged tables but not their rows
        con.execute(f"PRAGMA temp.max_page_count = {con.execute('PRAGMA temp.page_count').fetchone()[0] + 8}")
        tables.drop()
        search.rebuild_index(atlas)
    assert "ran out of disk space" in str(full.value) and rows() == before


def test_a_bulk_write_that_fails_when_it_ends_leaves_nothing_of_it(atlas):
    """The staged rows are checked only as they go in: a name id staged twice fails the put, which is
    undone whole (the records' indexes, dropped for it, are back), and its error reaches the caller."""
    tables = atlas.store.search_tables()
    if tables.backend != "gpkg":
        pytest.skip("PostGIS writes each batch as it comes")
    row = (7, "relief_points", "a", "避风点", "", "", "", "", 117.0, 36.6, 0, 0.0, "", -100, "避风点", 9, "")
    with atlas.transaction(), atlas.store._sql() as con:
        tables.drop()
        searchdb._create_tables(con)
        indexes = sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                                   f"tbl_name = '{searchdb._RECORDS}' AND sql IS NOT NULL"))
        assert len(indexes) == 2
        with pytest.raises(sqlite3.IntegrityError, match="name_id"), tables.bulk():
            tables.write("relief_points", [row], [("e避风点", -100, 7)], [(1, -100, 7)], version=1, n=1)
            tables.write("relief_points", [row], [("e避风点", -100, 7)], [(1, -100, 7)], version=1, n=2)
        assert sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                                f"tbl_name = '{searchdb._RECORDS}' AND sql IS NOT NULL")) == indexes
        assert [r[0] for r in con.execute("SELECT name FROM temp.sqlite_master WHERE type = 'table'")] == []
        for t in searchdb.SEARCH_TABLES:
            assert con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0, t
        with tables.bulk():  # and the next bulk write on the connection works
            tables.write("relief_points", [row], [("e避风点", -100, 7)], [(1, -100, 7)], version=1, n=1)
        assert con.execute("SELECT n FROM placegeo_search_layers").fetchall() == [(1,)]


def test_a_bulk_write_outside_a_transaction_stages_nothing(tmp_path, monkeypatch):
    """Each write on a connection of its own goes straight in: nothing to put in when the bulk write ends
    (the records' indexes are not dropped and made again over rows written without them)."""
    monkeypatch.setattr(searchdb._Stage, "_put_records", lambda self: pytest.fail("put in rows never staged"))
    tables = searchdb.SqliteSearchTables(path=tmp_path / "a.gpkg")
    row = (7, "relief_points", "a", "避风点", "", "", "", "", 117.0, 36.6, 0, 0.0, "", -100, "避风点", 9, "")
    with tables.bulk():
        tables.write("relief_points", [row], [("e避风点", -100, 7)], [(1, -100, 7)], version=1, n=1)
    assert tables.postings(["e避风点"], 5) == [("e避风点", -100, 7)] and tables.state() == {"relief_points": (1, 1)}


def test_a_bulk_write_left_open_past_its_commit_claims_no_names(atlas):
    """A bulk write held open by a generator that is closed only after the transaction committed: the
    staged rows never went in, and neither did the layer's claim to hold them, so the index is rebuilt.
    (``write_batches`` is a function for this reason; ``bulk`` may still be used in one.)"""
    tables = atlas.store.search_tables()
    if tables.backend != "gpkg":
        pytest.skip("PostGIS writes each batch as it comes, with its claim")
    atlas.write("relief_points", relief_points(6), mode="replace")

    def writing(batches):
        with tables.bulk():
            for rows, postings, slips in search.index_batches(batches, first_id=search._slot("relief_points")):
                tables.write("relief_points", rows, postings, slips, version=INDEX_VERSION, n=len(rows))
                yield

    with atlas.transaction():
        tables.drop()
        writes = writing([[search.NameRecord(str(i), f"避风点{i}", "relief_points")] for i in range(3)])
        next(writes), next(writes)
    assert "relief_points" not in tables.state() and not index_complete(tables)
    with pytest.raises(sqlite3.ProgrammingError):  # its connection closed with the transaction
        writes.close()
    assert _names(SearchIndex.for_atlas(atlas), "避风港1")[0] == "避风港1"


def test_a_bulk_write_puts_the_records_ahead_of_the_key_rows(tmp_path, monkeypatch):
    """Readers map the first 256 MB of a GeoPackage, and ranking reads a record for each candidate: the
    records of a large layer must lie there, not between its key rows all over the file."""
    monkeypatch.setattr(search, "_BATCH", 50)
    atlas = Atlas.create(tmp_path / "a.gpkg")
    atlas.write("relief_points", relief_points(400))
    with contextlib.closing(sqlite3.connect(tmp_path / "a.gpkg")) as con:
        roots = {r[0] for r in con.execute("SELECT rootpage FROM sqlite_master")}
        pages = dict(con.execute("SELECT name, group_concat(pageno) FROM dbstat WHERE name IN "
                                 f"{(searchdb._RECORDS, *searchdb._KEYED)} GROUP BY name"))
    records = [int(p) for p in pages[searchdb._RECORDS].split(",")]
    keys = [int(p) for t in searchdb._KEYED for p in pages[t].split(",")]
    assert len(records) > 5 and len(keys) > 20
    assert all(p > max(records) for p in keys if p not in roots)  # (the tables' first pages: made empty)


def test_an_atlas_without_index_tables_gets_them_once(atlas):
    with atlas.transaction():
        atlas.store.search_tables().drop()
    assert not index_complete(atlas.store.search_tables())
    assert _names(SearchIndex.for_atlas(atlas), "避风港1")[0] == "避风港1"
    assert index_complete(atlas.store.search_tables())


def test_the_index_answers_as_the_one_built_in_memory(demo_atlas):
    stored = SearchIndex.for_atlas(demo_atlas)
    assert isinstance(stored, StoredSearchIndex)
    assert _ids(stored) == _ids(SearchIndex.from_atlas(demo_atlas))


def test_the_nearest_places_are_those_the_index_in_memory_finds(demo_atlas, monkeypatch):
    """The stored index reads a box around the point, widened until nothing outside it can be nearer: the
    places and distances are those of every record measured, near the names and far from all of them."""
    stored, memory = SearchIndex.for_atlas(demo_atlas), SearchIndex.from_atlas(demo_atlas)
    read = []
    near = stored.tables.near
    monkeypatch.setattr(stored.tables, "near", lambda *a: read.append(len(rows := near(*a))) or rows)
    for lon, lat in [(117.0189, 36.6633), (117.1, 36.5), (116.2, 37.6), (118.5, 35.0), (0.0, 0.0)]:
        for layer in (None, "traditional_place_names"):
            assert stored.nearest(lon, lat, k=7, layer=layer).to_dict("records") == \
                memory.nearest(lon, lat, k=7, layer=layer).to_dict("records"), (lon, lat, layer)
    # in the old city the first box holds the seven: a few of the band of latitude across the city
    assert read[0] < len(near(36.6633, 0.02)) / 3


def test_a_layer_of_several_batches_is_indexed_in_worker_processes_as_in_one(atlas, monkeypatch):
    """A layer longer than one batch is indexed by forked workers while this process writes, inside its
    open write transaction (which the workers must leave alone): the same answers as one process gives."""
    import concurrent.futures

    words = ["芙蓉街", "曲水亭街", "大明湖", "千佛山", "趵突泉", "经二路", "鞭指巷"]
    points = relief_points(40)
    points["name"] = [f"{words[i % len(words)]}{i}号" for i in range(40)]
    queries = [*points["name"], "芙蓉街", "qushuiting", "dmh", "经2路", "千佛山3", "芙容街7号", "鞭指胡同"]
    submitted: list[int] = []
    submit = concurrent.futures.ProcessPoolExecutor.submit
    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit",
                        lambda pool, fn, batch, first: submitted.append(first) or submit(pool, fn, batch, first))
    monkeypatch.setattr(search, "_BATCH", 6)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    atlas.write("relief_points", points)
    slot = search._slot("relief_points")
    assert submitted == [slot + j for j in range(0, 40, 6)]  # seven batches, each in a worker
    parallel = _ids(SearchIndex.for_atlas(atlas), queries)
    assert parallel["芙蓉街14号"][0] == "relief_points:rp14"
    assert parallel["芙容街7号"][0] == "relief_points:rp7"  # a slip, found
    more = relief_points(13, start=40)
    atlas.write("relief_points", more, mode="append")  # numbered on after the 40 held, in three batches
    assert submitted[7:] == [slot + 40 + j for j in range(0, 13, 6)]
    assert _names(SearchIndex.for_atlas(atlas), "避风港52")[0] == "避风港52"

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    atlas.write("relief_points", points)  # one CPU: indexed here, batch by batch
    assert len(submitted) == 10
    stored = SearchIndex.for_atlas(atlas)
    assert _ids(stored, queries) == parallel == _ids(SearchIndex.from_atlas(atlas), queries)


def _slips_of(names: list[str]) -> list[str]:
    """One character of each name replaced (曲水亭街 -> 曲曌亭街), and the pinyin of some with a letter dropped."""
    out = []
    for n, name in enumerate(names):
        j = n % (len(name) - 1) + 1
        out.append(name[:j] + "曌" + name[j + 1:])
    return [*out, "baotuqun", "qushuitinjie", "furngjie", "daminhu"]


def test_the_store_ranks_as_ranking_in_memory_does(demo_atlas, monkeypatch):
    """A store ranks a long tier (the slips, prefixes of pinyin and initials, parts of names) itself and
    reads only its best rows: the same names, matches and scores, to the last bit, as ranking every
    candidate in memory."""
    stored, memory = SearchIndex.for_atlas(demo_atlas), SearchIndex.from_atlas(demo_atlas)
    names = sorted({r.name for r in memory.records if len(r.name) >= 3})[::7][:60]
    calls: dict[str, list] = {"best_slips": [], "best_records": [], "all_of_records": [], "best_prefix": [],
                              "all_of_and_slips": []}
    for method, got in calls.items():
        real = getattr(stored.tables, method)
        monkeypatch.setattr(stored.tables, method, lambda *a, real=real, got=got: got.append(a) or real(*a))
    middles = [n[1:4] for n in names if len(n) >= 5][:12]  # parts of names: the tier of names holding them
    queries = [*_slips_of(names), *middles, "qu", "da", "ji", "quan", "dm", "qs", "lx", "泉城", "泉城路", "大明",
               "泉", "路", "社区"]
    for q in queries:
        assert [(h.record.id, h.match, h.score) for h in stored.query(q)] == \
            [(h.record.id, h.match, h.score) for h in memory.query(q)], q
    assert len(calls["best_slips"]) > 40 and any(len(c[0]) > 3 for c in calls["best_slips"])  # many keys each
    assert any(len(c) > 5 and c[5] for c in calls["best_slips"])  # names found above read in the same statement
    assert any(len(c) > 2 and c[2] for c in calls["all_of_records"])  # and with a few names holding the query
    assert len(calls["best_records"]) >= 5
    assert calls["best_prefix"] and any(len(c) > 4 and c[4] for c in calls["best_prefix"])  # and with names above
    assert calls["all_of_and_slips"]  # a query held by too few names for the answer: its slips read with them


def test_names_holding_a_query_of_common_pairs_are_found_as_in_memory(demo_atlas, monkeypatch):
    """Where every pair of a query's characters is held by many names (census scale, here made small), a store
    checks the best few of the first list against the others, stopping at the answer's need (short lists are
    read whole and intersected first): the same names, matches and scores as the in-memory index."""
    for name, value in (("_SCAN_CAP", 12), ("_COMMON_SCAN", 4), ("_FEW", 3), ("_WHOLE_READ", 2)):
        monkeypatch.setattr(search, name, value)
    stored, memory = SearchIndex.for_atlas(demo_atlas), SearchIndex.from_atlas(demo_atlas)
    calls: list[tuple] = []
    real = stored.tables.all_of
    read: list[tuple] = []  # (names found, record rows read with them, names asked to be read too)
    monkeypatch.setattr(stored.tables, "all_of", lambda *a, **kw: calls.append(a) or read.append(
        (*real(*a, **kw), kw.get("also", ()))) or read[-1][:2])
    queries = ["社区居", "居民委", "民委员会", "村民委员", "养老服务", "照料中心", "助餐点", "区社区", "庄村民",
               "庞家村", "孙庄村", "老屯村", "大杨村", "七里铺", "万德街", "万德街道", "紫巷社区", "七里山街"]
    for q in queries:
        assert [(h.record.id, h.match, h.score) for h in stored.query(q)] == \
            [(h.record.id, h.match, h.score) for h in memory.query(q)], q
    assert any(scan == 4 for _, scan, _, _ in calls)  # no list short: the best four of the first checked
    assert any(scan == 12 for _, scan, _, _ in calls)  # a short list: read to the cap
    assert any(whole > 1 for *_, whole in calls)  # short lists read whole and intersected, the rest checked
    assert any(whole == 1 and scan == 12 for _, scan, _, whole in calls)  # the next list too long to read whole
    # a few names found (here at most two) come with their rows, and with those of the names found above
    assert any(rows and also for _, rows, also in read) and any(found and not rows for found, rows, _ in read)


def test_the_names_holding_every_pair_come_with_their_rows_when_few(demo_atlas):
    """``all_of(..., read=n)`` finds the same names as without, and reads their record rows (with those of
    ``also``) in the same statement only when it finds at most ``n``: the rows the store holds."""
    tables = SearchIndex.for_atlas(demo_atlas).tables
    keys = list(search._bigram_keys("居委会"))
    found, rows = tables.all_of(keys, 1000, 100)
    assert rows == [] and 3 <= len(found) < 100
    other = next(i for _, o, i in tables.postings(["c泉"], 20) if (o, i) not in found)
    for whole in (1, 2):
        few, rows = tables.all_of(keys, 1000, 100, whole, read=len(found), also=[other])
        assert few == found
        ids = [i for _, i in found] + [other]
        assert sorted(rows) == sorted(tables.records(ids))
        assert tables.all_of(keys, 1000, 100, whole, read=len(found) - 1, also=[other]) == (found, [])


def test_a_long_query_of_letters_looks_up_its_prefixes_at_once_with_the_same_answer(demo_atlas, monkeypatch):
    """A query of six letters or more (of characters: of six letters of pinyin or more) looks up its prefixes
    of pinyin and initials in its first statement: the same answers as looking them up when ranking gets to
    them, and a short one's are looked up then, with the same answers as in the first statement."""
    queries = ["baotuquan", "furongjie", "qianfoshan", "daminghu", "lixiaqu", "zhangqiuqu", "Baotu Spring",
               "Furong Street", "quanchengbifenggang", "shequweiyuanhui", "jiangjiazhuang", "qs", "lx", "quan",
               "芙蓉", "泉城", "建涉", "大明", "历下", "趵突", "千佛山", "建涉路", "芙荣街"]

    def answers() -> dict[str, list]:
        idx = SearchIndex.for_atlas(demo_atlas)  # a new index: no answers cached
        return {q: [(h.record.id, h.match, h.score) for h in idx.query(q)] for q in queries}

    as_planned = answers()
    monkeypatch.setattr(search, "_LONG_LATIN", 99)  # every prefix range looked up when ranking gets to it
    assert answers() == as_planned
    monkeypatch.setattr(search, "_LONG_LATIN", 0)  # every one in the first statement
    assert answers() == as_planned


_CHILD = """
import json, sys
from placegeo.atlas import Atlas
from placegeo.search import SearchIndex, open_index
idx = open_index(sys.argv[1]) or SearchIndex.for_atlas(Atlas(sys.argv[1]))  # PostGIS: through the atlas
print(json.dumps({q: [h.record.id for h in idx.query(q)] for q in json.loads(sys.argv[2])}))
"""


def test_the_index_is_the_same_in_another_process(demo_atlas):
    location = demo_atlas.store.url if demo_atlas.backend == "postgis" else demo_atlas.location
    env = {**os.environ, "PYTHONHASHSEED": "99", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", _CHILD, location, json.dumps(QUERIES)], env=env,
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == _ids(SearchIndex.for_atlas(demo_atlas))


def test_geopackage_and_postgis_give_the_same_answers(demo_gpkg, request):
    if not os.environ.get("PLACEGEO_TEST_POSTGIS"):
        if os.environ.get("PLACEGEO_REQUIRE_POSTGIS") == "1":
            pytest.fail("PLACEGEO_TEST_POSTGIS is not set; start the server with .ci/start-postgis")
        pytest.skip("no PostGIS server: run .ci/start-postgis and set PLACEGEO_TEST_POSTGIS to its URL")
    pg = request.getfixturevalue("demo_postgis")
    assert _ids(SearchIndex.for_atlas(pg)) == _ids(open_index(demo_gpkg.location))


def test_a_former_name_holding_a_numeral_is_found(demo_atlas):
    """四里山 (英雄山's former name) was dropped by the numeral rule meant for 经2路: found as written now."""
    idx = SearchIndex.for_atlas(demo_atlas)
    assert _names(idx, "四里山")[0] == "英雄山"
    assert _names(idx, "经2路")[0] == "经二路" and "经三路" not in _names(idx, "经2路")


def test_undo_takes_the_index_back_with_the_layer(atlas):
    atlas.write("relief_points", _point("rp1", "泉城避风港"))  # replaced: the old names leave the index
    idx = SearchIndex.for_atlas(atlas)
    assert _names(idx, "泉城避风港") == ["泉城避风港"] and _names(idx, "避风港1") != ["避风港1"]
    atlas.undo()  # the layer comes back, and so do its names; the replacing name goes
    idx = SearchIndex.for_atlas(atlas)
    assert _names(idx, "避风港1")[0] == "避风港1" and "泉城避风港" not in _names(idx, "泉城避风港")


def test_a_replace_inside_a_transaction_is_indexed_as_written(atlas):
    with atlas.transaction():  # the layer is read back inside the transaction: this write's rows, not the old ones
        atlas.write("relief_points", _point("rp1", "曲水亭避风点"))
        atlas.write("relief_points", _point("rp2", "芙蓉街避风点"), mode="append")
    idx = SearchIndex.for_atlas(atlas)
    assert _names(idx, "曲水亭避风点")[0] == "曲水亭避风点" and _names(idx, "芙蓉街避风点")[0] == "芙蓉街避风点"
    assert len(idx.records) == 2


def test_a_cold_search_loads_neither_numpy_nor_pypinyin(demo_gpkg):
    """A cold ``placegeo search`` opens the atlas's tables and answers without importing NumPy or pypinyin
    (0.1 and 0.3 s); a query of characters with one reading each does not even read the phrase dictionary
    (0.05 s). The hits' pinyin is written from the syllables the index keeps, as worked out from scratch."""
    from placegeo.pinyin import romanize, to_pinyin

    SearchIndex.for_atlas(demo_gpkg)  # the index tables are complete
    code = ("import json, sys; from placegeo.search import open_index, hit_rows; import placegeo.pinyin as p; "
            "rows = hit_rows(open_index(sys.argv[1]).query(sys.argv[2])); "
            "print(json.dumps([[r['name'], r['pinyin'], r['romanized']] for r in rows] + "
            "[['numpy' in sys.modules, any(m.startswith('pypinyin') for m in sys.modules), "
            "p._phrases.cache_info().currsize > 0]]))")
    for query, phrases in (("芙蓉街", False), ("长清区", True), ("frj", True)):  # 区 has two readings
        *rows, loaded = json.loads(subprocess.run([sys.executable, "-c", code, demo_gpkg.location, query],
                                                  capture_output=True, text=True, check=True).stdout)
        assert loaded == [False, False, phrases]
        assert len(rows) >= 3 and any("长" in name for name, _, _ in rows)  # 长 has two readings too
        assert rows == [[name, to_pinyin(name), romanize(name)] for name, _, _ in rows]
