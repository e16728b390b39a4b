"""Nothing Jinan-specific in the code or the web page: names, codes and figures come from the city profiles.

Issue 15's condition: grep finds no Jinan-specific code, name or figure in ``src/placegeo`` outside
the city profiles and the demo's data files. Docstrings may show a real example (they are run as
doctests on real names); code, comments, messages and defaults may not.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "placegeo"
WEB_ASSETS = [p for p in (ROOT / "webmap").rglob("*")
              if p.suffix in {".js", ".css", ".html"} and "vendor" not in p.parts]
# Jinan's names (city, districts, landmarks of the demo), its code prefix, and its published figures
MARKERS = re.compile(r"济南|泉城|历下|历城|市中区|槐荫|天桥区|长清|章丘|莱芜|钢城|平阴|商河|济阳"
                     r"|趵突|大明湖|芙蓉街|千佛山|蟠龙山|北康|[Jj]inan|(?<!\d)3701\d*|(?<![\d,])(?:166|232|55,?548|184)(?![\d,])")
FIGURES = {166, 232, 55548, 184}
# data files the engines read, beside the profiles under cities/: allowed to name the city
ALLOWED = {"data"}


def _docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value,
                                                                                                    str):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def _findings(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    docs = _docstring_lines(source)
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.start[0] in docs:
            continue
        text = tok.string.replace("_", "")
        if (tok.type in (tokenize.STRING, tokenize.COMMENT) and MARKERS.search(tok.string)) or (
                tok.type == tokenize.NUMBER and text.isdigit() and int(text) in FIGURES):
            found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.line.strip()[:100]}")
    return found


def _modules():
    return [p for p in sorted(PACKAGE.rglob("*.py")) if not ALLOWED & set(p.relative_to(PACKAGE).parts[:-1])]


def test_the_markers_catch_what_they_should():
    for text in ("济南市", "'370102'", "泉城避风港", "# 1+166+N", "55,548", "jinan"):
        assert MARKERS.search(text), text
    for text in ("370811", "济宁", "1660", "2320", "潍坊", "0.166"):
        assert not MARKERS.search(text.replace("0.166", "x")), text


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_jinan_names_codes_or_figures_in_the_code(path):
    assert _findings(path) == []


def test_no_jinan_names_in_the_web_page():
    assert WEB_ASSETS, "no web assets found"
    found = [f"{p.relative_to(ROOT)}:{i}: {line.strip()[:100]}" for p in WEB_ASSETS
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if MARKERS.search(line)]
    assert found == []


def test_layer_titles_name_no_city():
    from placegeo.registry import load_registry

    for spec in load_registry().values():
        assert not MARKERS.search(f"{spec.title_zh} {spec.title_en} {spec.description}"), spec.name
