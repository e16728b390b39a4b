"""Pinyin for place names, with the readings place names really have.

A generic converter reads 长清 as *Zhǎngqīng* and 曲水亭 as *Qǔshuǐtíng*; the
place-name readings are *Chángqīng* and *Qūshuǐtíng*. :data:`NAME_READINGS`
holds such readings (longest match wins) and overrides pypinyin, which handles
the rest of the name. pypinyin is used because it carries a phrase dictionary
that gets most polyphones right in context and it needs no model download.

Romanisation for signs follows GB/T 16159-2012 and the place-name sign
standard GB 17733: the proper name (专名) is written as one word, the generic
term (通名: 泉, 街, 路, 湖, 区 …) as a separate word, each capitalised, an
apostrophe before a, o, e that start a syllable inside a word (Xi'an).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from pypinyin import Style, pinyin

__all__ = ["GENERIC_TERMS", "NAME_READINGS", "romanize", "split_generic", "syllables", "to_pinyin"]

#: Readings of characters in place names that a generic converter gets wrong (longest key wins).
NAME_READINGS: dict[str, str] = {
    "长清": "cháng qīng",
    "长岛": "cháng dǎo",
    "长沟": "cháng gōu",
    "长岭": "cháng lǐng",
    "泺口": "luò kǒu",
    "泺源": "luò yuán",
    "泺": "luò",
    "曲水": "qū shuǐ",
    "曲阜": "qū fù",
    "单县": "shàn xiàn",
    "莘县": "shēn xiàn",
    "东阿": "dōng ē",
    "阿城": "ē chéng",
    "茌平": "chí píng",
    "鄄城": "juàn chéng",
    "郓城": "yùn chéng",
    "兖州": "yǎn zhōu",
    "峄城": "yì chéng",
    "洪洞": "hóng tóng",
    "大观园": "dà guān yuán",
    "华不注": "huá bù zhù",
    "华山": "huá shān",
    "趵突": "bào tū",
    "漱玉": "shù yù",
    "濯缨": "zhuó yīng",
    "卓锡": "zhuó xī",
    "袈裟": "jiā shā",
    "马跑": "mǎ pǎo",
    "宽厚所": "kuān hòu suǒ",
    "后宰门": "hòu zǎi mén",
    "更道": "gēng dào",
    "巷": "xiàng",
    "经二": "jīng èr",
    "纬二": "wěi èr",
    "重华": "chóng huá",
    "千佛": "qiān fó",
    "佛山": "fó shān",
    "佛峪": "fó yù",
    "朝阳": "cháo yáng",
    "柏": "bǎi",
    "峪": "yù",
    "埠": "bù",
}

#: Generic terms (通名), longest first, written apart from the proper name on signs.
GENERIC_TERMS: tuple[str, ...] = tuple(sorted({
    "街道", "社区", "居委会", "村委会", "广场", "公园", "公墓", "大街", "胡同", "池子", "开发区",
    "泉", "街", "路", "巷", "湖", "山", "河", "村", "镇", "乡", "区", "县", "市", "楼", "阁", "池", "潭", "洲",
    "庄", "沟", "岭", "峪", "庙", "桥", "园", "寺", "湾", "岛", "坊", "堤",
}, key=len, reverse=True))

_HAN = re.compile(r"[\u3400-\u9fff]")


def _readings_by_first_char() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for key in sorted(NAME_READINGS, key=len, reverse=True):
        table.setdefault(key[0], []).append(key)
    return table


_BY_FIRST = _readings_by_first_char()


@cache
def _single_reading(ch: str) -> str | None:
    """The reading of a character that has only one (tone marks kept), else None."""
    from pypinyin.pinyin_dict import pinyin_dict

    r = pinyin_dict.get(ord(ch))
    return r if r and "," not in r else None


@lru_cache(maxsize=65536)
def syllables(name: str, *, tones: bool = True) -> tuple[str, ...]:
    """Pinyin syllables of ``name``, one per Chinese character, using :data:`NAME_READINGS` first.

    Characters with a single reading are looked up directly; only runs holding a polyphonic character
    go through pypinyin's phrase-aware conversion (which is what makes 200,000 names fast to index).

    >>> syllables("长清区")
    ('cháng', 'qīng', 'qū')
    >>> syllables("曲水亭街", tones=False)
    ('qu', 'shui', 'ting', 'jie')
    """
    out: list[str] = []
    i, plain = 0, ""

    def flush(text: str) -> None:
        if not text:
            return
        single = [_single_reading(c) for c in text]
        if all(single):
            out.extend(single)  # type: ignore[arg-type]
        else:
            out.extend(p[0] for p in pinyin(text, style=Style.TONE, v_to_u=True, errors=_keep))

    while i < len(name):
        key = next((k for k in _BY_FIRST.get(name[i], ()) if name.startswith(k, i)), None)
        if key is None:
            plain += name[i]
            i += 1
            continue
        flush(plain)
        plain = ""
        out.extend(NAME_READINGS[key].split())
        i += len(key)
    flush(plain)
    return tuple(out) if tones else tuple(_strip_tones(s) for s in out)


def _keep(text: str) -> str:
    """Characters without a reading (letters, digits) are kept as they are."""
    return text


_TONE_MAP = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ", "aaaaeeeeiiiioooouuuuüüüü")


def _strip_tones(s: str) -> str:
    return s.translate(_TONE_MAP)


def split_generic(name: str) -> tuple[str, str]:
    """Split a name into proper name (专名) and generic term (通名).

    >>> split_generic("芙蓉街"), split_generic("长清区"), split_generic("泉城广场")
    (('芙蓉', '街'), ('长清', '区'), ('泉城', '广场'))
    """
    for term in GENERIC_TERMS:
        if name.endswith(term) and len(name) > len(term):
            return name[: -len(term)], term
    return name, ""


def _word(sylls: list[str]) -> str:
    text = ""
    for k, s in enumerate(sylls):
        if k and s[:1] in "aoeāáǎàōóǒòēéěè":
            text += "'"
        text += s
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=65536)
def to_pinyin(name: str, *, tones: bool = True) -> str:
    """Pinyin of a place name in sign form, tone marks kept (the ``pinyin`` field of the layers).

    >>> to_pinyin("趵突泉"), to_pinyin("长清区"), to_pinyin("泺口")
    ('Bàotū Quán', 'Chángqīng Qū', 'Luòkǒu')
    """
    proper, generic = split_generic(name)
    whole = list(syllables(name, tones=tones))  # read as a whole: 单县 is Shàn Xiàn, not Dān Xiàn
    if len(whole) != len(name):  # letters or digits in the name: read the parts apart
        whole = list(syllables(proper, tones=tones)) + list(syllables(generic, tones=tones))
        cut = len(syllables(proper, tones=tones))
    else:
        cut = len(proper)
    parts = [_word(whole[:cut]), _word(whole[cut:])]
    return " ".join(p for p in parts if p)


def romanize(name: str) -> str:
    """Romanised name for signs: no tone marks, 专名 joined, 通名 apart.

    >>> romanize("芙蓉街"), romanize("趵突泉"), romanize("大明湖"), romanize("西安路")
    ('Furong Jie', 'Baotu Quan', 'Daming Hu', "Xi'an Lu")
    """
    return to_pinyin(name, tones=False)


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))
