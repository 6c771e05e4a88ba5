"""The console's Jinja2 environment and the one way pages answer: ``render`` or ``redirect``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, StrictUndefined

from twofa.crypto import derive
from twofa.provider.operators.model import ROLES
from twofa.settings import Settings

if TYPE_CHECKING:
    from twofa.provider.services import Services

PREFIX = "/console"
FLASH_COOKIE = "__Host-twofa_console_flash"


@dataclass(frozen=True, slots=True)
class Nav:
    """A page's entry in the menu: its label, its path under ``/console``, who sees it."""

    label: str
    path: str
    roles: tuple[str, ...] = ROLES


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


environment = Environment(
    loader=PackageLoader("twofa.provider.console", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when


def services(request: Request) -> Services:
    return request.app.state.services


def settings(request: Request) -> Settings:
    return request.app.state.settings


def _flash_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derive(settings(request).key, "twofa:console-flash").hex())


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the base layout, with the operator, the CSRF token, the menu and any message
    a redirect left for it."""
    from twofa.provider.console import auth  # the pages' helpers import this module
    from twofa.provider.console.pages import PAGES

    operator = auth.current_operator(request)
    flash = None
    if FLASH_COOKIE in request.cookies:
        try:
            flash = str(_flash_signer(request).loads(request.cookies[FLASH_COOKIE], max_age=60))
        except BadSignature:
            flash = None
    nav = [
        (page.NAV, request.url.path.startswith(PREFIX + page.NAV.path))
        for page in PAGES
        if getattr(page, "NAV", None) is not None
        and operator is not None
        and operator.role in page.NAV.roles
    ]
    body = environment.get_template(template).render(
        operator=operator,
        csrf_token=auth.csrf_token(request),
        nav=nav,
        flash=flash,
        prefix=PREFIX,
        request_path=request.url.path,
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", secure=True, httponly=True)
    auth.attach_cookies(request, response)
    return response


def redirect(request: Request, path: str, *, flash: str | None = None) -> RedirectResponse:
    """303 to ``/console`` + ``path`` (a GET page), with a message it shows once."""
    response = RedirectResponse(PREFIX + path, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            _flash_signer(request).dumps(flash),
            max_age=60,
            path="/",
            secure=True,
            httponly=True,
            samesite="strict",
        )
    return response
