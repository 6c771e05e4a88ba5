"""The busiest routes, served straight from the middleware stack.

A request to the provider passes the framework's layers before reaching a route: exception
telemetry, the framework's body-limit shim, the exception middleware with its per-request
handler lookup, an exit stack for uploaded files, the router's walk over every route. Each
is a coroutine frame and a wrapped ``send``; together they cost a refused code about as much
as the verification's own SQL (docs/performance.md). ``HotRoutes`` sits inside the provider's
own middleware (request id, metrics, access log, body limit), so those still see every
request, and answers the few routes it is given itself: the same route objects the router
holds (and the OpenAPI document lists), the same endpoint, and errors rendered by the same
handlers (``errors_http.respond``). Anything else, including another method on the same
path, goes on to the framework unchanged.

A dispatching middleware rather than a framework setting: FastAPI and Starlette have no
switch to drop layers for one route, and replacing the application's middleware builder would
tie the provider to their private ordering.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from twofa.provider import errors_http


class HotRoutes:
    """ASGI middleware: serve ``routes`` (plain Starlette routes) without the router."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[Route]) -> None:
        self.app = app
        self._routes = [(_literal_prefix(route.path), route) for route in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            for prefix, route in self._routes:
                if not path.startswith(prefix) or scope["method"] not in (route.methods or ()):
                    continue
                match = route.path_regex.match(path)
                if match is None:
                    continue
                convertors = route.param_convertors
                scope["path_params"] = {
                    name: convertors[name].convert(value)
                    for name, value in match.groupdict().items()
                }
                scope["endpoint"] = route.endpoint
                scope["route"] = route  # the metrics and access log label by its template
                request = Request(scope, receive, send)
                try:
                    response = await route.endpoint(request)
                except Exception as exc:  # answered as the framework would
                    response = await errors_http.respond(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _literal_prefix(template: str) -> str:
    """The part of a route template before its first parameter: a cheap first test."""
    return template.split("{", 1)[0]
