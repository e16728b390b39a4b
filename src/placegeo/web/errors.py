"""Errors as the public sees them: one table from exception class to HTTP status and message.

A message is shown as the exception says it only where that text is about the request (a bad
parameter, a layer the atlas lacks); otherwise the public gets a fixed sentence and the details
go to the log. No answer ever carries a traceback or a path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from placegeo import errors as e

__all__ = ["STATUS", "error_response", "install", "public_error"]

log = logging.getLogger("placegeo.web")


def _said(exc: BaseException) -> str:
    return str(exc)


def _layer(exc: BaseException) -> str:
    layer = getattr(exc, "layer", None)
    return f"this atlas has no layer '{layer}'" if layer else "this atlas has no such layer"


# errors about what the request asked: their messages say what was wrong and how to fix it
_BAD_INPUT = (e.BadParameter, e.DatumError, e.CRSError, e.GeographicCRSError, e.ValidationError,
              e.ImportFormatError, e.ExportError, e.ParameterError, e.CoverageError, e.NetworkError, e.SearchError,
              e.OpeningHoursError, e.NameCheckError, e.CityError, e.IndicatorError, e.ReportError)
#: every PlacegeoError class → (HTTP status, the public message made from the exception)
STATUS: dict[type[e.PlacegeoError], tuple[int, Callable[[BaseException], str]]] = {
    **dict.fromkeys(_BAD_INPUT, (400, _said)),
    e.LayerNotFoundError: (404, _layer),
    e.ReadOnlyError: (403, lambda exc: "this atlas is read-only here"),
    e.SchemaError: (500, lambda exc: "the server's layer definitions are broken; the error was logged"),
    e.ReadingsError: (500, lambda exc: "the server's place-name readings are broken; the error was logged"),
    e.AtlasError: (503, lambda exc: "the atlas cannot be read right now; try again later"),
    e.PlacegeoError: (500, lambda exc: "internal error; the request was logged"),
}


def public_error(exc: BaseException) -> tuple[int, str]:
    """The status and public message of an exception: its class's entry, or its nearest base's."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            status, message = STATUS[cls]
            return status, message(exc)
    return 500, "internal error; the request was logged"


def error_response(status: int, message: str, parameter: str | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": {"status": status, "message": message}}
    if parameter:
        body["error"]["parameter"] = parameter
    return jsonify(body), status


def install(app: Flask) -> None:
    """Answer every error of ``app`` through the table."""

    @app.errorhandler(e.PlacegeoError)
    def placegeo_error(exc: e.PlacegeoError):
        status, message = public_error(exc)
        if status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.path, exc)
        return error_response(status, message, getattr(exc, "parameter", None))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return error_response(500, "internal error; the request was logged")
