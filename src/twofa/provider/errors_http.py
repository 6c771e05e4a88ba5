"""Render every failure as the Authy JSON envelope: never a stack trace, never an empty body."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from twofa.errors import (
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    TwofaError,
)

log = logging.getLogger(__name__)

# Other wire dialects (Twilio Verify under /v2) render errors in their own shape.
Renderer = Callable[[Request, TwofaError], Response]
DIALECTS: list[tuple[str, Renderer]] = []


def register_dialect(prefix: str, render: Renderer) -> None:
    """Render errors of requests under ``prefix`` with ``render`` instead of the Authy envelope."""
    if all(existing != prefix for existing, _ in DIALECTS):
        DIALECTS.append((prefix, render))


def _respond(request: Request, error: TwofaError, status: int | None = None) -> Response:
    path: str = request.scope["path"]
    for prefix, render in DIALECTS:
        if path == prefix or path.startswith(prefix + "/"):
            return render(request, error)
    response = envelope(error)
    if status is not None:
        response.status_code = status
    return response


# Most refusals are the same few bodies over and over (a wrong code, a bad key, a limit hit),
# and a wrong code is the busiest answer after a valid one: each distinct body is encoded once.
_ENCODED: dict[tuple[Any, ...], bytes] = {}
_ENCODED_MAX = 512  # messages may carry a parameter's name: bounded, cleared when full


def _encoded(error: TwofaError) -> bytes:
    try:
        key = (
            type(error),
            error.code,
            error.message,
            *error.extra.items(),
            None,
            *error.fields.items(),
        )
        hash(key)
    except TypeError:  # a value that cannot be a key (a list, a dict): encode it each time
        return _encode(error.body())
    body = _ENCODED.get(key)
    if body is None:
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        body = _ENCODED[key] = _encode(error.body())
    return body


def _encode(body: dict[str, Any]) -> bytes:
    """As ``JSONResponse`` renders it."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def envelope(error: TwofaError) -> Response:
    headers = {}
    if isinstance(error, RateLimited) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        _encoded(error), status_code=error.status, headers=headers, media_type="application/json"
    )


async def _twofa_error(request: Request, exc: Exception) -> Response:
    return _respond(request, exc)  # type: ignore[arg-type]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 400)
    if status == 404:
        return _respond(request, NotFound())
    if status == 405:
        return _respond(request, MethodNotAllowed())
    if status == 413:
        return _respond(request, PayloadTooLarge())
    return _respond(request, InvalidRequest())


async def _validation_error(request: Request, exc: Exception) -> Response:
    return _respond(request, InvalidRequest())


async def _database_error(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", exc)
    return _respond(request, ServiceUnavailable())


class _Unexpected(TwofaError):
    status = 500


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return _respond(request, _Unexpected(TwofaError.default_message), status=500)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(TwofaError, _twofa_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
