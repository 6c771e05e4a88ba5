"""OpenAPI descriptions for routes whose parameters we parse by hand (contract section 1.3)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

API_KEY_HEADER = {
    "name": "X-Authy-API-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "API key (or `api_key` in the query or form body)",
}


def doc(
    *,
    query: dict[str, dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    required: list[str] | None = None,
) -> dict[str, Any]:
    """An ``openapi_extra`` block: the API key header, query parameters and a JSON/form body."""
    extra: dict[str, Any] = {"parameters": [API_KEY_HEADER]}
    for name, schema in (query or {}).items():
        extra["parameters"].append(
            {"name": name, "in": "query", "required": False, "schema": schema}
        )
    if body is not None:
        schema = {"type": "object", "properties": body}
        if required:
            schema["required"] = required
        extra["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    return extra


STRING = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
OBJECT = {"type": "object", "additionalProperties": {"type": "string"}}


class PlainRoute(Route):
    """A Starlette route that, like FastAPI's, records itself in the scope (the metrics and
    the access log label requests with the matched route's template).

    The endpoint's errors reach the application's exception handlers one layer up, in
    ``ExceptionMiddleware``: Starlette would wrap each call of a plain route in a second
    catcher with the very same handlers, a cost on every request that changes nothing.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        methods: list[str] | None = None,
    ) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.app = _serve(endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


def _serve(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


def plain_route(app: FastAPI, route: Route, *, tag: str, extra: dict[str, Any], name: str) -> None:
    """Serve ``route`` ahead of every other and list it in the OpenAPI document.

    FastAPI documents only its own routes; a plain Starlette route skips its per-request
    dependency solving and validation, which the busiest route parses by hand anyway.
    """
    app.router.routes.insert(0, route)
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        summary, _, description = inspect.cleandoc(route.endpoint.__doc__ or "").partition("\n")
        path_params = [
            {"name": p, "in": "path", "required": True, "schema": STRING}
            for p in route.param_convertors
        ]
        operation = {
            "tags": [tag],
            "summary": summary.strip(),
            "description": description.strip(),
            "operationId": name,
            "parameters": [*path_params, *extra.get("parameters", [])],
            "responses": {
                "200": {
                    "description": "Successful Response",
                    "content": {"application/json": {"schema": {}}},
                }
            },
        }
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                schema["paths"].setdefault(route.path, {})[method.lower()] = operation
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
