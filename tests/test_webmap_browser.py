"""The web map in a real browser: Debian's chromium driven by Playwright (no browser download)."""

import shutil
import threading
from pathlib import Path

import pytest

from helpers import CHROMIUM, FLAGS, require_chromium

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def server(demo_atlas, tmp_path_factory):
    require_chromium()
    from werkzeug.serving import make_server

    from placegeo.web import create_app

    tmp = tmp_path_factory.mktemp("browser")
    atlas = tmp / "atlas.gpkg"
    shutil.copy(demo_atlas.location, atlas)
    app = create_app({"atlas": str(atlas), "export_dir": str(tmp / "exports")})
    _ = app.extensions["placegeo"].default.index  # opened before the clock runs (a copy of an older atlas builds it)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module's tests (Playwright's sync API allows one running instance at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(server, browser):
    # bypass_csp: lets the test evaluate JavaScript; the CSP itself is checked in test_web.py
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", bypass_csp=True)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.clock.install()
    pg.clock.set_fixed_time("2026-11-22T03:00:00")  # 3 a.m.: only 24-hour relief points are open
    pg.goto(server)
    pg.wait_for_selector(".leaflet-overlay-pane path", timeout=15_000)  # boundaries drawn from the atlas
    pg.errors = errors
    yield pg
    context.close()


def test_search_typeahead_detail_and_marker(page):
    page.fill("#q", "")
    page.type("#q", "frj", delay=30)
    item = page.wait_for_selector("#suggestions li:has-text('芙蓉街')", timeout=10_000)
    item.click()
    detail = page.wait_for_selector("#detail h3:has-text('芙蓉街')", timeout=10_000)
    text = page.inner_text("#detail")
    assert "Fúróng Jiē" in text and "Furong Jie" in text and "历下区" in text and "古城" in text
    assert page.locator(".leaflet-marker-icon[title='芙蓉街']").count() == 1
    assert detail.is_visible()
    assert not page.errors


def test_search_of_punctuation_alone_clears_the_suggestions(page):
    page.fill("#q", "")
    page.type("#q", "frj", delay=30)
    page.wait_for_selector("#suggestions li:has-text('芙蓉街')", timeout=10_000)
    page.fill("#q", "，")  # the server answers 400: nothing is found, and frj's suggestions go
    page.wait_for_selector("#result-list li:has-text('未找到')", timeout=10_000)
    assert page.locator("#suggestions li").count() == 0
    assert not page.errors
    page.fill("#q", "")


def test_layer_switch_and_open_now_filter(page):
    relief = page.locator("[data-layer='relief_points']")
    relief.check()
    page.wait_for_function("document.querySelectorAll('.pt-relief_points').length === 167", timeout=15_000)
    relief.uncheck()
    page.wait_for_function("document.querySelectorAll('.pt-relief_points').length === 0")
    relief.check()
    page.wait_for_function("document.querySelectorAll('.pt-relief_points').length === 167")
    page.check("#open-now")  # the page asks the server which points are open now: wait for its answer
    page.wait_for_function("document.querySelectorAll('.pt-relief_points').length < 167", timeout=15_000)
    shown = page.evaluate("document.querySelectorAll('.pt-relief_points').length")
    expected = page.evaluate("fetch('/collections/relief_points/items?limit=1000').then(r => r.json())"
                             ".then(d => d.features.filter(f => f.properties.open_24h).length)")
    assert 0 < shown == expected < 167  # at 3 a.m. only the 24-hour points
    page.uncheck("#open-now")
    page.wait_for_function("document.querySelectorAll('.pt-relief_points').length === 167")


def test_sample_mark_attribution_english_switch_and_screenshot(page):
    assert "示例数据" in page.inner_text("#legend")
    assert "OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")
    page.click("#lang")
    assert page.inner_text("h1") == "Jinan place names"
    assert "sample data" in page.inner_text("#legend")
    page.click("#lang")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "webmap.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


@pytest.fixture(scope="module")
def cities_server(demo_cities, tmp_path_factory):
    """One server with the three cities' demo atlases (Jinan first: the site's root)."""
    require_chromium()
    from werkzeug.serving import make_server

    from placegeo.web import create_app

    tmp = tmp_path_factory.mktemp("browser-cities")
    paths = []
    for city in ("jinan", "jining", "weifang"):
        paths.append(str(tmp / f"{city}.gpkg"))
        shutil.copy(demo_cities[city], paths[-1])
    app = create_app({"atlases": paths, "export_dir": str(tmp / "exports")})
    assert app.test_client().get("/api/search?q=济&city=all").status_code == 200  # builds the indexes first
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


DRAWN = "(window.placegeo.overlays.{0} ? window.placegeo.overlays.{0}.getLayers().length : -1)"
BOUNDARIES = ("fetch('{0}/collections/admin_units/items?limit=1000').then(r => r.json())"
              ".then(d => d.features.filter(f => f.properties.level !== 'village').length)")


def test_city_switch_changes_title_layers_and_url(cities_server, browser):
    pg = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", bypass_csp=True).new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(cities_server)
    pg.wait_for_function("document.querySelector('h1').textContent === '济南地名查询'", timeout=15_000)
    assert pg.locator("#city option").all_inner_texts() == ["济南市", "济宁市", "潍坊市"]
    jinan = pg.evaluate(BOUNDARIES.format(""))
    pg.wait_for_function(f"{DRAWN.format('boundaries')} === {jinan}", timeout=15_000)

    pg.select_option("#city", "weifang")
    pg.wait_for_function("document.querySelector('h1').textContent === '潍坊地名查询'", timeout=15_000)
    assert pg.url == f"{cities_server}/weifang/"
    weifang = pg.evaluate(BOUNDARIES.format("/weifang"))
    assert weifang != jinan
    pg.wait_for_function(f"{DRAWN.format('boundaries')} === {weifang}", timeout=15_000)
    pg.check("[data-layer='relief_points']")
    relief = pg.evaluate("fetch('/weifang/collections/relief_points/items?limit=1').then(r => r.json())"
                         ".then(d => d.numberMatched)")
    pg.wait_for_function(f"{DRAWN.format('relief_points')} === {relief}", timeout=15_000)
    assert "救助点" in pg.inner_text("#layers")

    # a province-wide search: a place of another city shows that city
    pg.type("#q", "任城区", delay=30)
    item = pg.wait_for_selector("#suggestions li:has-text('济宁市')", timeout=10_000)
    item.click()
    pg.wait_for_selector("#detail h3:has-text('任城区')", timeout=10_000)
    assert pg.inner_text("h1") == "济宁地名查询" and pg.url == f"{cities_server}/jining/"
    assert pg.eval_on_selector("#city", "s => s.value") == "jining"

    pg.go_back()  # the browser's history walks back through the cities
    pg.wait_for_function("document.querySelector('h1').textContent === '潍坊地名查询'", timeout=15_000)
    pg.go_back()
    pg.wait_for_function("document.querySelector('h1').textContent === '济南地名查询'", timeout=15_000)
    pg.wait_for_function(f"{DRAWN.format('boundaries')} === {jinan}", timeout=15_000)
    assert not errors, errors
    pg.context.close()
