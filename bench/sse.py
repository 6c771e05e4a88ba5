"""A Server-Sent Events reader that remembers when each event arrived."""

from __future__ import annotations

import asyncio
import json
import time

from bench.aio_http import read_body


class SseStream:
    """A Server-Sent Events connection read by one task; remembers when each event arrived.

    ``arrivals`` maps ``(event, uuid)`` to the ``time.perf_counter()`` at which the bytes that
    completed the frame were read; ``wait(event, uuid)`` resolves when such a frame is there.
    """

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, str], float] = {}
        self._waiters: dict[tuple[str, str], asyncio.Future[float]] = {}
        self.status: int | None = None
        self.opened_at: float | None = None
        self.closed = False
        self.error: str | None = None
        self.frames = 0
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        path: str,
        headers: dict[str, str],
        *,
        local_host: str | None = None,
        timeout: float = 30.0,
    ) -> SseStream:
        """Connect, send the GET, wait for the response head (raises unless 200)."""
        stream = cls()
        local = (local_host, 0) if local_host else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=local), timeout
        )
        stream._writer = writer
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"{head}\r\n".encode("latin-1")
        )
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = int(raw.split(b" ", 2)[1])
            stream.status = status
            if status != 200:
                _, body, _ = await read_body(reader, raw)
                raise RuntimeError(f"event stream answered {status}: {body[:300]!r}")
            if b"chunked" not in raw.lower():
                raise RuntimeError("event stream is not chunked")
        except BaseException:
            writer.close()
            raise
        stream.opened_at = time.perf_counter()
        stream._task = asyncio.create_task(stream._read(reader))
        return stream

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = b""
        try:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                now = time.perf_counter()
                buffer += chunk[:-2]
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    self._frame(frame, now)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.closed = True
            for future in self._waiters.values():
                if not future.done():
                    future.set_exception(ConnectionError("event stream closed"))

    def _frame(self, frame: bytes, now: float) -> None:
        name = "message"
        data = None
        for line in frame.decode("utf-8", "replace").split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
        if data is None:
            return
        self.frames += 1
        try:
            uuid = str(json.loads(data).get("uuid", ""))
        except (ValueError, AttributeError):
            uuid = ""
        key = (name, uuid)
        self.arrivals.setdefault(key, now)
        future = self._waiters.pop(key, None)
        if future is not None and not future.done():
            future.set_result(now)

    async def wait(self, event: str, uuid: str, timeout: float = 10.0) -> float:
        """The arrival time of ``event`` for ``uuid`` (waits up to ``timeout`` seconds)."""
        key = (event, uuid)
        if key in self.arrivals:
            return self.arrivals[key]
        if self.closed:
            raise ConnectionError(f"event stream closed ({self.error})")
        future = self._waiters.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[key] = future
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()
