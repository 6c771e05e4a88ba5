"""A loopback receiver for the provider's callbacks that remembers when each arrived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any


class CallbackSink:
    """A loopback HTTP server that answers 200 to every POST and remembers when each came.

    ``arrivals`` maps the ``uuid`` of the JSON body to ``time.perf_counter()`` when the whole
    request had been read; ``wait(uuid)`` resolves when it is there.
    """

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    async def start(self) -> CallbackSink:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()  # idle keep-alive connections of the dispatcher
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, OSError, asyncio.CancelledError):
                    return
                _, body, keep_alive = await _read_body_request(reader, raw)
                now = time.perf_counter()
                self.requests += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                )
                try:
                    data = json.loads(body)
                    uuid = str(data.get("uuid", ""))
                except (ValueError, AttributeError):
                    continue
                self.arrivals.setdefault(uuid, now)
                self.bodies[uuid] = data
                headers = {}
                for line in raw.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                self.headers[uuid] = headers
                future = self._waiters.pop(uuid, None)
                if future is not None and not future.done():
                    future.set_result(now)
                if not keep_alive:
                    return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def wait(self, uuid: str, timeout: float = 10.0) -> float:
        if uuid in self.arrivals:
            return self.arrivals[uuid]
        future = self._waiters.get(uuid)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[uuid] = future
        return await asyncio.wait_for(asyncio.shield(future), timeout)


async def _read_body_request(reader: asyncio.StreamReader, head: bytes) -> tuple[str, bytes, bool]:
    """The request line, body (Content-Length only) and keep-alive of an HTTP/1.1 request."""
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    body = await reader.readexactly(length) if length else b""
    return lines[0], body, keep_alive
