"""Per-city routes: ``/<city>/…`` answers every route of the site with that city's atlas.

:class:`CityPrefix` moves a served city's id from the path into the script root (so
``/jining/api/search`` is ``/api/search`` of the app mounted at ``/jining``, and every link the
app makes carries the prefix) and tells the app which city it is in ``environ["placegeo.city"]``.
Paths whose first segment is no route and no city get a 404 that lists the cities served.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response, has_request_context, request
from werkzeug.exceptions import NotFound

from placegeo.errors import CityError

__all__ = ["CityPrefix", "install", "request_city"]

ENVIRON_KEY = "placegeo.city"
#: words no city may be called: ``city=all`` means every city
RESERVED = {"all"}


def request_city() -> str | None:
    """The city the request's path names (``/<city>/…``), or None at the unprefixed routes."""
    return request.environ.get(ENVIRON_KEY) if has_request_context() else None


class CityPrefix:
    """WSGI middleware: ``/<city>/rest`` → script root ``…/<city>``, path ``/rest``, city in the environ."""

    def __init__(self, app: Any, cities: Iterable[str]):
        self.app = app
        self.cities = frozenset(cities)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        head, sep, rest = path[1:].partition("/")
        if head in self.cities:
            environ[ENVIRON_KEY] = head
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/" + head
            environ["PATH_INFO"] = sep + rest
        return self.app(environ, start_response)


def _unknown_city(first_segments: set[str], cities: list[str]) -> Blueprint:
    bp = Blueprint("cityroutes", __name__)

    def not_found(city: str, rest: str = "") -> Response:
        if city in first_segments or not re.fullmatch(r"[a-z][a-z0-9_]{1,30}", city):
            raise NotFound()
        if not cities:
            raise NotFound(f"this server has no city '{city}': it serves a single atlas of no known city")
        raise NotFound(f"this server has no city '{city}'; the cities it serves are {', '.join(cities)} "
                       f"(e.g. /{cities[0]}/api/search?q=…)")

    for i, rule in enumerate(("/<city>", "/<city>/", "/<city>/<path:rest>")):
        bp.add_url_rule(rule, endpoint=f"unknown_city_{i}", view_func=not_found)
    return bp


def install(app: Flask, cities: list[str]) -> None:
    """Answer ``/<city>/…`` for each of ``cities`` and a clear 404 for any other city.

    Call after every other blueprint is registered: a city may not be named like a route.
    """
    first_segments = {r.rule.split("/")[1] for r in app.url_map.iter_rules()} | RESERVED
    clash = sorted(set(cities) & first_segments)
    if clash:
        raise CityError(f"the city id '{clash[0]}' is also a route of the site; rename its profile "
                        "(cities/<id>.yaml) to serve it")
    app.register_blueprint(_unknown_city(first_segments, cities))
    app.wsgi_app = CityPrefix(app.wsgi_app, cities)  # type: ignore[method-assign]
