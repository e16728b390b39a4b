"""Equivalence classes of generic terms (通名): 街/路/巷, 泉/泉水, 湖/湖公园, 山/山景区 ….

The classes are data (``data/generics.yaml``), shared by search (near matches) and the name check
(near names, 重). A bureau can add its own classes or terms in a file of the same form.

>>> equivalence_key("芙蓉街") == equivalence_key("芙蓉路") == ("芙蓉", "road")
True
>>> equivalence_key("千佛山景区"), equivalence_key("大明湖公园"), equivalence_key("泺口")
(('千佛', 'mountain'), ('大明', 'lake'), None)
>>> variants("趵突泉")
['趵突泉水']
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from placegeo.errors import NameCheckError

__all__ = ["class_terms", "english_generic", "english_words", "equivalence_key", "generic_class",
           "load_generic_classes", "variants"]


def _read(path: str | Path | None) -> Mapping:
    if path is None:
        text = resources.files("placegeo").joinpath("data/generics.yaml").read_text(encoding="utf-8")
        where = "placegeo/data/generics.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise NameCheckError(f"cannot read the generic-term file '{path}': {exc.strerror}") from None
        where = str(path)
    doc = yaml.safe_load(text) or {}
    classes = doc.get("classes") if isinstance(doc, dict) else None
    if not isinstance(classes, dict) or not all(
            isinstance(v, list) and all(isinstance(t, str) and t for t in v) for v in classes.values()):
        raise NameCheckError(f"{where}: expected 'classes:' mapping each class name to a list of generic terms "
                             "(e.g. road: [街, 路, 巷])")
    return classes


def load_generic_classes(extra: str | Path | None = None) -> dict[str, tuple[str, ...]]:
    """Class name -> its generic terms (longest first); ``extra`` adds classes or terms from a YAML file.

    >>> load_generic_classes()["spring"]
    ('泉水', '泉')
    """
    return _classes(_stamp(extra))


def _stamp(extra: str | Path | None) -> tuple[str, int] | None:
    """The file and its modification time, so that an edited file is read again."""
    if extra is None:
        return None
    try:
        return str(extra), Path(extra).stat().st_mtime_ns
    except OSError as exc:
        raise NameCheckError(f"cannot read the generic-term file '{extra}': {exc.strerror}") from None


@lru_cache(maxsize=8)
def _classes(stamp: tuple[str, int] | None) -> dict[str, tuple[str, ...]]:
    extra = stamp[0] if stamp else None
    merged: dict[str, list[str]] = {k: list(v) for k, v in _read(None).items()}
    if extra is not None:
        for name, terms in _read(extra).items():
            merged.setdefault(name, [])
            merged[name] += [t for t in terms if t not in merged[name]]
    owner: dict[str, str] = {}
    for name, terms in merged.items():
        for t in terms:
            if owner.setdefault(t, name) != name:
                raise NameCheckError(f"generic term {t!r} is in classes {owner[t]!r} and {name!r}; keep it in one")
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in merged.items()}


def _terms(extra: str | Path | None) -> tuple[tuple[str, str], ...]:
    return _terms_of(_stamp(extra))


@lru_cache(maxsize=8)
def _terms_of(stamp: tuple[str, int] | None) -> tuple[tuple[str, str], ...]:
    """(term, class) pairs, longest term first."""
    pairs = [(t, c) for c, terms in _classes(stamp).items() for t in terms]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def generic_class(term: str, *, extra: str | Path | None = None) -> str | None:
    """The class of a generic term, or None.

    >>> generic_class("胡同"), generic_class("广场")
    ('road', None)
    """
    return next((c for t, c in _terms(extra) if t == term), None)


def equivalence_key(name: str, *, extra: str | Path | None = None) -> tuple[str, str] | None:
    """(proper name, class) of a name ending in a classed generic term, else None.

    The term is stripped repeatedly while the rest still ends in a term of the same class, so that
    千佛山风景区 and 千佛山 share the key ('千佛', 'mountain').
    """
    found: str | None = None
    proper = name
    while True:
        hit = next(((t, c) for t, c in _terms(extra) if proper.endswith(t) and len(proper) > len(t)
                    and (found is None or c == found)), None)
        if hit is None:
            break
        proper, found = proper[: -len(hit[0])], hit[1]
    return (proper, found) if found else None


def variants(name: str, *, extra: str | Path | None = None) -> list[str]:
    """The same proper name with each other term of its generic class (for search expansion)."""
    key = equivalence_key(name, extra=extra)
    if key is None:
        return []
    proper, cls = key
    return [proper + t for t in load_generic_classes(extra)[cls] if proper + t != name]


def class_terms(term: str) -> frozenset[str]:
    """Every term of the class holding ``term`` (search swaps a query's ending for each); a term in no
    class is a class of its own.

    >>> sorted(class_terms("湖"))
    ['湖', '湖公园']
    """
    name = generic_class(term)
    return frozenset(load_generic_classes()[name]) if name else frozenset({term})


@lru_cache(maxsize=1)
def _english_terms() -> dict[str, list[str]]:
    doc = yaml.safe_load(resources.files("placegeo").joinpath("data/generics.yaml").read_text(encoding="utf-8"))
    return {str(k).lower(): [str(t) for t in v] for k, v in (doc.get("english") or {}).items()}


@lru_cache(maxsize=64)
def english_words(term: str) -> tuple[str, ...]:
    """The English generic words that stand for the Chinese generic term ``term`` itself, as written in
    addresses (Lixia District, Jinan City).

    >>> english_words("区"), english_words("街道")
    (('district',), ('subdistrict', 'town'))
    """
    return tuple(sorted(w for w, terms in _english_terms().items() if term in terms))


@lru_cache(maxsize=256)
def english_generic(word: str) -> frozenset[str]:
    """The Chinese generic terms an English generic word stands for, each with its class; empty if none.

    >>> sorted(english_generic("Spring"))
    ['泉', '泉水']
    """
    return frozenset(t for term in _english_terms().get(word.lower(), []) for t in class_terms(term))
