"""Place-name search that understands Chinese, and queries as people type them.

A query may be Chinese characters (exact, prefix or any part of a name), full pinyin with or without
spaces and tone marks (``baotuquan``, ``Bàotū Quán``), pinyin initials (``frj``), a mix (``芙rj``),
traditional characters (``長清``), a former name, a name with a homophone typo (``芙容街``) or a
one-character slip, an address (``济南市历下区芙蓉街``: the named units are stripped and become a filter),
Arabic numerals (``经2路``), another generic term of the same class (``经二大街``, ``大明湖公园``) or
English (``Baotu Spring``, ``Furong Street``).

Every lookup is an exact key or a prefix range over sorted keys, so each maps onto a B-tree table
(key, record id) of a database, and the saved index is the same bytes in every process:

* names, short names, former names, pinyin (every reading), initials, English names, character
  bigrams and single characters: :class:`KeyTable` — sorted keys, each with its record ids;
* one-character slips: a deletion neighbourhood (SymSpell): every key with one character removed,
  as a stable 64-bit FNV-1a digest of its UTF-8 text in a sorted ``int64`` array.

Records are numbered best first (more important layers, then shorter names), so every id list is
already in rank order: a query takes the first ids of a list and intersects lists rarest first, and
no step costs more as more names share a common ending (社区, 花园, 小区 …).

Pinyin comes from :mod:`placegeo.pinyin` (place-name readings first, alternatives too), traditional
characters are folded to simplified ones with OpenCC. Ranking: exact, former name, English, other generic
term, prefix, prefix of a former name, same pinyin, initials, a prefix of initials, part of a name, pinyin
prefix, slips; within a tier the name sharing most characters with the query, of the closest length
(characters with characters, pinyin letters with pinyin letters), in the more important layer. A lower
tier's lookups are made only when the tiers above leave room in the answer.
"""

from __future__ import annotations

import bisect
import io
import itertools
import json
import math
import operator
import re
import threading
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from placegeo.errors import PlacegeoError, SearchError
from placegeo.generics import english_generic, english_words, load_generic_classes
from placegeo.pinyin import has_han, romanize, sign_syllables, to_pinyin
from placegeo.pinyin import readings as pinyin_readings
from placegeo.storage.searchdb import RECORD_COLUMNS, Closeness
from placegeo.text import normalize

if TYPE_CHECKING:  # GeoPandas, pandas, shapely and NumPy are imported where used: a query needs none of them
    import geopandas as gpd
    import numpy as np
    import pandas as pd

__all__ = ["INDEX_VERSION", "QUERY_KEY_MAX", "QUERY_TEXT_MAX", "KeyTable", "NameRecord", "SearchError", "SearchIndex",
           "StoredSearchIndex", "atlas_records", "check_name", "hit_rows", "index_layer", "normalize", "open_index",
           "rebuild_index", "reverse_lookup"]

#: Format of the saved index; an index saved in another format is refused with a request to rebuild it.
INDEX_VERSION = 11
LAYER_WEIGHT = {"traditional_place_names": 5, "admin_units": 4, "admin_codes": 2, "elderly_facilities": 3,
                "cemeteries": 2, "relief_points": 2, "place_names": 3}
TIERS = {"exact": 100, "former": 95, "english": 94, "generic": 90, "prefix": 80, "english_prefix": 78,
         "former_prefix": 75, "homophone": 70, "initials": 65, "initials_prefix": 63, "substring": 62,
         "pinyin_prefix": 60, "slip": 40}
#: Tiers that answer the query as typed: no slips, no address reading needed.
_SURE = ("exact", "former", "english", "generic", "prefix")
_ADMIN_SUFFIXES = ("居民委员会", "村民委员会", "居委会", "村委会", "社区居委会")
# the usual short forms of development zones' names (a city's 高新技术产业开发区 is called 高新区), searched as aliases
_ZONE_SHORT_FORMS = {"高新技术产业开发区": "高新区", "经济技术开发区": "经开区", "经济开发区": "经开区",
                     "综合保税区": "综保区", "旅游度假区": "度假区"}
_SCAN_CAP = 1000  # ids read from one list at most: lists are best first, so these are the best ones
# ids of the shortest list checked against the others when no list is short (census scale: every pair of
# characters of the query held by thousands of names): a sample of the best either way, four times cheaper
_COMMON_SCAN = 250
_FEW = 64  # a list this short is read whole without counting further
_MERGE = 8  # a counted list this many times the rarest's length at most is read whole, not checked name by name
_SLIPS_BELOW = 10  # slips are looked for while fewer names than this are found
_LONG_LATIN = 6  # a query of this many letters or more has a short prefix range of pinyin and initials
_BATCH = 100_000  # names indexed by one worker process and written in one insert of each table
_WHOLE_READ = 16  # a tier of this many names at most is read whole: one read then serves ranking and answer
_RANKED = ("name_id", "ord", "nkey", "py_len")  # the record columns ranking reads
_FILTERED = ("layer", "category", "district_code", "lon", "lat")  # and those filters read
#: The longest query: its search key (the name, its pinyin or initials), and the text as typed, which may
#: hold an address around the name (No. 45 Guhuai Road, Rencheng District, Jining, Shandong 272000, China).
QUERY_KEY_MAX, QUERY_TEXT_MAX = 64, 200
_NAN = float("nan")
_HAN_RUN = r"[\u3400-\u9fff]"
_DIGITS = re.compile(rf"(?<={_HAN_RUN})\d+|\d+(?={_HAN_RUN})")
_NUMERAL_RUN = re.compile("[零〇一二三四五六七八九十百千两]+")
_CN_DIGITS = "零一二三四五六七八九"



def _cn_number(digits: str) -> str:
    """Arabic digits as Chinese numerals, as street names write them: 2 二, 10 十, 12 十二, 21 二十一, 105 一百零五.

    >>> [_cn_number(d) for d in ("2", "10", "12", "21", "105", "2008")]
    ['二', '十', '十二', '二十一', '一百零五', '二零零八']
    """
    n = int(digits)
    if digits.startswith("0") or n >= 1000:  # codes and years are read digit by digit
        return "".join(_CN_DIGITS[int(d)] for d in digits)
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    out = _CN_DIGITS[hundreds] + "百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN_DIGITS[tens]) + "十"
    elif hundreds and units:
        out += "零"
    if units or not out:
        out += _CN_DIGITS[units]
    return out


@lru_cache(maxsize=65536)
def _key(text: str) -> str:
    """The search key of a name or query: :func:`normalize`, with Arabic numerals beside characters in Chinese.

    >>> _key("经2路"), _key("經10路"), _key("G220")
    ('经二路', '经十路', 'g220')
    """
    return _DIGITS.sub(lambda m: _cn_number(m.group()), normalize(text))


# What people write around a name in an address or a question, in the search key's form (digits as
# Chinese numerals: 古槐路45号院 -> 古槐路四十五号院): a house number and what follows it (院, 楼, 单元, 室),
# which follows a road, a village or a housing estate (古槐路45号, 张庄村3号, 阳光小区3号楼; after a facility
# it is part of the name: 派出所001号); a word of place or a question after the name; a question before it
_HOUSE_NUMBER = re.compile(r"(?:[街路巷道里弄同村庄屯寨苑园城府庭寓厦]|小区|社区)"
                           r"([甲乙丙丁附]?[零〇一二三四五六七八九十百千两]+[号#].*|[零〇一二三四五六七八九十百千两]+)$")
_AFTER_NAME = re.compile(r"(?:附近|周边|周围|一带|旁边|在哪里|在哪儿|在哪|怎么走|怎么去)$")
_BEFORE_NAME = re.compile(r"^(?:怎么去|怎么到|如何去|如何到|去往)")
# A unit written after a name is set apart from it (古槐路（任城区）, 古槐路 济宁): run together, it is more
# likely the end of the name (a village named after its town), whose slips must be read whole
_SET_APART = re.compile(r"[\s,，、(（]")
# A landmark's grounds after its name (太白楼公园, 微山湖景区): the name is also looked up whole. Not read
# as an address: many names end in 公园, and a slip in one (某某公园 typed 某某公圆) is read whole
_GROUNDS = re.compile(r"(?:公园|景区|风景区|风景名胜区|景点|旅游区)$")


def _without_house_number(q: str) -> str:
    """Search key ``q`` less a house number, a word of place or a question around it, if a name of two
    characters or more is left (a number alone, 一号院, is kept).

    >>> [_without_house_number(_key(t)) for t in ("芙蓉街45号", "经十路179号院3号楼", "芙蓉街45-1", "芙蓉街附近",
    ...                                           "怎么去芙蓉街", "芙蓉街在哪里", "经2路", "1号院", "派出所001号")]
    ['芙蓉街', '经十路', '芙蓉街', '芙蓉街', '芙蓉街', '芙蓉街', '经二路', '一号院', '派出所零零一号']
    """
    before = _BEFORE_NAME.match(q)
    if before and len(q) - before.end() >= 2:
        q = q[before.end():]
    number, after = _HOUSE_NUMBER.search(q), _AFTER_NAME.search(q)
    cut = number.start(1) if number else after.start() if after else 0
    return q[:cut] if cut >= 2 else q


_POSTCODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
_COUNTRY = frozenset({"china", "prc", "prchina", "peoplesrepublicofchina"})
_EN_HOUSE_NUMBER = re.compile(r"^\s*(?:no\.?|#)?\s*\d+[a-z]?\s+(?=[a-z])", re.IGNORECASE)  # No. 45 Guhuai Road
_SMALL_NUMBER = re.compile(r"(?<!\d)\d{1,2}(?!\d)")  # an ordinal of a street name (Jing 2 Road), not a code (G220)
_PINYIN_HOUSE_NUMBER = re.compile(r"(?<=[a-z])\s*\d+\s*hao\b.*$", re.IGNORECASE)  # guhuailu 45hao
_TONE_NUMBERS = re.compile(r"(?:[a-zü:]+[0-5][\s']*){2,}", re.IGNORECASE)  # fu2rong2jie1: every syllable's tone


def _without_grounds(q: str) -> str:
    """Search key ``q`` less a landmark's grounds after its name (趵突泉公园 -> 趵突泉); '' when it has none.

    >>> _without_grounds("趵突泉公园"), _without_grounds("公园"), _without_grounds("芙蓉街")
    ('趵突泉', '', '')
    """
    m = _GROUNDS.search(q)
    return q[:m.start()] if m and m.start() >= 2 else ""


def _chinese_order(text: str, *, reverse: bool = True) -> str:
    """A query in Latin letters written as an English address, in the order of a Chinese one: the units
    first (an English address names them after the place), without its house number, postcode or country,
    and with numbers of one or two digits in pinyin (Jing 2 Road is 经二路). ``reverse=False``: the parts
    are in Chinese order already (lixiaqu, furongjie).

    >>> _chinese_order("No. 45 Furong Street, Lixia District, Jinan 250000, China")
    'Jinan Lixia District Furong Street'
    >>> _chinese_order("lixiaqu, furongjie 45hao", reverse=False)
    'lixiaqu furongjie'
    >>> [_chinese_order(t) for t in ("Jing 2 Road", "jing2lu", "G220", "furongjie 45hao", "fu2rong2jie1")]
    ['Jing er Road', 'jingerlu', 'G220', 'furongjie', 'furongjie']
    """
    if _TONE_NUMBERS.fullmatch(text.strip()):
        return re.sub(r"\d", "", text)
    parts = [_POSTCODE.sub("", p).strip() for p in text.split(",")]
    parts = [p for p in parts if p and re.sub("[^a-z]", "", p.lower()) not in _COUNTRY]
    if not parts:
        return text
    name = 0 if reverse else -1  # the part that names the place, which a house number goes with
    parts[name] = _PINYIN_HOUSE_NUMBER.sub("", _EN_HOUSE_NUMBER.sub("", parts[name]))
    ordered = " ".join(reversed(parts) if reverse else parts)
    return _SMALL_NUMBER.sub(lambda m: _latin(_cn_number(m.group()))[0], ordered)


def readings(name: str, known: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every reading of ``name`` as toneless syllables, the chosen one first (the reading table's
    alternatives included, so 华不注 is found as huafuzhu and huabuzhu); ``known``: its kept syllables."""
    return pinyin_readings(name, tones=False, known=known)


@lru_cache(maxsize=65536)
def _latins(name: str, known: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """Full pinyin and initials of every reading of a name, chosen reading first (no tones, ü as v);
    ``known``: its :func:`~placegeo.pinyin.sign_syllables`, where kept."""
    out: list[tuple[str, str]] = []
    for reading in readings(name, known):
        syl = [s.lower().replace("ü", "v") for s in reading]  # a key's syllables: folded but for ü
        syl = [s for s in syl if s.isascii() and s.isalpha()]
        pair = ("".join(syl), "".join(s[0] for s in syl))
        if pair not in out:
            out.append(pair)
    return tuple(out) or (("", ""),)


def _latin(name: str) -> tuple[str, str]:
    """Full pinyin and initials of the chosen reading of a name (no tones, ü as v, as typed on keyboards)."""
    return _latins(name)[0]


def _deletions(text: str) -> list[str]:
    return [text[:i] + text[i + 1:] for i in range(len(text))]


_FNV_OFFSET, _FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
_FNV_LOOP_MAX = 64


def _fnv1a(data: bytes) -> int:
    """FNV-1a of ``data`` as a signed 64-bit integer (as SQLite and PostgreSQL store it)."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >> 63 else h


def _digests(keys: Iterable[str]) -> list[int]:
    """:func:`_h` of a query's few keys, without NumPy (a loop is ten times faster for these)."""
    return [_fnv1a(k.encode("utf-8")) for k in keys]


def _zeros(n: int, dtype: str) -> np.ndarray:
    import numpy as np

    return np.zeros(n, dtype=dtype)


def _h(keys: Iterable[str]) -> np.ndarray:
    """Stable 64-bit keys: FNV-1a of the UTF-8 text, the same in every process (unlike ``hash``).

    Computed for all keys at once, byte position by byte position (a digest object per key costs
    more than the rest of indexing a name).

    >>> _h(["", "a", "芙蓉街"]).tolist()
    [-3750763034362895579, -5808556873153909620, 773972965505247150]
    """
    import numpy as np

    keys = list(keys)
    if len(keys) <= _FNV_LOOP_MAX:
        return np.array(_digests(keys), dtype=np.int64)
    import pyarrow as pa

    text = pa.array(keys, type=pa.large_string())  # the UTF-8 of every key in one buffer, with offsets
    _, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[:len(keys) + 1]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(bounds)
    order = np.argsort(-lengths, kind="stable")  # longest first: the keys still running are a prefix
    longest = int(lengths.max(initial=0))
    starts = bounds[:-1][order]
    running = np.searchsorted(-lengths[order], -np.arange(longest), side="left")  # keys longer than j
    h = np.full(len(keys), _FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(_FNV_PRIME)
    for j, n in enumerate(running.tolist()):
        h[:n] = (h[:n] ^ buf[starts[:n] + j]) * prime  # wraps modulo 2**64, as FNV does
    out = np.empty(len(keys), dtype=np.uint64)
    out[order] = h
    return out.view(np.int64)


@cache
def _data(name: str) -> Any:
    return yaml.safe_load(resources.files("placegeo").joinpath(f"data/{name}").read_text(encoding="utf-8")) or {}


@cache
def _english_names() -> dict[str, str]:
    """Well-known English names (``data/english_names.yaml``), by Chinese name."""
    return {str(e["name"]): str(e["en"]) for e in _data("english_names.yaml").get("names", [])}


@cache
def _ending_classes() -> dict[str, str]:
    """Each member of a generic class -> its class."""
    return {t: c for c, terms in load_generic_classes().items() for t in terms}


@cache
def _generic_endings() -> tuple[str, ...]:
    """Every member of a generic class, longest first (the longest ending of a query is swapped)."""
    return tuple(sorted(_ending_classes(), key=len, reverse=True))


def _en_key(text: str) -> str:
    return re.sub("[^a-z]", "", normalize(text))


def _scope(code: str) -> str:
    """The district-code prefix a unit covers: 370102001 -> 370102, 370100 -> 3701, 370000 -> 37."""
    scope = code[:6]
    while len(scope) > 2 and scope.endswith("00"):
        scope = scope[:-2]
    return scope


def _unit_keys(name: str, *, pinyin: bool = True, known: tuple[str, ...] = ()) -> set[str]:
    """A unit's name, its name without the administrative suffix, and (``pinyin``) the pinyin of both
    (``known``: the syllables the index keeps of the name)."""
    full = _key(name)
    keys = {full}
    for suffix in _data("divisions.yaml").get("suffixes", []):
        if full.endswith(suffix) and len(full) - len(suffix) >= 2:
            keys.add(full[: -len(suffix)])
            break
    else:
        suffix = ""
    if not pinyin:
        return keys
    known = known if full == name else ()  # the syllables are the name's: its key must be the name
    latin = {k: [p for p, _ in _latins(k, known[:len(k)]) if len(p) >= 4] for k in keys}
    # and in English (Rencheng District, Jining City): the proper name's pinyin and the suffix's English word
    english = [p + word for p in latin.get(full[: -len(suffix)], []) for word in english_words(suffix)] \
        if suffix else []
    return keys | {p for ps in latin.values() for p in ps} | set(english)


@dataclass
class NameRecord:
    """One named feature."""

    id: str
    name: str
    layer: str
    category: str = ""
    district_code: str = ""
    town_code: str = ""
    lon: float = float("nan")
    lat: float = float("nan")
    aliases: tuple[str, ...] = ()
    sample: bool = False
    importance: float = 0.0
    name_en: str = ""
    #: the name's :func:`~placegeo.pinyin.sign_syllables` where the index keeps them (else worked out when needed)
    syllables: tuple[str, ...] = field(default=(), compare=False)


@dataclass
class KeyTable:
    """Sorted keys, each with its record ids in rank order: a B-tree table ``(key, id)`` held in memory.

    >>> t = KeyTable.build([("furongjie", 0), ("furong", 3), ("daminghu", 1)])
    >>> t.get("furongjie").tolist(), t.prefix("furong", cap=5).tolist(), t.get("x").tolist()
    ([0], [0, 3], [])
    """

    keys: list[str] = field(default_factory=list)
    starts: np.ndarray = field(default_factory=lambda: _zeros(1, "int64"))
    ids: np.ndarray = field(default_factory=lambda: _zeros(0, "int32"))

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, int]]) -> KeyTable:
        import numpy as np

        ordered = sorted(set(pairs))
        keys: list[str] = []
        starts: list[int] = []
        for j, (k, _) in enumerate(ordered):
            if not keys or keys[-1] != k:
                keys.append(k)
                starts.append(j)
        starts.append(len(ordered))
        ids = np.fromiter((p[1] for p in ordered), dtype=np.int32, count=len(ordered))
        return cls(keys, np.asarray(starts, dtype=np.int64), ids)

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key: str) -> np.ndarray:
        """The ids of ``key``, best first (none if the key is absent)."""
        j = bisect.bisect_left(self.keys, key)
        if j < len(self.keys) and self.keys[j] == key:
            return self.ids[self.starts[j]:self.starts[j + 1]]
        return self.ids[:0]

    def prefix(self, key: str, cap: int) -> np.ndarray:
        """The best ``cap`` ids of the keys starting with ``key`` (reading at most ``_SCAN_CAP`` of them)."""
        lo = bisect.bisect_left(self.keys, key)
        hi = bisect.bisect_left(self.keys, key + "\uffff", lo)
        found = self.ids[self.starts[lo]:self.starts[hi]]
        if hi - lo > 1:
            import numpy as np

            found = np.unique(found[:_SCAN_CAP])
        return found[:cap]


_Found = dict[int, tuple[str, int]]  # record id -> (how it matched, tier score)
_Later = list[tuple[int, Callable[[], _Found]]]  # (tier, lookup made on reaching it)
_KINDS = {"exact": "e", "former": "f", "pinyin": "p", "initials": "i", "english": "n", "bigrams": "b", "chars": "c",
          "generic": "g"}
_MAX_CLOSENESS = 1.6  # what _closeness adds to a tier at most: a lower tier cannot overtake by more


def _rank_of(r: NameRecord) -> float:
    """More important layers first, then shorter names."""
    return (LAYER_WEIGHT.get(r.layer, 1) + r.importance) * 100 - len(r.name)


def _rank_from(order: int) -> float:
    """The rank a record's rank order (:func:`_ord`) keeps: what ranking adds, whichever index holds it."""
    return order / -1000


def _keys_of(r: NameRecord) -> tuple[list[str], list[str]]:
    """The keys a record is found by, each a kind letter and the key (``e芙蓉街``, ``pfurongjie``), and its
    slip keys (sorted: what is stored must not depend on set order)."""
    keys = {_key(r.name)}
    short = _short_name(r.name)
    if short != r.name and len(short) >= 2:
        keys.add(_key(short))
    aliases = {_key(a) for a in r.aliases} - keys
    every = sorted(keys | aliases)
    out = ["e" + k for k in sorted(keys)] + ["f" + k for k in sorted(aliases)]
    for k in every:
        out += _generic_keys(k)
    if r.name_en:
        out.append("n" + _en_key(r.name_en))
    slips: set[str] = set()
    for k in every:
        for full, initial in _latins(k):
            if full:
                out += ["p" + full, "i" + initial]
            if 3 <= len(full) <= 40:  # slips of pinyin, #-prefixed (as a query's: _Searcher._fuzzy)
                slips.update(["#" + d for d in (full, *_deletions(full))])
        out += ["b" + k[j:j + 2] for j in range(len(k) - 1)]
        out += ["c" + c for c in sorted(set(k))]
        if 2 <= len(k) <= 24:  # slips of characters: the key and each one-deletion of it
            slips.add(k)
            slips.update(_deletions(k))
    return list(dict.fromkeys(out)), sorted(slips)


@dataclass
class _Attrs:
    """What ranking and filtering read of the candidate records, aligned with their ids (lists: a
    query ranks a few hundred candidates at most, which plain Python does faster than NumPy)."""

    order: list[int]  # rank order: smaller is better
    rank: list[float]
    names: list[str]  # search keys
    py_lengths: list[int]
    # what filters read: empty where the query has no filter (a stored index then reads fewer columns)
    lonlat: list[tuple[float, float]]
    layer: list[str]
    category: list[str]
    district: list[str]


def _attrs_of(records: list[NameRecord], order: list[int]) -> _Attrs:
    names = [_key(r.name) for r in records]
    return _Attrs(order, [_rank_from(_ord(r)) for r in records], names, [min(len(_latin(k)[0]), 999) for k in names],
                  [(r.lon, r.lat) for r in records], [r.layer for r in records], [r.category for r in records],
                  [r.district_code for r in records])


class _Plan(NamedTuple):
    whole: list[tuple[str, str]]  # whole-name keys: lists of a few names
    gets: list[tuple[str, str]]  # other whole keys: their best `cap` names
    prefixes: list[tuple[str, str]]  # name prefixes
    lower: list[tuple[str, str]]  # prefixes of pinyin and initials of a short query of letters: long ranges


def _plan(q: str, extra: list[tuple[str, str]]) -> _Plan:
    """The (key, how) lookups of query key ``q``: whole-name keys, other whole keys (their best names),
    name prefixes, and the prefixes of pinyin and initials of a short query of letters and the pinyin prefix
    of a query of characters of short pinyin (long ranges, low tiers, looked up only if ranking gets to them)."""
    han = has_han(q)
    latin = re.sub(r"[^a-z]", "", q) if not han else ""
    whole = [("e" + q, "exact"), ("f" + q, "former")]  # whole-name keys: lists of a few names
    gets = list(extra)
    prefixes = [("e" + q, "prefix"), ("f" + q, "former_prefix")]
    lower: list[tuple[str, str]] = []
    if han:
        pure = re.fullmatch(r"[\u3400-\u9fff]+", q) is not None
        whole += [(k, "generic") for k in _generic_lookups(q)]  # 经二大街 -> 经二路, 东湖公园 -> 东湖
        pairs = _latins(q) if pure else (_mixed(q),)
        gets += [("p" + full, "homophone") for full, _ in pairs if full]
        if len(q) >= 2 and pairs[0][0]:  # a homophone typed halfway: 建涉 -> 建设路
            # a short pinyin (纪姬 jiji) is a long range, which the names holding the query mostly leave
            # ranking no need of: looked up only if ranking gets to it, as a short query of letters' is
            (prefixes if len(pairs[0][0]) >= _LONG_LATIN else lower).append(("p" + pairs[0][0], "pinyin_prefix"))
        if len(q) <= 2:  # the names holding a character or a pair: one list, read now (no counts, no later statement)
            gets.append(("c" + q if len(q) == 1 else "b" + q, "substring"))
        if not pure and pairs[0][1]:  # mixed: 芙rj, 芙rongjie
            prefixes.append(("i" + pairs[0][1], "initials"))
    elif latin:
        gets += [("p" + latin, "homophone"), ("i" + latin, "initials"), ("n" + latin, "english")]
        # ysh: yshj after ysh. The range of a long query (pinyin, English) is short, and its few whole
        # matches leave room for it: looked up at once, in the first statement
        (prefixes if len(latin) >= _LONG_LATIN else lower).extend(
            [("p" + latin, "pinyin_prefix"), ("i" + latin, "initials_prefix")])
        if len(latin) >= 4:
            prefixes.append(("n" + latin, "english_prefix"))
    return _Plan(whole, gets, prefixes, lower)


class _Searcher:
    """The query logic, over lookups a subclass answers from memory or from the atlas's database.

    Every lookup is a key's first ids in rank order, or a prefix range read in key order up to
    ``_SCAN_CAP`` rows: no step reads more as more names share a key.
    """

    admin: dict[str, str]

    # -- lookups (ids best first) -----------------------------------------------------------------
    def _get_many(self, keys: list[str], limit: int | list[int]) -> dict[str, list[int]]:
        """The first ids of each key, best first: ``limit`` of them, or ``limit[j]`` of ``keys[j]``."""
        raise NotImplementedError

    def _prefix_many(self, keys: list[str], cap: int) -> dict[str, list[int]]:
        raise NotImplementedError

    def _first(self, keys: list[str], limits: list[int], prefixes: list[str], cap: int, counted: Sequence[str]
               ) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, int]]:
        """:meth:`_get_many` of ``keys``, :meth:`_prefix_many` of ``prefixes``, and how many names hold each
        of the ``counted`` keys (up to ``_FEW + 1``; an index that needs no counts gives none)."""
        return self._get_many(keys, limits), self._prefix_many(prefixes, cap), {}

    def _substring(self, q: str, cap: int, counts: dict[str, int], ranked: _Found) -> list[int]:
        """Names holding every pair of characters of ``q`` (``counts``: of :meth:`_first`; ``ranked``: the
        names found above, which a stored index may read in the same statement)."""
        raise NotImplementedError

    def _slip_ids(self, keys: list[str], cap: int) -> list[int]:
        """The best ``cap`` names (by rank) having any of the slip ``keys``: each of a short query's
        one-deletions is a common stem at census scale, and ranking reads every candidate's record."""
        raise NotImplementedError

    def _best_slips(self, keys: list[str], cap: int, ranked: _Found, score: Closeness, k: int) -> list[int]:
        """Of :meth:`_slip_ids` less the ``ranked`` names, at least the best ``k`` by ``score`` (a stored
        index ranks them where they are and reads only those)."""
        return self._slip_ids(keys, cap)

    def _attrs(self, ids: list[int], filtered: bool = True) -> _Attrs:
        """What ranking reads of ``ids`` (and what filters read, if ``filtered``)."""
        raise NotImplementedError

    def _best_of(self, q: str, tiers: list[tuple[int, list[int]]], k: int) -> list[tuple[int, list[int]]]:
        """Each tier with (at least) its best ``k`` names by :func:`_closeness`: a name below a tier's
        ``k``-th cannot reach an answer of ``k`` (a stored index ranks them where they are)."""
        return tiers

    def _records_of(self, ids: list[int]) -> list[NameRecord]:
        raise NotImplementedError

    def nearest(self, lon: float, lat: float, *, k: int = 5, layer: str | None = None) -> pd.DataFrame:
        """The ``k`` named places nearest a point, with their distance in metres."""
        raise NotImplementedError

    # -- querying ---------------------------------------------------------------------------------
    def _candidates(self, queries: list[tuple[str, list[tuple[str, str]]]], cap: int
                    ) -> tuple[list[tuple[_Found, list[tuple[str, str]]]], dict[str, int]]:
        """For each query key (with ``extra`` (key, how) whole-key lookups): record id -> (how it matched,
        tier score), best tier kept, looked up whole and as a name's prefix; and the (key, how) prefixes of
        lower tiers (of pinyin or initials: long ranges) for :meth:`_rank` to look up only if it gets that far
        (:meth:`_prefixes_later`; :meth:`_fuzzy` adds more). Every query's keys go in one statement, with the
        counts of the pairs of characters of the last query (the one read fuzzily: an address without its
        units), which :meth:`_substring` reads."""
        plans = [_plan(q, extra) for q, extra in queries]
        limits: dict[str, int] = {}  # one statement for every whole-name key and every other key
        for whole, gets, _, _ in plans:
            limits |= {k: _SCAN_CAP for k, _ in whole} | {k: cap for k, _ in gets}
        got, pre, counts = self._first(list(limits), list(limits.values()),
                                       list(dict.fromkeys(k for plan in plans for k, _ in plan.prefixes)), cap,
                                       _bigram_keys(queries[-1][0]))
        out = []
        for whole, gets, prefixes, lower in plans:
            found: _Found = {}
            for key, how in [*whole, *gets]:
                _add(found, got.get(key, ()), how)
            for key, how in prefixes:
                _add(found, pre.get(key, ()), how)
            out.append((found, lower))
        return out, counts

    def _prefixes_later(self, lower: list[tuple[str, str]], q: str, cap: int, ranked: _Found, best: int) -> _Later:
        """The lookup of the ``lower`` prefixes, made by :meth:`_rank` if it gets to their tiers (``q``,
        ``best``, ``ranked``: as :meth:`_best_prefixes` takes them)."""
        if not lower:
            return []
        return [_later(ranked, max(TIERS[how] for _, how in lower),
                       lambda: self._best_prefixes(lower, q, cap, ranked, best))]

    def _best_prefixes(self, lower: list[tuple[str, str]], q: str, cap: int, ranked: _Found, best: int
                       ) -> list[tuple[Iterable[int], str]]:
        """The best ``cap`` names by rank of each (key, how) prefix; with ``best``, at least the best ``best``
        of each by :func:`_closeness` to ``q`` among those not ``ranked`` as well already (a stored index
        ranks them where they are and reads only those)."""
        pre = self._prefix_many(list(dict.fromkeys(key for key, _ in lower)), cap)
        return [(pre.get(key, ()), how) for key, how in lower]

    def _fuzzy(self, q: str, cap: int, found: _Found, counts: dict[str, int], best: int, ranked: _Found) -> _Later:
        """The lookups of the names holding ``q`` and, when nothing matched as written (for letters: no
        whole pinyin, initials or English key either), of one-character slips: made by :meth:`_rank` if
        it gets to their tiers, and added to ``found`` (:meth:`_candidates` of ``q``). ``best``: how many
        slips ranking can use (0: it must see them all, to filter them), ``ranked``: names it holds."""
        han = has_han(q)
        latin = "" if han else re.sub(r"[^a-z]", "", q)
        written = _SURE + (("homophone", "initials", "english") if latin else ())
        ahead: list[list[int]] = []  # slips read with the names holding q

        def slip_keys() -> tuple[list[str], Closeness]:  # worked out only for a query that reads slips
            keys = [q, *_deletions(q)] if 2 <= len(q) <= 24 else []
            if latin and 3 <= len(latin) <= 40:
                keys += ["#" + k for k in (latin, *_deletions(latin))]
            return keys, Closeness(TIERS["slip"], *_closeness_key(q))

        def substring() -> list[tuple[Iterable[int], str]]:
            # a few names hold q, too few to fill the answer: ranking will surely read the slips, and a store
            # reads them with those names (found: names matched as written would have ruled slips out)
            room = min(best, _SLIPS_BELOW) - len(ranked)
            if room > 0 and not any(how in written for how, _ in found.values()):
                held = _held(q, counts)
                if held and 0 < min(held) <= _WHOLE_READ and min(held) < room:
                    ids, slip_ids = self._substring_and_slips(q, cap, counts, ranked, *slip_keys(), best)
                    ahead.extend([slip_ids] if slip_ids is not None else [])
                    return [(ids, "substring")]
            return [(self._substring(q, cap, counts, ranked), "substring")]

        def slips() -> list[tuple[Iterable[int], str]]:  # every higher lookup is in `found` by then
            if len(found) >= _SLIPS_BELOW or any(how in written for how, _ in found.values()):
                return []
            if ahead:
                return [(ahead.pop(), "slip")]
            keys, score = slip_keys()
            if best:
                return [(self._best_slips(keys, cap, ranked, score, best), "slip")]
            return [(self._slip_ids(keys, cap), "slip")]
        # (a query of one or two characters: the names holding it are looked up with the whole keys)
        later = [_later(found, TIERS["substring"], substring)] if han and len(q) >= 3 else []
        return [*later, _later(found, TIERS["slip"], slips)]

    def _substring_and_slips(self, q: str, cap: int, counts: dict[str, int], ranked: _Found, keys: list[str],
                             score: Closeness, k: int) -> tuple[list[int], list[int] | None]:
        """:meth:`_substring`, and :meth:`_best_slips` of the slip ``keys`` for a query whose slips ranking
        will read (a stored index reads both in one statement where it can; None: not read, looked up
        when ranking gets to them). The slips may include names holding ``q``: their better tier holds."""
        return self._substring(q, cap, counts, ranked), None

    def _english(self, text: str) -> list[tuple[str, str]]:
        """English with an English generic word last (Baotu Spring, Furong Street; Daming Lake Park: the
        generic word before a park's or a scenic area's) or first (Mount Qianfo), after the units it may
        start with (Jinan Lixia District Furong Street): pinyin keys of the proper name with each term of
        the generic class."""
        words = [w for w in (normalize(w) for w in re.split(r"[\s,/\-_.]+", text)) if re.fullmatch("[a-z]+", w)]
        words = words[self._unit_words(words):]
        shapes = [(words[:-1], words[-1])] if len(words) >= 2 else []
        if len(words) >= 3 and english_generic(words[-2]):
            shapes.append((words[:-2], words[-2]))
        if len(words) >= 2 and words[0] in ("mount", "mt"):
            shapes.append((words[1:], words[0]))
        return list(dict.fromkeys(("p" + "".join(proper) + full, "english") for proper, word in shapes
                                  for term in sorted(english_generic(word)) for full, _ in _latins(term)))

    def _unit_words(self, words: list[str]) -> int:
        """How many of ``words`` name units (Jinan, Lixia District), leaving a name of two words at least."""
        admin, start = self._units("a")[0], 0
        while True:
            end = next((j for j in range(len(words) - 2, start, -1) if "".join(words[start:j]) in admin), 0)
            if not end:
                return start
            start = end

    @cached_property
    def _longest_unit(self) -> int:
        """The length of the longest unit name (once per index: a query must not walk every name)."""
        return max(map(len, self.admin), default=0)

    def _units(self, q: str) -> tuple[dict[str, str], int]:
        """The unit keys (:attr:`admin`) query ``q`` may start with, and the longest one's length."""
        return self.admin, self._longest_unit

    def _strip_admin(self, q: str) -> tuple[str, str]:
        """The query less the units it starts with (济南市历下区芙蓉街 -> 芙蓉街), and the district-code prefix
        of the most specific of them ('' when it names none). A unit named twice in a row is named once: the
        second time it is part of the name."""
        scope = ""
        admin, longest = self._units(q)
        while True:
            size = next((n for n in range(min(len(q) - 2, longest), 1, -1) if q[:n] in admin), 0)
            if not size:
                return q, scope
            code = admin[q[:size]]
            if code == scope:  # the unit named again starts the name (a county's name, then a zone named after it)
                return q, scope
            if code.startswith(scope) or not scope.startswith(code):
                scope = code
            q = q[size:]

    def _address(self, q: str, text: str) -> tuple[str, str, list[tuple[str, str]], list[tuple[str, str]]]:
        """Query key ``q`` (``text`` as typed) read as an address: the name in it, the district-code prefix
        of the units it names ('' for none), and extra whole-name lookups of the query as written (a
        landmark without its grounds) and of the name (its English keys)."""
        if has_han(q):
            bare = _without_house_number(q)
            rest, scope = self._strip_admin(bare)
            if rest == bare and _SET_APART.search(text.strip()):  # a unit after the name, set apart: 古槐路（任城区）
                rest, scope = self._strip_unit_after(bare)
            grounds = _without_grounds(bare)  # the landmark, units and all (济宁太白楼公园): found as written
            return rest, scope, [("e" + self._strip_admin(grounds)[0], "generic")] if grounds else [], []
        latin = _chinese_order(text)  # an English address names the place first (Guhuai Road, Jining)
        rest, scope = self._strip_admin(_key(latin))
        if not scope and "," in text:  # the parts may be in Chinese order already (renchengqu, guhuailu)
            same = _chinese_order(text, reverse=False)
            rest_same, scope_same = self._strip_admin(_key(same))
            if scope_same:
                latin, rest, scope = same, rest_same, scope_same
        return rest, scope, [], self._english(latin)

    def _strip_unit_after(self, q: str) -> tuple[str, str]:
        """The query less a unit named after it (芙蓉街（历下区）, 芙蓉街 济南 -> 芙蓉街), and the unit's
        district-code prefix ('' when it names none)."""
        admin, longest = self._units(q)
        size = next((n for n in range(min(len(q) - 2, longest), 1, -1) if q[-n:] in admin), 0)
        return (q[:-size], admin[q[-size:]]) if size else (q, "")

    def query(
        self,
        text: str,
        *,
        limit: int = 10,
        layer: str | list[str] | None = None,
        category: str | None = None,
        district: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        near: tuple[float, float] | None = None,
        radius_km: float | None = None,
    ) -> list[Hit]:
        """The best matches for ``text`` as :class:`Hit` objects (see :meth:`search` for a GeoDataFrame).

        A query that starts with the atlas's units (山东省济南市历下区芙蓉街, 历下区芙蓉街, lixiaqu furongjie),
        or names them set apart after the name (芙蓉街（历下区）, Furong Street, Lixia District, Jinan), is
        looked up without them, in the most specific unit named; a house number after a road, village or
        estate (芙蓉街45号院3号楼), a word of place or a question (大明湖附近, 怎么去芙蓉街) are left out.
        """
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise SearchError(f"limit = {limit!r}; ask for 1 to 1000 results")
        q = _key(text)
        if not q:
            raise SearchError("the query is empty; type part of a name, its pinyin or its initials")
        if not re.search(r"\w", q):  # punctuation alone (，or #) matches no name
            raise SearchError(f"the query {text.strip()[:20]!r} holds no character, letter or digit; type part of "
                              "a name, its pinyin or its initials")
        if len(text) > QUERY_TEXT_MAX:
            raise SearchError(f"the query is longer than {QUERY_TEXT_MAX} characters; shorten it")
        if (near is None) != (radius_km is None):
            raise SearchError("give both near=(lon, lat) and radius_km, or neither")
        rest, scope, written, extra = self._address(q, text)
        if len(rest) > QUERY_KEY_MAX:  # (the name: an address around it is read, not looked up)
            raise SearchError(f"the name in the query is longer than {QUERY_KEY_MAX} characters; shorten it")
        # the best names by rank taken from a long list: ten times the answer leaves ranking the best ten
        # (at 200,000 names, as many as twenty times do); twice that where a filter may drop some
        filtered = bool(scope) or any(v is not None for v in (layer, category, district, bbox, near))
        cap = max(100, limit * 10) * (2 if filtered else 1)
        # an address is looked up as written and without its units and house number at once (a name may
        # start with its unit, or end in a number: 一号院)
        address = rest != q
        # (an English name is looked up without the units named with it: they may not hold it)
        got, counts = self._candidates([(q, written + ([] if address else extra)),
                                        *([(rest, extra)] if address else [])], cap)
        found, lower = got[0]
        if any(how in _SURE for how, _ in found.values()):
            scope, address = "", False  # a name that starts with its unit, or ends in a number, as written
        filters = {"layer": layer, "category": category, "district": district, "scope": scope, "bbox": bbox,
                   "near": near, "radius_km": radius_km}
        # ranking can take only the best of a long low tier when it drops none of them (no filter, no
        # numerals to match)
        best = 0 if _has_filter(filters) or _NUMERAL_RUN.search(rest) else limit
        if address:  # read fuzzily only without its units and house number
            more, more_lower = got[1]
            _merge(found, more)
            q = rest
            later = [*self._prefixes_later(lower + more_lower, q, cap, found, best),
                     *self._fuzzy(rest, cap, more, counts, best, found)]
        else:
            later = [*self._prefixes_later(lower, q, cap, found, best),
                     *self._fuzzy(q, cap, found, counts, best, found)]
        return self._rank(q, found, later, limit, filters)

    def _rank(self, q: str, found: _Found, later: _Later, limit: int, filters: dict[str, Any]) -> list[Hit]:
        """The best ``limit`` of ``found``, reading the candidates' records tier by tier, best first, and
        stopping when no lower tier can reach the answer; the ``later`` lookups are made on reaching
        their tier, and each name found there keeps its best tier. Tiers too few to fill the answer are
        read with the next one, in one statement."""
        tier_of = {i: score for i, (_, score) in found.items()}
        by_tier: dict[int, set[int]] = {}
        for i, score in tier_of.items():
            by_tier.setdefault(score, set()).add(i)
        pending = sorted(later, key=lambda lookup: -lookup[0])
        tiers = set(by_tier) | {tier for tier, _ in pending}
        kept: list[tuple[float, int, int]] = []  # (-score, rank order, id): best first as tuples sort
        waiting: list[tuple[int, list[int]]] = []  # tiers not read yet
        filtered = _has_filter(filters)
        while tiers:
            tier = max(tiers)
            tiers.remove(tier)
            if len(kept) >= limit and tier + _MAX_CLOSENESS <= -sorted(kept)[limit - 1][0]:
                break
            while pending and pending[0][0] >= tier:
                for i, (how, score) in pending.pop(0)[1]().items():
                    if tier_of.get(i, -1) < score:  # not ranked yet: its tier is this one or a lower one
                        if i in tier_of:
                            by_tier[tier_of[i]].discard(i)
                        found[i], tier_of[i] = (how, score), score
                        by_tier.setdefault(score, set()).add(i)
                        if score < tier:
                            tiers.add(score)
            tier_ids = sorted(by_tier.pop(tier, ()))
            if tier_ids:
                waiting.append((tier, tier_ids))
            if tiers and len(kept) + sum(len(ids) for _, ids in waiting) < limit:
                continue  # the next tier is reached whatever these score
            kept += self._scored(q, waiting, found, filters if filtered else None, limit)
            waiting = []
        kept += self._scored(q, waiting, found, filters if filtered else None, limit)
        top = sorted(kept)[:limit]  # (a few dozen: sorting beats a heap)
        records = dict(zip((i for _, _, i in top), self._records_of([i for _, _, i in top]), strict=True))
        return [Hit(records[i], found[i][0], -score) for score, _, i in top]

    def _scored(self, q: str, tiers: list[tuple[int, list[int]]], found: _Found, filters: dict[str, Any] | None,
                limit: int) -> list[tuple[float, int, int]]:
        """``(-score, rank order, id)`` of the names of ``tiers`` (tier, ids) that pass ``filters``, their
        records read in one statement; without filters or numerals to match, of each tier's best ``limit``."""
        if not tiers:
            return []
        runs = set(_NUMERAL_RUN.findall(q))  # 经2路 finds 经二路 or nothing, never 经三路 or a name matched on initials
        if filters is None and not runs and any(len(ids) > limit for _, ids in tiers):
            tiers = self._best_of(q, tiers, limit)
        ids = [i for _, tier_ids in tiers for i in tier_ids]
        if not ids:
            return []
        at = self._attrs(ids, filters is not None)
        keep = _filter(at, **filters) if filters is not None else [True] * len(ids)
        if runs:  # a former name (四里山 for 英雄山) is matched as written: its numerals are in the alias
            keep = [ok and (found[i][0] in ("exact", "former", "former_prefix")
                            or runs <= set(_NUMERAL_RUN.findall(name)))
                    for i, name, ok in zip(ids, at.names, keep, strict=True)]
        score = [tier for tier, tier_ids in tiers for _ in tier_ids]
        return [(-(tier + close), order, i)
                for i, tier, order, close, ok in zip(ids, score, at.order, _closeness(q, at), keep, strict=True) if ok]

    def search(self, text: str, **kwargs) -> gpd.GeoDataFrame:
        """Like :meth:`query`, as a GeoDataFrame (EPSG:4490) with id, name, pinyin, romanised name,
        layer, category, district and town codes, how it matched, and a point."""
        import geopandas as gpd
        import shapely

        hits = self.query(text, **kwargs)
        geometry = [shapely.Point(h.record.lon, h.record.lat) for h in hits]
        return gpd.GeoDataFrame(hit_rows(hits), geometry=geometry, crs=4490,
                                columns=["id", "name", "pinyin", "romanized", "layer", "category", "district_code",
                                         "town_code", "match", "score", "sample"])


def hit_rows(hits: list[Hit]) -> list[dict[str, Any]]:
    """The hits as rows: id, name, pinyin, romanised name, layer, category, codes, how it matched, score,
    sample, lon, lat (no GeoPandas needed)."""
    return [{"id": r.id, "name": r.name, "pinyin": to_pinyin(r.name, known=r.syllables),
             "romanized": romanize(r.name, known=r.syllables), "layer": r.layer, "category": r.category,
             "district_code": r.district_code, "town_code": r.town_code, "match": h.match,
             "score": round(h.score, 4), "sample": r.sample, "lon": r.lon, "lat": r.lat}
            for h in hits for r in (h.record,)]


def _filter(at: _Attrs, *, layer, category, district, scope, bbox, near, radius_km) -> list[bool]:
    """Whether each candidate passes the query's filters."""
    layers = ({layer} if isinstance(layer, str) else set(layer)) if layer else None
    keep = []
    for lay, cat, dist, (lon, lat) in zip(at.layer, at.category, at.district, at.lonlat, strict=True):
        ok = ((layers is None or lay in layers) and (not category or cat == category)
              and (not district or dist == district)
              and (not scope or not dist or dist.startswith(scope)))  # a record without a code may lie anywhere
        if ok and bbox:
            ok = bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
        if ok and near is not None and radius_km is not None:
            ok = _km(near[0], near[1], lon, lat) <= radius_km
        keep.append(ok)
    return keep


def _has_filter(filters: dict[str, Any]) -> bool:
    return any(v is not None and v != "" for v in filters.values())


def _closeness_key(q: str) -> tuple[str, float]:
    """What :func:`_closeness` compares names with: the first 16 characters of a query of characters ('' for
    letters), and the query's length in like units."""
    if has_han(q):
        head = q[:16]
        return head, float(len(head))
    return "", float(len(re.sub("[^a-z]", "", q)) or 1)


def _closeness(q: str, at: _Attrs) -> list[float]:
    """Within a tier: the name sharing most characters with the query in place (a typo keeps all but one),
    of the closest length in like units (characters, or pinyin letters for a pinyin query), then the more
    important and shorter name (a stored index may rank in SQL: :class:`~placegeo.storage.searchdb.Closeness`)."""
    head, b = _closeness_key(q)
    if head:
        n = max(len(head), 1)
        out = []
        for name, rank in zip(at.names, at.rank, strict=True):
            a = float(min(len(name), 16))
            # characters in place (a shorter name: no more); a name starting with the query has them all
            same = (len(head) if name.startswith(head) else sum(map(operator.eq, head, name))) / n
            out.append(same + 0.5 * (min(a, b) / max(a, b, 1.0)) + rank / 1e4)
        return out
    return [0.0 + 0.5 * (min(a, b) / max(a, b, 1.0)) + rank / 1e4
            for a, rank in zip(map(float, at.py_lengths), at.rank, strict=True)]


@dataclass
class SearchIndex(_Searcher):
    """An index of named features held in this process's memory (:meth:`from_records`, tests, the name
    check). An atlas's own index lives in its database: :meth:`for_atlas` opens it (:class:`StoredSearchIndex`).

    Examples
    --------
    >>> idx = SearchIndex.from_records([NameRecord("a", "芙蓉街", "traditional_place_names", "古城"),
    ...                                 NameRecord("b", "大明湖", "traditional_place_names", "泉水")])
    >>> [h.record.name for h in idx.query("frj")], [h.record.name for h in idx.query("芙容街")]
    (['芙蓉街'], ['芙蓉街'])
    >>> idx.query("dmh")[0].match, idx.query("Daming Lake")[0].match, idx.query("芙蓉胡同")[0].match
    ('initials', 'english', 'generic')
    """

    records: list[NameRecord]
    exact: KeyTable = field(default_factory=KeyTable)
    former: KeyTable = field(default_factory=KeyTable)
    generic: KeyTable = field(default_factory=KeyTable)
    pinyin: KeyTable = field(default_factory=KeyTable)
    initials: KeyTable = field(default_factory=KeyTable)
    english: KeyTable = field(default_factory=KeyTable)
    bigrams: KeyTable = field(default_factory=KeyTable)
    chars: KeyTable = field(default_factory=KeyTable)
    #: key of an administrative unit (name, short name, pinyin) -> the district-code prefix it covers
    admin: dict[str, str] = field(default_factory=dict)
    slip_hash: np.ndarray = field(default_factory=lambda: _zeros(0, "int64"))
    slip_ids: np.ndarray = field(default_factory=lambda: _zeros(0, "int32"))
    # per record, what ranking and filtering read of a candidate (see _attrs)
    rank: np.ndarray = field(default_factory=lambda: _zeros(0, "float64"))
    py_lengths: np.ndarray = field(default_factory=lambda: _zeros(0, "int16"))
    lonlat: np.ndarray = field(default_factory=lambda: _zeros(0, "float64").reshape(0, 2))
    layer_of: list[str] = field(default_factory=list)
    category_of: list[str] = field(default_factory=list)
    district_of: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    _TABLES = ("exact", "former", "generic", "pinyin", "initials", "english", "bigrams", "chars")
    _ARRAYS = ("slip_hash", "slip_ids", "rank", "py_lengths", "lonlat")

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[NameRecord]) -> SearchIndex:
        """An index of ``records``; English names of ``data/english_names.yaml`` fill a missing ``name_en``."""
        import numpy as np

        recs = _with_english(records)
        rank = np.array([_rank_from(_ord(r)) for r in recs], dtype="float64")
        order = np.argsort(-rank, kind="stable")  # ids best first: every id list is in rank order
        idx = cls(records=[recs[i] for i in order], rank=rank[order])
        tables = {v: k for k, v in _KINDS.items()}
        pairs: dict[str, list[tuple[str, int]]] = {t: [] for t in cls._TABLES}
        slip_keys: list[str] = []
        slip_ids: list[int] = []
        for i, r in enumerate(idx.records):
            keys, slips = _keys_of(r)
            for k in keys:
                pairs[tables[k[0]]].append((k[1:], i))
            slip_keys += slips
            slip_ids += [i] * len(slips)
        for name, table_pairs in pairs.items():
            setattr(idx, name, KeyTable.build(table_pairs))
        hashes = _h(slip_keys)
        order = np.argsort(hashes, kind="stable")
        idx.slip_hash, idx.slip_ids = hashes[order], np.asarray(slip_ids, dtype=np.int32)[order]
        at = _attrs_of(idx.records, list(range(len(idx.records))))
        idx.py_lengths = np.array(at.py_lengths, dtype=np.int16)
        idx.lonlat = np.array(at.lonlat, dtype="float64").reshape(-1, 2)
        idx.admin = _admin_keys(idx.records)
        idx._per_record()
        return idx

    def _per_record(self) -> None:
        self.layer_of = [r.layer for r in self.records]
        self.category_of = [r.category for r in self.records]
        self.district_of = [r.district_code for r in self.records]

    @classmethod
    def from_atlas(cls, atlas) -> SearchIndex:
        """Every named feature of ``atlas`` (:func:`atlas_records`), in memory."""
        stamp = atlas.revision  # taken first: data changed while reading gets a newer stamp, and a rebuild
        idx = cls.from_records([r for recs in atlas_records(atlas).values() for r in recs])
        idx.meta = {"atlas": atlas.location, "stamp": stamp, "version": INDEX_VERSION}
        return idx

    # -- persistence ------------------------------------------------------------------------------
    # Saved as JSON and plain NumPy arrays in an .npz, never as a pickle: the index may come from a
    # shared database, and loading it must not be able to run code whoever wrote it.
    def to_bytes(self) -> bytes:
        """The index as bytes (an ``.npz`` of JSON and numeric arrays); see :meth:`from_bytes`.

        The bytes depend only on the records: the same in every process and on every machine.
        """
        import numpy as np

        names = [f.name for f in fields(NameRecord)]
        doc = {"version": INDEX_VERSION, "meta": self.meta, "admin": self.admin,
               "records": [[getattr(r, n) for n in names] for r in self.records],
               "keys": {t: getattr(self, t).keys for t in self._TABLES}}
        text = np.frombuffer(json.dumps(doc, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        arrays = {k: getattr(self, k) for k in self._ARRAYS}
        for t in self._TABLES:
            arrays[f"{t}__starts"], arrays[f"{t}__ids"] = getattr(self, t).starts, getattr(self, t).ids
        buf = io.BytesIO()
        np.savez(buf, doc=text, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SearchIndex:
        """An index saved by :meth:`to_bytes`; :class:`SearchError` if it is not one of this format version."""
        import numpy as np

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                doc = json.loads(npz["doc"].tobytes().decode("utf-8"))
                version = doc.get("version") if isinstance(doc, dict) else None
                if version != INDEX_VERSION:
                    raise SearchError(f"a search index of format version {version}, but this placegeo reads "
                                      f"version {INDEX_VERSION}; rebuild it (SearchIndex.from_atlas)")
                arrays = {k: npz[k] for k in npz.files if k != "doc"}
        except (ValueError, KeyError, OSError, zipfile.BadZipFile, UnicodeDecodeError, AttributeError) as exc:
            if isinstance(exc, SearchError):
                raise
            raise SearchError(f"not a placegeo search index ({exc})") from None
        names = [f.name for f in fields(NameRecord)]
        try:
            records = [NameRecord(**dict(zip(names, r, strict=True))) for r in doc["records"]]
            tables = {t: KeyTable(doc["keys"][t], arrays[f"{t}__starts"], arrays[f"{t}__ids"]) for t in cls._TABLES}
            idx = cls(records=records, meta=doc["meta"], admin=doc["admin"])
            for k, v in {**tables, **{k: arrays[k] for k in cls._ARRAYS}}.items():
                setattr(idx, k, v)
        except (KeyError, TypeError, ValueError) as exc:
            raise SearchError(f"not a placegeo search index (incomplete: {exc})") from None
        for r in records:
            r.aliases, r.syllables = tuple(r.aliases), tuple(r.syllables)
        idx._per_record()
        return idx

    def save(self, path: str | Path) -> Path:
        from placegeo.storage._atomic import write_bytes

        return write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> SearchIndex:
        try:
            return cls.from_bytes(Path(path).read_bytes())
        except SearchError as exc:
            raise SearchError(f"'{path}' is {exc}; delete it to rebuild") from None

    @classmethod
    def for_atlas(cls, atlas) -> _Searcher:
        """The atlas's index, kept in its own database (:class:`StoredSearchIndex`): opened, not built.

        An atlas written before the index was kept with it (or by another index format) gets its index
        tables built once, in a transaction of their own; where the atlas cannot be written (a
        read-only file or database role) the index is built in this process's memory instead.
        """
        tables = atlas.store.search_tables()
        if index_complete(tables):
            return StoredSearchIndex(tables, meta={"atlas": atlas.location, "stamp": atlas.revision,
                                                   "version": INDEX_VERSION})
        try:
            with atlas.transaction():
                rebuild_index(atlas)
        except (OSError, PlacegeoError):
            return cls.from_atlas(atlas)
        return StoredSearchIndex(atlas.store.search_tables(), meta={"atlas": atlas.location,
                                                                    "stamp": atlas.revision, "version": INDEX_VERSION})

    # -- lookups ----------------------------------------------------------------------------------
    def _table(self, key: str) -> KeyTable:
        return getattr(self, {v: k for k, v in _KINDS.items()}[key[0]])

    def _get_many(self, keys: list[str], limit: int | list[int]) -> dict[str, list[int]]:
        limits = [limit] * len(keys) if isinstance(limit, int) else limit
        return {k: self._table(k).get(k[1:])[:n].tolist() for k, n in zip(keys, limits, strict=True)}

    def _prefix_many(self, keys: list[str], cap: int) -> dict[str, list[int]]:
        return {k: self._table(k).prefix(k[1:], cap).tolist() for k in keys}

    def _substring(self, q: str, cap: int, counts: dict[str, int], ranked: _Found) -> list[int]:
        """Names holding every bigram of ``q``: lists intersected rarest first, reading each by binary search."""
        import numpy as np

        # shortest first, lists longer than _SCAN_CAP in the query's order (as a store counts no further)
        lists = sorted((self.bigrams.get(q[j:j + 2]) for j in range(len(q) - 1)),
                       key=lambda ids: min(len(ids), _SCAN_CAP + 1))
        common = lists[0][:_SCAN_CAP if len(lists[0]) <= _SCAN_CAP else _COMMON_SCAN]
        for other in lists[1:]:
            if not len(common):
                break
            pos = np.minimum(np.searchsorted(other, common), len(other) - 1)
            common = common[other[pos] == common]
        return common[:cap].tolist()

    def _slip_ids(self, keys: list[str], cap: int) -> list[int]:
        import numpy as np

        if not keys:
            return []
        hashes = _h(keys)
        lo = np.searchsorted(self.slip_hash, hashes, side="left")
        hi = np.searchsorted(self.slip_hash, hashes, side="right")
        return np.unique(np.concatenate([self.slip_ids[a:min(b, a + cap)]  # ids are in rank order
                                         for a, b in zip(lo, hi, strict=True)]))[:cap].tolist()

    def _attrs(self, ids: list[int], filtered: bool = True) -> _Attrs:
        return _Attrs(ids, self.rank[ids].tolist(), [_key(self.records[i].name) for i in ids],
                      self.py_lengths[ids].tolist(), [(x, y) for x, y in self.lonlat[ids].tolist()],
                      [self.layer_of[i] for i in ids], [self.category_of[i] for i in ids],
                      [self.district_of[i] for i in ids])

    def _records_of(self, ids: list[int]) -> list[NameRecord]:
        return [self.records[i] for i in ids]

    def nearest(self, lon: float, lat: float, *, k: int = 5, layer: str | None = None) -> pd.DataFrame:
        """The ``k`` named places nearest a point, with their distance in metres."""
        return _nearest(self.records, self.lonlat, lon, lat, k=k, layer=layer)


def _nearest(records: list[NameRecord], lonlat: np.ndarray, lon: float, lat: float, *, k: int,
             layer: str | None) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    lons, lats = lonlat[:, 0], lonlat[:, 1]
    ok = np.isfinite(lons)
    if layer:
        ok &= np.array([r.layer == layer for r in records], dtype=bool)
    d = _km_vec(lon, lat, lons, lats)
    d[~ok] = np.inf
    # places at the same distance in id order: the same answer whichever order the records came in
    near = np.flatnonzero(d <= np.partition(d, k - 1)[k - 1]) if 0 < k < len(d) else np.arange(len(d))
    order = sorted(near.tolist(), key=lambda i: (d[i], records[i].id))[:k]
    return pd.DataFrame([{"id": records[i].id, "name": records[i].name, "layer": records[i].layer,
                          "dist_m": round(float(d[i]) * 1000, 1)} for i in order if np.isfinite(d[i])],
                        columns=["id", "name", "layer", "dist_m"])


class StoredSearchIndex(_Searcher):
    """The index kept in the atlas's own database (:mod:`placegeo.storage.searchdb`): every lookup is a
    range scan of its B-tree tables, nothing is loaded but the answers (and the few administrative
    units queries are read against). Answers to repeated queries are kept (``cache_size`` of them).

    Opened by :meth:`SearchIndex.for_atlas` or :func:`open_index`; one object answers for one revision
    of the atlas (a GeoPackage's file as it was when opened).
    """

    def __init__(self, tables, *, meta: dict[str, Any] | None = None, cache_size: int = 256):
        self.tables = tables
        self.meta = meta or {}
        self._admin: dict[str, str] | None = None
        self._records: list[NameRecord] | None = None
        self._answers: dict[tuple, list[Hit]] = {}
        self._cache_size = cache_size
        self._local = threading.local()

    @property
    def admin(self) -> dict[str, str]:  # type: ignore[override]
        if self._admin is None:
            self._admin = _admin_keys(self._unit_records)
        return self._admin

    @cached_property
    def _unit_records(self) -> list[NameRecord]:
        return [_row_record(r) for r in self.tables.layer_records("admin_units")]

    @cached_property
    def _han_units(self) -> tuple[dict[str, str], int]:
        units = _admin_keys(self._unit_records, pinyin=False)
        return units, max(map(len, units), default=0)

    def _units(self, q: str) -> tuple[dict[str, str], int]:
        # a query starting with a character can only start with a unit's name in characters: the units'
        # pinyin, which needs the phrase dictionary (0.15 s from cold), is worked out for letters only
        return self._han_units if has_han(q[:1]) else super()._units(q)

    @property
    def records(self) -> list[NameRecord]:
        """Every record, read on first use (the name check's tables; searching never needs them)."""
        if self._records is None:
            self._records = [_row_record(r) for r in self.tables.layer_records()]
        return self._records

    def query(self, text: str, **kwargs) -> list[Hit]:
        key = (text, *sorted((k, repr(v)) for k, v in kwargs.items()))
        hit = self._answers.get(key)
        if hit is None:
            self._local.rows = {}  # the rows this query reads (see _attrs)
            with self.tables.snapshot():  # one state of the index for all its statements
                hit = super().query(text, **kwargs)
            self._local.rows = {}
            if self._cache_size:
                if len(self._answers) >= self._cache_size:
                    self._answers.pop(next(iter(self._answers)))
                self._answers[key] = hit
        return list(hit)

    def _get_many(self, keys: list[str], limit: int | list[int]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {k: [] for k in keys}
        for k, _, i in self.tables.postings(keys, limit):
            out[k].append(i)
        return out

    def _prefix_many(self, keys: list[str], cap: int) -> dict[str, list[int]]:
        got: dict[str, list[int]] = {k: [] for k in keys}
        for k, _, i in self.tables.prefix(keys, _SCAN_CAP, cap):  # in rank order
            got[k].append(i)
        return got

    def _first(self, keys: list[str], limits: list[int], prefixes: list[str], cap: int, counted: Sequence[str]
               ) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, int]]:
        got: dict[str, list[int]] = {k: [] for k in keys}
        pre: dict[str, list[int]] = {k: [] for k in prefixes}
        found = self.tables.lookups(keys, limits, prefixes, _SCAN_CAP, cap, counted, _FEW + 1)
        for k, _, i in found.postings:
            got[k].append(i)
        for k, _, i in found.prefix:  # in rank order
            pre[k].append(i)
        return got, pre, found.counts

    def _substring(self, q: str, cap: int, counts: dict[str, int], ranked: _Found) -> list[int]:
        keys = list(_bigram_keys(q))
        # most queries hold a rare pair: no more than _FEW + 1 counted, in the first statement
        sizes = _held(q, counts) or self.tables.counts(keys, _FEW + 1)
        if min(sizes) == 0:
            return []
        if min(sizes) <= _WHOLE_READ:
            unread = self._unread(ranked)
            if len(unread) <= _WHOLE_READ:
                # a few names at most: read whole, with the names found above not read yet (one statement)
                return self._keep_tagged(self.tables.all_of_records(_rarest_first(keys, sizes), _SCAN_CAP, unread))
        if len(keys) == 1:
            return self._get_many(keys, cap)[keys[0]]
        upto = _FEW + 1
        if min(sizes) > _FEW:
            sizes, upto = self.tables.counts(keys, _SCAN_CAP + 1), _SCAN_CAP + 1
        scan = _SCAN_CAP if min(sizes) <= _SCAN_CAP else _COMMON_SCAN
        # a few names found come with their rows, and so do the names found above when some matched as written:
        # no slips can follow, and ranking reads them next (else the slips' statement reads them)
        unread = self._unread(ranked) if any(how in _SURE for how, _ in ranked.values()) else []
        found, rows = self.tables.all_of(_rarest_first(keys, sizes), scan, cap, _read_whole(sizes, upto),
                                         read=_WHOLE_READ, also=unread if len(unread) <= _WHOLE_READ else [])
        self._keep(rows)
        return [i for _, i in found]

    def _slip_ids(self, keys: list[str], cap: int) -> list[int]:
        if not keys:
            return []
        best: dict[int, int] = {}
        for order, i in self.tables.slips(_digests(keys), cap):
            best[i] = min(order, best.get(i, order))
        return [i for _, i in sorted((o, i) for i, o in best.items())[:cap]]

    def _best_of(self, q: str, tiers: list[tuple[int, list[int]]], k: int) -> list[tuple[int, list[int]]]:
        kept = self._local.__dict__.get("rows", {})
        if all(i in kept for _, ids in tiers for i in ids):
            return tiers  # read whole already (a few names): ranked from their rows, without a statement
        head, b = _closeness_key(q)
        rows = self.tables.best_records([(ids, Closeness(tier, head, b)) for tier, ids in tiers], k)
        self._keep([r[1:] for r in rows])
        return [(tier, sorted(int(r[1]) for r in rows if r[0] == n)) for n, (tier, _) in enumerate(tiers)]

    def _best_slips(self, keys: list[str], cap: int, ranked: _Found, score: Closeness, k: int) -> list[int]:
        if not keys:
            return []
        # the names found above are fewer than the answer (else no slips): those not read yet are read too
        unread = self._unread(ranked)
        return self._keep_tagged(self.tables.best_slips(_digests(keys), cap, list(ranked), score, k,
                                                        unread if len(unread) <= _WHOLE_READ else []))

    def _best_prefixes(self, lower: list[tuple[str, str]], q: str, cap: int, ranked: _Found, best: int
                       ) -> list[tuple[Iterable[int], str]]:
        if not best:
            return super()._best_prefixes(lower, q, cap, ranked, best)
        lower = list(dict.fromkeys(lower))
        head, b = _closeness_key(q)
        # a name ranked at this tier or above keeps that tier: each prefix's best are of the others
        groups = [(key, Closeness(TIERS[how], head, b), [i for i, (_, tier) in ranked.items() if tier >= TIERS[how]])
                  for key, how in lower]
        unread = self._unread(ranked)  # read in the same statement, as the slips' are
        rows = self.tables.best_prefix(groups, _SCAN_CAP, cap, best, unread if len(unread) <= _WHOLE_READ else [])
        self._keep([r[1:] for r in rows])
        return [([int(r[1]) for r in rows if r[0] == n], how) for n, (_, how) in enumerate(lower)]

    def _substring_and_slips(self, q: str, cap: int, counts: dict[str, int], ranked: _Found, keys: list[str],
                             score: Closeness, k: int) -> tuple[list[int], list[int] | None]:
        sizes, unread = _held(q, counts), self._unread(ranked)
        if not keys or len(unread) > _WHOLE_READ:
            return self._substring(q, cap, counts, ranked), None
        rows = self.tables.all_of_and_slips(_rarest_first(_bigram_keys(q), sizes), _SCAN_CAP, _digests(keys), cap,
                                            list(ranked), score, k, unread)
        self._keep([r[1:] for r in rows if r[0] == 1])
        return self._keep([r[1:] for r in rows if r[0] == 0]), self._keep([r[1:] for r in rows if r[0] == 2])

    def _keep(self, rows: list[tuple]) -> list[int]:
        """The ids of whole record ``rows``, kept for ranking and the answer (thread by thread)."""
        got = {int(r[0]): r for r in rows}
        self._local.__dict__.setdefault("rows", {}).update(got)
        return list(got)

    def _keep_tagged(self, rows: list[tuple]) -> list[int]:
        """:meth:`_keep` of whole record rows each led by a tag, and the ids of those led by 0 (the rows a
        lookup found; 1: rows of names found earlier, read in the same statement)."""
        self._keep([r[1:] for r in rows if r[0]])
        return self._keep([r[1:] for r in rows if not r[0]])

    def _unread(self, ids: Iterable[int]) -> list[int]:
        """Those of ``ids`` whose whole rows this query has not read yet, up to one more than
        ``_WHOLE_READ`` (a query may hold thousands of names found above: more are never read whole)."""
        kept = self._local.__dict__.setdefault("rows", {})
        return list(itertools.islice((i for i in ids if i not in kept), _WHOLE_READ + 1))

    def _rows(self, ids: list[int]) -> dict[int, tuple]:
        return {int(r[0]): r for r in self.tables.records(ids)}

    def _attrs(self, ids: list[int], filtered: bool = True) -> _Attrs:
        """Read from the record rows as stored, without making a record of each (ranking reads hundreds).
        A tier of a few names is read whole and its rows kept for :meth:`_records_of` of the same query
        (thread by thread); of a longer one, only the columns ranking reads (each costs about as much as
        finding the row), and the answer's rows are read once it is known."""
        kept = self._local.__dict__.setdefault("rows", {})
        missing = [i for i in ids if i not in kept]  # some are read whole already (the best of a tier)
        if len(missing) <= _WHOLE_READ:
            columns: tuple[str, ...] = RECORD_COLUMNS
            if missing:
                kept.update(self._rows(missing))
            got = kept
        else:
            columns = _RANKED + (_FILTERED if filtered else ())
            got = {int(r[0]): r for r in self.tables.records(ids, columns)}
        rows = [got[i] for i in ids]
        o, n, p = (columns.index(c) for c in ("ord", "nkey", "py_len"))
        order = [r[o] for r in rows]
        at = _Attrs(order, list(map(_rank_from, order)), [r[n] for r in rows], [r[p] for r in rows], [], [], [], [])
        if filtered:
            lon, lat, lay, cat, dist = (columns.index(c) for c in ("lon", "lat", "layer", "category", "district_code"))
            at.lonlat = [(_NAN if r[lon] is None else r[lon], _NAN if r[lat] is None else r[lat]) for r in rows]
            at.layer, at.category = [r[lay] for r in rows], [r[cat] or "" for r in rows]
            at.district = [r[dist] or "" for r in rows]
        return at

    def _records_of(self, ids: list[int]) -> list[NameRecord]:
        kept = self._local.__dict__.get("rows", {})
        missing = [i for i in ids if i not in kept]
        rows = {**kept, **self._rows(missing)} if missing else kept
        return [_row_record(rows[i]) for i in ids]

    def nearest(self, lon: float, lat: float, *, k: int = 5, layer: str | None = None) -> pd.DataFrame:
        """The ``k`` named places nearest a point, read from a box around it widened until it holds them (every
        place outside a box lies farther than its half-height: :func:`_lon_reach`)."""
        import numpy as np

        for dlat in (0.02, 0.1, 0.5, 180.0):
            # the box, not the whole band of latitude: a band 0.04 degrees high across a province holds 100 times
            # the names of the box, all read and measured
            recs = [_row_record(r) for r in self.tables.near(lat, dlat, lon, _lon_reach(lon, lat, dlat))]
            out = _nearest(recs, np.array([(r.lon, r.lat) for r in recs], dtype="float64").reshape(-1, 2),
                           lon, lat, k=k, layer=layer)
            if (len(out) >= k and out["dist_m"].max() <= dlat * 110_000) or dlat == 180.0:
                return out
        raise AssertionError("unreachable")


@dataclass
class Hit:
    record: NameRecord
    match: str
    score: float


def _later(found: _Found, tier: int, lookup: Callable[[], list[tuple[Iterable[int], str]]]
           ) -> tuple[int, Callable[[], _Found]]:
    """A lookup to make on reaching ``tier``: it adds its (ids, how) to ``found`` (its query's candidates)
    and gives those that are new or better there."""
    def run() -> _Found:
        new: _Found = {}
        for ids, how in lookup():
            _add(new, ids, how)
        new = {i: v for i, v in new.items() if i not in found or found[i][1] < v[1]}
        found.update(new)
        return new
    return tier, run


def _rarest_first(keys: Sequence[str], sizes: list[int]) -> list[str]:
    """``keys`` by how many names hold each (``sizes``), fewest first; the first of a tie in their order, the
    others farthest from the first key first.

    The first key's names are checked against the others in this order, each check ending at the first key
    a name lacks. Pairs of characters next to each other come from the same words of a name (王府, 府街 of
    王府街道大桥): a name holding one mostly holds the other, and a far pair tells more (at 13,000,000 names,
    of the 853 holding 府街, 762 hold 王府 and 42 hold 大桥)."""
    ranked = sorted(range(len(keys)), key=lambda j: sizes[j])
    first = ranked[0] if ranked else 0
    return [keys[j] for j in ranked[:1] + sorted(ranked[1:], key=lambda j: (sizes[j], -abs(j - first)))]


@lru_cache(maxsize=4096)  # a query's are asked for up to three times
def _bigram_keys(q: str) -> tuple[str, ...]:
    """The keys of the pairs of characters of a query of three or more characters, which :meth:`_Searcher._substring`
    intersects (none for letters; a query of two is one pair, looked up whole)."""
    return tuple(dict.fromkeys("b" + q[j:j + 2] for j in range(len(q) - 1))) if len(q) >= 3 and has_han(q) else ()


def _read_whole(sizes: list[int], upto: int) -> int:
    """How many of the lists of ``sizes`` (counted up to ``upto``), rarest first, :meth:`all_of` reads whole: the
    rarest if it is at most ``_SCAN_CAP`` names, and each next one whose names are counted and at most ``_MERGE``
    times as many (fewer rows read in order cost less than checks of each of the rarest's names against it)."""
    ranked = sorted(sizes)
    if ranked[0] > _SCAN_CAP:
        return 1
    return sum(1 for n in ranked if n < upto and n <= min(_SCAN_CAP, _MERGE * max(ranked[0], 1)))


def _held(q: str, counts: dict[str, int]) -> list[int]:
    """How many names hold each pair of characters of ``q`` (:func:`_bigram_keys`), as counted in a query's first
    statement; empty when some pair was not counted there."""
    sizes = [counts.get(k) for k in _bigram_keys(q)]
    return [] if None in sizes else [int(n or 0) for n in sizes]


def _add(found: dict[int, tuple[str, int]], ids: Iterable[int], how: str) -> None:
    """Record that ``ids`` matched ``how``, keeping each id's best tier."""
    score = TIERS[how]
    for i in ids:
        if i not in found or found[i][1] < score:
            found[i] = (how, score)


def _merge(found: dict[int, tuple[str, int]], more: dict[int, tuple[str, int]]) -> None:
    for i, v in more.items():
        if i not in found or found[i][1] < v[1]:
            found[i] = v


def _generic_keys(key: str) -> list[str]:
    """The generic keys of a name's key: its proper name with the class of each generic ending it has
    (经二大街: 经二 and road, 经二大 and road), so that one lookup finds every variant of a query's ending."""
    return ["g" + key[:-len(t)] + "\x1f" + c for t, c in _endings_by_last().get(key[-1:], ())
            if len(key) > len(t) and key.endswith(t)]


@cache
def _endings_by_last() -> dict[str, list[tuple[str, str]]]:
    """:func:`_ending_classes` by the last character of the ending, in its order (a name is checked
    against the endings it may have, not all of them)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for term, cls in _ending_classes().items():
        out.setdefault(term[-1:], []).append((term, cls))
    return out


def _generic_lookups(q: str) -> list[str]:
    """The keys of the names that are ``q`` with its generic ending swapped for another of its class
    (its generic key), or without it (经二 for 经二路)."""
    end = next((t for t in _generic_endings() if q.endswith(t) and len(q) > len(t)), "")
    if not end:
        return []
    proper = q[: -len(end)]
    return ["g" + proper + "\x1f" + _ending_classes()[end]] + (["e" + proper, "f" + proper] if len(proper) >= 2 else [])


def _admin_keys(records: list[NameRecord], *, pinyin: bool = True) -> dict[str, str]:
    """Keys of the administrative units among ``records`` and of the province and city above them
    (``data/divisions.yaml``), each with the district-code prefix it covers (``pinyin``: their pinyin
    too). A key shared by units of different districts covers their common prefix."""
    units = [(n, _scope(r.town_code or r.district_code), r.syllables if n == r.name else ())
             for r in records if r.layer == "admin_units" for n in (r.name, *r.aliases)]
    districts = {r.district_code for r in records if r.layer == "admin_units"}
    for code, name in _data("divisions.yaml").get("divisions", {}).items():
        scope = _scope(str(code))
        if any(d.startswith(scope) for d in districts):
            units.append((str(name), scope, ()))
    out: dict[str, str] = {}
    for name, scope, known in units:
        for k in _unit_keys(name, pinyin=pinyin, known=known):
            old = out.get(k, scope)
            out[k] = next((old[:n] for n in range(min(len(old), len(scope)), 0, -1) if old[:n] == scope[:n]), "")
    return {k: out[k] for k in sorted(out) if out[k]}  # sorted: the saved bytes must not depend on set order


def _short_name(name: str) -> str:
    for s in _ADMIN_SUFFIXES:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def _mixed(q: str) -> tuple[str, str]:
    """Pinyin and initials of a mixed query: 芙rj -> ('furj', 'frj')."""
    full, initials = "", ""
    for part in re.findall(r"[\u3400-\u9fff]+|[a-z]+", q):
        if has_han(part):
            f, i = _latin(part)
            full, initials = full + f, initials + i
        else:
            full, initials = full + part, initials + part
    return full, initials


def _km(lon: float, lat: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km (as :func:`_km_vec`, for one point)."""
    p1, p2 = math.radians(lat), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(max(h, 0.0), 1.0)))


def _lon_reach(lon: float, lat: float, dlat: float) -> float | None:
    """The half-width in degrees of longitude beyond which every point on the sphere is more than ``dlat``
    degrees of arc from the point (``lon``, ``lat``); None where no box does (near a pole, across 180°, or
    ``dlat`` of 90° and more): read all longitudes.

    The nearest point of a meridian ``dlon`` away is ``asin(cos(lat) sin(dlon))`` of arc away, so
    ``dlon = asin(sin(dlat) / cos(lat))``.

    >>> round(_lon_reach(117.0, 36.65, 0.02), 4), _lon_reach(117.0, 89.99, 0.02), _lon_reach(179.99, 36.65, 0.02)
    (0.0249, None, None)
    """
    s = math.sin(math.radians(dlat)) / math.cos(math.radians(lat))
    if dlat >= 90.0 or s >= 1:
        return None
    dlon = math.degrees(math.asin(s))
    return dlon if abs(lon) + dlon <= 180.0 else None


def _km_vec(lon, lat, lons, lats) -> np.ndarray:
    import numpy as np

    lat1, lat2 = np.radians(lat), np.radians(lats)
    dlat, dlon = lat2 - lat1, np.radians(lons - lon)
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


# -- the index in the atlas's database ---------------------------------------------------------------
#: The codes tree's villages and communities are indexed as this pseudo-layer (placed at their town).
VILLAGES = "admin_codes"
_SLOT_BITS = 40  # name ids: layer slot (its place in LAYER_WEIGHT) above, row number below


def _with_english(records: Iterable[NameRecord]) -> list[NameRecord]:
    english = _english_names()
    return [r if r.name_en or r.name not in english else replace(r, name_en=english[r.name]) for r in records]


def _ord(r: NameRecord) -> int:
    return round(-_rank_of(r) * 1000)


def _record_row(name_id: int, r: NameRecord) -> tuple:
    k = _key(r.name)
    return (name_id, r.layer, r.id, r.name, "\x1f".join(r.aliases), r.category, r.district_code, r.town_code,
            None if r.lon != r.lon else r.lon, None if r.lat != r.lat else r.lat, int(r.sample), r.importance,
            r.name_en, _ord(r), k, min(len(_latin(k)[0]), 999), " ".join(sign_syllables(r.name)))


def _row_record(row: tuple) -> NameRecord:
    _, layer, rec_id, name, aliases, category, district, town, lon, lat, sample, importance, name_en, *_, sylls = row
    return NameRecord(rec_id, name, layer, category or "", district or "", town or "",
                      _NAN if lon is None else float(lon), _NAN if lat is None else float(lat),
                      tuple(filter(None, aliases.split("\x1f"))) if aliases else (), bool(sample),
                      float(importance or 0.0), name_en or "", tuple(sylls.split()) if sylls else ())


def index_rows(records: list[NameRecord], *, first_id: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The record rows, postings ``(k, ord, name_id)`` and slip rows ``(h, ord, name_id)`` of ``records``,
    numbered from ``first_id``; postings and slips sorted and without repeats, so that each row lands
    beside the last one in its B-tree."""
    return _as_rows(*_index_columns(records, first_id))


def index_batches(batches: Iterable[list[NameRecord]], *, first_id: int, workers: int | None = None
                  ) -> Iterator[tuple[list[tuple], list[tuple], list[tuple]]]:
    """:func:`index_rows` of each batch in turn, numbered on from ``first_id``: the rows to write batch by batch.

    Batches are indexed in ``workers`` forked processes (default: one per CPU) while the caller writes
    the last one, where there is more than one batch, more than one CPU and ``fork``; else here. Each
    worker sends back columns (a few buffers), not millions of tuples, so the parallel work is not lost
    in pickling. At most ``workers + 1`` batches are in flight: a national layer is never held whole.

    >>> recs = [NameRecord(str(i), n, "place_names") for i, n in enumerate(["芙蓉街", "曲水亭街", "大明湖"])]
    >>> [len(rows) for rows, _, _ in index_batches([recs[:2], recs[2:]], first_id=0, workers=1)]
    [2, 1]
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    batches = iter(batches)
    head = list(itertools.islice(batches, 2))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    n_workers = cpus if workers is None else workers
    numbered = _numbered(itertools.chain(head, batches), first_id)
    if len(head) < 2 or n_workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (index_rows(batch, first_id=n) for batch, n in numbered)
        return
    pool = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("fork"))
    try:  # forked workers end with os._exit: an open connection of this process is never closed by them
        pending: deque = deque()
        for batch, n in numbered:
            pending.append(pool.submit(_index_columns, batch, n))
            if len(pending) > n_workers:
                yield _as_rows(*pending.popleft().result())
        while pending:
            yield _as_rows(*pending.popleft().result())
    finally:
        pool.shutdown(cancel_futures=True)


def _numbered(batches: Iterable[list[NameRecord]], first_id: int) -> Iterator[tuple[list[NameRecord], int]]:
    for batch in batches:
        yield batch, first_id
        first_id += len(batch)


def _index_columns(records: list[NameRecord], first_id: int) -> tuple[list[tuple], tuple, tuple]:
    """:func:`index_rows` with postings and slips as sorted columns (what a worker process sends back)."""
    import numpy as np

    rows, keys, slip_keys, key_of, slip_of = [], [], [], [], []
    for n, r in enumerate(records):
        rows.append(_record_row(first_id + n, r))
        found, slips_found = _keys_of(r)
        keys += found
        slip_keys += slips_found
        key_of.append(len(found))
        slip_of.append(len(slips_found))
    orders = np.fromiter((row[13] for row in rows), dtype=np.int64, count=len(rows))
    names = np.arange(len(rows), dtype=np.int64)
    key_names, slip_names = np.repeat(names, key_of), np.repeat(names, slip_of)
    return rows, _sorted_postings(keys, orders[key_names], key_names + first_id), \
        _sorted_slips(_h(slip_keys), orders[slip_names], slip_names + first_id)


def _as_rows(rows: list[tuple], postings: tuple, slips: tuple) -> tuple[list[tuple], list[tuple], list[tuple]]:
    k, o, i = postings
    return rows, list(zip(k.to_pylist(), o.tolist(), i.tolist(), strict=True)), \
        list(zip(*(column.tolist() for column in slips), strict=True))


def _sorted_postings(keys: list[str], orders: np.ndarray, ids: np.ndarray) -> tuple:
    # Arrow sorts text by its UTF-8 bytes, as SQLite and PostgreSQL's "C" collation compare it; a name's
    # keys are distinct (see _keys_of), so no row repeats
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(keys, type=pa.string())
    order = pc.sort_indices(pa.table({"k": text, "ord": orders, "id": ids}),
                            sort_keys=[("k", "ascending"), ("ord", "ascending"), ("id", "ascending")]).to_numpy()
    return text.take(order), orders[order], ids[order]


def _sorted_slips(hashes: np.ndarray, orders: np.ndarray, ids: np.ndarray) -> tuple:
    import numpy as np

    order = np.lexsort((ids, orders, hashes))
    h, o, i = hashes[order], orders[order], ids[order]
    keep = np.ones(len(h), dtype=bool)  # two slip keys of one name with the same digest: one row
    keep[1:] = (h[1:] != h[:-1]) | (o[1:] != o[:-1]) | (i[1:] != i[:-1])
    return h[keep], o[keep], i[keep]


def _expected_layers(layers: Iterable[str]) -> list[str]:
    present = set(layers)
    return [name for name in LAYER_WEIGHT if name in present and name != VILLAGES] + [VILLAGES]


def index_complete(tables) -> bool:
    """Whether the index tables hold every indexed layer of the atlas, in this format version."""
    state = tables.state()
    return all(state.get(name, (None, 0))[0] == INDEX_VERSION for name in _expected_layers(tables.atlas_layers()))


def _flag(value: Any) -> bool:
    """A boolean field's value; missing (None, NaN, pandas NA) is False."""
    try:
        return bool(value) and bool(value == value)
    except TypeError:  # pandas NA
        return False


def _text(value: Any) -> str:
    """A field's value as text; "" when missing (None, NaN, pandas NA), as rows being imported hold them."""
    try:
        missing = value is None or bool(value != value)  # NaN is not itself
    except TypeError:  # pandas NA has no truth value
        missing = True
    return "" if missing else str(value)


def _layer_records(layer: str, gdf) -> list[NameRecord]:
    """The records of a layer's features: traditional names with former names, admin units (their
    development zones' short forms as aliases), facilities, cemeteries, relief points; a ``name_en``
    field, where the layer has one, is the English name."""
    import numpy as np
    import shapely

    from placegeo.registry import load_registry

    pk = load_registry()[layer].primary_key
    pts = gdf.geometry.representative_point() if layer == "admin_units" else gdf.geometry
    xy = shapely.get_coordinates(pts.values) if len(gdf) else np.zeros((0, 2))
    category = gdf["category"] if "category" in gdf else gdf.get("type", gdf.get("kind", gdf.get("level")))
    categories = [""] * len(gdf) if category is None else [str(c) for c in category.tolist()]
    n = len(gdf)

    def column(name: str) -> list:  # whole columns as lists: walking rows of Arrow-backed columns is slow
        return gdf[name].tolist() if name in gdf.columns else [None] * n

    ids, names, former, sample = column(pk), column("name"), column("former_names"), column("sample")
    codes, towns, names_en = column("district_code"), column("town_code"), column("name_en")
    unit_codes, levels = column("code"), column("level")
    records = []
    for j in range(n):
        aliases = tuple(a for a in _text(former[j]).split("、") if a and a != "nan")
        code, town, name_en = _text(codes[j]), _text(towns[j]), _text(names_en[j])
        if layer == "admin_units":
            code = unit_codes[j][:6]
            town = unit_codes[j] if levels[j] == "town" else ""
            aliases = tuple(short for long, short in _ZONE_SHORT_FORMS.items() if str(names[j]).endswith(long))
        records.append(NameRecord(f"{layer}:{ids[j]}", str(names[j]), layer, categories[j],
                                  code, town if town != "<NA>" else "", float(xy[j, 0]), float(xy[j, 1]),
                                  aliases, _flag(sample[j]),
                                  1.0 if layer == "admin_units" and levels[j] == "district" else 0.0, name_en))
    return _with_english(records)


def _village_records(atlas, units) -> list[NameRecord]:
    """The villages and communities of the code tree, placed at their town's point."""
    import numpy as np

    towns: dict[str, tuple[float, float]] = {}
    if units is not None and len(units):
        xy = np.asarray([(p.x, p.y) for p in units.geometry.representative_point()])
        towns = {str(c): (xy[j, 0], xy[j, 1]) for j, c in enumerate(units["code"])}
    codes = atlas.codes
    villages = codes[codes["level"] == "village"]
    return _with_english(
        NameRecord(f"admin_codes:{row.code}", row.name, VILLAGES, "village", row.code[:6], row.parent_code,
                   *towns.get(row.parent_code, (float("nan"), float("nan"))), (), False, 0.0)
        for row in villages.itertuples(index=False))


def atlas_records(atlas) -> dict[str, list[NameRecord]]:
    """Every named feature of ``atlas`` by layer, in layer order (see :func:`_layer_records`), and the
    villages and communities of its code tree (layer ``admin_codes``)."""
    from placegeo.registry import load_registry

    layers, registry = set(atlas.layers()), load_registry()
    out = {layer: _layer_records(layer, atlas.read(layer)) for layer in LAYER_WEIGHT
           if layer in layers and layer in registry}
    units = atlas.read("admin_units") if "admin_units" in layers else None
    out[VILLAGES] = _village_records(atlas, units)
    return out


def _slot(layer: str) -> int:
    return (list(LAYER_WEIGHT).index(layer) + 1) << _SLOT_BITS


def _batches(records: list[NameRecord]) -> list[list[NameRecord]]:
    """``records`` in batches of :data:`_BATCH` (one empty batch for none: an empty layer is written too)."""
    return [records[j:j + _BATCH] for j in range(0, max(len(records), 1), _BATCH)]


def _write_layer(tables, layer: str, records: list[NameRecord], *, held: int = 0) -> None:
    """Index ``records`` of ``layer`` after the ``held`` names it holds and write them, batch by batch."""
    write_batches(tables, layer, _batches(records), held=held)


def write_batches(tables, layer: str, batches: Iterable[list[NameRecord]], *, held: int = 0,
                  workers: int | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Index each batch of ``layer`` (:func:`index_batches`) after the ``held`` names it holds and write it
    to the index ``tables``; the names held after all of them. ``progress`` is told the names held after
    each batch; an error it raises stops the write, which then puts in nothing.

    A function, not a generator: the bulk write it makes (the tables' ``bulk``) ends before it returns,
    so a caller cannot hold it open past its transaction's end (a layer claiming names whose rows were
    never put in, or, on PostgreSQL, key tables committed without their keys)."""
    with tables.bulk():
        for rows, postings, slips in index_batches(batches, first_id=_slot(layer) + held, workers=workers):
            held += len(rows)
            tables.write(layer, rows, postings, slips, version=INDEX_VERSION, n=held)
            if progress is not None:
                progress(held)
    return held


def _replace_layer(tables, layer: str, records: list[NameRecord]) -> None:
    old = [_row_record(r) for r in tables.layer_records(layer, write=True)]
    for _, postings, slips in index_batches(_batches(old), first_id=_slot(layer)):
        tables.remove(layer, postings, slips)
    _write_layer(tables, layer, records)


def rebuild_index(atlas) -> None:
    """Build the atlas's index tables from all its layers (inside ``atlas.transaction()``)."""
    tables = atlas.store.search_tables()
    tables.drop()
    for layer, records in atlas_records(atlas).items():
        _write_layer(tables, layer, records)


def unindex_layer(atlas, layer: str) -> None:
    """Take a layer that is no longer in the atlas out of the index (inside ``atlas.transaction()``)."""
    if layer in LAYER_WEIGHT and layer != VILLAGES:
        _replace_layer(atlas.store.search_tables(), layer, [])


def index_layer(atlas, layer: str, data=None, *, append: bool = False) -> None:
    """Bring the index up to date after ``layer`` was written; call inside the same ``atlas.transaction()``.

    ``data``: the rows appended (``append=True``); a replaced layer is read again. ``layer`` may be
    ``admin_codes`` (the code tree was replaced). Writing ``admin_units`` also re-places the villages.
    """
    if layer not in LAYER_WEIGHT:
        return
    tables = atlas.store.search_tables()
    state = tables.state(write=True)
    layers = atlas.layers()
    stale = [name for name in _expected_layers(layers) if name != layer and state.get(name, (None,))[0]
             != INDEX_VERSION]
    if stale:  # an index of another format, or none yet: built whole
        rebuild_index(atlas)
        return
    if layer == VILLAGES:
        _replace_layer(tables, VILLAGES, _village_records(atlas, atlas.read("admin_units")
                                                           if "admin_units" in layers else None))
        return
    if append and data is not None and state.get(layer, (None,))[0] == INDEX_VERSION:
        _write_layer(tables, layer, _layer_records(layer, data), held=state[layer][1])
    else:  # the layer as this transaction sees it
        _replace_layer(tables, layer, _layer_records(layer, atlas.read(layer)))
    if layer == "admin_units":
        index_layer(atlas, VILLAGES)


def open_index(location: str | None) -> _Searcher | None:
    """The index of the GeoPackage atlas at ``location``, opened as cheaply as possible: its index tables
    directly (no GDAL, no GeoPandas); None where that cannot be done (a PostGIS atlas, an index to
    build), and the caller opens the atlas and asks :meth:`SearchIndex.for_atlas`."""
    from placegeo.storage.searchdb import open_reader

    tables = open_reader(location) if location else None
    if tables is not None:
        try:
            if index_complete(tables):
                return StoredSearchIndex(tables, meta={"atlas": str(location), "version": INDEX_VERSION})
        except Exception:  # not an atlas, or an unreadable one: the atlas says why
            pass
        tables.close()
    return None


def reverse_lookup(atlas, lon: float, lat: float, *, datum: str = "cgcs2000", k: int = 5,
                   index: _Searcher | None = None) -> dict[str, Any]:
    """What is here? The admin units containing a point and the ``k`` nearest named places.

    ``datum`` is that of ``lon``/``lat`` (a point picked on an Amap map is ``gcj02``). Villages and
    communities have codes but no polygons in the atlas, so the village level is given only when an
    ``admin_units`` village polygon contains the point.
    """
    import numpy as np
    import shapely

    from placegeo.crs import convert

    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SearchError(f"({lon}, {lat}) is not a longitude/latitude pair")
    cx, cy = convert(lon, lat, src=datum, dst="cgcs2000")
    x, y = float(cx), float(cy)
    admin = atlas.read("admin_units", bbox=(x - 1e-6, y - 1e-6, x + 1e-6, y + 1e-6))
    here = admin[admin.contains(shapely.Point(x, y))]
    levels: dict[str, Any] = {"district": None, "town": None, "village": None}
    # at each level the smallest unit holding the point: a development zone lying across districts wins
    here = here.assign(_area=shapely.area(np.asarray(here.geometry.values)))
    here = here.sort_values(["_area", "code"], ascending=[False, True])
    for row in here.itertuples():
        if row.level in levels:
            levels[row.level] = {"code": row.code, "name": row.name, "sample": bool(row.sample)}
    idx = index or SearchIndex.for_atlas(atlas)
    near = idx.nearest(x, y, k=k + 20)
    near = near[~near["layer"].isin(["admin_codes", "admin_units"])].head(k)
    return {"lon": x, "lat": y, "datum": "cgcs2000", **levels, "nearest": near.to_dict(orient="records")}


from placegeo.namecheck import check_name  # noqa: E402  (moved; kept importable from here)
