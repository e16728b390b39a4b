"""The name check by the place-name regulations: 大、洋、怪、重, persons, jurisdictions, rule files."""

import json

import pytest
from click.testing import CliRunner

from placegeo.errors import NameCheckError
from placegeo.generics import equivalence_key, load_generic_classes, variants
from placegeo.namecheck import RULES_ENV, check_name, feature_type_of, load_rules
from placegeo.search import NameRecord, SearchIndex

LIXIA, SHIZHONG, LICHENG = "370102", "370103", "370112"


@pytest.fixture(scope="module")
def idx():
    """Names as the layers carry them: a road of the old city, a road of another county, towns,
    villages of two towns, a county, a lake."""
    return SearchIndex.from_records([
        NameRecord("traditional_place_names:TN006", "芙蓉街", "traditional_place_names", "古城", LIXIA, "370102002"),
        NameRecord("traditional_place_names:TN010", "大明湖", "traditional_place_names", "泉水", LIXIA, "370102002"),
        NameRecord("traditional_place_names:TN042", "泉城路", "traditional_place_names", "商埠", SHIZHONG,
                   "370103001"),
        NameRecord("admin_units:370102", "历下区", "admin_units", "district", LIXIA, ""),
        NameRecord("admin_units:370102001", "解放路街道", "admin_units", "town", LIXIA, "370102001"),
        NameRecord("admin_codes:370112101201", "王家庄村村民委员会", "admin_codes", "village", LICHENG, "370112101"),
        NameRecord("admin_codes:370112102201", "东坞村民委员会", "admin_codes", "village", LICHENG, "370112102"),
        NameRecord("elderly_facilities:E1", "芙蓉街社区日间照料中心", "elderly_facilities", "日间照料中心", LIXIA,
                   "370102002"),
    ])


def rules_of(report, severity=None):
    return {f["rule"] for f in report["findings"] if severity is None or f["severity"] == severity}


@pytest.mark.parametrize(("name", "verdict", "rule"), [
    ("环球中央大道", "refused", "大"),
    ("宇宙中心路", "refused", "大"),
    ("CBD中央路", "refused", "洋"),        # Latin letters
    ("曼哈顿大道", "refused", "洋"),
    ("维多利亚花园", "refused", "洋"),
    ("香榭丽舍大街", "refused", "洋"),
    ("8哩岛路", "refused", "怪"),          # digits; 哩 (mile) is also 洋
    ("毛泽东路", "refused", "人名"),
    ("邓小平大道", "refused", "人名"),
    ("李清照路", "needs_approval", "人名"),
    ("国际会展路", "needs_approval", "大"),
    ("長青路", "refused", "用字"),          # traditional form
    ("堃泉路", "warning", "怪"),            # outside GB 2312: check the 通用规范汉字表
    ("这是一个非常非常长的道路名称路", "refused", "长度"),
])
def test_each_kind_of_name(idx, name, verdict, rule):
    report = check_name(idx, name, area_code="370102001")
    assert report["verdict"] == verdict
    assert rule in rules_of(report, verdict)


def test_findings_cite_the_regulation_and_speak_both_languages(idx):
    leader = check_name(idx, "毛泽东路", area_code=LIXIA)["findings"][0]
    assert leader["citation"].startswith("《地名管理条例》（2022）第十条第二项") and "国家领导人" in leader["citation"]
    assert "国家领导人" in leader["message"] and "national leader" in leader["message"]
    assert leader["matches"] == ["毛泽东"]
    foreign = check_name(idx, "8哩岛路", area_code=LIXIA)
    assert rules_of(foreign, "refused") == {"洋", "怪"}
    big = check_name(idx, "环球中央大道", area_code=LIXIA)
    assert [(f["severity"], f["matches"]) for f in big["findings"] if f["rule"] == "大"] == [
        ("refused", ["环球"]), ("needs_approval", ["中央"])]


def test_a_name_that_only_contains_a_persons_name_is_a_warning(idx):
    report = check_name(idx, "李白杨村", area_code="370112101")  # 白杨: poplars
    assert report["verdict"] == "warning" and rules_of(report) >= {"人名"}


def test_the_type_comes_from_the_generic_term_and_matches_the_layers(idx):
    """The old default (--type road) never matched a category, so a road homophone only warned."""
    report = check_name(idx, "芙容街", area_code="370102002")
    assert report["feature_type"] == "road" and report["feature_type_from"] == "generic term 街"
    [dup] = [f for f in report["findings"] if f["rule"] == "重" and f["severity"] != "info"]
    assert dup["severity"] == "refused" and "第十条第四项" in dup["citation"]
    assert dup["matches"][0]["name"] == "芙蓉街" and dup["matches"][0]["relation"] == "homophone"
    assert dup["matches"][0]["type"] == "road" and dup["matches"][0]["within"] is True
    assert feature_type_of("趵突泉街道") == ("town", "街道") and feature_type_of("泺口") == (None, "")


def test_road_homophone_conflicts_in_the_same_town_and_is_info_in_another_county(idx):
    same_town = check_name(idx, "全城路", area_code="370103001")  # reads quán chéng lù, like 泉城路
    assert same_town["verdict"] == "refused" and rules_of(same_town, "refused") == {"重"}
    elsewhere = check_name(idx, "全城路", area_code="370112101")
    assert elsewhere["verdict"] == "ok"
    [info] = [f for f in elsewhere["findings"] if f["matches"]]
    assert info["severity"] == "info" and info["matches"][0]["within"] is False


def test_each_type_is_unique_within_its_own_jurisdiction(idx):
    # towns within a county
    assert check_name(idx, "解放路街道", area_code=LIXIA)["verdict"] == "refused"
    assert check_name(idx, "解放路街道", area_code=LICHENG)["verdict"] == "ok"
    # villages within a town: another town of the same county is fine
    assert check_name(idx, "王家庄村", area_code="370112101")["verdict"] == "refused"
    assert check_name(idx, "王家庄村", area_code="370112102")["verdict"] == "ok"
    # counties nationwide: every county of the atlas counts, wherever the name is proposed
    assert check_name(idx, "历下区", area_code=LICHENG)["verdict"] == "refused"


def test_without_an_area_every_same_type_name_counts_and_the_report_says_so(idx):
    report = check_name(idx, "全城路")
    assert report["verdict"] == "refused" and report["area_code"] is None
    assert any("area_code" in f["message"] and f["severity"] == "info" for f in report["findings"])


def test_near_names_by_equivalent_generic_terms(idx):
    road = check_name(idx, "芙蓉路", area_code=LIXIA)
    assert road["verdict"] == "warning"
    assert [m["name"] for f in road["findings"] for m in f["matches"]] == ["芙蓉街"]
    lake = check_name(idx, "大明湖公园", area_code=LIXIA)   # a park type, the same place as 大明湖
    assert lake["verdict"] == "warning" and lake["findings"][0]["matches"][0]["relation"] == "near"
    assert check_name(idx, "大明湖公园", area_code=LICHENG)["verdict"] == "ok"
    # a series of numbered roads is not a near name
    series = SearchIndex.from_records([NameRecord("r", "经二路", "traditional_place_names", "商埠", SHIZHONG)])
    assert check_name(series, "经三路", area_code=SHIZHONG)["verdict"] == "ok"
    assert check_name(series, "经二大路", area_code=SHIZHONG)["verdict"] == "warning"


def test_feature_type_given_as_the_layers_write_it(idx):
    assert check_name(idx, "芙容", feature_type="街巷", area_code=LIXIA)["feature_type"] == "road"
    with pytest.raises(NameCheckError, match=r"unknown feature type 'lane'.*road"):
        check_name(idx, "芙蓉路", feature_type="lane")


def test_bad_input(idx):
    with pytest.raises(NameCheckError, match="Chinese characters"):
        check_name(idx, "Furong Lu")
    with pytest.raises(NameCheckError, match=r"area_code '3701x'.*6-digit county or 9-digit town code"):
        check_name(idx, "芙蓉路", area_code="3701x")
    with pytest.raises(NameCheckError, match="area_code"):
        check_name(idx, "芙蓉路", area_code="37010")


def test_a_rule_file_extends_the_lists(idx, tmp_path, monkeypatch):
    extra = tmp_path / "bureau.yaml"
    extra.write_text("foreign:\n  places: [卡萨布兰卡]\npersons:\n  leaders: [王尽美]\n"
                     "feature_types:\n  road:\n    scope: city\n", encoding="utf-8")
    assert check_name(idx, "卡萨布兰卡路", area_code=LIXIA)["verdict"] == "warning"   # a transliteration only
    report = check_name(idx, "卡萨布兰卡路", area_code=LIXIA, rules_file=extra)
    assert report["verdict"] == "refused" and rules_of(report, "refused") == {"洋"}
    assert check_name(idx, "王尽美路", area_code=LIXIA, rules_file=extra)["verdict"] == "refused"
    assert check_name(idx, "曼哈顿大道", area_code=LIXIA, rules_file=extra)["verdict"] == "refused"  # kept
    # a wider scope for roads: 泉城路 of 市中区 now conflicts in 历下区 too
    assert check_name(idx, "全城路", area_code=LIXIA)["verdict"] == "ok"
    assert check_name(idx, "全城路", area_code=LIXIA, rules_file=extra)["verdict"] == "refused"
    monkeypatch.setenv(RULES_ENV, str(extra))
    assert check_name(idx, "王尽美路", area_code=LIXIA)["verdict"] == "refused"


def test_a_bad_rule_file_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("leaders: [x]\n", encoding="utf-8")
    with pytest.raises(NameCheckError, match=r"unknown section.*leaders.*persons"):
        load_rules(bad)
    bad.write_text("feature_types:\n  road:\n    scope: street\n", encoding="utf-8")
    with pytest.raises(NameCheckError, match=r"road.*scope must be one of"):
        load_rules(bad)
    with pytest.raises(NameCheckError, match="does not exist"):
        load_rules(tmp_path / "missing.yaml")


def test_generic_classes_are_shared_data(tmp_path):
    assert equivalence_key("鞭指胡同") == equivalence_key("鞭指巷") == ("鞭指", "road")
    assert equivalence_key("千佛山风景区") == equivalence_key("千佛山") == ("千佛", "mountain")
    assert "芙蓉大街" in variants("芙蓉街")
    extra = tmp_path / "g.yaml"
    extra.write_text("classes:\n  road: [坊]\n  bridge: [桥, 大桥]\n", encoding="utf-8")
    assert "坊" in load_generic_classes(extra)["road"] and equivalence_key("泺口大桥", extra=extra)[1] == "bridge"
    extra.write_text("classes:\n  spring: [路]\n", encoding="utf-8")
    with pytest.raises(NameCheckError, match="'路' is in classes 'road' and 'spring'"):
        load_generic_classes(extra)


def test_search_keeps_check_name_importable():
    import placegeo.namecheck
    import placegeo.search

    assert placegeo.search.check_name is placegeo.namecheck.check_name


def test_cli_reports_with_exit_status_0(idx, monkeypatch):
    from placegeo import cli

    monkeypatch.setattr(cli, "_open", lambda path: None)
    monkeypatch.setattr(SearchIndex, "for_atlas", classmethod(lambda cls, atlas: idx))
    runner = CliRunner()
    r = runner.invoke(cli.main, ["namecheck", "毛泽东路", "--area", LIXIA])
    assert r.exit_code == 0, r.output
    assert "REFUSED" in r.stdout and "第十条第二项" in r.stdout and "type road (generic term 路)" in r.stdout
    r = runner.invoke(cli.main, ["namecheck", "全城路", "--area", "370103001", "--json"])
    report = json.loads(r.stdout)
    assert r.exit_code == 0 and report["verdict"] == "refused" and report["findings"][0]["rule"] == "重"
    r = runner.invoke(cli.main, ["namecheck", "芙蓉路", "--area", "37"])  # the whole province: 芙蓉街 is near
    assert r.exit_code == 0 and r.stdout.split("\n")[0].endswith("WARNING")
    r = runner.invoke(cli.main, ["namecheck", "芙蓉路", "--area", "3701x"])
    assert r.exit_code == 2 and "area_code" in r.stderr
