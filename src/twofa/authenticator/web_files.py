"""Serve the authenticator web app (a static PWA) from the provider at ``/authenticator/``."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_ROOT = Path(__file__).with_name("web")
PREFIX = "/authenticator"

# The app talks only to its own origin; logos come from the URLs applications give (http or https).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data: https: http:; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
MEDIA_TYPES = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


class AuthenticatorFiles(StaticFiles):
    """StaticFiles with the PWA's media types, security headers and revalidated caching."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = os.fspath(full_path)
        media_type = MEDIA_TYPES.get(os.path.splitext(name)[1])
        if media_type and response.status_code == 200:
            response.headers["content-type"] = media_type
        # no-cache = revalidate every time (cheap with ETags); the service worker keeps the
        # offline copy, so a deploy reaches devices on their next load.
        response.headers["cache-control"] = "no-cache"
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        if name.endswith(".html"):
            response.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
            response.headers["x-frame-options"] = "DENY"
        if os.path.basename(name) == "sw.js":
            response.headers["service-worker-allowed"] = PREFIX + "/"
        return response


def mount(app: FastAPI) -> None:
    """Serve ``web/`` at ``/authenticator/`` and redirect the bare path to it."""

    @app.get(PREFIX, include_in_schema=False)
    async def authenticator_root() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=308)

    app.mount(PREFIX, AuthenticatorFiles(directory=WEB_ROOT, html=True), name="authenticator")
