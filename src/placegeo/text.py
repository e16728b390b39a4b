"""Text folding shared by search and the name check: one way to compare names as people type them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from placegeo.pinyin import has_han

__all__ = ["normalize"]

_CJK_ONLY = re.compile(r"[\u3400-\u9fff]+")  # the ideographs of the basic plane (no decompositions, no case)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Fold a query or name: traditional to simplified, tone marks and spaces away, lower case.

    >>> normalize("長清區"), normalize(" Bàotū Quán "), normalize("xi'an")
    ('长清区', 'baotuquan', 'xian')
    """
    if isinstance(text, str) and _CJK_ONLY.fullmatch(text):  # most names: only traditional to simplified changes them
        folded = _t2s().convert(text)
        if _CJK_ONLY.fullmatch(folded):  # (the steps below leave these characters as they are)
            return folded
    text = unicodedata.normalize("NFKC", str(text)).strip()
    if has_han(text):
        text = _t2s().convert(text)
    text = re.sub("[üǖǘǚǜÜǕǗǙǛ]", "v", text)  # ü is typed v
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return re.sub(r"[\s'’·\-_.()（）]", "", text.lower()).replace("ü", "v")
