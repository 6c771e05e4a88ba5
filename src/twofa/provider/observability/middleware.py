"""Per-request id, access log and HTTP metrics, as one small ASGI middleware.

It wraps every request, the busiest included, so it does as little as it can per request: the
request id is a prefix and a counter, metric children are looked up once per label set, the
access log's lines are written in batches (``access.py``) and it can be turned off
(``TWOFA_ACCESS_LOG``) where a proxy in front already writes one.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twofa.provider.observability import metrics
from twofa.provider.observability.access import AccessLog
from twofa.provider.observability.logs import request_id

_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_QUIET = {"/healthz", "/readyz", "/metrics"}
# Request ids: a random per-process prefix and a counter (unique, and no system call each).
_PREFIX = secrets.token_hex(6)
_SEQUENCE = itertools.count(1)


class Observe:
    """Assign ``X-Request-ID`` (or keep a sane incoming one), time the request, log it."""

    def __init__(self, app: ASGIApp, *, access_log: AccessLog | None) -> None:
        self.app = app
        self.access_log = access_log
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                if _VALID_ID.fullmatch(incoming):
                    rid = incoming
                break
        rid = rid or f"{_PREFIX}{next(_SEQUENCE):x}"
        token = request_id.set(rid)
        status = 500
        start = time.perf_counter()
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self._count(method, template, status, elapsed)
            if self.access_log is not None and scope["path"] not in _QUIET:
                self.access_log.add(
                    method=method, route=template, status=status, seconds=elapsed, rid=rid
                )
            request_id.reset(token)

    def _count(self, method: str, template: str, status: int, elapsed: float) -> None:
        counter = self._counters.get((method, template, status))
        if counter is None:
            counter = metrics.REQUESTS.labels(method, template, str(status))
            self._counters[(method, template, status)] = counter
        timer = self._timers.get((method, template))
        if timer is None:
            timer = self._timers[(method, template)] = metrics.LATENCY.labels(method, template)
        counter.inc()
        timer.observe(elapsed)
