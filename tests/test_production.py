"""The production stack as `make serve-prod` starts it: nginx (Debian's package) in front of gunicorn.

Started once per module by ``webmap/serve-prod`` on a copy of the demo atlas, on free ports. Shows
what nginx is there for: slow clients do not hold gunicorn's workers; gzip, ETag/304, CORS, static
caching, request size and rate limits; links on ``PLACEGEO_PUBLIC_URL`` whatever Host a client sends.
"""

import contextlib
import gzip
import http.client
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import placegeo

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
SERVE_PROD = Path(__file__).resolve().parent.parent / "webmap" / "serve-prod"
PUBLIC = "https://maps.example.org/placegeo"


@pytest.fixture(scope="module")
def stack(demo_gpkg, tmp_path_factory):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: `make test` installs it with .ci/install-nginx")
        pytest.skip("nginx is not installed (run .ci/install-nginx as root)")
    tmp = tmp_path_factory.mktemp("prod")
    atlas = tmp / "atlas.gpkg"
    shutil.copy(demo_gpkg.location, atlas)
    src = str(Path(placegeo.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
           "PLACEGEO_EXPORT_DIR": str(tmp / "exports")}
    proc = subprocess.Popen([sys.executable, str(SERVE_PROD), "--atlas", str(atlas), "--listen", "127.0.0.1:0",
                             "--workers", "2", "--public-url", PUBLIC], env=env, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("serving http://"):
        proc.terminate()
        pytest.fail(f"webmap/serve-prod did not start: {line!r}")
    host, port = line.split()[1].removeprefix("http://").split(":")
    request(host, int(port), "/api/search?q=frj")  # the first search loads the index: warm both workers
    request(host, int(port), "/api/search?q=dmh")
    yield host, int(port)
    proc.terminate()
    proc.wait(timeout=60)


def request(host, port, path, headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_slow_clients_do_not_delay_a_normal_request(stack):
    host, port = stack
    slow = []
    for _ in range(50):  # each sends a header line every 2 s and never finishes its request
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    stop = threading.Event()

    def trickle():
        while not stop.wait(2):
            for s in slow:
                with contextlib.suppress(OSError):
                    s.sendall(b"X-Slow: 1\r\n")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    waits = []
    try:
        for _ in range(5):  # over 5 s: beyond the slow clients' second and third header lines
            time.sleep(1)
            t0 = time.monotonic()
            status, _, body = request(host, port, "/api/health")
            waits.append(time.monotonic() - t0)
            assert status == 200 and json.loads(body) == {"ok": True}
            status, _, _ = request(host, port, "/collections/relief_points/items?limit=5")
            assert status == 200
    finally:
        stop.set()
        thread.join()
        for s in slow:
            s.close()
    print("answer times with 50 slow clients open (s):", [round(w, 3) for w in waits])
    assert max(waits) < 1.0, waits  # gunicorn's sync workers alone would wait for the slow clients


def test_gzip_through_nginx(stack):
    path = "/collections/admin_units/items?limit=100"
    status, plain_h, plain = request(*stack, path)
    status_z, zipped_h, zipped = request(*stack, path, {"Accept-Encoding": "gzip"})
    assert status == status_z == 200 and "content-encoding" not in plain_h
    assert zipped_h["content-encoding"] == "gzip" and "Accept-Encoding" in zipped_h["vary"]
    unzipped, plain_doc = json.loads(gzip.decompress(zipped)), json.loads(plain)
    for doc in (unzipped, plain_doc):  # the time of each answer: the two may straddle a second
        doc.pop("timeStamp")
    assert unzipped == plain_doc
    assert len(zipped) < len(plain) / 2


def test_etag_and_304_through_nginx(stack):
    for extra in ({}, {"Accept-Encoding": "gzip"}):
        status, headers, _ = request(*stack, "/api/layers", extra)
        assert status == 200 and headers["etag"].startswith('W/"') and "max-age" in headers["cache-control"]
        status, again, body = request(*stack, "/api/layers", {**extra, "If-None-Match": headers["etag"]})
        assert status == 304 and body == b"" and again["etag"] == headers["etag"]


def test_cors_through_nginx(stack):
    status, headers, _ = request(*stack, "/collections/relief_points/items?limit=1",
                                 {"Origin": "https://other-department.example"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = request(*stack, "/api/search?q=frj", {"Origin": "https://x.example",
                                                               "Access-Control-Request-Method": "GET"},
                                 method="OPTIONS")
    assert status == 200 and "GET" in headers["access-control-allow-methods"]


def test_links_follow_the_public_url_and_ignore_host(stack):
    for path in ("/ogc", "/collections", "/collections/relief_points/items?limit=5"):
        status, _, body = request(*stack, path, {"Host": "evil.example"})
        text = body.decode()
        assert status == 200 and "evil.example" not in text and f"{PUBLIC}/" in text, path
    status, headers, _ = request(*stack, "/static", {"Host": "evil.example"})  # nginx's own redirect
    assert "evil.example" not in headers.get("location", "")


def test_static_files_are_cached_and_bodies_are_bounded(stack):
    status, headers, _ = request(*stack, "/static/app.js")
    assert status == 200 and "max-age=3600" in headers["cache-control"] and "etag" in headers
    status, headers, _ = request(*stack, "/static/vendor/leaflet/leaflet.js")
    assert status == 200 and "max-age=2592000" in headers["cache-control"]
    status, _, _ = request(*stack, "/api/health", method="POST", body=b"x" * 100_000)
    assert status == 413  # refused by nginx before it reaches the app


def test_rate_limit_per_client(stack):
    """Last: it spends this client's allowance (60 at once, then 20 a second)."""
    host, port = stack
    conn = http.client.HTTPConnection(host, port, timeout=30)
    statuses = []
    for _ in range(400):
        conn.request("GET", "/api/health")
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
        if resp.status == 429:
            break
    conn.close()
    assert statuses[-1] == 429 and statuses.count(200) >= 20  # the other tests spent some of it
