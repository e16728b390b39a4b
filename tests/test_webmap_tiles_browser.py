"""A large layer in a real browser: 100,000 place names drawn from vector tiles, not fetched whole.

The time to the first painted tiles is written to the log (``-s`` shows it), never asserted: speed is
measured in ``benchmarks/bench_tiles.py``.
"""

import shutil
import threading
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from helpers import CHROMIUM, FLAGS, require_chromium
from placegeo.atlas import Atlas

N = 100_000


def big_names(atlas: Atlas, n: int) -> gpd.GeoDataFrame:
    """``n`` place names: the demo's, repeated with new keys and scattered over the atlas's extent."""
    base = atlas.read("traditional_place_names")
    rng = np.random.default_rng(18)
    rows = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    minx, miny, maxx, maxy = base.total_bounds
    rows["place_id"] = [f"BIG{i:06d}" for i in range(n)]
    lon = minx + rng.random(n) * (maxx - minx)
    lat = miny + rng.random(n) * (maxy - miny)
    return gpd.GeoDataFrame(rows.drop(columns="geometry"), geometry=gpd.points_from_xy(lon, lat), crs=base.crs)


@pytest.fixture(scope="module")
def server(demo_atlas, tmp_path_factory):
    require_chromium()
    from werkzeug.serving import make_server

    from placegeo.web import create_app

    tmp = tmp_path_factory.mktemp("tiles-browser")
    path = tmp / "atlas.gpkg"
    shutil.copy(demo_atlas.location, path)
    atlas = Atlas(str(path))
    atlas.write("traditional_place_names", big_names(atlas, N), validate=False)
    app = create_app({"atlas": str(path), "export_dir": str(tmp / "exports"), "vector_tiles_above": 20_000})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def test_a_100k_point_layer_is_drawn_from_vector_tiles(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("request", lambda r: requests.append(r.url))
        start = time.perf_counter()
        page.goto(server)
        # the page's own CSP holds: no eval in the test either, only selectors
        page.wait_for_selector("body[data-tiles-loaded=traditional_place_names]", state="attached", timeout=30_000)
        first_paint_s = time.perf_counter() - start
        print(f"\n100,000-point layer: first paint of its vector tiles after {first_paint_s:.2f} s")
        tiles = [u for u in requests if "/collections/traditional_place_names/tiles/WebMercatorQuad/" in u]
        assert tiles, "the large layer was not asked as vector tiles"
        assert not [u for u in requests if "/collections/traditional_place_names/items" in u]
        # the tiles were painted: some canvas of the overlay has coloured pixels
        painted = page.evaluate("""() => [...document.querySelectorAll('.leaflet-pane canvas')].some((c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
            return false; })""")
        assert painted
        assert not errors, errors
        # the small layers still come as GeoJSON
        page.check("[data-layer=relief_points]")
        page.wait_for_selector("path.pt-relief_points", state="attached", timeout=15_000)
        assert [u for u in requests if "/collections/relief_points/items" in u]
        assert not errors, errors
        browser.close()


def test_tiles_of_the_large_layer_hold_its_features(server):
    import urllib.request

    import mapbox_vector_tile

    with urllib.request.urlopen(f"{server}/api/layers") as resp:
        layers = pd.read_json(resp).layers
    counts = {layer["name"]: layer["features"] for layer in layers}
    assert counts["traditional_place_names"] == N
    with urllib.request.urlopen(f"{server}/collections/traditional_place_names/tiles/WebMercatorQuad/8/99/211") as r:
        features = mapbox_vector_tile.decode(r.read())["traditional_place_names"]["features"]
    assert 0 < len(features) < N  # thinned at a low zoom
