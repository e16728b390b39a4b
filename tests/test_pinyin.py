import textwrap

import pytest

from placegeo.errors import ReadingsError
from placegeo.pinyin import (
    NAME_READINGS,
    READINGS_ENV,
    load_readings,
    readings,
    romanize,
    split_generic,
    syllables,
    to_pinyin,
    use_readings,
)


@pytest.mark.parametrize(("name", "expected"), [
    ("长清区", "Chángqīng Qū"),      # a generic converter says Zhǎngqīng
    ("泺口", "Luòkǒu"),
    ("单县", "Shàn Xiàn"),           # not Dān
    ("莘县", "Shēn Xiàn"),
    ("曲水亭街", "Qūshuǐtíng Jiē"),   # not Qǔ
    ("趵突泉", "Bàotū Quán"),
    ("东阿县", "Dōng'ē Xiàn"),
])
def test_place_name_readings_override_the_converter(name, expected):
    assert to_pinyin(name) == expected


def test_the_generic_converter_really_gets_them_wrong():
    from pypinyin import Style, pinyin

    assert pinyin("长清", style=Style.TONE)[0] == ["zhǎng"]  # why NAME_READINGS exists
    assert "长清" in NAME_READINGS


@pytest.mark.parametrize(("name", "sign"), [
    ("芙蓉街", "Furong Jie"), ("趵突泉", "Baotu Quan"), ("大明湖", "Daming Hu"), ("泉城广场", "Quancheng Guangchang"),
    ("经二路", "Jing'er Lu"), ("长清区", "Changqing Qu"), ("千佛山", "Qianfo Shan"), ("西安路", "Xi'an Lu"),
])
def test_sign_romanisation_joins_the_proper_name_and_separates_the_generic(name, sign):
    assert romanize(name) == sign


def test_split_and_syllables():
    assert split_generic("王府池子") == ("王府", "池子")
    assert split_generic("泺口") == ("泺口", "")
    assert syllables("绿地", tones=False) == ("lü", "di")


# --- the reading table -----------------------------------------------------------------------------


@pytest.fixture
def restore_readings():
    yield
    use_readings()  # back to the packaged table for the other tests


@pytest.mark.parametrize(("name", "chosen"), [
    ("任城区", ("rén", "chéng", "qū")),       # 任 as a place name or surname, not rèn
    ("马跑泉", ("mǎ", "páo", "quán")),        # 跑 páo, a beast pawing the ground, as in 虎跑泉
    ("济阳区", ("jǐ", "yáng", "qū")),
    ("槐荫区", ("huái", "yìn", "qū")),
    ("甸柳新村", ("diàn", "liǔ", "xīn", "cūn")),
    ("王舍人街道", ("wáng", "shè", "rén", "jiē", "dào")),
    ("长盛北区", ("cháng", "shèng", "běi", "qū")),
    ("芙蓉街社区长者助餐点", ("fú", "róng", "jiē", "shè", "qū", "zhǎng", "zhě", "zhù", "cān", "diǎn")),
])
def test_corrected_readings(name, chosen):
    assert syllables(name) == chosen
    assert readings(name)[0] == chosen


def test_both_readings_of_hua_bu_zhu_are_listed_with_sources():
    entry = load_readings()["华不注"]
    assert entry.reading == ("huà", "fū", "zhù")
    assert ("huā", "fū", "zhù") in entry.all_readings
    assert all(src for _, src in entry.alternatives) and entry.source
    assert readings("华不注山", tones=False) == [("hua", "fu", "zhu", "shan"), ("hua", "bu", "zhu", "shan")]
    assert readings("华不注山")[:2] == [("huà", "fū", "zhù", "shān"), ("huā", "fū", "zhù", "shān")]


def test_both_readings_of_jiyang_are_listed():
    assert readings("济阳") == [("jǐ", "yáng"), ("jì", "yáng")]
    assert readings("济阳", tones=False) == [("ji", "yang")]  # same letters: one key for search


def test_a_name_without_alternatives_has_one_reading():
    assert readings("芙蓉街") == [("fú", "róng", "jiē")]


def test_every_reading_of_the_former_code_table_is_kept():
    former = {
        "长清": "cháng qīng", "长岛": "cháng dǎo", "长沟": "cháng gōu", "长岭": "cháng lǐng", "泺口": "luò kǒu",
        "泺源": "luò yuán", "泺": "luò", "曲水": "qū shuǐ", "曲阜": "qū fù", "单县": "shàn xiàn", "莘县": "shēn xiàn",
        "东阿": "dōng ē", "阿城": "ē chéng", "茌平": "chí píng", "鄄城": "juàn chéng", "郓城": "yùn chéng",
        "兖州": "yǎn zhōu", "峄城": "yì chéng", "洪洞": "hóng tóng", "大观园": "dà guān yuán",
        "华不注": "huá bù zhù", "华山": "huá shān", "趵突": "bào tū", "漱玉": "shù yù", "濯缨": "zhuó yīng",
        "卓锡": "zhuó xī", "袈裟": "jiā shā", "马跑": "mǎ pǎo", "宽厚所": "kuān hòu suǒ", "后宰门": "hòu zǎi mén",
        "更道": "gēng dào", "巷": "xiàng", "经二": "jīng èr", "纬二": "wěi èr", "重华": "chóng huá",
        "千佛": "qiān fó", "佛山": "fó shān", "佛峪": "fó yù", "朝阳": "cháo yáng", "柏": "bǎi", "峪": "yù",
        "埠": "bù",
    }
    table = load_readings()
    for name, reading in former.items():
        assert tuple(reading.split()) in table[name].all_readings, name


def test_every_entry_names_a_source():
    assert all(r.source for r in load_readings().values())


def _write(path, body):
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_an_extra_file_overrides_and_adds_entries(tmp_path, restore_readings):
    extra = _write(tmp_path / "bureau.yaml", """\
        readings:
        - name: 华不注
          reading: huā fū zhù
          source: 济南市地名办 decision (test)
          alternatives:
          - {reading: huà fū zhù, source: packaged table}
        - name: 七里堡
          reading: qī lǐ pù
          source: 济南市地名办 (test)
        """)
    table = load_readings(extra)
    assert table["华不注"].reading == ("huā", "fū", "zhù") and "任城" in table
    use_readings(extra)
    assert syllables("七里堡") == ("qī", "lǐ", "pù")
    assert readings("华不注山")[0] == ("huā", "fū", "zhù", "shān")
    assert to_pinyin("华不注山") == "Huāfūzhù Shān"
    use_readings()
    assert syllables("华不注") == ("huà", "fū", "zhù")  # the caches follow the table


def test_the_environment_variable_names_an_extra_file(tmp_path, monkeypatch, restore_readings):
    extra = _write(tmp_path / "env.yaml", "readings:\n- {name: 七里堡, reading: qī lǐ pù, source: test}\n")
    monkeypatch.setenv(READINGS_ENV, str(extra))
    assert load_readings()["七里堡"].reading == ("qī", "lǐ", "pù")
    use_readings()
    assert syllables("七里堡") == ("qī", "lǐ", "pù")


@pytest.mark.parametrize(("entry", "message"), [
    ("{name: 任城, reading: rén, source: x}", r"entry 1 \(任城\): field 'reading': has 1 syllable\(s\) for the 2"),
    ("{name: 任城, reading: ren2 cheng2, source: x}", r"field 'reading'.*'ren2' is not a pinyin syllable"),
    ("{name: 任城, reading: rén chéng}", r"entry 1 \(任城\): field 'source': needs a source"),
    ("{name: 任城, reading: rén chéng, source: x, sources: y}", r"unknown field\(s\) \['sources'\]"),
    ("{name: Rencheng, reading: rén chéng, source: x}", r"entry 1: field 'name' must be Chinese characters"),
    ("{name: 任城, reading: rén chéng, source: x, alternatives: [{reading: rèn, source: y}]}",
     r"field 'alternatives', item 1, 'reading': has 1 syllable"),
])
def test_a_bad_entry_is_named_with_its_field(tmp_path, entry, message):
    bad = _write(tmp_path / "bad.yaml", f"readings:\n- {entry}\n")
    with pytest.raises(ReadingsError, match=message) as err:
        load_readings(bad)
    assert "bad.yaml" in str(err.value)


def test_a_missing_or_malformed_file_is_a_clear_error(tmp_path):
    with pytest.raises(ReadingsError, match="cannot read the readings file"):
        load_readings(tmp_path / "nope.yaml")
    with pytest.raises(ReadingsError, match="must be a mapping with a 'readings' list"):
        load_readings(_write(tmp_path / "list.yaml", "- {name: 任城}\n"))
    with pytest.raises(ReadingsError, match="listed twice"):
        load_readings(_write(tmp_path / "twice.yaml", "readings:\n- {name: 任城, reading: rén chéng, source: a}\n"
                                                        "- {name: 任城, reading: rén chéng, source: b}\n"))


def test_the_data_files_ship_inside_the_package():
    from importlib.resources import files

    data = files("placegeo") / "data"
    assert (data / "readings.yaml").is_file() and (data / "romanization.yaml").is_file()


def test_readings_of_names_with_digits_and_letters_stay_aligned():
    assert readings("2号华不注山", tones=False) == [("2", "hao", "hua", "fu", "zhu", "shan"),
                                                    ("2", "hao", "hua", "bu", "zhu", "shan")]
    assert readings("华不注山")[0] == syllables("华不注山")


def test_numbers_are_read_character_by_character_and_their_neighbours_in_context():
    from placegeo.pinyin import syllables

    assert syllables("避风港一二三四五", tones=False) == ("bi", "feng", "gang", "yi", "er", "san", "si", "wu")
    assert syllables("经十二路") == ("jīng", "shí", "èr", "lù")
    assert syllables("一百零五号") == ("yī", "bǎi", "líng", "wǔ", "hào")  # 一 keeps its own tone, as the rules write it
    assert syllables("二十里铺", tones=False) == ("er", "shi", "li", "pu")
    assert syllables("十六里河一二", tones=False)[:4] == ("shi", "liu", "li", "he")
    assert syllables("六安路", tones=False)[0] == "lu"  # one numeral: the phrase (六安 Lù'ān) decides
    assert syllables("嗯村", tones=False) == ("n", "cun")  # tone marks on n and m are taken off too


def _pypinyin_reading(run: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    return tuple(p[0] for p in pinyin(run, style=Style.TONE, v_to_u=True, errors=lambda t: t))


def test_runs_are_read_as_pypinyin_reads_them():
    """placegeo reads pypinyin's dictionaries without importing it (0.3 s): the reading of every run must
    be the one pypinyin gives, phrases cut the same way (longest phrase first, left to right)."""
    import csv
    import random
    from pathlib import Path

    from placegeo.pinyin import _HAN_RUN, _char_readings, _phrase_reading, _phrases

    rng = random.Random(7)
    data = Path(__file__).resolve().parents[1] / "layers" / "data"  # the three cities' code trees
    names = sorted({c for f in sorted(data.glob("*_admin_codes_2023.csv"))
                    for row in csv.reader(f.open(encoding="utf-8")) for c in row if _HAN_RUN.fullmatch(c)})
    assert len(names) > 10_000
    phrases = sorted(_phrases())
    chars = [chr(c) for c in _char_readings() if 0x4E00 <= c <= 0x9FFF]
    runs = rng.sample(names, 3000) + [  # phrases glued to each other and to characters
        rng.choice(phrases)[rng.randrange(2):] + rng.choice(chars) + rng.choice(phrases) + rng.choice(chars)
        for _ in range(3000)] + ["银行长", "长清", "重庆", "〇", "\U0002c9a8"]
    assert [r for r in runs if _phrase_reading(r) != _pypinyin_reading(r)] == []


def test_the_phrase_file_parsed_whole_gives_the_same_table(monkeypatch):
    import placegeo.pinyin as p

    cut = dict(p._phrases())
    p._phrases.cache_clear()
    monkeypatch.setattr(p, "_PHRASE_ENTRY", __import__("re").compile("(?!)"))  # a file laid out otherwise
    try:
        whole = p._phrases()
        assert whole.keys() == cut.keys()
        assert all(p._phrase_syllables(whole[k]) == p._phrase_syllables(cut[k]) for k in list(cut)[::50])
    finally:
        p._phrases.cache_clear()
