"""Request plumbing for the Verify v2 routes: Basic auth, form parameters, the public base URL,
and Twilio's error body for everything under ``/v2``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from twofa.errors import RateLimited, TwofaError
from twofa.provider.api.guards import services
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.bundle import Verify
from twofa.provider.verify.errors import TooManyRequests, twilio_body
from twofa.provider.verify.wire import Form, PageRequest, page_meta

PREFIX = "/v2"


def render_error(request: Request, error: TwofaError) -> JSONResponse:
    """Twilio's four-field error body; ``Retry-After`` on a 429 that knows it."""
    path = request.url.path
    root = request.scope.get("root_path", "")
    below = path[len(root) :] if root and path.startswith(root) else path
    status, body = twilio_body(error, path=below.removeprefix(PREFIX) or "/")
    headers = {}
    if isinstance(error, RateLimited | TooManyRequests) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


def verify(request: Request) -> Verify:
    return services(request).verify


def account(request: Request) -> Account:
    """The caller, from HTTP Basic credentials (401/20003 otherwise, with no browser prompt)."""
    return verify(request).accounts.authenticate(request.headers.get("authorization"))


async def form(request: Request) -> Form:
    """The form body (POST) and the query string (lists), repeated keys kept."""
    body = await request.body() if request.method == "POST" else b""
    return Form.parse(
        body, request.headers.get("content-type", ""), request.query_params.multi_items()
    )


def public_base(request: Request) -> str:
    """Where clients reach us: ``TWOFA_PUBLIC_URL``, else the address this server listens on.

    Never the Host header: behind a proxy it is whatever the client sent, and the clients
    follow the paging URLs built from it (contract §1.1 pitfall 3).
    """
    configured = services(request).settings.public_url.rstrip("/")
    if configured:
        return configured
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    scheme = request.scope.get("scheme", "http")
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    address = f"[{host}]" if ":" in str(host) else str(host)
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{scheme}://{address}{'' if default else f':{port}'}{root}"


def created(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=201)


def ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=200)


def no_content() -> Response:
    return Response(status_code=204)


def page_body(
    request: Request,
    *,
    key: str,
    items: list[dict[str, Any]],
    page: PageRequest,
    after: int | None,
    filters: dict[str, str] | None = None,
) -> JSONResponse:
    """A list page (always 200: the Python client accepts nothing else there)."""
    url = public_base(request) + request.url.path[len(request.scope.get("root_path", "")) :]
    meta = page_meta(key=key, url=url, request=page, next_after=after, filters=filters)
    return ok({key: items, "meta": meta})


FORM = "application/x-www-form-urlencoded"
STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}


def doc(
    fields: dict[str, dict[str, Any]] | None = None,
    *,
    required: list[str] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An ``openapi_extra`` block: Basic auth, a form body and query parameters."""
    extra: dict[str, Any] = {
        "security": [{"twilioBasic": []}],
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in (query or {}).items()
        ],
    }
    if fields is not None:
        schema: dict[str, Any] = {"type": "object", "properties": fields}
        if required:
            schema["required"] = required
        extra["requestBody"] = {
            "required": bool(required),
            "content": {FORM: {"schema": schema}},
        }
    return extra


PAGING = {"PageSize": INTEGER, "Page": INTEGER, "PageToken": STRING}


def install(app: Any) -> None:
    """Route errors under ``/v2`` to Twilio's body, and describe Basic auth in the OpenAPI."""
    from fastapi.openapi.utils import get_openapi

    from twofa.provider import errors_http

    errors_http.register_dialect(PREFIX, render_error)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["twilioBasic"] = {
                "type": "http",
                "scheme": "basic",
                "description": "Account SID + auth token, or API key SID + secret (Verify v2)",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
