"""Build the console and mount it at ``/console``.

A FastAPI application of its own, mounted on the provider's: it has its own error handlers
(HTML pages, not the Authy envelope) and security headers, it is absent from the OpenAPI
document, and the API's requests never reach its routes or middleware (the provider's router
matches the ``/console`` prefix once, after the API's own routes).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.staticfiles import StaticFiles

from twofa.provider.console import errors
from twofa.provider.console.pages import PAGES
from twofa.provider.console.security import SecurityHeaders, protect
from twofa.provider.console.templating import PREFIX
from twofa.provider.services import Services
from twofa.settings import Settings


def build_console(services: Services, settings: Settings) -> FastAPI:
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.services = services
    console.state.settings = settings
    errors.install(console)
    console.add_middleware(SecurityHeaders)
    console.mount(
        "/static",
        StaticFiles(packages=[("twofa.provider.console", "static")]),
        name="static",
    )
    for page in PAGES:
        console.include_router(page.router, dependencies=[Depends(protect)])
    return console


def mount(app: FastAPI, services: Services, settings: Settings) -> None:
    """Serve the console under ``/console`` unless ``TWOFA_CONSOLE_ENABLED`` is false."""
    if settings.console_enabled:
        app.mount(PREFIX, build_console(services, settings))
