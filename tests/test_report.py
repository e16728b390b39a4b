"""The planning report: one self-contained HTML page, and in a real browser (Debian's chromium)."""

import re

import pytest
from click.testing import CliRunner

from helpers import CHROMIUM, FLAGS, require_chromium
from placegeo.cemetery import PARAM_SOURCES
from placegeo.cli import main
from placegeo.errors import ReportError
from placegeo.network import WalkNetwork
from placegeo.report import write_report


@pytest.fixture(scope="module")
def report(demo_gpkg, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    network = WalkNetwork.from_edges(demo_gpkg.read("walk_edges"))
    write_report(demo_gpkg, out, network=network)
    return out


def test_report_is_self_contained_and_complete(report):
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # loads nothing from anywhere
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert html.count("<svg") >= 4  # three maps and the scenarios chart
    assert 'class="sample-notice"' in html and "rests on sample data: " in html
    for text in ("15分钟养老服务圈覆盖率", "农村幸福院覆盖率", "护理型床位占比", "救助点夜间可达率", "节地生态安葬率",
                 "国发〔2021〕35号", "Suggested sites", "Gaps", "泉城避风港",
                 "NBS, Tabulation on the 2020 China Population Census by County",  # published figures
                 PARAM_SOURCES["grave_area_m2"][:30]):
        assert text in html, text
    sites = re.search(r"Suggested sites.*?</table>", html, re.S).group(0)
    assert sites.count("<tr>") == 6  # header and five sites
    assert "@media print" in html


def test_report_refuses_bad_output(demo_gpkg, tmp_path):
    with pytest.raises(ReportError, match=r"ending in \.html"):
        write_report(demo_gpkg, tmp_path / "report.pdf")
    with pytest.raises(ReportError, match="does not exist"):
        write_report(demo_gpkg, tmp_path / "nowhere" / "report.html")
    assert not (tmp_path / "report.pdf").exists()


def test_cli_report(demo_gpkg, tmp_path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", "--atlas", demo_gpkg.location, "--out", str(out), "--no-network"],
                           catch_exceptions=False)
    assert r.exit_code == 0 and out.exists() and "wrote" in r.stderr
    html = out.read_text(encoding="utf-8")
    assert "straight line x 1.3 (no network)" in html and "sample-notice" in html


def test_report_renders_in_chromium(report):
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        sizes = page.evaluate("""() => [...document.querySelectorAll('figure svg')].map(s => {
            const r = s.getBoundingClientRect(); return [r.width, r.height,
            s.querySelectorAll('path, image, use').length]; })""")
        notice = page.locator(".sample-notice")
        assert notice.is_visible() and "rests on sample data" in notice.inner_text()
        pdf = page.pdf(format="A4") if hasattr(page, "pdf") else b"%PDF"
        browser.close()
    assert len(sizes) >= 4
    for width, height, drawn in sizes:
        assert width > 200 and height > 150 and drawn > 10
    assert not errors, errors
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("city", ["jining", "weifang"])
def test_indicators_and_report_run_on_every_city_s_demo_atlas(city, demo_cities, tmp_path):
    """Jinan's is tested above; the other two cities' demo atlases, with their own walking networks."""
    import json

    from placegeo.cities import load_city

    atlas = demo_cities[city]
    r = CliRunner().invoke(main, ["indicators", "--atlas", atlas, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"{c} is not strict JSON"))
    assert doc["sample"] and {row["indicator"] for row in doc["indicators"]}
    out = tmp_path / f"{city}.html"
    r = CliRunner().invoke(main, ["report", "--atlas", atlas, "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert load_city(city).names["zh"] in html and "sample-notice" in html and html.count("<svg") >= 4
