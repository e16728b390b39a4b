"""Generic terms (通名) that people use interchangeably: 街/路/大街/巷/胡同/里, 泉/泉水, 湖/湖公园 ….

The classes and the English generic words live in ``data/generics.yaml`` so that a bureau can add its own.

>>> sorted(generic_class("胡同"))
['大街', '巷', '胡同', '街', '路', '里']
>>> generic_class("桥")
frozenset({'桥'})
>>> sorted(english_generic("Lane"))
['大街', '巷', '胡同', '街', '路', '里']
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

__all__ = ["english_generic", "generic_class", "load_generic_classes"]


@cache
def _data() -> dict:
    text = resources.files("placegeo").joinpath("data/generics.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


@cache
def load_generic_classes() -> list[frozenset[str]]:
    """The equivalence classes of generic terms, as listed in ``data/generics.yaml``."""
    return [frozenset(str(t) for t in members) for members in _data().get("classes", [])]


@cache
def generic_class(term: str) -> frozenset[str]:
    """The class holding ``term``; a term in no class is a class of its own."""
    return next((c for c in load_generic_classes() if term in c), frozenset({term}))


@cache
def english_generic(word: str) -> frozenset[str]:
    """The Chinese generic terms an English generic word stands for, each with its class; empty if none."""
    terms = _data().get("english", {}).get(word.lower(), [])
    return frozenset(t for term in terms for t in generic_class(str(term)))
