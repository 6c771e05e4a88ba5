"""Render every failure as the Authy JSON envelope: never a stack trace, never an empty body."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
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
# and a wrong code is the busiest answer after a valid one: each distinct body is encoded once,
# with its headers, and each refusal copies them.
_ENCODED: dict[tuple[Any, ...], tuple[bytes, list[tuple[bytes, bytes]]]] = {}
_ENCODED_MAX = 512  # messages may carry a parameter's name: bounded, cleared when full


def _encoded(error: TwofaError) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The body and the raw headers (content type and length) for ``error``."""
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
        return _with_headers(_encode(error.body()))
    encoded = _ENCODED.get(key)
    if encoded is None:
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        encoded = _ENCODED[key] = _with_headers(_encode(error.body()))
    return encoded


def _encode(body: dict[str, Any]) -> bytes:
    """As ``JSONResponse`` renders it."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


_JSON = b"application/json"


def _with_headers(body: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    return body, [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON)]


class Encoded(Response):
    """A response whose body and headers were built before (``Response`` would compute the
    headers again for every refusal)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = list(raw_headers)  # each response owns its list


def envelope(error: TwofaError) -> Response:
    body, headers = _encoded(error)
    response = Encoded(body, error.status, headers)
    if isinstance(error, RateLimited) and error.retry_after:
        response.raw_headers.append((b"retry-after", str(error.retry_after).encode()))
    return response


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


Handler = Callable[[Request, Exception], Awaitable[Response]]
HANDLERS: dict[type[Exception], Handler] = {
    TwofaError: _twofa_error,
    HTTPException: _http_error,
    RequestValidationError: _validation_error,
    OperationalError: _database_error,
    PoolTimeout: _database_error,
    DBAPIError: _database_error,
    Exception: _unexpected,
}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)


async def respond(request: Request, exc: Exception) -> Response:
    """The answer ``install``'s handlers give for ``exc``, found as the framework finds it
    (the nearest class in the exception's MRO); for routes served outside the router."""
    for kind in type(exc).__mro__:
        handler = HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    raise exc  # a BaseException that is not an Exception: not ours to answer
