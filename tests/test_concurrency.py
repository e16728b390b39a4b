"""Imports while the web map serves: every response shows the layer before or after, never a mix.

The web map runs under gunicorn with two worker processes and the app preloaded, as in production
(webmap/gunicorn.conf.py), against the same atlas the test imports into. Readers ask for the layer
(whole and by bounding box) as fast as they can while imports replace it, back and forth, one of
them refused halfway.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from helpers import CODES, JINAN_EXTENT
from placegeo.atlas import Atlas
from placegeo.errors import ValidationError

BACKENDS = ["gpkg", "postgis"]
SIZES = {"旧": 60, "新": 90}
KEYS = {"旧": "old", "新": "new", "坏": "bad"}


def _csv(path, tag, n, bad_row=None):
    lines = ["point_id,name,kind,open_24h,district_code,lon,lat"]
    for i in range(n):
        kind = "hotel" if i == bad_row else "泉城避风港"
        lines.append(f"{KEYS[tag]}{i},{tag}点{i},{kind},是,370102,{117.0 + 0.0005 * i:.6f},{36.65 + 0.0003 * i:.6f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(new_location, tmp_path):
    atlas = Atlas.create(new_location("live"), name="live", extent=JINAN_EXTENT)
    atlas.set_codes(CODES)
    atlas.import_file(_csv(tmp_path / "old.csv", "旧", SIZES["旧"]), "relief_points", datum="wgs84", mode="replace")
    port = _free_port()
    env = {**os.environ, "PLACEGEO_ATLAS": atlas.location, "PLACEGEO_REFRESH_MS": "0",
           "PLACEGEO_EXPORT_DIR": str(tmp_path / "exports")}
    with open(tmp_path / "gunicorn.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "--preload", "-b", f"127.0.0.1:{port}",
                                 "placegeo.web:create_app()"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/api/health", timeout=2).read()
            break
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text()) from None
            time.sleep(0.2)
    yield atlas, base
    proc.terminate()
    proc.wait(timeout=30)
    atlas.close()


def _version(doc):
    """'旧' or '新' when every feature (and the count) is of one version; otherwise what was mixed."""
    tags = {f["properties"]["name"][0] for f in doc["features"]}
    if len(tags) != 1:
        return f"mixed names {sorted(tags)}"
    tag = tags.pop()
    if doc["numberMatched"] != SIZES[tag] or len(doc["features"]) != SIZES[tag]:
        return f"mixed counts: {tag} with {doc['numberMatched']} matched, {len(doc['features'])} returned"
    return tag


def test_imports_while_serving_show_old_or_new_never_a_mix(served, tmp_path):
    atlas, base = served
    files = {tag: _csv(tmp_path / f"{tag}.csv", tag, n) for tag, n in SIZES.items()}
    broken = _csv(tmp_path / "broken.csv", "坏", 70, bad_row=50)
    urls = [base + "/collections/relief_points/items?limit=1000",
            base + "/collections/relief_points/items?limit=1000&bbox=116.9,36.6,117.2,36.8"]
    seen, problems = [], []
    stop = threading.Event()

    def reader(k):
        i = 0
        while not stop.is_set():
            url = urls[(i + k) % len(urls)]
            i += 1
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    doc = json.loads(resp.read())
            except Exception as exc:  # an error is a failure too: the layer must always be readable
                problems.append(f"{url}: {exc}")
                continue
            v = _version(doc)
            (seen if v in SIZES else problems).append(v)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    try:
        for round_ in range(8):
            tag = "新" if round_ % 2 == 0 else "旧"
            atlas.import_file(files[tag], "relief_points", datum="wgs84", mode="replace")
            if round_ == 3:
                with pytest.raises(ValidationError):  # refused: nothing of it may ever be served
                    atlas.import_file(broken, "relief_points", datum="wgs84", mode="replace", strict=True)
            time.sleep(0.15)
    finally:
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not problems, problems[:5]
    assert set(seen) == {"旧", "新"}, f"both versions should have been served ({len(seen)} responses)"
    # and the server shows the last import (旧), not a stale copy
    doc = json.loads(urllib.request.urlopen(urls[0], timeout=30).read())
    assert _version(doc) == "旧"
