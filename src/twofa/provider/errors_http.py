"""Render every failure as the Authy JSON envelope: never a stack trace, never an empty body."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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
Renderer = Callable[[Request, TwofaError], JSONResponse]
DIALECTS: list[tuple[str, Renderer]] = []


def register_dialect(prefix: str, render: Renderer) -> None:
    """Render errors of requests under ``prefix`` with ``render`` instead of the Authy envelope."""
    if all(existing != prefix for existing, _ in DIALECTS):
        DIALECTS.append((prefix, render))


def _respond(request: Request, error: TwofaError, status: int | None = None) -> JSONResponse:
    path = request.url.path
    for prefix, render in DIALECTS:
        if path == prefix or path.startswith(prefix + "/"):
            return render(request, error)
    response = envelope(error)
    if status is not None:
        response.status_code = status
    return response


def envelope(error: TwofaError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimited) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def _twofa_error(request: Request, exc: Exception) -> JSONResponse:
    return _respond(request, exc)  # type: ignore[arg-type]


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", 400)
    if status == 404:
        return _respond(request, NotFound())
    if status == 405:
        return _respond(request, MethodNotAllowed())
    if status == 413:
        return _respond(request, PayloadTooLarge())
    return _respond(request, InvalidRequest())


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    return _respond(request, InvalidRequest())


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return _respond(request, ServiceUnavailable())


class _Unexpected(TwofaError):
    status = 500


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
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
