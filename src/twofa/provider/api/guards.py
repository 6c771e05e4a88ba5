"""Request plumbing shared by every Authy route: merged parameters and the API key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from twofa.provider.apps.model import App
from twofa.provider.params import merge, parse_body
from twofa.provider.services import Services

T = TypeVar("T")


_PARAMS = "twofa.params"


async def read_params(request: Request) -> dict[str, Any]:
    """Body (JSON or form, on any method) merged with the query string; cached per request.

    The cache is a key of the request's scope rather than ``request.state``, whose every miss
    raises and catches an AttributeError: on the busiest route that was a visible cost.
    """
    scope = request.scope
    cached: dict[str, Any] | None = scope.get(_PARAMS)
    if cached is not None:
        return cached
    has_body = False
    for name, _ in scope["headers"]:  # HTTP/1.1: no length and no chunking means no body
        if name == b"content-length" or name == b"transfer-encoding":
            has_body = True
            break
    body = await request.body() if has_body else b""
    query = scope["query_string"]
    params: dict[str, Any] = {}
    if body or query:  # the busiest route usually has neither: its parameters are in its path
        params = merge(
            parse_body(body, request.headers.get("content-type", "")) if body else {},
            request.query_params.multi_items() if query else (),
        )
    scope[_PARAMS] = params
    return params


def services(request: Request) -> Services:
    return request.app.state.services


async def run_db(request: Request, work: Callable[[], T], *, on_loop: bool = False) -> T:
    """Run a service call that touches only the database (``Database.run``)."""
    return await services(request).db.run(work, on_loop=on_loop)


async def api_key(request: Request) -> str | None:
    """The key from the header, else the query, else a form field (contract section 1.2)."""
    key = request.headers.get("x-authy-api-key")
    if key:
        return key
    params = await read_params(request)
    value = params.get("api_key")
    return value if isinstance(value, str) else None


def authenticate(request: Request, key: str | None) -> App:
    return services(request).apps.authenticate(key)
