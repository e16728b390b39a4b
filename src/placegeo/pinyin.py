"""Pinyin for place names, with the readings place names really have, and sign romanisation.

Readings
--------
A generic converter reads 长清 as *Zhǎngqīng* and 任城 as *Rènchéng*; the place-name readings are
*Chángqīng* and *Rénchéng*. The reading table is data (``placegeo/data/readings.yaml``): each entry
has the chosen reading, its source and the alternatives other sources give. The longest entry that
matches wins; the rest of the name is read with pypinyin's dictionaries, cut into phrases as pypinyin
cuts it (its phrase dictionary gets most polyphones right in context and needs no model download). A
bureau adds its own entries with a file in the same format, given to :func:`use_readings` or named by
the ``PLACEGEO_READINGS`` environment variable (read when the module is imported).

Sign romanisation
-----------------
:func:`romanize` follows 《中国地名汉语拼音字母拼写规则（汉语地名部分）》 (1984): proper name (专名)
and generic term (通名) are written apart, each capitalised; a chained name is written unit by unit
(济南市历下区 → Jinan Shi Lixia Qu); single-syllable modifiers go with the generic term (解放东路 →
Jiefang Donglu); natural villages are one word (刘家庄 → Liujiazhuang); an apostrophe goes before a,
o, e starting a syllable inside a word (Xi'an; 济南 is Jinan: 南 starts with n). The word lists are
data (``placegeo/data/romanization.yaml``). Tone marks are left off on signs.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from placegeo.errors import ReadingsError

__all__ = [
    "GENERIC_TERMS",
    "NAME_READINGS",
    "READINGS_ENV",
    "Reading",
    "has_han",
    "load_readings",
    "readings",
    "romanize",
    "sign_syllables",
    "split_generic",
    "syllables",
    "to_pinyin",
    "use_readings",
]

#: Environment variable naming a bureau's extra readings file, merged over the packaged one.
READINGS_ENV = "PLACEGEO_READINGS"

_HAN = re.compile(r"[\u3400-\u9fff]")
_SYLLABLE = re.compile(r"[a-zü\u0300-\u036fāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜê]+")
_ENTRY_FIELDS = {"name", "reading", "source", "alternatives", "note"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the table is read at import


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese character.

    >>> has_han("芙rj"), has_han("frj")
    (True, False)
    """
    return bool(_HAN.search(text))


# --- the reading table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One entry of the reading table: the chosen reading of ``name`` and the alternatives."""

    name: str
    reading: tuple[str, ...]
    source: str
    alternatives: tuple[tuple[tuple[str, ...], str], ...] = ()
    note: str = ""

    @property
    def all_readings(self) -> list[tuple[str, ...]]:
        """The chosen reading first, then each alternative."""
        return [self.reading, *(r for r, _ in self.alternatives)]


def _fail(where: str, what: str) -> ReadingsError:
    return ReadingsError(f"{where}: {what}")


def _parse_reading(value: Any, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "needs tone-marked pinyin, one syllable per character, separated by spaces "
                           "(e.g. 'cháng qīng')")
    sylls = tuple(value.lower().split())
    bad = [s for s in sylls if not _SYLLABLE.fullmatch(s)]
    if bad:
        raise _fail(where, f"{bad[0]!r} is not a pinyin syllable; write letters with tone marks (lǜ, not lv4)")
    if len(sylls) != len(name):
        raise _fail(where, f"has {len(sylls)} syllable(s) for the {len(name)} character(s) of {name}; "
                           "write one syllable per character, separated by spaces")
    return sylls


def _parse_source(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "needs a source: the dictionary, standard or gazetteer the reading is known from")
    return value.strip()


def _parse_entry(entry: Any, where: str) -> Reading:
    if not isinstance(entry, dict):
        raise _fail(where, "must be a mapping with name, reading, source (and optionally alternatives, note)")
    name = entry.get("name")
    if not isinstance(name, str) or not name or not all(_HAN.fullmatch(c) for c in name):
        raise _fail(where, f"field 'name' must be Chinese characters, got {name!r}")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - _ENTRY_FIELDS)
    if unknown:
        raise _fail(where, f"unknown field(s) {unknown}; the fields are {sorted(_ENTRY_FIELDS)}")
    reading = _parse_reading(entry.get("reading"), name, f"{where}: field 'reading'")
    source = _parse_source(entry.get("source"), f"{where}: field 'source'")
    alts = entry.get("alternatives") or []
    if not isinstance(alts, list):
        raise _fail(where, "field 'alternatives' must be a list of {reading, source} mappings")
    parsed = []
    for k, alt in enumerate(alts, 1):
        at = f"{where}: field 'alternatives', item {k}"
        if not isinstance(alt, dict) or set(alt) - {"reading", "source", "note"}:
            raise _fail(at, "must be a mapping with reading and source")
        parsed.append((_parse_reading(alt.get("reading"), name, f"{at}, 'reading'"),
                       _parse_source(alt.get("source"), f"{at}, 'source'")))
    note = entry.get("note") or ""
    if not isinstance(note, str):
        raise _fail(where, "field 'note' must be text")
    return Reading(name, reading, source, tuple(parsed), note.strip())


def _read_readings_file(path: str | os.PathLike[str], label: str | None = None) -> dict[str, Reading]:
    where = label or str(path)
    try:
        doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise ReadingsError(f"cannot read the readings file {where}: {exc.strerror}; check the path") from exc
    except yaml.YAMLError as exc:
        raise ReadingsError(f"the readings file {where} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("readings"), list):
        raise ReadingsError(f"the readings file {where} must be a mapping with a 'readings' list "
                            "(see placegeo/data/readings.yaml)")
    if doc.get("version", 1) != 1:
        raise ReadingsError(f"the readings file {where} has version {doc.get('version')!r}; this placegeo reads 1")
    table: dict[str, Reading] = {}
    for k, entry in enumerate(doc["readings"], 1):
        r = _parse_entry(entry, f"{where}, entry {k}")
        if r.name in table:
            raise ReadingsError(f"{where}, entry {k}: {r.name} is listed twice; keep one entry per name")
        table[r.name] = r
    return table


def _data_file(name: str) -> Path:
    return Path(str(files("placegeo") / "data" / name))


def load_readings(extra: str | os.PathLike[str] | None = None) -> dict[str, Reading]:
    """The reading table: the packaged entries, then those of ``$PLACEGEO_READINGS``, then ``extra``.

    A later file's entry replaces an earlier one of the same name. Raises
    :class:`~placegeo.errors.ReadingsError` naming the file, entry and field of a bad entry.

    >>> table = load_readings()
    >>> table["任城"].reading, table["济阳"].all_readings[1]
    (('rén', 'chéng'), ('jì', 'yáng'))
    """
    table = _read_readings_file(_data_file("readings.yaml"), "placegeo/data/readings.yaml")
    env = os.environ.get(READINGS_ENV)
    for path in (env, extra):
        if path:
            table.update(_read_readings_file(path))
    return table


#: Chosen reading of each entry of the active table (name → "cháng qīng"), kept for existing callers.
NAME_READINGS: dict[str, str] = {}
_TABLE: dict[str, Reading] = {}
_BY_FIRST: dict[str, list[str]] = {}


def use_readings(extra: str | os.PathLike[str] | None = None) -> dict[str, Reading]:
    """Make :func:`load_readings` ``(extra)`` the table every function of this module uses.

    Names read before keep no stale cache; a search index built before must be rebuilt.
    """
    table = load_readings(extra)
    _TABLE.clear()
    _TABLE.update(table)
    NAME_READINGS.clear()
    NAME_READINGS.update({k: " ".join(v.reading) for k, v in table.items()})
    _BY_FIRST.clear()
    for key in sorted(table, key=len, reverse=True):
        _BY_FIRST.setdefault(key[0], []).append(key)
    for fn in (syllables, to_pinyin, romanize, _readings, _matches):
        fn.cache_clear()
    return table


# --- syllables -----------------------------------------------------------------------------------


@cache
def _pypinyin_file(name: str) -> Path | None:
    """The JSON file of one of the dictionaries pypinyin ships (``pinyin_dict``, ``phrases_dict``).

    Read directly: importing pypinyin costs 0.3 s (it loads both and builds its segmenter), and a cold
    search needs only the characters' readings, and the phrases for a polyphonic character.
    """
    spec = importlib.util.find_spec("pypinyin")  # finds the package without running its __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / f"{name}.json").is_file():
            return Path(folder) / f"{name}.json"
    return None


def _pypinyin_data(name: str) -> Any:
    path = _pypinyin_file(name)
    if path is not None:
        return json.loads(path.read_text(encoding="utf-8"))
    return getattr(importlib.import_module(f"pypinyin.{name}"), name)  # an older layout: a module


@cache
def _char_readings() -> dict[int, str]:
    """Code point -> its readings, the usual one first (``"zhǎng,cháng"``)."""
    return {int(k): v for k, v in _pypinyin_data("pinyin_dict").items()}


# pypinyin writes its phrase file one token a line: an entry is its phrase, then a list per character
_PHRASE_ENTRY = re.compile(r'^"([^"\n]+)": \[\n(.*?)\n\]\n\]', re.M | re.S)
_FIRST_READING = re.compile(r'\[\n"([^"]*)"')


@cache
def _phrases() -> dict[str, Any]:
    """Phrase -> its entry (see :func:`_phrase_syllables`).

    The entries are cut out of the file's text and each is parsed when a name uses it: three times
    faster than parsing the 2.5 MB of JSON whole (0.05 s instead of 0.15 s), which a file laid out
    otherwise still gets.
    """
    path = _pypinyin_file("phrases_dict")
    text = path.read_text(encoding="utf-8") if path is not None else ""
    table: dict[str, Any] = dict(_PHRASE_ENTRY.findall(text))
    if not table or len(table) != text.count('": [\n'):
        table = {k: [r[0] for r in v] for k, v in _pypinyin_data("phrases_dict").items()}
    return table


def _phrase_syllables(entry: Any) -> list[str]:
    """The usual reading of each character of a phrase entry of :func:`_phrases`."""
    return _FIRST_READING.findall(entry) if isinstance(entry, str) else entry


@cache
def _phrase_lengths() -> dict[str, tuple[int, ...]]:
    """First character -> the lengths of the phrases starting with it, longest first (a run is cut
    trying only those: indexing a census converts millions of names)."""
    lengths: dict[str, set[int]] = {}
    for phrase in _phrases():
        lengths.setdefault(phrase[0], set()).add(len(phrase))
    return {c: tuple(sorted(n, reverse=True)) for c, n in lengths.items()}


@lru_cache(maxsize=8192)
def _phrase(phrase: str) -> tuple[str, ...]:
    """:func:`_phrase_syllables` of a phrase of :func:`_phrases` (phrases recur across names: parsed once)."""
    return tuple(_phrase_syllables(_phrases()[phrase]))


@cache
def _single_reading(ch: str) -> str | None:
    """The reading of a character that has only one (tone marks kept), else None."""
    r = _char_readings().get(ord(ch))
    return r if r and "," not in r else None


def _phrase_reading(run: str) -> tuple[str, ...]:
    """A run of characters read as pypinyin reads it by default: cut into the longest phrases of its
    dictionary, left to right, each read as the dictionary gives it; a character outside every phrase
    takes its usual reading (a character without one is kept).

    >>> _phrase_reading("长清"), _phrase_reading("银行长")
    (('zhǎng', 'qīng'), ('yín', 'háng', 'zhǎng'))
    """
    table, starts = _phrases(), _phrase_lengths()
    chars = _char_readings()
    out: list[str] = []
    i = 0
    while i < len(run):
        for n in starts.get(run[i], ()):
            if i + n <= len(run) and run[i:i + n] in table:
                break
        else:
            n = 0
        if n:
            out += _phrase(run[i:i + n])
            i += n
        else:
            usual = chars.get(ord(run[i]))
            out.append(usual.split(",")[0] if usual else run[i])
            i += 1
    return tuple(out)


@lru_cache(maxsize=256)  # indexing asks for a name's twice in a row: for its readings and its sign's syllables
def _matches(name: str) -> tuple[tuple[int, str], ...]:
    """Positions and keys of the table entries found in ``name``, left to right, longest first."""
    found, i = [], 0
    while i < len(name):
        first = _BY_FIRST.get(name[i])  # most characters start no entry: no generator for them
        key = next((k for k in first if name.startswith(k, i)), None) if first else None
        if key is None:
            i += 1
        else:
            found.append((i, key))
            i += len(key)
    return tuple(found)


# CJK ideographs, their compatibility forms and the supplementary planes (𬌗 is in extension E)
_HAN_RUN = re.compile(r"([\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")


def _convert(text: str) -> list[str]:
    """One syllable per Chinese character; each run of other characters (``123``, ``A``) kept as one item."""
    out: list[str] = []
    for part in _HAN_RUN.split(text):
        if part:
            out += _convert_han(part) if _HAN_RUN.fullmatch(part) else [part]
    return out


@lru_cache(maxsize=65536)
def _convert_han(run: str) -> tuple[str, ...]:
    # runs repeat across names (避风港, 便利店, 社区居委会): each is converted once
    single = [_single_reading(c) for c in run]
    if all(single):
        return tuple(single)  # type: ignore[arg-type]
    number = _NUMERAL_RUN.search(run)
    if number is None:
        return _phrase_reading(run)
    # a number (避风港一二三 from 避风港123, 经十二路) is read character by character, each numeral with
    # its one reading as a number; the text around it keeps one numeral as context for its phrases
    # (长一 reads 长 zhǎng). So 100,000 numbered names cost a few conversions, not 100,000.
    a, b = number.span()
    left = _convert_han(run[:a + 1])[:-1] if a else ()
    right = _convert_han(run[b - 1:])[1:] if b < len(run) else ()
    return left + tuple(_NUMERAL_READINGS[c] for c in number.group()) + right


_NUMERAL_READINGS = {"零": "líng", "〇": "líng", "一": "yī", "二": "èr", "三": "sān", "四": "sì", "五": "wǔ",
                     "六": "liù", "七": "qī", "八": "bā", "九": "jiǔ", "十": "shí", "百": "bǎi", "千": "qiān",
                     "万": "wàn", "两": "liǎng"}
_NUMERAL_RUN = re.compile(f"[{''.join(_NUMERAL_READINGS)}]{{2,}}")


@lru_cache(maxsize=65536)
def syllables(name: str, *, tones: bool = True) -> tuple[str, ...]:
    """Pinyin syllables of ``name``, one per Chinese character, the reading table first.

    Characters with a single reading are looked up directly; only runs holding a polyphonic character
    go through pypinyin's phrase-aware conversion (which is what makes 200,000 names fast to index).

    >>> syllables("长清区")
    ('cháng', 'qīng', 'qū')
    >>> syllables("任城区", tones=False)
    ('ren', 'cheng', 'qu')
    """
    out: list[str] = []
    pos = 0
    for i, key in _matches(name):
        out += _convert(name[pos:i]) + list(_TABLE[key].reading)
        pos = i + len(key)
    out += _convert(name[pos:])
    return tuple(out) if tones else tuple(_strip_tones(s) for s in out)


def readings(name: str, *, tones: bool = True, limit: int = 16, known: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every reading of ``name`` the table knows: the chosen one first, then those using alternatives.

    Search should accept each of them. At most ``limit`` readings (combinations of the alternatives of
    several entries in one name); without tones, readings that differ only in tone are merged.
    ``known``: the name's :func:`sign_syllables` where they are kept, read instead of the dictionaries
    (used for a name of Chinese characters only, one syllable each).

    >>> readings("华不注山", tones=False)
    [('hua', 'fu', 'zhu', 'shan'), ('hua', 'bu', 'zhu', 'shan')]
    >>> readings("济阳区")[:2]
    [('jǐ', 'yáng', 'qū'), ('jì', 'yáng', 'qū')]
    """
    return list(_readings(name, tones, limit, known if len(known) == len(name) else ()))


@lru_cache(maxsize=65536)
def _readings(name: str, tones: bool, limit: int, known: tuple[str, ...] = ()) -> tuple[tuple[str, ...], ...]:
    def piece(a: int, b: int) -> tuple[str, ...]:
        return known[a:b] if known else tuple(_convert(name[a:b]))

    matches = _matches(name)
    if not matches:  # most names: one reading
        sylls = piece(0, len(name))
        return (sylls if tones else tuple(_strip_tones(s) for s in sylls),)
    parts: list[list[tuple[str, ...]]] = []  # the name's pieces, each with its readings
    pos = 0
    for i, key in matches:
        parts += [[piece(pos, i)], _TABLE[key].all_readings]
        pos = i + len(key)
    parts.append([piece(pos, len(name))])
    out: list[tuple[str, ...]] = []
    for combo in itertools.product(*parts):
        sylls = tuple(s for piece in combo for s in piece)
        item = sylls if tones else tuple(_strip_tones(s) for s in sylls)
        if item not in out:
            out.append(item)
        if len(out) >= limit:
            break
    return tuple(out)


_TONE_MAP = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ", "aaaaeeeeiiiioooouuuuüüüünnnm")  # 嗯 ń, 呣 ḿ


def _strip_tones(s: str) -> str:
    return s.translate(_TONE_MAP)


# --- romanisation word lists ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Generic:
    term: str
    groups: tuple[int, ...]  # lengths of the words the term is written as (服务中心 → (2, 2))
    kind: str
    chain: int
    single_join: bool
    one_word: bool
    takes_modifiers: bool


@dataclass(frozen=True)
class _Rules:
    generics: dict[str, _Generic]
    by_length: tuple[str, ...]
    modifiers: frozenset[str]
    unbroken: tuple[str, ...]
    one_word: frozenset[str]


def _str_list(doc: dict[str, Any], key: str, where: str) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ReadingsError(f"{where}: '{key}' must be a list of terms")
    return value


@cache
def _rules() -> _Rules:
    where = "placegeo/data/romanization.yaml"
    doc = yaml.load(_data_file("romanization.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    generics: dict[str, _Generic] = {}
    for kind, spec in doc["generics"].items():
        for raw in _str_list(spec, "terms", f"{where}, generics.{kind}"):
            term = raw.replace(" ", "")
            if term in generics:
                raise ReadingsError(f"{where}: generic term {term} is listed under {generics[term].kind} "
                                    f"and {kind}; keep one")
            generics[term] = _Generic(term, tuple(len(w) for w in raw.split()), kind, int(spec.get("chain", 0)),
                                      spec.get("single", "split") == "join", bool(spec.get("one_word", False)),
                                      bool(spec.get("modifiers", False)))
    return _Rules(generics, tuple(sorted(generics, key=len, reverse=True)),
                  frozenset(_str_list(doc, "modifiers", where)), tuple(_str_list(doc, "unbroken", where)),
                  frozenset(_str_list(doc, "one_word", where)))


#: Generic terms (通名), longest first, written apart from the proper name on signs.
GENERIC_TERMS: tuple[str, ...] = _rules().by_length


def _generic_of(text: str) -> _Generic | None:
    """The longest generic term ending ``text`` that leaves a proper name in front of it."""
    generics = _rules().generics
    for k in range(min(len(text) - 1, len(GENERIC_TERMS[0])), 0, -1):
        if text[-k:] in generics:
            return generics[text[-k:]]
    return None


def split_generic(name: str) -> tuple[str, str]:
    """Split a name into proper name (专名) and generic term (通名): the longest generic term at the end.

    >>> split_generic("芙蓉街"), split_generic("长清区"), split_generic("泉城广场")
    (('芙蓉', '街'), ('长清', '区'), ('泉城', '广场'))
    """
    g = _generic_of(name)
    return (name[: -len(g.term)], g.term) if g else (name, "")


# --- romanisation --------------------------------------------------------------------------------

_NUMERALS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))


def _numeral_value(text: str) -> int:
    """二 → 2, 十 → 10, 十二 → 12, 二十一 → 21, 一百零五 → 105."""
    total, digit = 0, 0
    for c in text:
        if c in _NUMERALS:
            digit = _NUMERALS[c]
        else:
            total += max(digit, 1) * {"十": 10, "百": 100}[c]
            digit = 0
    return total + digit


def _cuts_unbroken(text: str, at: int) -> bool:
    """Whether a break before ``text[at]`` cuts a word that stays whole (东市场: 市场): the word is then in
    the window of ``text`` that reaches ``len(word) - 1`` characters each side of the break."""
    return any(w in text[max(0, at - len(w) + 1):at + len(w) - 1] for w in _rules().unbroken)


def _units(text: str) -> list[tuple[int, int]]:
    """Spans of the administrative (and park, community …) units of a chained name: 济南市|历下区|芙蓉街.

    A unit ends at a chaining generic term after a proper name of at least two characters, when enough of
    the name follows, what follows is not itself just such a term (制锦市街道 is one subdistrict) and no
    word is cut (东市场).
    """
    rules, spans, start, end = _rules(), [], 0, 2
    while end < len(text):
        g = _generic_of(text[start:end])
        rest = text[end:]
        follows_term = rest in rules.generics and rules.generics[rest].chain > 0
        if (g and g.chain and end - start - len(g.term) >= 2 and len(rest) >= g.chain and not follows_term
                and not _cuts_unbroken(text, end)):
            spans.append((start, end))
            start, end = end, end + 2
        else:
            end += 1
    spans.append((start, len(text)))
    return spans


Word = tuple[int, int] | str  # a span of the name, or literal text (an ordinal written in digits)


def _group_words(start: int, g: _Generic, moved: int) -> list[Word]:
    """The generic term's words (it starts at ``start``); the ``moved`` modifiers before it join the first."""
    words: list[Word] = []
    pos, end = start - moved, start
    for n in g.groups:
        end += n
        words.append((pos, end))
        pos = end
    return words


def _unit_words(text: str, start: int, end: int, *, ordinals: str) -> list[Word]:
    """The words of one unit ``text[start:end]`` by the 1984 rules."""
    rules, unit = _rules(), text[start:end]
    if unit in rules.generics:  # a bare generic term: 殡仪馆, 服务中心
        return _group_words(start, rules.generics[unit], 0)
    g = _generic_of(unit)
    if g is None or unit in rules.one_word:
        return [(start, end)]
    proper = unit[: -len(g.term)]
    inner = _generic_of(proper)
    if g.one_word and not (inner and inner.one_word):  # rule 3: 刘家庄, but 刘家庄|村
        return [(start, end)]
    if len(proper) == 1 and len(g.term) == 1 and g.single_join:  # 江镇 Jiangzhen, 天桥 Tianqiao
        return [(start, end)]
    if g.kind == "street" and all(c in rules.modifiers for c in proper):  # 南小街 Nanxiaojie
        return [(start, end)]
    moved = 0  # rule 2: 解放东路 → Jiefang Donglu, 修文西小巷 → Xiuwen Xixiaoxiang
    while g.takes_modifiers and moved < 2 and len(proper) - moved > 2 and proper[-1 - moved] in rules.modifiers:
        moved += 1
    head = proper[: len(proper) - moved]
    split = start + len(head)
    words: list[Word] = []
    number = re.search(r"(第?)([零〇一二两三四五六七八九十百]+)$", head)
    digits = ordinals == "arabic" and g.kind == "street"
    if number and (number.group(1) or digits):  # 第二 apart (rule 6); in digits 经五路 → Jing 5 Lu (rule 7)
        if number.start():
            words.append((start, start + number.start()))
        if digits:
            words.append(("Di-" if number.group(1) else "") + str(_numeral_value(number.group(2))))
        else:
            words.append((start + number.start(), split))
    elif head:
        words.append((start, split))
    return words + _group_words(split + moved, g, moved)


def _render(sylls: list[tuple[str, bool]], tones: bool) -> str:
    """One word written out: apostrophes before a, o, e inside it (rule 11); letters and digits set apart."""
    pieces: list[str] = []
    for is_pinyin, run in itertools.groupby(sylls, key=lambda s: s[1]):
        text = ""
        for s, _ in run:
            if is_pinyin and text and s[:1] in "aoeāáǎàōóǒòēéěè":
                text += "'"
            text += s if tones or not is_pinyin else _strip_tones(s)
        pieces.append(text[:1].upper() + text[1:])
    return " ".join(pieces)


_SIGN_HAN = re.compile(r"[\u3400-\u9fff]")


def _char_syllables(text: str, known: Iterator[str] | None = None) -> list[tuple[str, bool]]:
    """One entry per character: its syllable and True, or the character itself and False (``known``:
    the syllables of the Chinese characters, in order, as :func:`sign_syllables` gives them)."""
    out: list[tuple[str, bool]] = []
    for run in re.findall(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]", text):
        if not has_han(run):
            out.append((run, False))
            continue
        if known is not None:
            sylls = [next(known) for _ in run]
        else:
            sylls = list(syllables(run))
            if len(sylls) != len(run):
                sylls = [syllables(c)[0] for c in run]
        out += [(x, True) for x in sylls]
    return out


def sign_syllables(name: str) -> tuple[str, ...]:
    """The syllable of each Chinese character of ``name``, in order, as :func:`to_pinyin` and
    :func:`romanize` read it. The search index keeps them beside each name, so that writing a hit's
    pinyin needs no dictionary (``known=``).

    >>> sign_syllables("长清区 (G220)")
    ('cháng', 'qīng', 'qū')
    """
    return tuple(s for s, is_syllable in _char_syllables(name) if is_syllable)


@lru_cache(maxsize=65536)
def _words(text: str, ordinals: str) -> tuple[Word, ...]:
    """The words of ``text`` on a sign, unit by unit (the same for its pinyin and its romanisation)."""
    return tuple(w for s, e in _units(text) for w in _unit_words(text, s, e, ordinals=ordinals))


def _sign(text: str, *, tones: bool, ordinals: str, known: Iterator[str] | None = None) -> str:
    sylls = _char_syllables(text, known)
    return " ".join(w if isinstance(w, str) else _render(sylls[w[0]:w[1]], tones) for w in _words(text, ordinals))


def _by_pieces(name: str, *, tones: bool, ordinals: str, known: tuple[str, ...] = ()) -> str:
    """Names with spaces or punctuation are written piece by piece, the separators kept; ``known``: see
    :func:`sign_syllables` (ignored unless it has one syllable for each character)."""
    parts = re.split(r"(\s+|[()（）·・,，、/]+)", name.strip())
    syllable_of = iter(known) if known and len(known) == len(_SIGN_HAN.findall(name)) else None
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(" " if part.isspace() else part.replace("（", " (").replace("）", ")"))
        elif part:
            out.append(_sign(part, tones=tones, ordinals=ordinals, known=syllable_of))
    return re.sub(r"\s+", " ", "".join(out)).strip()


@lru_cache(maxsize=65536)
def to_pinyin(name: str, *, tones: bool = True, known: tuple[str, ...] = ()) -> str:
    """Pinyin of a place name in sign form, tone marks kept (the ``pinyin`` field of the layers);
    ``known``: its :func:`sign_syllables`, where they are kept.

    >>> to_pinyin("趵突泉"), to_pinyin("长清区"), to_pinyin("泺口")
    ('Bàotū Quán', 'Chángqīng Qū', 'Luòkǒu')
    """
    return _by_pieces(name, tones=tones, ordinals="pinyin", known=known)


@lru_cache(maxsize=65536)
def romanize(name: str, *, ordinals: str = "pinyin", known: tuple[str, ...] = ()) -> str:
    """Romanised name for signs, by the 1984 rules for Chinese place names in pinyin, without tone marks.

    * proper name and generic term apart, each capitalised (rule 1): 芙蓉街 → Furong Jie, 山东省 →
      Shandong Sheng; a chained name unit by unit: 济南市历下区 → Jinan Shi Lixia Qu;
    * single-syllable modifiers with the generic term (rule 2): 解放东路 → Jiefang Donglu, 黑虎泉西路 →
      Heihuquan Xilu; a proper name holding a generic term is one word (rule 4): 大明湖路 → Daminghu Lu;
    * natural villages and settlements one word (rule 3): 王村 → Wangcun, 刘家庄 → Liujiazhuang; so is a
      one-character proper name with a one-character term of a town, bridge, valley, building … (江镇
      Jiangzhen in the rules; 天桥 Tianqiao, 金乡 Jinxiang, 潍坊 Weifang), whereas with a county, city,
      district, province, street, hill, river, lake or spring term the two stay apart as in the rules'
      examples (通县 Tong Xian, 单县 Shan Xian, 横街 Heng Jie, 太湖 Tai Hu, 泰山 Tai Shan);
      administrative names used as a proper name keep their term inside it (泰山区 → Taishan Qu), and
      counties named after a hill or river are one word alone (商河 → Shanghe; list in the data file);
    * long facility names break at the generic terms they hold (rule 14): 芙蓉街社区长者助餐点 →
      Furongjie Shequ Zhangzhe Zhucandian;
    * apostrophe before a, o, e starting a syllable inside a word (rule 11): 西安 → Xi'an; 济南 is
      Jinan (南 starts with n, so there is nothing to mark).

    Ordinals in street names: rule 7 writes them in Arabic digits (经五路 → Jing 5 Lu), rule 6 writes the
    other numerals in pinyin. placegeo writes them in pinyin by default (经五路 → Jingwu Lu, 经十路 →
    Jingshi Lu) because in Jinan 经X路 and 纬X路 are the names of the streets of the 商埠 grid, not
    counts, they are known and addressed as Jingshi Lu and Jingqi Lu, and a sign in pinyin matches what
    people type in search; ``ordinals="arabic"`` gives the rule-7 form.

    Limits: a name alone does not tell a natural village ending in a hill or river term (太平沟,
    三岔河) from the hill or river, nor a one-character town with a county term (漷县); those follow
    the hill, river or county rule.

    ``known``: the name's :func:`sign_syllables`, where they are kept (the search index keeps them).

    >>> romanize("芙蓉街"), romanize("济南市历下区"), romanize("解放东路"), romanize("刘家庄")
    ('Furong Jie', 'Jinan Shi Lixia Qu', 'Jiefang Donglu', 'Liujiazhuang')
    >>> romanize("经五路"), romanize("经五路", ordinals="arabic"), romanize("西安路")
    ('Jingwu Lu', 'Jing 5 Lu', "Xi'an Lu")
    """
    if ordinals not in ("pinyin", "arabic"):
        raise ValueError(f"ordinals={ordinals!r}: use 'pinyin' (经五路 → Jingwu Lu) or 'arabic' (Jing 5 Lu)")
    return _by_pieces(name, tones=False, ordinals=ordinals, known=known)


use_readings()
