"""Per-request id, access log and HTTP metrics, as one small ASGI middleware."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twofa.provider.observability import metrics
from twofa.provider.observability.logs import request_id

log = logging.getLogger("twofa.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_QUIET = {"/healthz", "/readyz", "/metrics"}
# Request ids: a random per-process prefix and a counter (unique, and no system call each).
_PREFIX = secrets.token_hex(6)
_SEQUENCE = itertools.count(1)


class Observe:
    """Assign ``X-Request-ID`` (or keep a sane incoming one), time the request, log it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _VALID_ID.match(incoming) else f"{_PREFIX}{next(_SEQUENCE):x}"
        token = request_id.set(rid)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            metrics.REQUESTS.labels(method, template, str(status)).inc()
            metrics.LATENCY.labels(method, template).observe(elapsed)
            if scope["path"] not in _QUIET:
                log.info(
                    "%s %s %s",
                    method,
                    template,
                    status,
                    extra={
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "route": template,
                    },
                )
            request_id.reset(token)
