"""CORS for the read-only APIs: other departments' pages may call them (``PLACEGEO_CORS_ORIGINS``).

Only GET, HEAD and OPTIONS are ever answered (the app is read-only) and no credentials are
allowed, so ``*`` (the default) is safe for public data. With a list of origins, the request's
origin is echoed when listed, and ``Vary: Origin`` keeps caches from mixing the answers.
"""

from __future__ import annotations

from flask import Flask, Response, request

from placegeo.web.settings import WebSettings

__all__ = ["API_PREFIXES", "install"]

#: the paths of the machine-readable APIs (the page and its static files are not for other sites)
API_PREFIXES = ("/api/", "/ogc", "/conformance", "/collections", "/download/")
EXPOSED = "ETag, Content-Crs, Link, Content-Disposition"


def install(app: Flask, settings: WebSettings) -> None:
    """Add the CORS headers to the answers of :data:`API_PREFIXES`."""
    origins = settings.allowed_origins

    @app.after_request
    def cors(resp: Response) -> Response:
        if not request.path.startswith(API_PREFIXES):
            return resp
        origin = request.headers.get("Origin")
        if "*" in origins:
            resp.headers["Access-Control-Allow-Origin"] = "*"
        else:
            resp.vary.add("Origin")
            if origin not in origins:
                return resp
            resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Expose-Headers"] = EXPOSED
        if request.method == "OPTIONS":  # a preflight: what a cross-origin GET may send
            resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language, If-None-Match, Content-Type"
            resp.headers["Access-Control-Max-Age"] = "86400"
        return resp
