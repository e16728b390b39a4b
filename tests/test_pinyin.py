import pytest

from placegeo.pinyin import NAME_READINGS, romanize, split_generic, syllables, to_pinyin


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
