"""The public place-name web map: a Flask app factory, a JSON API and OGC API - Features.

``create_app(settings)`` builds the app; nothing is built at import time. Settings come from a
:class:`WebSettings`, a dict, or ``PLACEGEO_``-prefixed environment variables
(``PLACEGEO_ATLAS``, ``PLACEGEO_TILES``, ``PLACEGEO_EXPORT_DIR`` …). The site is read-only: only GET
and HEAD are answered, every parameter is checked where it enters (a 400 naming it), limits are
capped, errors never carry a traceback or a path, downloads come only from the export folder, and
every response carries security headers. Production: nginx in front of gunicorn (``webmap/serve-prod``,
``make serve-prod``); never gunicorn's sync workers alone on a public network.

The package: :mod:`~placegeo.web.settings` (settings), :mod:`~placegeo.web.params` (request
parameters), :mod:`~placegeo.web.geojson` (answers), :mod:`~placegeo.web.state` (what a worker
holds per atlas revision, and the atlases served, one per city), :mod:`~placegeo.web.cityroutes`
(``/<city>/`` routes), :mod:`~placegeo.web.errors` (exception → status table), and the
blueprints :mod:`~placegeo.web.page`, :mod:`~placegeo.web.api`, :mod:`~placegeo.web.ogc` and
:mod:`~placegeo.web.downloads`, wired by :func:`~placegeo.web.app.create_app` together with the web
conventions, one module each: :mod:`~placegeo.web.links` (links on ``PLACEGEO_PUBLIC_URL``),
:mod:`~placegeo.web.caching` (ETag/304 and Cache-Control by atlas revision), :mod:`~placegeo.web.cors`
and :mod:`~placegeo.web.compress` (gzip); :mod:`~placegeo.web.lru` bounds the per-revision caches.
"""

from placegeo.errors import BadParameter
from placegeo.web.app import create_app
from placegeo.web.settings import WebSettings

__all__ = ["BadParameter", "WebSettings", "create_app"]
