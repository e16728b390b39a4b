"""gzip for large text answers when the app runs alone (behind nginx, nginx compresses instead).

GeoJSON pages compress about threefold; answers under :data:`MIN_BYTES` are sent as they are,
as are files (they stream) and clients that do not accept gzip.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

from placegeo.web.settings import WebSettings

__all__ = ["COMPRESSED_TYPES", "MIN_BYTES", "install"]

MIN_BYTES = 1024
COMPRESSED_TYPES = frozenset({"application/json", "application/geo+json", "application/vnd.oai.openapi+json",
                              "text/html", "text/plain"})
LEVEL = 5  # nearly the size of level 9 at a third of its time


def install(app: Flask, settings: WebSettings) -> None:
    """Compress JSON (and HTML) answers of ``app`` larger than :data:`MIN_BYTES` for gzip clients."""
    if not settings.gzip:
        return

    @app.after_request
    def compress(resp: Response) -> Response:
        if (resp.status_code != 200 or resp.direct_passthrough or resp.mimetype not in COMPRESSED_TYPES
                or "Content-Encoding" in resp.headers):
            return resp
        resp.vary.add("Accept-Encoding")
        if request.method == "HEAD" or not request.accept_encodings["gzip"]:
            return resp
        data = resp.get_data()
        if len(data) < MIN_BYTES:
            return resp
        resp.set_data(gzip.compress(data, compresslevel=LEVEL, mtime=0))
        resp.headers["Content-Encoding"] = "gzip"
        return resp
