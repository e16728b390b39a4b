"""Place-name search on the demo atlas: every kind of query the issue names."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from placegeo.cli import main
from placegeo.generics import load_generic_classes
from placegeo.search import (
    NameRecord,
    SearchError,
    SearchIndex,
    StoredSearchIndex,
    index_complete,
    normalize,
    reverse_lookup,
)

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
    for marks in (",", "，。", "#"):  # punctuation alone
        with pytest.raises(SearchError, match="no character, letter or digit"):
            idx.query(marks)
    with pytest.raises(SearchError, match="limit"):
        idx.query("泉", limit=0)
    with pytest.raises(SearchError, match="radius_km"):
        idx.query("泉", near=(117.0, 36.6))


def test_index_is_kept_in_the_atlas_and_reopened(demo_atlas, idx):
    assert isinstance(idx, StoredSearchIndex) and index_complete(demo_atlas.store.search_tables())
    if demo_atlas.backend == "gpkg":  # in the GeoPackage's own tables, no file beside it
        assert not Path(demo_atlas.location + ".search").exists()
    again = SearchIndex.for_atlas(demo_atlas)
    assert len(again.records) == len(idx.records)
    assert [h.record.id for h in again.query("frj")] == [h.record.id for h in idx.query("frj")]


def test_reverse_lookup(demo_atlas, idx):
    found = reverse_lookup(demo_atlas, 117.021969, 36.664692, datum="gcj02", index=idx)  # 芙蓉街 on Amap
    assert found["district"]["code"] == "370102" and found["town"]["code"].startswith("370102")
    assert found["nearest"][0]["name"] == "芙蓉街" and found["nearest"][0]["dist_m"] < 5


def test_normalize():
    assert normalize("長清區") == "长清区" and normalize("Lǜ Dì") == "lvdi"


def test_cli(demo_atlas):
    runner = CliRunner()
    r = runner.invoke(main, ["search", "frj", "--atlas", demo_atlas.location, "--limit", "3"])
    assert r.exit_code == 0 and r.stdout.startswith("芙蓉街")
    r = runner.invoke(main, ["namecheck", "泺口", "--atlas", demo_atlas.location])
    assert r.exit_code == 0 and r.stdout.split("\n")[0].endswith("REFUSED")  # a report: exit 0 whatever it says
    r = runner.invoke(main, ["reverse", "117.0094", "36.6606", "--atlas", demo_atlas.location, "--json"])
    assert r.exit_code == 0 and '"趵突泉"' in r.stdout


def test_saved_index_is_data_not_code(demo_atlas, tmp_path):
    """The index is saved as JSON and numeric arrays: loading it cannot run code, a pickle is refused."""
    import pickle

    idx = SearchIndex.from_atlas(demo_atlas)
    again = SearchIndex.from_bytes(idx.to_bytes())
    assert again.records == idx.records and again.meta == idx.meta
    assert [h.record.id for h in again.query("長清")] == [h.record.id for h in idx.query("長清")]
    with pytest.raises(SearchError, match="not a placegeo search index"):
        SearchIndex.from_bytes(pickle.dumps(idx))
    bad = tmp_path / "x.search"
    bad.write_bytes(b"garbage")
    with pytest.raises(SearchError, match="delete it to rebuild"):
        SearchIndex.load(bad)


# -- issue 16: a saved index that works in every process, queries as people type them ---------------------
CROSS_PROCESS_QUERIES = ["曲水街", "芙容街", "baotuqun", "frj", "济南市历下区芙蓉街", "经2路", "Baotu Spring", "历山"]

_CHILD = """
import json, sys
from placegeo.search import SearchIndex
idx = SearchIndex.load(sys.argv[1])
print(json.dumps({q: [h.record.id for h in idx.query(q)] for q in json.loads(sys.argv[2])}))
"""
_CHILD_STORED = _CHILD.replace("from placegeo.search import SearchIndex", "from placegeo.atlas import Atlas\n"
                               "from placegeo.search import SearchIndex").replace(
    "SearchIndex.load(sys.argv[1])", "SearchIndex.for_atlas(Atlas(sys.argv[1]))")


def _child(*args: str, seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def test_saved_index_answers_the_same_in_another_process(demo_atlas, tmp_path):
    """The slip keys were Python hash() values, which differ between processes: 曲水街 found nothing after a reload.
    The index kept in the atlas answers in another process as the one built in memory here."""
    idx = SearchIndex.from_atlas(demo_atlas)
    path = idx.save(tmp_path / "jinan.search")
    here = {q: [h.record.id for h in idx.query(q)] for q in CROSS_PROCESS_QUERIES}
    assert idx.query("曲水街")[0].record.name == "曲水亭街"
    there = json.loads(_child(_CHILD, str(path), json.dumps(CROSS_PROCESS_QUERIES), seed="4242"))
    assert there == here
    stored = json.loads(_child(_CHILD_STORED, demo_atlas.store.url if demo_atlas.backend == "postgis"
                               else demo_atlas.location, json.dumps(CROSS_PROCESS_QUERIES), seed="7"))
    assert stored == here
    assert all(there[q] for q in CROSS_PROCESS_QUERIES)


def test_index_bytes_are_the_same_in_every_process():
    build = ("import hashlib\nfrom placegeo.search import NameRecord, SearchIndex\n"
             "r = [NameRecord('a', '曲水亭街', 'traditional_place_names'), NameRecord('b', '芙蓉街', 'admin_codes'),"
             " NameRecord('c', '历下区', 'admin_units', district_code='370102')]\n"
             "print(hashlib.sha256(SearchIndex.from_records(r).to_bytes()).hexdigest())")
    assert _child(build, seed="1") == _child(build, seed="2")


def test_index_of_another_format_version_asks_to_be_rebuilt(tmp_path, monkeypatch):
    import placegeo.search as search

    idx = SearchIndex.from_records([NameRecord("a", "芙蓉街", "traditional_place_names")])
    monkeypatch.setattr(search, "INDEX_VERSION", search.INDEX_VERSION - 1)
    old = tmp_path / "old.search"
    idx.save(old)
    monkeypatch.undo()
    with pytest.raises(SearchError, match=r"format version \d+, but this placegeo reads version \d+; rebuild"):
        SearchIndex.load(old)


@pytest.mark.parametrize("query", ["济南市历下区芙蓉街", "历下区芙蓉街", "山东省济南市历下区芙蓉街", "历下芙蓉街",
                                   "lixiaqu furongjie"])
def test_address_style_queries(idx, query):
    hits = idx.query(query)
    assert hits[0].record.name == "芙蓉街"
    assert all(h.record.district_code in ("370102", "") for h in hits)  # restricted to the district named


@pytest.mark.parametrize("query", ["济南市历下区芙容街", "历下区芙蓉老街"])
def test_address_with_a_typo_in_the_name(idx, query):
    assert idx.query(query)[0].record.name == "芙蓉街"  # the name is read fuzzily once the units are taken off


@pytest.mark.parametrize("query", ["芙蓉街45号", "芙蓉街12-1号", "芙蓉街 45 號", "芙蓉街甲45号", "芙容街8号",
                                   "历下区芙蓉街45号院3号楼2单元502室", "山东省济南市历下区芙蓉街45号", "芙蓉街附近"])
def test_address_with_a_house_number(idx, query):
    """An address as people copy it, with its house number (门牌号) and what follows it, or with a word of
    place (附近): the name before it, in the district named."""
    hits = idx.query(query)
    assert hits[0].record.name == "芙蓉街"
    assert all(h.record.district_code in ("370102", "") for h in hits) or "历下区" not in query


@pytest.mark.parametrize(("query", "name"), [
    ("芙蓉街（历下区）", "芙蓉街"), ("芙蓉街 济南", "芙蓉街"), ("芙蓉街在哪里", "芙蓉街"), ("怎么去芙蓉街", "芙蓉街"),
    ("中山公园", "中山公园"),
])
def test_a_name_with_its_unit_after_it_or_in_a_question(idx, query, name):
    assert top(idx, query) == (name, "exact")


@pytest.mark.parametrize(("query", "name"), [("趵突泉公园", "趵突泉"), ("大明湖景区", "大明湖"),
                                             ("济南趵突泉景区", "趵突泉"), ("五龙潭公园", "五龙潭"),
                                             ("趵突泉景区附近", "趵突泉")])
def test_a_landmark_with_its_grounds(idx, query, name):
    assert top(idx, query) == (name, "generic")


def test_a_slip_in_a_name_ending_in_its_grounds_is_read_whole():
    """Many names end in 公园: the query less it is looked up whole, but the slips are of the whole query."""
    idx = SearchIndex.from_records([NameRecord(str(i), name, "place_names")
                                    for i, name in enumerate(["蓝艾钦公园", "蓝艾", "蓝艾饮茶馆"])])
    assert top(idx, "蓝艾饮公园") == ("蓝艾钦公园", "slip")


def test_a_name_ending_in_a_unit_s_name_keeps_its_slips():
    """A village named after a town (大王官庄, town 官庄街道) typed with a slip: the unit is read after a name
    only where it is set apart (芙蓉街（历下区）), else the slips of the whole query would be lost."""
    idx = SearchIndex.from_records([
        NameRecord("t", "官庄街道", "admin_units", district_code="370112", town_code="370112001"),
        NameRecord("v", "大王官庄", "admin_codes", district_code="370113", town_code="370113002"),
    ])
    assert top(idx, "大玉官庄") == ("大王官庄", "slip")
    assert idx.query("大王官庄（官庄街道）") == []  # set apart: that town only, which has no 大王官庄


def test_a_unit_after_the_name_keeps_to_it(idx):
    assert "芙蓉街" not in [h.record.name for h in idx.query("芙蓉街（槐荫区）")]


def test_a_number_after_a_facility_is_part_of_its_name():
    """A house number follows a road, a village or an estate; after a facility it is the name's own
    (泉城避风港·便利店005号): the query is read whole, not as 便利店 and a number."""
    idx = SearchIndex.from_records([NameRecord(str(i), f"泉城避风港·便利店00{i}号", "relief_points")
                                    for i in range(3, 7)])
    assert top(idx, "便利店005号") == ("泉城避风港·便利店005号", "substring")
    assert [h.record.name for h in idx.query("便利店005号")] == ["泉城避风港·便利店005号"]


def test_a_word_of_place_after_a_unit_s_name(idx):
    """大明湖 is also a unit's name (大明湖街道): 大明湖附近 is the lake, not the unit and 附近."""
    assert idx.query("大明湖附近")[0].record.name == "大明湖"


def test_a_name_ending_in_a_number_is_found_as_written():
    idx = SearchIndex.from_records([NameRecord("a", "经十路一号院", "traditional_place_names"),
                                    NameRecord("b", "经十路", "traditional_place_names")])
    assert top(idx, "经十路1号院") == ("经十路一号院", "exact")
    assert top(idx, "经十路17923号") == ("经十路", "exact")
    assert top(idx, "1号院") == ("经十路一号院", "substring")  # a number alone is kept


def test_slip_digests_are_the_same_for_a_query_and_for_a_whole_index(monkeypatch):
    import placegeo.search as search

    keys = ["", "a", "芙蓉街", "#furongjie", *(chr(0x4E00 + i) * n for i in range(40) for n in range(1, 5))]
    one_by_one = search._digests(keys)  # a query's keys: a plain loop
    assert search._h(keys[:search._FNV_LOOP_MAX]).tolist() == one_by_one[:search._FNV_LOOP_MAX]
    monkeypatch.setattr(search, "_FNV_LOOP_MAX", -1)  # every key through NumPy, as an index is built
    assert search._h(keys).tolist() == one_by_one


def test_a_unit_named_again_starts_the_name(idx):
    """商河 right after 商河县 is the start of the name (商河经济开发区东坡), not the unit named twice: taken
    off, it left 经济开发区东坡, whose pairs of characters are all common at census scale."""
    assert idx._strip_admin("济南市商河县商河经济开发区东坡") == ("商河经济开发区东坡", "370126")
    assert idx._strip_admin("山东省济南市历下区芙蓉街") == ("芙蓉街", "370102")
    assert top(idx, "济南市章丘区章丘区公益性公墓") == ("章丘区公益性公墓", "exact")


def test_address_names_a_district_the_place_is_not_in(idx):
    assert "芙蓉街" not in [h.record.name for h in idx.query("槐荫区芙蓉街")]
    assert idx.query("山东省济南市大明湖")[0].record.name == "大明湖"


@pytest.mark.parametrize(("query", "name"), [("经2路", "经二路"), ("纬1路", "纬一路"), ("经1路", "经一路")])
def test_arabic_numerals(idx, query, name):
    assert top(idx, query) == (name, "exact")


def test_numeral_without_a_match_finds_nothing_unrelated(idx):
    """经9路 (no such road) used to return facilities matched on the initials j, l."""
    hits = idx.query("经9路")
    assert all("九" in h.record.name for h in hits)
    assert not any(h.match == "initials" for h in hits)
    assert all("十" in h.record.name and "十一" not in h.record.name for h in idx.query("纬10路"))


@pytest.mark.parametrize(("query", "name"), [
    ("经二大街", "经二路"), ("大明湖公园", "大明湖"), ("千佛山景区", "千佛山"), ("千佛山风景区", "千佛山"),
    ("鞭指胡同", "鞭指巷"), ("趵突泉水", "趵突泉"),
])
def test_generic_term_classes(idx, query, name):
    assert top(idx, query) == (name, "generic")


def test_a_generic_variant_is_any_other_term_of_the_class_or_none():
    """Names are kept under their proper name and the class of each generic ending they have (经二大街:
    经二 and 经二大, both roads), so one lookup finds what swapping the query's ending for every other term
    of its class finds: 经二大巷 finds 经二大街 (经二大 + 街) as 经二路 finds it (经二 + 大街)."""
    names = ["经二路", "经二大街", "经二大路", "经二", "经二巷里", "芙蓉巷", "大明湖", "大明湖公园", "东湖",
             "千佛山景区"]
    idx = SearchIndex.from_records([NameRecord(str(n), name, "traditional_place_names")
                                    for n, name in enumerate(names)])
    classes = load_generic_classes()
    terms = sorted({t for c in classes.values() for t in c}, key=len, reverse=True)
    for q in ["经二路", "经二大街", "经二大巷", "经二胡同", "经二巷", "大明湖", "东湖公园", "千佛山", "芙蓉街",
              "经二大"]:
        end = next((t for t in terms if q.endswith(t) and len(q) > len(t)), "")
        proper = q[:-len(end)] if end else ""
        cls = next((c for c in classes.values() if end in c), ())
        swapped = {proper + t for t in cls if t != end} | ({proper} if len(proper) >= 2 else set())
        expected = {n for n in names if n in swapped and n != q}
        got = {h.record.name for h in idx.query(q, limit=20) if h.match == "generic"}
        assert got == expected, q


@pytest.mark.parametrize(("query", "name"), [("Baotu Spring", "趵突泉"), ("Daming Lake", "大明湖"),
                                             ("Thousand Buddha Mountain", "千佛山"), ("Furong Street", "芙蓉街"),
                                             ("baotu spring", "趵突泉"), ("Qushuiting Street", "曲水亭街")])
def test_english(idx, query, name):
    assert top(idx, query) == (name, "english")


@pytest.mark.parametrize(("query", "name"), [
    ("Furong Street, Jinan", "芙蓉街"), ("Furong Street, Lixia District, Jinan", "芙蓉街"),
    ("No. 45 Furong Street, Lixia District, Jinan 250000, China", "芙蓉街"), ("45 Furong Street", "芙蓉街"),
    ("Qushuiting Street, Lixia District, Jinan, Shandong", "曲水亭街"), ("Daming Lake Park", "大明湖"),
    ("Baotu Spring Park", "趵突泉"), ("Mount Qianfo", "千佛山"), ("Mt. Qianfo", "千佛山"), ("Furong St.", "芙蓉街"),
    ("Furong Rd", "芙蓉街"), ("Jing 2 Road", "经二路"), ("Jing 1 Rd", "经一路"), ("Lixia District", "历下区"),
    ("Jinan, Furong Street", "芙蓉街"), ("Lixia District, Jinan, Furong Street", "芙蓉街"),
])
def test_english_as_addresses_write_it(idx, query, name):
    """An English address names the place first, then its district and city (and a house number before
    it, a postcode and the country after); abbreviated generic words; a generic word first (Mount) or
    before a park's; street ordinals in digits."""
    assert top(idx, query) == (name, "english")


def test_an_english_address_keeps_to_the_district_it_names(idx):
    assert "芙蓉街" not in [h.record.name for h in idx.query("Furong Street, Huaiyin District, Jinan")]
    assert all(h.record.district_code in ("370102", "") for h in idx.query("Furong Street, Lixia District, Jinan"))


@pytest.mark.parametrize("query", ["jing2lu", "Jing 2 Lu", "jing 2 lu", "jingerlu 185hao"])
def test_pinyin_with_an_ordinal_in_digits(idx, query):
    assert top(idx, query) == ("经二路", "homophone")


@pytest.mark.parametrize(("query", "how"), [("fu2rong2jie1", "homophone"), ("fu2 rong2 jei1", "slip"),
                                            ("lixiaqu, furongjie", "homophone"), ("furong jie, lixia qu", "homophone")])
def test_pinyin_with_tone_numbers_or_units_set_apart(idx, query, how):
    """Tone numbers are not ordinals (jing2lu): the slips of the query without them are read. Units set apart
    by a comma may come in either order."""
    assert top(idx, query) == ("芙蓉街", how)


def test_layers_may_carry_english_names():
    idx = SearchIndex.from_records([
        NameRecord("a", "泉城广场", "traditional_place_names", name_en="Spring City Square"),
        NameRecord("b", "芙蓉街", "traditional_place_names"),
    ])
    assert idx.query("Spring City Square")[0].record.name == "泉城广场"
    assert idx.query("Furong Street")[0].record.name == "芙蓉街"  # pinyin with an English generic term


def test_former_name_of_the_whole_query_ranks_above_prefixes(idx):
    """历山 is the former name of 千佛山; facilities starting with 历山路 used to fill the first ten."""
    assert "千佛山" in [h.record.name for h in idx.query("历山", limit=3)]


def test_length_compared_in_like_units(idx):
    assert idx.query("zhangqiu")[0].record.name == "章丘区"
    names = [h.record.name for h in idx.query("shanghe")]
    assert names.index("商河县") < names.index("商河经济开发区")


def test_every_reading_is_searchable():
    """Where sources disagree (华不注: huà fū zhù, huā fū zhù, or the common huá bù zhù), the reading
    table lists every reading and each finds the place; so do 济阳's jǐ and jì."""
    idx = SearchIndex.from_records([NameRecord("a", "华山", "traditional_place_names", aliases=("华不注",)),
                                    NameRecord("b", "济阳区", "admin_units")])
    assert top(idx, "huabuzhu")[0] == top(idx, "huafuzhu")[0] == "华山"
    assert top(idx, "Huā Fū Zhù")[0] == "华山"
    assert top(idx, "jiyangqu")[0] == "济阳区"


def test_substring_on_common_endings_is_exact():
    """Bigram lists are intersected rarest first, by binary search: the answer holds every bigram of the query."""
    names = [f"{a}{b}社区" for a in "东西南北中" for b in "山水林田湖草沙城乡"] + ["明湖社区", "明湖路"]
    idx = SearchIndex.from_records([NameRecord(str(i), n, "admin_codes") for i, n in enumerate(names)])
    found = {h.record.name for h in idx.query("湖社区", limit=50)}
    assert found == {n for n in names if "湖社区" in n}


def _records(*names: str) -> list[NameRecord]:
    return [NameRecord(str(n), name, "place_names") for n, name in enumerate(names)]


def test_whole_initials_come_before_initials_that_only_start_with_the_query():
    """ysh finds 阳升湖 and 元寿海 first; 玉山湖景区 (yshjq) only after them, however short its pinyin."""
    idx = SearchIndex.from_records(_records("玉山湖景区", "元寿海", "袁世海大院", "阳升湖"))
    hits = idx.query("ysh")
    assert {h.record.name for h in hits[:2]} == {"阳升湖", "元寿海"}
    assert [h.record.name for h in hits[2:]] == ["玉山湖景区", "袁世海大院"]
    assert [h.match for h in hits] == ["initials", "initials", "initials_prefix", "initials_prefix"]


def test_lower_tiers_are_looked_up_only_when_the_answer_has_room(monkeypatch):
    """Twelve names with the initials ysh fill an answer of ten: the prefix ranges of pinyin and initials
    (thousands of rows at census scale) are not read; an answer of twenty reads them."""
    names = [f"杨树{c}" for c in "河湖海后画花怀环黄虎"] + ["阳升湖", "元寿海", "玉山湖景区"]
    idx = SearchIndex.from_records(_records(*names))
    ranges: list[list[str]] = []
    original = SearchIndex._prefix_many
    monkeypatch.setattr(SearchIndex, "_prefix_many", lambda self, keys, cap: ranges.append(keys)
                        or original(self, keys, cap))
    assert len(idx.query("ysh", limit=10)) == 10
    assert ["pysh", "iysh"] not in ranges
    assert "玉山湖景区" in [h.record.name for h in idx.query("ysh", limit=20)]
    assert ["pysh", "iysh"] in ranges
