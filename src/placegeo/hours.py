"""Opening hours as people write them, read once for the import, coverage and the web map.

Chinese bureau lists and Amap/Baidu exports write hours in many ways (``8:30-17:30``,
``08:30—17:30``, ``8：30至17：30``, ``24小时``, ``17:00-次日8:00``, ``上午8:00-12:00 下午14:00-18:00``,
``周一至周五 9:00-17:00；周六 9:00-12:00``, ``工作日 8:30-17:30 节假日除外``). :func:`parse_hours`
reads them into rules and a normalised text in OpenStreetMap ``opening_hours`` syntax
(https://wiki.openstreetmap.org/wiki/Key:opening_hours), e.g. ``Mo-Fr 09:00-17:00; PH off``, which
is what the atlas stores beside the original text. Text it cannot read is kept as it is, with
``ok=False`` and a problem saying which part was not understood: it is never guessed open or closed.

The words it knows (weekday names, 工作日, 节假日, 次日, 下午, …) are in ``data/opening_hours.yaml``.

Semantics follow OpenStreetMap: a later rule for a day replaces an earlier one (``每天 9:00-17:00；
周一闭馆`` is closed on Mondays); a range that ends at or before its start runs past midnight and
belongs to the day it starts on (``Fr 20:00-08:00`` is open on Saturday at 03:00, whatever a rule for
Saturday says); ``24:00`` is the end of the day and, as a start, 00:00. Public holidays are not
modelled as dates: ``PH off`` is kept in the normalised text, but :func:`is_open` answers for the
weekday alone, as on an ordinary week.

Examples
--------
>>> h = parse_hours("周一至周五 8:00-12:00、14:00-18:00，节假日除外")
>>> h.osm, h.ok
('Mo-Fr 08:00-12:00,14:00-18:00; PH off', True)
>>> is_open(h, weekday=2, hour=15), is_open(h, weekday=2, hour=13), is_open(h, weekday=6, hour=10)
(True, False, False)
>>> parse_hours("全天24小时").osm, is_open("20:00-次日8:00", weekday=1, hour=3)
('24/7', True)
>>> bad = parse_hours("看情况")
>>> bad.ok, bad.osm, is_open(bad, weekday=1, hour=9)
(False, None, None)
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import yaml

from placegeo.errors import OpeningHoursError

__all__ = [
    "OpeningHours",
    "Rule",
    "derive_open_24h",
    "hours_columns",
    "is_open",
    "open_keys",
    "open_mask",
    "parse_hours",
    "parse_yes_no",
]

DAY_MIN = 24 * 60
_OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")  # ISO weekday - 1
_ALL_DAYS = (1, 2, 3, 4, 5, 6, 7)


@dataclass(frozen=True)
class Rule:
    """One rule: on ``days`` (ISO weekdays, 1 = Monday) or on public holidays, open during ``spans``.

    ``spans`` are (start, end) in minutes after the day's midnight; an end above 1440 runs into the
    next day. ``off`` rules have no spans.
    """

    days: tuple[int, ...]
    spans: tuple[tuple[int, int], ...] = ()
    off: bool = False
    holiday: bool = False


@dataclass(frozen=True)
class OpeningHours:
    """Opening hours read from ``text``: the rules, their OpenStreetMap form, or why they could not be read.

    Attributes
    ----------
    text : str
        The text as written.
    osm : str or None
        The normalised OpenStreetMap ``opening_hours`` form (None when ``ok`` is False).
    rules : tuple of Rule
        The rules in order; a later rule for a day replaces an earlier one.
    ok : bool
        Whether the text was understood.
    problem : str or None
        What was not understood, and how to write it instead.
    """

    text: str
    osm: str | None
    rules: tuple[Rule, ...]
    ok: bool
    problem: str | None = None


# -- the words, from the data file ------------------------------------------------------------------

@cache
def _words() -> dict[str, Any]:
    path = resources.files("placegeo") / "data" / "opening_hours.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def _phrases() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every known phrase, longest first, and what each becomes."""
    w = _words()
    table: dict[str, str] = {}

    def put(words, token: str) -> None:
        for word in words:
            table.setdefault(unicodedata.normalize("NFKC", str(word)).lower(), f" {token} ")

    put(w["every_day"], "Mo-Su")
    put(w["always"], "24/7")
    for prefix in w["weekday_prefixes"]:
        for numeral, day in w["weekday_numerals"].items():
            put([prefix + numeral], day)
    for group, days in w["day_groups"].items():
        put([group], days)
    put(w["holidays"], "PH")
    put(w["closed"], "off")
    put(w["dashes"], "-")
    put(w["next_day"], "@next")
    put(w["before_noon"], "@am")
    put(w["after_noon"], "@pm")
    put(w["noon"], "@noon")
    put(w["list_marks"], ",")
    put(w["fillers"], "")
    pattern = re.compile("|".join(re.escape(p) for p in sorted(table, key=len, reverse=True)), re.IGNORECASE)
    return pattern, table


@cache
def _shorthands() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """周一至五 (a range whose end drops the prefix) and 周六日 (two days under one prefix)."""
    w = _words()
    pre = "|".join(map(re.escape, w["weekday_prefixes"]))
    num = "[" + "".join(w["weekday_numerals"]) + "]"
    dash = "|".join(map(re.escape, [*w["dashes"], "-"]))
    span = re.compile(rf"({pre})({num})\s*(?:{dash})\s*({num})(?!{num})")
    pair = re.compile(rf"({pre})({num}{{2,}})")
    return span, pair


_CLOCK = [  # Chinese clock forms -> H:MM
    (re.compile(r"(\d{1,2})\s*点\s*半"), lambda m: f"{m[1]}:30"),
    (re.compile(r"(\d{1,2})\s*[点时]\s*(\d{1,2})\s*分?"), lambda m: f"{m[1]}:{int(m[2]):02d}"),
    (re.compile(r"(\d{1,2})\s*[点时]"), lambda m: f"{m[1]}:00"),
    (re.compile(r"(?<![\d.:])(\d{1,2})\.(\d{2})(?![\d.:])"), lambda m: f"{m[1]}:{m[2]}"),
]
_TOKEN = re.compile(
    r"(?P<time>\d{1,2}:\d{2})|(?P<always>24/7)|(?P<day>Mo|Tu|We|Th|Fr|Sa|Su)|(?P<ph>PH)|(?P<off>off)"
    r"|(?P<mark>@am|@pm|@noon|@next)|(?P<dash>-)|(?P<sep>[,/:(\[【])|(?P<close>[)\]】])|(?P<semi>[;\n|])|(?P<space>\s+)",
    re.IGNORECASE,
)


def _rewrite(text: str) -> str:
    """The text with every known Chinese phrase replaced by its OpenStreetMap token."""
    s = unicodedata.normalize("NFKC", text)
    span, pair = _shorthands()
    s = span.sub(lambda m: f"{m[1]}{m[2]}-{m[1]}{m[3]}", s)
    s = pair.sub(lambda m: ",".join(m[1] + d for d in m[2]), s)
    pattern, table = _phrases()
    s = pattern.sub(lambda m: table[m[0].lower()], s)
    for clock, repl in _CLOCK:
        s = clock.sub(repl, s)
    return s


def _tokens(s: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The tokens of a rewritten text, and the pieces that are no token."""
    out: list[tuple[str, str]] = []
    unknown: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(s):
        if m.start() > pos:
            unknown.append(s[pos:m.start()].strip())
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "space":
            out.append((kind, m[0]))
    if pos < len(s):
        unknown.append(s[pos:].strip())
    return out, [u for u in unknown if u]


# -- parsing ----------------------------------------------------------------------------------------

class _Unreadable(Exception):
    """A part of the text that cannot be read (internal: becomes OpeningHours.problem)."""


def _minutes(token: str, mark: str | None) -> int:
    h, m = map(int, token.split(":"))
    if h > 24 or m > 59 or (h == 24 and m):
        raise _Unreadable(f"'{token}' is not a time of day (00:00-24:00)")
    if (mark == "@pm" and h < 12) or (mark == "@noon" and h < 6):
        h += 12
    return h * 60 + m


def _day(token: str) -> int:
    return _OSM_DAYS.index(token[:1].upper() + token[1:].lower()) + 1


class _Draft:
    def __init__(self) -> None:
        self.days: list[int] = []
        self.holiday = False
        self.spans: list[tuple[int, int]] = []
        self.off = False
        self.postfix = False  # its days were written after its times

    @property
    def has_times(self) -> bool:
        return bool(self.spans) or self.off

    @property
    def empty(self) -> bool:
        return not (self.days or self.holiday or self.has_times)

    def rules(self) -> list[Rule]:
        where = _format_days(tuple(sorted(set(self.days)))) + (",PH" if self.holiday and self.days else
                                                                "PH" if self.holiday else "")
        if self.off and self.spans:
            raise _Unreadable(f"'{where}' has both times and 'closed' (休息/off)")
        if not self.has_times:
            raise _Unreadable(f"no time is given for '{where}'; write e.g. 周一至周五 9:00-17:00")
        spans = tuple(self.spans)
        out = []
        if self.days or not self.holiday:
            out.append(Rule(tuple(sorted(set(self.days or _ALL_DAYS))), spans, self.off))
        if self.holiday:
            out.append(Rule((), spans, self.off, holiday=True))
        return out


def _read_days(toks: list[tuple[str, str]], i: int, draft: _Draft) -> int:
    """Read one day, day range (Mo-Fr, wrapping Fr-Mo) or PH at ``i``; return the next index."""
    kind, val = toks[i]
    if kind == "ph":
        draft.holiday = True
        return i + 1
    first = _day(val)
    if i + 2 < len(toks) and toks[i + 1][0] == "dash" and toks[i + 2][0] == "day":
        last = _day(toks[i + 2][1])
        draft.days += [(first - 1 + k) % 7 + 1 for k in range((last - first) % 7 + 1)]
        return i + 3
    draft.days.append(first)
    return i + 1


def _read_span(toks: list[tuple[str, str]], i: int) -> tuple[tuple[int, int], int]:
    """Read ``[mark] time - [mark] time`` at ``i``; return (start, end) minutes and the next index."""
    def mark_at(j: int) -> tuple[str | None, int]:
        marks = []
        while j < len(toks) and toks[j][0] == "mark":
            marks.append(toks[j][1].lower())
            j += 1
        return (marks[-1] if marks else None), j

    mark1, i = mark_at(i)
    if i >= len(toks) or toks[i][0] != "time":
        raise _Unreadable("a part of the day (上午/下午) is not followed by a time")
    if i + 1 >= len(toks) or toks[i + 1][0] != "dash":
        raise _Unreadable(f"'{toks[i][1]}' has no end time; write a range such as 8:30-17:30")
    mark2, j = mark_at(i + 2)
    if j >= len(toks) or toks[j][0] != "time":
        raise _Unreadable(f"'{toks[i][1]}-' has no end time; write a range such as 8:30-17:30")
    start = _minutes(toks[i][1], mark1) % DAY_MIN  # 24:00 as a start is 00:00
    end = _minutes(toks[j][1], mark2)
    if mark2 is None and mark1 in ("@pm", "@noon") and end < 13 * 60 and start < end + 12 * 60:
        end += 12 * 60  # 下午2:00-6:00 is 14:00-18:00, 晚上8点-12点 ends at 24:00; 晚上8:00-2:00 stays overnight
    if end == start:
        raise _Unreadable(f"'{toks[i][1]}-{toks[j][1]}' starts and ends at the same time")
    if end < start:
        end += DAY_MIN  # runs past midnight into the next day
    return (start, end), j + 1


def _takes_postfix(prev: _Draft | None, draft: _Draft) -> bool:
    """Whether ``draft`` holds only days written after ``prev``'s times (8:00-17:00（周一至周五）)."""
    return (prev is not None and prev.has_times and not draft.has_times
            and (prev.postfix or not (prev.days or prev.holiday)))


def _attach_postfix(prev: _Draft, draft: _Draft) -> None:
    prev.days += draft.days
    prev.holiday = prev.holiday or draft.holiday
    prev.postfix = True


def _segment_rules(drafts: list[_Draft]) -> list[Rule]:
    """The rules of one ``;``-separated segment, days written after the times joining those times."""
    kept: list[_Draft] = []
    for d in drafts:
        if d.empty:
            continue
        if _takes_postfix(kept[-1] if kept else None, d):
            _attach_postfix(kept[-1], d)
            continue
        kept.append(d)
    return [r for d in kept for r in d.rules()]


def _read_rules(toks: list[tuple[str, str]]) -> list[Rule]:
    rules: list[Rule] = []
    drafts = [_Draft()]
    i = 0
    while i < len(toks):
        kind, val = toks[i]
        draft = drafts[-1]
        if kind in ("day", "ph"):
            prev = drafts[-2] if len(drafts) > 1 else None
            if draft.has_times:  # a day after times starts the next rule (周一至周五 9-17 周六 9-12)
                draft = _Draft()
                drafts.append(draft)
            elif (prev is not None and toks[i - 1][0] == "sep" and draft.days and not prev.days
                  and _takes_postfix(prev, draft)):
                # 9:00-17:00 周一至周五，周六日休息: the first days after the times end at a separator
                _attach_postfix(prev, draft)
                draft = drafts[-1] = _Draft()
            i = _read_days(toks, i, draft)
        elif kind in ("time", "mark"):
            span, i = _read_span(toks, i)
            draft.spans.append(span)
        elif kind == "always":
            draft.spans.append((0, DAY_MIN))
            i += 1
        elif kind == "off":
            draft.off = True
            i += 1
        elif kind == "semi":
            rules += _segment_rules(drafts)
            drafts = [_Draft()]
            i += 1
        elif kind == "close":  # 9:00-17:00（周一、周三），周五休息: a bracket ends the days after the times
            prev = drafts[-2] if len(drafts) > 1 else None
            if prev is not None and draft.days and _takes_postfix(prev, draft):
                _attach_postfix(prev, draft)
                drafts[-1] = _Draft()
            i += 1
        elif kind == "sep":
            i += 1
        else:
            raise _Unreadable(f"'{val}' stands where a day or a time was expected")
    rules += _segment_rules(drafts)
    if not rules:
        raise _Unreadable("no time is given")
    return rules


# -- the OpenStreetMap form -------------------------------------------------------------------------

def _format_days(days: tuple[int, ...]) -> str:
    if not days or days == _ALL_DAYS:
        return ""
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        names = [_OSM_DAYS[d - 1] for d in run]
        parts.append(f"{names[0]}-{names[-1]}" if len(run) >= 3 else ",".join(names))
    return ",".join(parts)


def _format_time(minutes: int) -> str:
    minutes = minutes - DAY_MIN if minutes > DAY_MIN else minutes
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _format(rules: tuple[Rule, ...]) -> str:
    parts = []
    for r in rules:
        days = "PH" if r.holiday else _format_days(r.days)
        if r.off:
            times = "off"
        elif r.spans == ((0, DAY_MIN),):
            times = "24/7" if not days else "00:00-24:00"
        else:
            times = ",".join(f"{_format_time(s)}-{_format_time(e)}" for s, e in r.spans)
        parts.append(f"{days} {times}".strip())
    return "; ".join(parts)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


@lru_cache(maxsize=8192)
def _parse(text: str) -> OpeningHours:
    rewritten = _rewrite(text)
    toks, unknown = _tokens(rewritten)
    try:
        if unknown:
            raise _Unreadable("cannot read " + ", ".join(f"'{u}'" for u in unknown))
        rules = tuple(_read_rules(toks))
    except _Unreadable as e:
        return OpeningHours(text, None, (), False,
                            f"opening hours '{text}': {e}; write them as 8:30-17:30, 24小时, "
                            "周一至周五 9:00-17:00 or in OpenStreetMap opening_hours syntax (Mo-Fr 09:00-17:00)")
    return OpeningHours(text, _format(rules), rules, True)


def parse_hours(text: str | None) -> OpeningHours:
    """Read opening hours as written in a Chinese list, an Amap/Baidu export or OpenStreetMap.

    Parameters
    ----------
    text : str
        The hours as written; None or empty gives ``ok=False`` ("no opening hours given").

    Returns
    -------
    OpeningHours
        With the normalised OpenStreetMap text in ``osm``, or ``ok=False`` and a ``problem``.

    Examples
    --------
    >>> [parse_hours(t).osm for t in ["8:30-17:30", "08:30—17:30", "8：30～17：30", "24小时", "17:00-次日8:00"]]
    ['08:30-17:30', '08:30-17:30', '08:30-17:30', '24/7', '17:00-08:00']
    >>> parse_hours("上午8:00-12:00 下午2:00-6:00").osm
    '08:00-12:00,14:00-18:00'
    >>> parse_hours("周一至周五 9:00-17:00；周六 9:00-12:00").osm
    'Mo-Fr 09:00-17:00; Sa 09:00-12:00'
    >>> parse_hours("工作日 8:30-17:30，法定节假日休息").osm
    'Mo-Fr 08:30-17:30; PH off'
    >>> parse_hours("8am-5pm").problem.split(";")[0]
    "opening hours '8am-5pm': cannot read '8am', '5pm'"
    """
    if _is_missing(text) or not str(text).strip():
        return OpeningHours("" if _is_missing(text) else str(text), None, (), False, "no opening hours given")
    return _parse(str(text).strip())


# -- asking whether a place is open -----------------------------------------------------------------

def _check_when(weekday: Any, hour: Any) -> tuple[int, float]:
    """The (weekday, minute) asked about; hour 24 is midnight at the end of ``weekday``."""
    if isinstance(weekday, bool) or not isinstance(weekday, Integral) or not 1 <= int(weekday) <= 7:
        raise OpeningHoursError(f"weekday = {weekday!r}; give 1 (Monday) to 7 (Sunday), as ISO 8601 numbers them")
    if isinstance(hour, bool) or not isinstance(hour, Real) or not 0 <= float(hour) <= 24:
        raise OpeningHoursError(f"hour = {hour!r}; give an hour from 0 to 24 (e.g. 22.5 for 22:30)")
    if float(hour) == 24:
        return int(weekday) % 7 + 1, 0.0
    return int(weekday), float(hour) * 60


def _spans_on(rules: tuple[Rule, ...], weekday: int) -> tuple[tuple[int, int], ...]:
    """The spans that start on ``weekday``: the last ordinary rule naming that day decides."""
    spans: tuple[tuple[int, int], ...] = ()
    for r in rules:
        if not r.holiday and weekday in r.days:
            spans = () if r.off else r.spans
    return spans


def _open(rules: tuple[Rule, ...], weekday: int, minute: float) -> bool:
    if any(s <= minute < e for s, e in _spans_on(rules, weekday)):
        return True
    before = (weekday - 2) % 7 + 1
    return any(minute < e - DAY_MIN for _, e in _spans_on(rules, before))


def is_open(hours: OpeningHours | str, *, weekday: int, hour: float) -> bool | None:
    """Whether ``hours`` say open on ``weekday`` (1 = Monday … 7 = Sunday) at ``hour`` (0-24).

    A range past midnight belongs to the day it starts on, so ``Fr 20:00-08:00`` is open on Saturday
    at 03:00. Hour 24 is midnight at the end of ``weekday`` (hour 0 of the next day). Public holidays
    are not modelled: ``PH off`` is ignored here and the answer is the ordinary week's.

    Returns
    -------
    bool or None
        None when the hours could not be read.

    Raises
    ------
    OpeningHoursError
        If ``weekday`` or ``hour`` is out of range.

    Examples
    --------
    >>> is_open("Fr 20:00-08:00", weekday=6, hour=3), is_open("Fr 20:00-08:00", weekday=7, hour=3)
    (True, False)
    >>> is_open("8:00-24:00", weekday=1, hour=23.99), is_open("0:00-6:00", weekday=1, hour=24)
    (True, True)
    >>> is_open("看情况", weekday=1, hour=9) is None
    True
    """
    wd, minute = _check_when(weekday, hour)
    h = hours if isinstance(hours, OpeningHours) else parse_hours(hours)
    return _open(h.rules, wd, minute) if h.ok else None


def derive_open_24h(hours: OpeningHours | str | None) -> bool | None:
    """Whether the hours say open around the clock every day (24小时, 全天, 24/7, 00:00-24:00); None if unread.

    >>> derive_open_24h("全天24小时"), derive_open_24h("00:00-24:00"), derive_open_24h("工作日 24小时")
    (True, True, False)
    >>> derive_open_24h("8:30-17:30"), derive_open_24h("看情况")
    (False, None)
    """
    h = hours if isinstance(hours, OpeningHours) else parse_hours(hours)
    if not h.ok:
        return None
    return all(any(s == 0 and e >= DAY_MIN for s, e in _spans_on(h.rules, d)) for d in _ALL_DAYS)


@cache
def _yes_no_words() -> dict[str, bool]:
    w = _words()
    return {**{str(x).lower(): True for x in w["true_words"]}, **{str(x).lower(): False for x in w["false_words"]}}


def parse_yes_no(value: Any) -> bool | None:
    """A yes/no value as people write it (是/否, True/False, 1/0, Y/N, …); None when missing or unknown.

    >>> [parse_yes_no(v) for v in ["是", "否", "False", "0", 1, "Y", None, "maybe"]]
    [True, False, False, False, True, True, None, None]
    """
    if _is_missing(value):
        return None
    if isinstance(value, bool | Integral) or (isinstance(value, Real) and float(value) in (0.0, 1.0)):
        return bool(value) if float(value) in (0.0, 1.0) else None
    if isinstance(value, str):
        return _yes_no_words().get(unicodedata.normalize("NFKC", value).strip().lower())
    return None


def open_mask(points: pd.DataFrame, *, weekday: int, hour: float) -> pd.Series:
    """Which points are open on ``weekday`` at ``hour``: True, False, or <NA> when their hours are unknown.

    ``open_24h`` true (also 是/True/1/Y as text) means always open; otherwise the ``hours`` column
    decides, read by :func:`parse_hours`. Hours that cannot be read, or missing hours on a point not
    open around the clock, give <NA>: never a guess.

    Parameters
    ----------
    points : pandas.DataFrame
        With ``open_24h`` and/or ``hours`` columns; not modified.
    weekday : int
        1 = Monday … 7 = Sunday.
    hour : float
        0-24, e.g. 22.5 for 22:30.

    Returns
    -------
    pandas.Series
        Nullable boolean on ``points.index``, named ``open``.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"open_24h": ["是", "否", "False", "0", None],
    ...                     "hours": [None, "20:00-08:00", "周一至周五 9:00-17:00", "看情况", None]})
    >>> open_mask(pts, weekday=6, hour=3).tolist()
    [True, True, False, <NA>, <NA>]
    """
    wd, minute = _check_when(weekday, hour)
    if "open_24h" not in points and "hours" not in points:
        raise OpeningHoursError("the points have neither an 'open_24h' nor an 'hours' column; "
                                f"they have {', '.join(map(str, points.columns))}")
    always = np.zeros(len(points), dtype=bool)
    if "open_24h" in points:
        always = _per_value(points["open_24h"], lambda v: parse_yes_no(v) is True, missing=False).astype(bool)
    answer = np.full(len(points), None, dtype=object)
    if "hours" in points:
        def ask(text):
            h = parse_hours(text)
            return _open(h.rules, wd, minute) if h.ok else None
        answer = _per_value(points["hours"], ask, missing=None)
    answer[always] = True
    return pd.Series(pd.array(answer, dtype="boolean"), index=points.index, name="open")


def _per_value(values: pd.Series, func, *, missing) -> np.ndarray:
    """``func`` of each value, computed once per distinct value (a column holds few distinct hours)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:] = [*(func(u) for u in uniques), missing]
    return table[codes]  # code -1 (missing) takes the last entry


def open_keys(points: pd.DataFrame, *, key: str, weekday: int, hour: float) -> dict[str, Any]:
    """The web's "open now" answer: keys of the points open, closed and of unknown hours.

    >>> import pandas as pd
    >>> pts = pd.DataFrame({"point_id": ["a", "b", "c"], "open_24h": [True, False, False],
    ...                     "hours": [None, "08:00-20:00", "看情况"]})
    >>> open_keys(pts, key="point_id", weekday=7, hour=3)
    {'open': ['a'], 'closed': ['b'], 'unknown': ['c'], 'weekday': 7, 'hour': 3.0}
    """
    if key not in points:
        raise OpeningHoursError(f"key column '{key}' is not in the points; they have {', '.join(map(str, points))}")
    mask = open_mask(points, weekday=weekday, hour=hour)
    keys = points[key]
    return {"open": keys[mask.eq(True).fillna(False).to_numpy(dtype=bool)].tolist(),
            "closed": keys[mask.eq(False).fillna(False).to_numpy(dtype=bool)].tolist(),
            "unknown": keys[mask.isna().to_numpy()].tolist(),
            "weekday": int(weekday), "hour": float(hour)}


def hours_columns(hours: pd.Series) -> pd.DataFrame:
    """For the import: the normalised ``opening_hours``, the derived ``open_24h`` and the problem, per row.

    >>> import pandas as pd
    >>> hours_columns(pd.Series(["8:30-17:30", "24小时", "看情况", None])).drop(columns="problem")
      opening_hours  open_24h
    0   08:30-17:30     False
    1          24/7      True
    2          None      <NA>
    3          None      <NA>
    """
    rows = _per_value(hours, _import_view, missing=(None, None, None))
    osm, always, problem = zip(*rows, strict=True) if len(rows) else ((), (), ())
    return pd.DataFrame({
        "opening_hours": pd.Series(osm, index=hours.index, dtype="object"),
        "open_24h": pd.Series(pd.array(always, dtype="boolean"), index=hours.index),
        "problem": pd.Series(problem, index=hours.index, dtype="object"),
    })


def _import_view(text: Any) -> tuple[str | None, bool | None, str | None]:
    h = parse_hours(text)
    return h.osm, derive_open_24h(h), h.problem if h.text.strip() else None  # empty hours are no problem
