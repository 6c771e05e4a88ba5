"""Refusals as pages: every error a console route can meet answers a 4xx page (or JSON for
the ``fetch`` calls of the WebAuthn script), never a stack trace."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from twofa.errors import RateLimited, TwofaError
from twofa.provider.console import auth
from twofa.provider.console.templating import PREFIX, render
from twofa.provider.operators.model import OperatorError, SignInThrottled

log = logging.getLogger(__name__)
TITLES = {
    400: "That did not work",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many attempts",
    503: "Busy",
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def page(request: Request, status: int, message: str, *, retry_after: int = 0) -> Response:
    """An error page (or ``{"error": message}`` for a ``fetch`` call) with ``status``."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    response = render(
        request,
        "console/error.html",
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
    )
    if headers:
        response.headers.update(headers)
    return response


async def _page(request: Request, status: int, message: str, *, retry_after: int = 0) -> Response:
    # Rendering looks the session up in the database: off the event loop the API shares.
    return await run_in_threadpool(page, request, status, message, retry_after=retry_after)


def install(app: FastAPI) -> None:
    """Attach the console's handlers to its own application (the API keeps its envelope)."""

    @app.exception_handler(auth.SignInRequired)
    async def sign_in(request: Request, _: Exception) -> Response:
        if request.method == "GET" and not _wants_json(request):
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(auth.login_url(request.url.path + query), status_code=303)
        return await _page(request, 401, "Your session has ended. Sign in again.")

    @app.exception_handler(auth.ReauthRequired)
    async def reauth(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, auth.ReauthRequired)
        target = f"{PREFIX}/reauth?next={quote(exc.next_path, safe='/')}"
        if _wants_json(request):
            return JSONResponse({"error": "re-authenticate", "redirect": target}, status_code=401)
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(auth.Forbidden)
    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, auth.Forbidden)
        return await _page(request, 403, exc.message)

    @app.exception_handler(SignInThrottled)
    async def throttled(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInThrottled)
        return await _page(
            request,
            429,
            f"Too many attempts. Try again in {exc.retry_after} seconds.",
            retry_after=exc.retry_after,
        )

    @app.exception_handler(OperatorError)
    async def operator_error(request: Request, exc: Exception) -> Response:
        return await _page(request, 400, str(exc))

    @app.exception_handler(TwofaError)
    async def twofa_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TwofaError)
        retry = exc.retry_after if isinstance(exc, RateLimited) else 0
        return await _page(request, exc.status, exc.message, retry_after=retry)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, _: Exception) -> Response:
        return await _page(request, 400, "The form was incomplete or not understood.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return await _page(request, exc.status_code, message)
