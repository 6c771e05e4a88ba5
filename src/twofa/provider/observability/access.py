"""The access log: a line per request, formatted in place and written a few lines at a time.

Through ``logging``, every request paid for a record, a formatter walking the record's
attributes, and a locked write and flush of the stream: about a fifth of a refused code's CPU
in the provider. Where ``logs.configure`` owns the output (``twofa provider``), the line is
formatted here instead, with the same fields, and queued; the queue is written when one more
line would take it past a pipe buffer, every ``FLUSH_SECONDS`` while ``run`` (a lifespan task)
goes on, and when it stops. A crash loses what is queued. Without ``run`` (an application
under a test client that skips its lifespan) each line is written at once, and where logging
is set up by someone else each line is an ordinary ``logging`` record, as before.
"""

from __future__ import annotations

import asyncio
import logging
import select
import time
from json.encoder import encode_basestring_ascii as _quote

from twofa.provider.observability import logs

FLUSH_SECONDS = 0.2
# Writes of at most PIPE_BUF bytes reach a pipe whole, so the lines of several provider
# processes sharing one stderr never cut into each other.
CHUNK = select.PIPE_BUF

log = logging.getLogger("twofa.access")


class AccessLog:
    """Writes ``twofa.access`` lines to ``output`` (``logs.output``: None where logging is set
    up by someone else); one instance per application, used on its event loop."""

    def __init__(self, output: logs.Output | None, *, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.output = output
        self.flush_seconds = flush_seconds
        self._queued: list[str] = []
        self._size = 0
        self._batching = False

    def add(self, *, method: str, route: str, status: int, seconds: float, rid: str) -> None:
        """Log one request: ``GET /route 200`` with its status, duration and route."""
        if not log.isEnabledFor(logging.INFO):
            return
        output = self.output
        duration_ms = round(seconds * 1000, 2)
        if output is None:
            log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={"status": status, "duration_ms": duration_ms, "route": route},
            )
            return
        if output.json:  # JsonFormatter's fields, escaped as it escapes them (ASCII only)
            line = (
                f'{{"time":"{logs.timestamp(time.time())}","level":"info",'
                f'"logger":"twofa.access","message":{_quote(f"{method} {route} {status}")},'
                f'"request_id":{_quote(rid)},"status":{status},"duration_ms":{duration_ms!r},'
                f'"route":{_quote(route)}}}\n'
            )
        else:
            line = f"INFO twofa.access {method} {route} {status}\n"
        if self._size + len(line) > CHUNK:
            self.flush()
        self._queued.append(line)
        self._size += len(line)
        if not self._batching:
            self.flush()

    def flush(self) -> None:
        """Write the queued lines (at most ``CHUNK`` bytes) in one write."""
        if not self._queued or self.output is None:
            return
        text = "".join(self._queued)
        self._queued.clear()
        self._size = 0
        self.output.write(text)

    async def run(self) -> None:
        """Queue lines and write them every ``flush_seconds`` until cancelled, then the rest."""
        self._batching = True
        try:
            while True:
                await asyncio.sleep(self.flush_seconds)
                self.flush()
        finally:
            self._batching = False
            self.flush()
