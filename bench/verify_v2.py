"""Verify v2 phases for ``bench/verify.py``: start verifications (outbox gateway), then check
them with the right codes, as form POSTs with HTTP Basic auth over keep-alive connections."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bench.aio_http import HttpClient
from bench.stats import LoadResult, percentile
from bench.usage import CpuMeter

# The create phase sends thousands of codes to one prefix and checks them only afterwards: the
# fraud guard would rightly call that SMS pumping.
PROVIDER_ENV = {"TWOFA_FRAUD_PUMPING_DETECTION": "false"}


def number(n: int) -> str:
    """A distinct valid US number for ``n`` < 8,000,000 (area code 201, exchange 200-999)."""
    return f"+1201{200 + n // 10000:03d}{n % 10000:04d}"


def setup(running: Any) -> tuple[str, dict[str, str]]:
    """An application with Verify credentials and a Service: (service path, headers)."""
    from twofa.provider.verify.wire import Form

    app = running.services.apps.create("bench verify v2").app
    issued = running.services.verify.accounts.issue_account(app.id)
    basic = base64.b64encode(f"{issued.sid}:{issued.secret}".encode()).decode()
    account = running.services.verify.accounts.authenticate(f"Basic {basic}")
    service = running.services.verify.services.create(account, Form([("FriendlyName", "Bench")]))
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return f"/v2/Services/{service.sid}", headers


def codes_sent(running: Any) -> dict[str, str]:
    """The code of every verification the outbox holds, by number."""
    found: dict[str, str] = {}
    for message in running.services.messaging.list(limit=10_000_000):
        match = re.search(r"\b(\d{6})\b", message.body)
        if match:
            found[message.to] = match.group(1)
    return found


async def _post_load(
    url: str,
    path: str,
    body_for: Callable[[int], bytes | None],
    *,
    seconds: float,
    concurrency: int,
    headers: dict[str, str],
    expected: int,
) -> tuple[list[float], dict[str, int], int, bool]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    counter = iter(range(10**9))
    exhausted = False
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors, exhausted
        client = HttpClient(url, headers)
        try:
            while time.monotonic() < deadline:
                body = body_for(next(counter))
                if body is None:
                    exhausted = True
                    return
                started = time.perf_counter()
                try:
                    status, _ = await client.request("POST", path, body)
                except (OSError, asyncio.IncompleteReadError):
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        finally:
            client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses, errors, exhausted


def post_phase(
    name: str,
    url: str,
    path: str,
    body_for: Callable[[int], bytes | None],
    *,
    seconds: float,
    concurrency: int,
    headers: dict[str, str],
    expected: int,
    server_pid: int | None,
) -> LoadResult:
    """POST ``body_for(i)`` for i = 0, 1, … to ``path`` for ``seconds`` (None ends the phase)."""
    meter = CpuMeter(server_pid)
    client_meter = CpuMeter(os.getpid())
    meter.start()
    client_meter.start()
    began = time.monotonic()
    latencies, statuses, errors, exhausted = asyncio.run(
        _post_load(
            url,
            path,
            body_for,
            seconds=seconds,
            concurrency=concurrency,
            headers=headers,
            expected=expected,
        )
    )
    elapsed = time.monotonic() - began
    requests = len(latencies)
    return LoadResult(
        name=name,
        generator="asyncio",
        seconds=round(elapsed, 2),
        concurrency=concurrency,
        requests=requests,
        rps=requests / elapsed if elapsed else 0.0,
        mean_ms=sum(latencies) / requests if requests else float("nan"),
        p50_ms=percentile(latencies, 50),
        p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=float("nan")),
        expected_status=expected,
        statuses=statuses,
        unexpected=requests - statuses.get(str(expected), 0),
        socket_errors=errors,
        exhausted=exhausted,
        server_cpu=meter.stop(),
        client_cpu=client_meter.stop(),
    )


def phases(running: Any, *, seconds: float, concurrency: int) -> list[LoadResult]:
    """Verification create (outbox gateway), then checks of the codes it sent."""
    path, headers = setup(running)

    def start(i: int) -> bytes:
        return urlencode({"To": number(i), "Channel": "sms"}).encode()

    print(f"  verify v2 create: {seconds:.0f} s at concurrency {concurrency} ...", flush=True)
    created = post_phase(
        "verify v2 create",
        running.url,
        f"{path}/Verifications",
        start,
        seconds=seconds,
        concurrency=concurrency,
        headers=headers,
        expected=201,
        server_pid=running.pid,
    )
    codes = list(codes_sent(running).items())

    def check(i: int) -> bytes | None:
        if i >= len(codes):
            return None
        to, code = codes[i]
        return urlencode({"To": to, "Code": code}).encode()

    print(f"  verify v2 check: {len(codes)} codes ...", flush=True)
    checked = post_phase(
        "verify v2 check",
        running.url,
        f"{path}/VerificationCheck",
        check,
        seconds=seconds,
        concurrency=concurrency,
        headers=headers,
        expected=200,
        server_pid=running.pid,
    )
    return [created, checked]
