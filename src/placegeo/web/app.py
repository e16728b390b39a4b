"""The app factory: settings, the worker's view of the atlas, the blueprints, headers and errors."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from placegeo.web import caching, cityroutes, compress, cors, errors, links
from placegeo.web.api import api
from placegeo.web.downloads import downloads
from placegeo.web.geojson import StrictJSONProvider
from placegeo.web.ogc import ogc
from placegeo.web.ogc_tiles import ogc_tiles
from placegeo.web.page import page
from placegeo.web.settings import TILES, WebSettings, webmap_dir
from placegeo.web.state import AtlasSet

__all__ = ["create_app"]


def create_app(settings: WebSettings | dict[str, Any] | None = None) -> Flask:
    """Build the web map app.

    Parameters
    ----------
    settings : WebSettings or dict, optional
        A dict overrides the ``PLACEGEO_`` environment variables key by key (``{"atlas": "x.gpkg"}``;
        several atlases, one per city: ``{"atlases": ["jinan.gpkg", "jining.gpkg"]}``, each then also
        served under ``/<city>/``).
    """
    if not isinstance(settings, WebSettings):
        settings = WebSettings.from_env(**(settings or {}))
    base = webmap_dir()
    app = Flask("placegeo.web", template_folder=str(base / "templates"), static_folder=str(base / "static"),
                static_url_path="/static")
    app.config["PLACEGEO"] = settings
    app.json = StrictJSONProvider(app)  # no NaN in any answer
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    atlas_set = AtlasSet(settings)
    app.extensions["placegeo"] = atlas_set
    for blueprint in (page, api, ogc, ogc_tiles, downloads):
        app.register_blueprint(blueprint)
    cityroutes.install(app, atlas_set.cities)
    errors.install(app)
    app.before_request(_read_only)
    app.after_request(_security_headers(settings))
    # web conventions, one module each (after_request hooks run last-registered first)
    links.install(app)
    caching.install(app, settings)
    cors.install(app, settings)
    compress.install(app, settings)
    return app


def _read_only() -> Any:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return errors.error_response(405, "this site is read-only: only GET requests are answered")
    return None


def _security_headers(settings: WebSettings):
    img = "'self' data:" + (" https:" if TILES.get(settings.tiles) else "")
    csp = (f"default-src 'self'; img-src {img}; style-src 'self'; script-src 'self'; connect-src 'self'; "
           "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")

    def after(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = csp
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        return resp

    return after
