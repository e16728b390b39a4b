"""ETag and Cache-Control on data answers, keyed by the atlas revision; 304 on ``If-None-Match``.

A data answer depends only on the atlas revision and the request's path and query, so its ETag is
a digest of those, known before any work is done: a client that already holds the answer gets a
304 at once. The tag is weak (``W/``): the same answer gzipped or not is equivalent, and nginx
keeps weak tags when it compresses.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, g, request

from placegeo.web.settings import WebSettings
from placegeo.web.state import atlases

__all__ = ["DATA_PREFIXES", "install", "revision_etag"]

#: paths whose answers are data of the atlas (downloads carry their own file ETag)
DATA_PREFIXES = ("/api/", "/ogc", "/conformance", "/collections")
NEVER_CACHED = ("/api/health",)  # a health check must reach the server each time


def revision_etag(revision: str, full_path: str) -> str:
    """The (unquoted) tag of the answer to ``full_path`` from atlas ``revision``.

    >>> revision_etag("r1", "/api/layers?") == revision_etag("r1", "/api/layers?")
    True
    >>> revision_etag("r1", "/api/layers?") == revision_etag("r2", "/api/layers?")
    False
    """
    return hashlib.blake2b(f"{revision}\n{full_path}".encode(), digest_size=12).hexdigest()


def install(app: Flask, settings: WebSettings) -> None:
    """Answer 304 to a matching ``If-None-Match``; tag and mark cacheable every 200 data answer."""
    cache_control = f"public, max-age={settings.cache_max_age}"

    def check() -> Response | None:
        if request.method not in ("GET", "HEAD") or not request.path.startswith(DATA_PREFIXES):
            return None
        if request.path.startswith(NEVER_CACHED):
            g.placegeo_etag = None
            return None
        # every atlas served: a province-wide search or OGC page reads several
        revision = "|".join(v.state.revision for v in atlases().views.values())
        tag = revision_etag(revision, request.full_path)
        g.placegeo_etag = tag
        if request.if_none_match.contains_weak(tag):
            return Response(status=304)
        return None

    def mark(resp: Response) -> Response:
        if "placegeo_etag" not in g:
            return resp
        if g.placegeo_etag is None:
            resp.headers["Cache-Control"] = "no-store"
        elif resp.status_code in (200, 304):
            resp.set_etag(g.placegeo_etag, weak=True)
            resp.headers["Cache-Control"] = cache_control
        return resp

    app.before_request(check)
    app.after_request(mark)
