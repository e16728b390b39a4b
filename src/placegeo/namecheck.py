"""Check a proposed place name by the place-name regulations (地名命名审核).

The rules of the 地名管理条例 (2022) and its implementing measures, as a bureau applies them:

* **大** — words far larger than the place (宇宙, 环球, 中央, 国际 …);
* **洋** — foreign place names and transliterations (曼哈顿, 维多利亚 …), foreign words (哩), Latin letters;
* **怪** — digits, symbols, rare characters;
* **重** — the same name, a homophone or a near name (芙蓉路 / 芙蓉街) of the same feature type within
  the jurisdiction where the regulation requires names to differ (streets within the urban area,
  towns within a county, villages and communities within a town, counties nationwide); the same
  outside that jurisdiction is reported for information only;
* **人名** — national leaders' names (refused), other persons' names (need special approval);
* **用字**, **长度** — traditional forms, length.

Every list, severity, feature type and citation is data (``data/namecheck/*.yaml``); a bureau
extends them with its own file (``$PLACEGEO_NAMECHECK_RULES`` or ``rules_file=``).

>>> from placegeo.search import NameRecord, SearchIndex
>>> idx = SearchIndex.from_records([NameRecord("r1", "芙蓉街", "traditional_place_names", "古城",
...                                            "370102", "370102001")])
>>> check_name(idx, "芙容街", area_code="370102001")["verdict"]
'refused'
>>> report = check_name(idx, "曼哈顿大道", area_code="370102")
>>> report["verdict"], [f["rule"] for f in report["findings"]]
('refused', ['洋'])
>>> check_name(idx, "李清照路", area_code="370102")["verdict"]
'needs_approval'
>>> check_name(idx, "新泉路", area_code="370102")["verdict"]
'ok'
"""

from __future__ import annotations

import os
import re
import unicodedata
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from placegeo.errors import NameCheckError
from placegeo.generics import equivalence_key, load_generic_classes
from placegeo.pinyin import has_han, romanize, syllables, to_pinyin

if TYPE_CHECKING:  # search.py re-exports check_name: importing it here at run time would be a cycle
    from placegeo.search import NameRecord, SearchIndex

__all__ = ["RULES_ENV", "check_name", "feature_type_of", "load_rules", "record_type"]

RULES_ENV = "PLACEGEO_NAMECHECK_RULES"
_SECTIONS = {"sources", "citations", "severities", "length", "admin_suffixes", "feature_types", "record_types",
             "grandiose", "foreign", "odd", "persons"}
_SCOPE_DIGITS = {"nation": 0, "province": 2, "city": 4, "county": 6, "town": 9}
_NUMERALS = set("〇零一二三四五六七八九十百")
_MAX_MATCHES = 20


# -- rules ----------------------------------------------------------------------------------------
def _merge(base: Any, extra: Any) -> Any:
    """Lists extended (without repeats), mappings merged, anything else replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(extra, list):
        return base + [v for v in extra if v not in base]
    return extra


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise NameCheckError(f"{where} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise NameCheckError(f"{where}: expected a mapping of sections ({', '.join(sorted(_SECTIONS))})")
    unknown = set(doc) - _SECTIONS
    if unknown:
        raise NameCheckError(f"{where}: unknown section(s) {', '.join(map(str, sorted(unknown)))}; "
                             f"use {', '.join(sorted(_SECTIONS))}")
    return doc


def _extra_paths(extra: str | Path | Sequence[str | Path] | None) -> list[Path]:
    env = [p for p in os.environ.get(RULES_ENV, "").split(os.pathsep) if p.strip()]
    given = [] if extra is None else [extra] if isinstance(extra, str | Path) else list(extra)
    return [Path(p) for p in [*env, *given]]


def load_rules(extra: str | Path | Sequence[str | Path] | None = None) -> dict[str, Any]:
    """The name-check rules: the package's files, then ``$PLACEGEO_NAMECHECK_RULES``, then ``extra``.

    A later file extends an earlier one (lists extended, mappings merged, values replaced).

    >>> rules = load_rules()
    >>> rules["feature_types"]["road"]["scope"], "曼哈顿" in rules["foreign"]["places"]
    ('county', True)
    """
    paths = _extra_paths(extra)
    stamps = []
    for p in paths:
        try:
            stamps.append((str(p), p.stat().st_mtime_ns))
        except OSError:
            raise NameCheckError(f"name-check rule file '{p}' does not exist; check {RULES_ENV} "
                                 "or the rules_file argument") from None
    return _load(tuple(stamps))


@lru_cache(maxsize=16)
def _load(stamps: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    folder = resources.files("placegeo").joinpath("data/namecheck")
    merged: dict[str, Any] = {}
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith(".yaml"):
            doc = _read_yaml(item.read_text(encoding="utf-8"), f"placegeo/data/namecheck/{item.name}")
            merged = _merge(merged, doc)
    for path, _ in stamps:
        merged = _merge(merged, _read_yaml(Path(path).read_text(encoding="utf-8"), path))
    _validate(merged)
    # derived once: (generic term, feature type), longest term first
    merged["_type_generics"] = _type_generics(merged)
    return merged


def _validate(rules: dict[str, Any]) -> None:
    severities = rules.get("severities", [])
    for name, t in rules.get("feature_types", {}).items():
        if not isinstance(t, dict) or t.get("scope") not in _SCOPE_DIGITS:
            raise NameCheckError(f"feature type {name!r}: scope must be one of {', '.join(_SCOPE_DIGITS)}")
        if not isinstance(t.get("generics", []), list):
            raise NameCheckError(f"feature type {name!r}: generics must be a list of generic terms")
    for key, cite in rules.get("citations", {}).items():
        if not isinstance(cite, dict) or cite.get("source") not in rules.get("sources", {}):
            raise NameCheckError(f"citation {key!r}: 'source' must name an entry of 'sources'")
    for section in ("grandiose", "foreign", "odd", "persons"):
        spec = rules.get(section, {})
        for k, v in [*spec.items(), *spec.get("transliteration", {}).items(), *spec.get("pattern", {}).items()]:
            if k.endswith("severity") and v not in severities:
                raise NameCheckError(f"{section}.{k}: {v!r} is not a severity ({', '.join(severities)})")
        for cite in spec.get("citations", []):
            if cite not in rules.get("citations", {}):
                raise NameCheckError(f"{section}.citations: {cite!r} is not an entry of 'citations'")
    for key, t in rules.get("record_types", {}).items():
        if t not in rules.get("feature_types", {}):
            raise NameCheckError(f"record_types.{key}: {t!r} is not a feature type")


def _cite(rules: dict[str, Any], keys: Iterable[str]) -> str:
    parts = []
    for key in keys:
        c = rules["citations"][key]
        parts.append(f"{rules['sources'][c['source']]}{c.get('article') or ''}：{c['text']}")
    return "；".join(parts)


# -- feature types --------------------------------------------------------------------------------
def _type_generics(rules: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [(g, name) for name, t in rules["feature_types"].items() for g in t.get("generics", [])]
    return sorted(pairs, key=lambda p: -len(p[0]))


def feature_type_of(name: str, *, rules: dict[str, Any] | None = None) -> tuple[str | None, str]:
    """The feature type a name's generic term gives, and that term (None and '' without one).

    >>> feature_type_of("香榭丽舍大街"), feature_type_of("趵突泉街道"), feature_type_of("泺口")
    (('road', '大街'), ('town', '街道'), (None, ''))
    """
    rules = rules or load_rules()
    short = _short(name, rules)
    for term, type_ in rules.get("_type_generics") or _type_generics(rules):
        if short.endswith(term) and len(short) > len(term):
            return type_, term
    return None, ""


def _resolve_type(given: str, rules: dict[str, Any]) -> str:
    types = rules["feature_types"]
    if given in types:
        return given
    for name, t in types.items():
        if given in t.get("aliases", []):
            return name
    known = ", ".join(f"{k} ({v['zh']})" for k, v in types.items())
    raise NameCheckError(f"unknown feature type {given!r}; use one of {known}, or leave it out to take the type "
                         "from the name's generic term")


def record_type(record: NameRecord, *, rules: dict[str, Any] | None = None) -> str | None:
    """The feature type of an existing record: by its layer and category, else by its generic term.

    >>> from placegeo.search import NameRecord
    >>> record_type(NameRecord("x", "芙蓉街", "traditional_place_names", "古城"))
    'road'
    >>> record_type(NameRecord("y", "历下区", "admin_units", "district"))
    'county'
    """
    rules = rules or load_rules()
    by = rules["record_types"]
    found = by.get(f"{record.layer}/{record.category}") or by.get(record.layer)
    return found if found else feature_type_of(record.name, rules=rules)[0]


def _short(name: str, rules: dict[str, Any]) -> str:
    for s in rules["admin_suffixes"]:
        if name.endswith(s) and len(name) > len(s) + 1:
            # a community keeps its generic term: 建设路社区居民委员会 -> 建设路社区
            return name[: -len(s)] + ("社区" if s.startswith("社区") else "")
    return name


# -- the names of the index, prepared once per index -------------------------------------------------
def _reading(text: str) -> str:
    sylls = [s.replace("ü", "v").lower() for s in syllables(text, tones=False)]
    return "".join(s for s in sylls if re.fullmatch(r"[a-z]+", s))


@dataclass
class _Table:
    keys: list[str]
    types: list[str | None]
    codes: list[str]
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_equiv: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_county: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_reading: dict[str, list[int]] | None = None  # only for an index without a pinyin table

    def same_reading(self, index: SearchIndex, reading: str) -> list[int]:
        """Records whose name reads ``reading``. The index's pinyin table gives the candidates (it
        also holds former names and short forms), each confirmed by the record's own name."""
        postings = getattr(index, "pinyin", None)
        if not isinstance(postings, dict):
            if self.by_reading is None:
                self.by_reading = defaultdict(list)
                for i, k in enumerate(self.keys):
                    self.by_reading[_reading(k)].append(i)
            return list(self.by_reading.get(reading, []))
        return [i for i in dict.fromkeys(postings.get(reading, [])) if _reading(self.keys[i]) == reading]


_TABLES: dict[int, tuple[weakref.ref, int, _Table]] = {}


def _table(index: SearchIndex, rules: dict[str, Any]) -> _Table:
    """Names, readings, types and codes of the index's records, cached for the life of the index."""
    from placegeo.text import normalize

    cached = _TABLES.get(id(index))
    if cached and cached[0]() is index and cached[1] == id(rules) and len(cached[2].keys) == len(index.records):
        return cached[2]
    recs = index.records
    keys = [normalize(_short(r.name, rules)) for r in recs]
    table = _Table(keys, [record_type(r, rules=rules) for r in recs],
                   [str(r.town_code or r.district_code or "") for r in recs])
    for i, k in enumerate(keys):
        table.by_key[k].append(i)
        eq = equivalence_key(k)
        if eq:
            table.by_equiv[eq].append(i)
        table.by_county[table.codes[i][:6]].append(i)
    _TABLES[id(index)] = (weakref.ref(index), id(rules), table)
    weakref.finalize(index, _TABLES.pop, id(index), None)
    return table


# -- the check ------------------------------------------------------------------------------------
def _finding(rules: dict[str, Any], rule: str, severity: str, zh: str, en: str, citations: Iterable[str],
             matches: list[Any] | None = None) -> dict[str, Any]:
    return {"rule": rule, "severity": severity, "message": f"{zh} / {en}", "citation": _cite(rules, citations),
            "matches": matches or []}


def _check_length(name: str, rules: dict[str, Any], max_chars: int | None) -> list[dict[str, Any]]:
    lo, hi = rules["length"]["min_chars"], max_chars or rules["length"]["max_chars"]
    if lo <= len(name) <= hi:
        return []
    return [_finding(rules, "长度", "refused", f"共{len(name)}个字，应为{lo}至{hi}个字",
                     f"{len(name)} characters; use {lo} to {hi}", ["length"], [len(name)])]


def _check_characters(name: str, rules: dict[str, Any]) -> list[dict[str, Any]]:
    from placegeo.text import normalize

    odd, foreign = rules["odd"], rules["foreign"]
    out = []
    traditional = [c for c in name if has_han(c) and normalize(c) != c]
    simplified = "".join(normalize(c) or c for c in name)
    if traditional:
        out.append(_finding(rules, "用字", "refused", f"使用了繁体字“{''.join(traditional)}”，应使用规范汉字",
                            "traditional forms; write the simplified (规范) characters", ["characters"], traditional))
    rare = [c for c in simplified if has_han(c) and not _in_basic_set(c)]
    if rare:
        out.append(_finding(rules, odd["rule"], odd["rare_severity"],
                            f"“{''.join(rare)}”不在常用字集（GB 2312）内，请对照《通用规范汉字表》核实是否为生僻字",
                            "outside GB 2312: check against the 通用规范汉字表 (rare characters)",
                            odd["citations"], rare))
    digits = re.findall(r"\d", name)
    if digits:
        out.append(_finding(rules, odd["rule"], odd["digits_severity"],
                            "地名中夹用阿拉伯数字，应以汉字书写（经二路，不作经2路）",
                            "Arabic digits mixed with characters; write numbers in characters (经二路, not 经2路)",
                            odd["citations"], digits))
    letters = re.findall(r"[A-Za-z]+", name)
    if letters:
        out.append(_finding(rules, foreign["rule"], foreign["letters_severity"],
                            f"使用了拉丁字母“{''.join(letters)}”，地名应使用规范汉字",
                            "Latin letters; a place name is written in Chinese characters",
                            foreign["citations"], letters))
    symbols = [c for c in name if not (has_han(c) or c.isalnum())]
    if symbols:
        out.append(_finding(rules, odd["rule"], odd["symbols_severity"], f"含有符号“{''.join(symbols)}”",
                            "symbols in the name", odd["citations"], symbols))
    return out


def _in_basic_set(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _check_words(simplified: str, proper: str, rules: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    big = rules["grandiose"]
    for severity in rules["severities"]:
        words = [w for w in big.get(severity, []) if w in simplified]
        if words:
            out.append(_finding(rules, big["rule"], severity,
                                f"含有词义明显过大的词语“{'、'.join(words)}”，与实体规模不符",
                                "grandiose words, far larger than the place they name", big["citations"], words))
    fo = rules["foreign"]
    places = [p for p in fo["places"] if p in simplified]
    if places:
        out.append(_finding(rules, fo["rule"], fo["places_severity"], f"使用外国地名或其音译“{'、'.join(places)}”",
                            "a foreign place name or its transliteration", fo["citations"], places))
    words = [w for w in fo["words"] if w in simplified]
    if words:
        out.append(_finding(rules, fo["rule"], fo["words_severity"], f"使用外来词“{'、'.join(words)}”",
                            "a foreign word or unit written in transliterating characters", fo["citations"], words))
    runs = _transliteration_runs(proper, fo["transliteration"], places)
    if runs:
        out.append(_finding(rules, fo["rule"], fo["transliteration"]["severity"],
                            f"“{'、'.join(runs)}”像是外语音译词，请核实含义",
                            "looks like a transliterated foreign word; check its meaning", fo["citations"], runs))
    return out


def _transliteration_runs(text: str, spec: dict[str, Any], known: list[str]) -> list[str]:
    for p in known:
        text = text.replace(p, "\0")
    runs = re.findall(f"[{re.escape(spec['chars'])}]{{{int(spec['min_run'])},}}", text)
    return [r for r in runs if any(c in spec["strong"] for c in r)]


def _check_persons(simplified: str, proper: str, rules: dict[str, Any]) -> list[dict[str, Any]]:
    ps, out = rules["persons"], []
    leaders = [n for n in ps["leaders"] if n in simplified]
    if leaders:
        out.append(_finding(rules, ps["rule"], "refused", f"使用国家领导人的名字“{'、'.join(leaders)}”作地名",
                            "a national leader's name may not be a place name", ["persons"], leaders))
    historical = [n for n in ps["historical"] if n in simplified and n not in leaders]
    # the person's name is the proper name, or begins it before a place morpheme (孔子山); inside
    # another word (李白杨村: 白杨, poplars) it is only a warning
    named = [n for n in historical if proper == n or (proper.startswith(n) and
                                                     proper[len(n)] in ps["pattern"]["not_in_given_name"])]
    if named:
        out.append(_finding(rules, ps["rule"], "needs_approval",
                            f"以人名“{'、'.join(named)}”作地名：一般不以人名作地名，确需使用须按规定论证报批",
                            "a person's name: not used as a place name in general; needs the special approval",
                            ps["citations"], named))
    if set(historical) - set(named):
        inside = [n for n in historical if n not in named]
        out.append(_finding(rules, ps["rule"], ps["pattern"]["severity"],
                            f"名称中含有人名“{'、'.join(inside)}”，请核实是否以人名命名",
                            "contains a person's name; check whether the place is named after the person",
                            ps["citations"], inside))
    elif not leaders and not named and _looks_like_person(proper, ps["pattern"]):
        out.append(_finding(rules, ps["rule"], ps["pattern"]["severity"],
                            f"专名“{proper}”形似人名（姓＋名），请核实", f"the proper name {proper} looks like a "
                            "person's name (surname + given name); check", ps["citations"], [proper]))
    return out


def _looks_like_person(proper: str, pattern: dict[str, Any]) -> bool:
    compound = next((s for s in pattern["compound_surnames"] if proper.startswith(s)), None)
    surname = compound or (proper[:1] if proper[:1] in pattern["surnames"] else None)
    if surname is None:
        return False
    given = proper[len(surname):]
    # villages of several clans (孙刘李, 周王许) join surnames, not a surname and a given name
    return 1 <= len(given) <= 2 and len(proper) >= 3 and not any(
        c in pattern["not_in_given_name"] or c in pattern["surnames"] for c in given)


def _check_unique(index: SearchIndex, key: str, type_: str, area: str | None,
                  rules: dict[str, Any]) -> list[dict[str, Any]]:
    """重: the same name, a homophone, a near name, within the jurisdiction of the type or outside it."""
    table = _table(index, rules)
    spec = rules["feature_types"][type_]
    digits = _SCOPE_DIGITS[spec["scope"]]
    reading = _reading(key)
    eq = equivalence_key(key)
    found: dict[int, str] = {}
    for i in table.by_key.get(key, []):
        found[i] = "identical"
    for i in table.same_reading(index, reading) if reading else []:
        found.setdefault(i, "homophone")
    for i in _near_by_generic(index, table, eq):
        found.setdefault(i, "near")
    for i in _one_apart_candidates(table, key, type_, area, digits):
        found.setdefault(i, "one_apart")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for i, how in sorted(found.items()):
        same_type = type_ == "unknown" or table.types[i] == type_
        within = _within(table.codes[i], area, digits)
        groups[(how, _dup_severity(how, same_type, within, spec["required"]))].append(
            _match(index.records[i], table.types[i], how, within))
    out = []
    scope_zh = {"nation": "全国", "province": "同一省内", "city": "同一市内", "county": "同一县级行政区内",
                "town": "同一乡级行政区内"}[spec["scope"] if area else "nation"]
    what = {"identical": ("重名", "the same name"), "homophone": ("同音", "a name that reads the same"),
            "near": ("近似（专名同音、通名同类）", "a near name (the same proper name, or one reading the same, "
                     "with an equivalent generic term)"),
            "one_apart": ("近似（仅差一字）", "a near name (one character apart)")}
    for (how, severity), matches in sorted(groups.items(), key=lambda g: -rules["severities"].index(g[0][1])):
        inside = severity != "info"
        where = f"{scope_zh}{spec['zh']}" if inside else "辖区外或不同类"
        where_en = "within the jurisdiction" if inside else "outside the jurisdiction or of another type"
        names = "、".join(m["name"] for m in matches[:5])
        out.append(_finding(rules, "重", severity, f"与{where}地名{what[how][0]}：{names}",
                            f"{what[how][1]} {where_en}: {names}", ["unique"], matches[:_MAX_MATCHES]))
    return out


def _near_by_generic(index: SearchIndex, table: _Table, eq: tuple[str, str] | None) -> list[int]:
    """The same proper name, or one that reads the same, with a term of the same generic class
    (芙蓉路 -> 芙蓉街, 芙容路 -> 芙蓉街, 大明湖公园 -> 大明湖)."""
    if eq is None:
        return []
    proper, cls = eq
    found = list(table.by_equiv.get(eq, []))
    reading = _reading(proper)
    for term in load_generic_classes()[cls] if reading else ():
        for i in table.same_reading(index, reading + _reading(term)):
            other = equivalence_key(table.keys[i])
            if other and other[1] == cls and _reading(other[0]) == reading:
                found.append(i)
    return found


def _dup_severity(how: str, same_type: bool, within: bool, required: bool) -> str:
    if not within:
        return "info"
    if how == "near":  # an equivalent generic term names the same kind of place whatever the layer says
        return "warning"
    if how == "one_apart":
        return "warning" if same_type else "info"
    if same_type:
        return "refused" if required else "warning"
    return "warning" if how == "identical" else "info"


def _within(code: str, area: str | None, digits: int) -> bool:
    """Whether a record lies in the jurisdiction; unknown area or location counts as within (the safe side)."""
    if area is None or digits == 0 or not code:
        return True
    n = min(digits, len(area))
    n = min(n, len(code))  # a record known only by its county may lie in the town
    return code[:n] == area[:n]


def _one_apart_candidates(table: _Table, key: str, type_: str, area: str | None, digits: int) -> list[int]:
    """Names of the same type one character apart within the county (or everywhere without an area)."""
    if len(key) < 3:
        return []
    pool: Iterable[int] = (table.by_county.get(area[:6], []) if area and len(area) >= 6 and digits > 0
                           else range(len(table.keys)))
    return [i for i in pool if table.types[i] == type_ and abs(len(table.keys[i]) - len(key)) <= 1
            and _one_apart(table.keys[i], key)]


def _one_apart(a: str, b: str) -> bool:
    """One character inserted, removed or replaced, a series (经二路/经三路) excepted."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        return len(diff) == 1 and not (diff[0][0] in _NUMERALS and diff[0][1] in _NUMERALS)
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short and long_[i] not in _NUMERALS for i in range(len(long_)))


def _match(r: NameRecord, type_: str | None, how: str, within: bool) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "layer": r.layer, "type": type_, "category": r.category,
            "district_code": r.district_code, "town_code": r.town_code, "relation": how, "within": within}


def _check_area(area_code: str | None) -> str | None:
    if area_code is None:
        return None
    code = str(area_code).strip()
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}", code):
        raise NameCheckError(f"area_code {area_code!r}: give the 6-digit county or 9-digit town code of the "
                             "place where the name would be used (e.g. the first 6 or 9 digits of a village's code)")
    return code[:9]


def check_name(
    index: SearchIndex,
    name: str,
    *,
    feature_type: str | None = None,
    area_code: str | None = None,
    max_chars: int | None = None,
    rules: dict[str, Any] | None = None,
    rules_file: str | Path | Sequence[str | Path] | None = None,
) -> dict[str, Any]:
    """Check a proposed place name against the regulations and the existing names of ``index``.

    Parameters
    ----------
    index
        The atlas's :class:`~placegeo.search.SearchIndex` (its records' names, layers, categories,
        district and town codes).
    name
        The proposed name, in Chinese characters.
    feature_type
        A type of ``rules.yaml`` (road, town, village, county, residential, natural, park, bridge)
        or its alias as the layers write it (街巷, 村, 泉 …); default: from the name's generic term.
    area_code
        The 6-digit county or 9-digit town code where the name would be used. Duplicates outside
        the jurisdiction it gives are reported as info. Without it every same-type name counts.
    max_chars
        Longest name allowed (default from the rules, 12).
    rules, rules_file
        Rules already loaded with :func:`load_rules`, or an extra rule file to load with them.

    Returns
    -------
    dict
        ``name``, ``pinyin``, ``romanized``, ``feature_type``, ``feature_type_from``, ``area_code``,
        ``verdict`` (refused, needs_approval, warning or ok) and ``findings``: each with ``rule``
        (大, 洋, 怪, 重, 人名, 用字, 长度), ``severity``, ``message`` (Chinese / English),
        ``citation`` and ``matches``.
    """
    from placegeo.text import normalize

    rules = rules if rules is not None else load_rules(rules_file)
    text = unicodedata.normalize("NFKC", str(name or "")).strip()
    if not text or not has_han(text):
        raise NameCheckError("give the proposed name in Chinese characters (e.g. 芙蓉路)")
    area = _check_area(area_code)
    simplified = "".join(normalize(c) or c for c in text)  # character by character: keeps letters' case
    key = normalize(_short(text, rules))
    if feature_type:
        type_, source = _resolve_type(feature_type, rules), "given"
    else:
        derived, term = feature_type_of(simplified, rules=rules)
        type_, source = (derived, f"generic term {term}") if derived else ("unknown", "no generic term")
    proper_name = _proper(simplified, rules)
    findings = [
        *_check_persons(simplified, proper_name, rules),
        *_check_words(simplified, proper_name, rules),
        *_check_characters(text, rules),
        *_check_length(text, rules, max_chars),
        *_check_unique(index, key, type_, area, rules),
    ]
    if area is None:
        findings.append(_finding(rules, "重", "info", "未给出拟用地区代码：全图同类地名均按同一辖区查重",
                                 "no area_code: every name of the same type counts as within the jurisdiction; "
                                 "give the county or town code to narrow it", ["unique"]))
    order = rules["severities"]
    findings.sort(key=lambda f: -order.index(f["severity"]))
    worst = max((order.index(f["severity"]) for f in findings), default=0)
    return {"name": text, "pinyin": to_pinyin(simplified), "romanized": romanize(simplified),
            "feature_type": type_, "feature_type_from": source, "area_code": area,
            "verdict": "ok" if worst == 0 else order[worst], "findings": findings}


def _proper(name: str, rules: dict[str, Any]) -> str:
    short = _short(name, rules)
    _, term = feature_type_of(short, rules=rules)
    return short[: -len(term)] if term else short
