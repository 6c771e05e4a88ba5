"""Headers on every console answer, and the check every change must pass.

A change (POST, PUT, PATCH, DELETE) is refused unless

1. its ``Origin`` is the console's own (``auth.expected_origin``): a page on another site can
   make a browser post a form, but not lie about where it came from. A request without an
   Origin is refused too; every browser sends one on a POST. ``Sec-Fetch-Site``, when sent,
   must say ``same-origin``.
2. it carries the CSRF token of this session (a form field ``csrf_token`` or the header
   ``X-CSRF-Token``): an HMAC under the provider's key over the session token (or, before
   sign-in, over the pre-session cookie), so it cannot be guessed or carried to another
   session.

The session cookie is SameSite=Strict as well; each of the three stops the classic attack on
its own.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twofa.provider.console import auth

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Not "no-referrer": under it browsers send "Origin: null" on form posts, and the Origin
    # check could not tell the console's own forms from anyone else's. "same-origin" still
    # gives other sites nothing.
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on everything; ``no-store`` on all but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"][len(scope.get("root_path", "")) :]
        static = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


async def protect(request: Request) -> None:
    """Every page router's dependency: refuse a change from elsewhere or without the token."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if not origin or origin.lower() != auth.expected_origin(request):
        raise auth.Forbidden("This request did not come from the console.")
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        raise auth.Forbidden("This request did not come from the console.")
    submitted = request.headers.get("x-csrf-token")
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    # The session lookup reads the database: off the event loop the API shares.
    if not await run_in_threadpool(auth.csrf_valid, request, submitted):
        raise auth.Forbidden("The form has expired. Go back, reload the page and try again.")
