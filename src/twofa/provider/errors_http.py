"""Render every failure as the Authy JSON envelope: never a stack trace, never an empty body."""

from __future__ import annotations

import logging

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


def envelope(error: TwofaError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimited) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def _twofa_error(_: Request, exc: Exception) -> JSONResponse:
    return envelope(exc)  # type: ignore[arg-type]


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", 400)
    if status == 404:
        return envelope(NotFound())
    if status == 405:
        return envelope(MethodNotAllowed())
    if status == 413:
        return envelope(PayloadTooLarge())
    return envelope(InvalidRequest())


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    return envelope(InvalidRequest())


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return envelope(ServiceUnavailable())


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    response = envelope(TwofaError())
    response.status_code = 500
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(TwofaError, _twofa_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
