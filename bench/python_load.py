"""The Python generators: raw keep-alive HTTP/1.1 over asyncio streams, or aiohttp."""

from __future__ import annotations

import asyncio
import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.aio_http import read_body
from bench.stats import LoadResult, percentile
from bench.usage import CpuMeter

# Python asyncio generators -------------------------------------------------------------------


class _Lane:
    def __init__(self, paths: Sequence[str], cycle: bool) -> None:
        self.paths = paths
        self.cycle = cycle
        self.index = 0
        self.exhausted = False

    def next(self) -> str | None:
        if self.index >= len(self.paths):
            if not self.cycle:
                self.exhausted = True
                return None
            self.index = 0
        path = self.paths[self.index]
        self.index += 1
        return path


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: int = 0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; returns (status, keep-alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status, _, keep_alive = await read_body(reader, head)
    return status, keep_alive


async def _asyncio_worker(
    host: str, port: int, lane: _Lane, headers: dict[str, str], tally: _Tally, stop_at: float
) -> None:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < stop_at:
            path = lane.next()
            if path is None:
                return
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n"
            started = time.perf_counter()
            try:
                writer.write(request.encode("latin-1"))
                status, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                tally.socket_errors += 1
                writer.close()
                reader = writer = None
                continue
            tally.record(status, time.perf_counter() - started)
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _aiohttp_worker(
    session: Any, base_url: str, lane: _Lane, headers: dict[str, str], tally: _Tally, stop_at: float
) -> None:
    import aiohttp

    while time.perf_counter() < stop_at:
        path = lane.next()
        if path is None:
            return
        started = time.perf_counter()
        try:
            async with session.get(base_url + path, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError):
            tally.socket_errors += 1
            continue
        tally.record(status, time.perf_counter() - started)


async def _python_load(
    kind: str,
    base_url: str,
    lanes: list[_Lane],
    concurrency: int,
    headers: dict[str, str],
    seconds: float,
    tally: _Tally,
) -> float:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    started = time.perf_counter()
    stop_at = started + seconds
    if kind == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(
                *(
                    _aiohttp_worker(
                        session, base_url, lanes[i % len(lanes)], headers, tally, stop_at
                    )
                    for i in range(concurrency)
                )
            )
    else:
        await asyncio.gather(
            *(
                _asyncio_worker(host, port, lanes[i % len(lanes)], headers, tally, stop_at)
                for i in range(concurrency)
            )
        )
    return time.perf_counter() - started


def run_python(
    kind: str,
    name: str,
    base_url: str,
    lanes: Sequence[Sequence[str]],
    *,
    seconds: float,
    concurrency: int,
    expected: int,
    headers: dict[str, str],
    cycle: bool,
    meter: CpuMeter,
) -> LoadResult:
    states = [_Lane(lane, cycle) for lane in lanes]
    tally = _Tally()
    loop_factory: Callable[[], asyncio.AbstractEventLoop]
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = asyncio.new_event_loop
    rusage0 = resource.getrusage(resource.RUSAGE_SELF)
    meter.start()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        elapsed = runner.run(
            _python_load(kind, base_url, states, concurrency, headers, seconds, tally)
        )
    server_cpu = meter.stop()
    rusage1 = resource.getrusage(resource.RUSAGE_SELF)
    client = (rusage1.ru_utime - rusage0.ru_utime) + (rusage1.ru_stime - rusage0.ru_stime)
    ms = [x * 1000 for x in tally.latencies]
    done = len(ms)
    unexpected = sum(n for status, n in tally.statuses.items() if int(status) != expected)
    return LoadResult(
        name=name,
        generator=f"python {kind}",
        seconds=round(elapsed, 3),
        concurrency=concurrency,
        requests=done,
        rps=done / elapsed if elapsed > 0 else 0.0,
        mean_ms=sum(ms) / done if done else math.nan,
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms) if ms else math.nan,
        expected_status=expected,
        statuses=tally.statuses,
        unexpected=unexpected,
        socket_errors=tally.socket_errors,
        exhausted=any(lane.exhausted for lane in states),
        server_cpu=server_cpu,
        client_cpu=client / elapsed if elapsed > 0 else None,
    )
