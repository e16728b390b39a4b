"""Place-name search on the demo atlas: every kind of query the issue names."""

import pytest
from click.testing import CliRunner

from placegeo.cli import main
from placegeo.search import SearchError, SearchIndex, check_name, normalize, reverse_lookup

BACKENDS = ["gpkg", "postgis"]


@pytest.fixture(scope="module")
def idx(demo_atlas):
    return SearchIndex.for_atlas(demo_atlas)


def top(idx, q, **kw):
    hits = idx.query(q, **kw)
    return (hits[0].record.name, hits[0].match) if hits else (None, None)


@pytest.mark.parametrize(("query", "name", "match"), [
    ("趵突泉", "趵突泉", "exact"),
    ("趵突", "趵突泉", "prefix"),
    ("baotuquan", "趵突泉", "homophone"),          # full pinyin
    ("bao tu quan", "趵突泉", "homophone"),        # with spaces
    ("Bàotū Quán", "趵突泉", "homophone"),         # with tone marks
    ("frj", "芙蓉街", "initials"),
    ("dmh", "大明湖", "initials"),
    ("芙rj", "芙蓉街", "initials"),                # mixed
    ("芙容街", "芙蓉街", "homophone"),              # homophone typo
    ("芙容", "芙蓉街", "pinyin_prefix"),           # homophone typed halfway
    ("芙蓉老街", "芙蓉街", "slip"),                 # one extra character
    ("芙蓉大街", "芙蓉街", "generic"),              # another generic term of the same class
    ("baotuqun", "趵突泉", "slip"),                # a spelling slip
    ("長清", "长清区", "prefix"),                   # traditional characters
    ("槛泉", "趵突泉", "former"),                   # former name leads to the current place
    ("历水陂", "大明湖", "former"),
    ("luokou", "泺口", "homophone"),              # polyphone table: 泺 is luò
    ("高新区", "济南高新技术产业开发区", "former"),   # the short name of the zone
])
def test_each_kind_of_query(idx, query, name, match):
    assert top(idx, query) == (name, match)


def test_substring(idx):
    assert top(idx, "明湖", layer="traditional_place_names") == ("大明湖", "substring")
    assert "大明湖" in [h.record.name for h in idx.query("明湖", limit=10)]


def test_exact_and_prefix_hits_rank_first_then_important_short_names(idx):
    names = [h.record.name for h in idx.query("趵突泉", limit=5)]
    assert names[0] == "趵突泉" and names[1] == "趵突泉街道"
    hits = idx.query("泉", limit=10)
    assert all(h.match in ("prefix", "substring") for h in hits)


def test_filters(idx):
    hits = idx.query("泉", layer="traditional_place_names", category="泉水", limit=50)
    assert hits and all(h.record.layer == "traditional_place_names" and h.record.category == "泉水" for h in hits)
    assert all(h.record.district_code == "370114" for h in idx.query("泉", district="370114", limit=20))
    box = (117.0, 36.65, 117.03, 36.68)
    assert all(box[0] <= h.record.lon <= box[2] for h in idx.query("泉", bbox=box, limit=20))
    near = idx.query("泉", near=(117.0094, 36.6606), radius_km=0.5, limit=20)
    assert near and "趵突泉" in [h.record.name for h in near]


def test_results_carry_what_the_map_needs(idx):
    gdf = idx.search("frj", limit=3)
    assert list(gdf.columns[:6]) == ["id", "name", "pinyin", "romanized", "layer", "category"]
    row = gdf.iloc[0]
    assert row["id"] == "traditional_place_names:TN006" and row["pinyin"] == "Fúróng Jiē"
    assert row["romanized"] == "Furong Jie" and row["district_code"] == "370102"
    assert gdf.crs.to_epsg() == 4490 and abs(row.geometry.x - 117.016) < 0.001


def test_bad_queries(idx):
    with pytest.raises(SearchError, match="empty"):
        idx.query("  ")
    with pytest.raises(SearchError, match="limit"):
        idx.query("泉", limit=0)
    with pytest.raises(SearchError, match="radius_km"):
        idx.query("泉", near=(117.0, 36.6))


def test_index_is_saved_and_reloaded(demo_atlas, idx):
    assert demo_atlas.load_artifact("search") is not None  # beside the file, or in the database
    if demo_atlas.backend == "gpkg":
        assert demo_atlas.path.with_name(demo_atlas.path.name + ".search").exists()
    again = SearchIndex.for_atlas(demo_atlas)
    assert len(again.records) == len(idx.records)
    assert [h.record.id for h in again.query("frj")] == [h.record.id for h in idx.query("frj")]


def test_reverse_lookup(demo_atlas, idx):
    found = reverse_lookup(demo_atlas, 117.021969, 36.664692, datum="gcj02", index=idx)  # 芙蓉街 on Amap
    assert found["district"]["code"] == "370102" and found["town"]["code"].startswith("370102")
    assert found["nearest"][0]["name"] == "芙蓉街" and found["nearest"][0]["dist_m"] < 5


def test_namecheck_rules(idx):
    dup = check_name(idx, "泺口")
    assert dup["verdict"] == "fail" and dup["rules"][0]["conflicts"][0]["name"] == "泺口"
    homophone = check_name(idx, "芙容街", feature_type="古城")
    rule = {r["rule"]: r for r in homophone["rules"]}
    assert rule["homophone"]["verdict"] == "fail" and rule["homophone"]["conflicts"][0]["name"] == "芙蓉街"
    near = check_name(idx, "芙蓉路")
    assert near["verdict"] == "warn" and {r["rule"]: r for r in near["rules"]}["near"]["conflicts"]
    assert check_name(idx, "新泉路")["verdict"] == "pass"
    long = check_name(idx, "这是一个非常非常长的道路名称路")
    assert {r["rule"]: r for r in long["rules"]}["length"]["verdict"] == "fail"
    trad = check_name(idx, "長青路")
    assert {r["rule"]: r for r in trad["rules"]}["characters"]["verdict"] == "fail"
    rare = check_name(idx, "堃泉路")
    assert {r["rule"]: r for r in rare["rules"]}["characters"]["verdict"] == "warn"


def test_normalize():
    assert normalize("長清區") == "长清区" and normalize("Lǜ Dì") == "lvdi"


def test_cli(demo_atlas):
    runner = CliRunner()
    r = runner.invoke(main, ["search", "frj", "--atlas", demo_atlas.location, "--limit", "3"])
    assert r.exit_code == 0 and r.stdout.startswith("芙蓉街")
    r = runner.invoke(main, ["namecheck", "泺口", "--atlas", demo_atlas.location])
    assert r.exit_code == 2 and "FAIL" in r.stdout
    r = runner.invoke(main, ["reverse", "117.0094", "36.6606", "--atlas", demo_atlas.location, "--json"])
    assert r.exit_code == 0 and '"趵突泉"' in r.stdout


def test_saved_index_is_data_not_code(idx, tmp_path):
    """The index is saved as JSON and numeric arrays: loading it cannot run code, a pickle is refused."""
    import pickle

    again = SearchIndex.from_bytes(idx.to_bytes())
    assert again.records == idx.records and again.meta == idx.meta
    assert [h.record.id for h in again.query("長清")] == [h.record.id for h in idx.query("長清")]
    with pytest.raises(SearchError, match="not a placegeo search index"):
        SearchIndex.from_bytes(pickle.dumps(idx))
    bad = tmp_path / "x.search"
    bad.write_bytes(b"garbage")
    with pytest.raises(SearchError, match="delete it to rebuild"):
        SearchIndex.load(bad)
