"""Links and redirects on the site's public base URL (``PLACEGEO_PUBLIC_URL``), never the Host header.

A client chooses the Host header; copied into links it lets anyone make the site's answers point
elsewhere (``Host: evil.example``). Links are built from the configured public URL, or are
root-relative when none is set; a redirect that Werkzeug built from the Host header is rewritten.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, current_app, has_request_context, request

__all__ = ["install", "public_url"]


def public_url(path: str, args: dict[str, str] | None = None) -> str:
    """A link to ``path`` on the public site: ``PLACEGEO_PUBLIC_URL`` + the city's prefix (``/jining``, see
    :mod:`placegeo.web.cityroutes`) + path (+ query); root-relative when no public URL is set."""
    prefix = request.script_root if has_request_context() else ""
    return _on_public_root(f"{prefix}{path.rstrip('?')}" + (f"?{urlencode(args)}" if args else ""))


def _on_public_root(target: str) -> str:
    return current_app.config["PLACEGEO"].public_url.rstrip("/") + target


def install(app: Flask) -> None:
    """Rewrite ``Location`` headers that point at the request's own Host to the public URL."""

    @app.after_request
    def public_location(resp: Response) -> Response:
        location = resp.headers.get("Location")
        if location:
            parts = urlsplit(location)
            if parts.netloc and parts.netloc == request.host:
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                resp.headers["Location"] = _on_public_root(target)  # the path already holds the city's prefix
        return resp
