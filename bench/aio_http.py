"""A minimal asyncio HTTP/1.1 client (no third-party client: the cost per connection
stays small enough for 10,000 streams)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (cheaper per connection), else asyncio's default loop."""
    try:
        import uvloop

        return uvloop.new_event_loop  # type: ignore[no-any-return]
    except ImportError:
        return asyncio.new_event_loop


# A minimal asyncio HTTP/1.1 client, Server-Sent Events reader and callback receiver ---------
# (no third-party client: the cost per connection stays small enough for 10,000 streams)


async def read_body(reader: asyncio.StreamReader, head: bytes) -> tuple[int, bytes, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    body = b""
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(data[:-2])
        body = b"".join(parts)
    elif length:
        body = await reader.readexactly(length)
    return status, body, keep_alive


class HttpClient:
    """One keep-alive HTTP/1.1 connection; ``request`` reconnects when the server closed it."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.headers = headers or {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        all_headers = {**self.headers, **(headers or {})}
        if body or method in ("POST", "PUT", "PATCH"):
            all_headers["Content-Length"] = str(len(body))
        head = "".join(f"{k}: {v}\r\n" for k, v in all_headers.items())
        self._writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}\r\n".encode(
                "latin-1"
            )
            + body
        )
        try:
            raw = await self._reader.readuntil(b"\r\n\r\n")
            status, data, keep_alive = await read_body(self._reader, raw)
        except (OSError, asyncio.IncompleteReadError):
            self.close()
            raise
        if not keep_alive:
            self.close()
        return status, data

    async def json(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        extra = {"Content-Type": "application/json"} if payload is not None else {}
        status, data = await self.request(method, path, body, {**extra, **(headers or {})})
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
