"""Push latency and open device streams on one provider process (SQLite, loopback).

Three measurements:

(a) creation → device: time from sending ``POST /onetouch/json/users/{id}/approval_requests``
    to the SSE ``request`` frame for that uuid arriving on the device's open
    ``/device/v1/events`` stream;
(b) decision → callback: time from sending the signed ``POST /device/v1/requests/{uuid}/decision``
    to the signed callback for that uuid arriving at a loopback HTTP server in this process
    (the provider's dispatcher POSTs it);
(c) N open device streams (default 1,000, 5,000, 10,000) on one process: the provider's RSS
    and open files with the streams idle, then one request to every device and the delivery
    latency (create sent → frame received) at a bounded creation concurrency.

Devices for (c) are inserted straight into the provider's tables (one user and one device per
phone number, each device with its own fresh P-256 key, so every stream is genuinely signed).
Streams are plain asyncio connections with a chunked-SSE reader; the bench raises its own
open-file limit to the hard limit, which the provider inherits.

Goals: (a) and (b) p99 <= 50 ms; 10,000 streams in < 1 GiB RSS with delivery p99 <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bench.aio_http import HttpClient, event_loop_factory
from bench.callback_sink import CallbackSink
from bench.report import print_table, print_verdicts
from bench.servers import RELAXED_LIMITS, Provider, provider
from bench.sse import SseStream
from bench.stats import latency_summary
from bench.usage import CpuMeter, nofile_limit, open_fds, process_status, raise_nofile, rss_mb

DESCRIPTION = "push: create→device event, decision→callback, N open device streams (SQLite)"
GOAL_P99_MS = 50.0
GOAL_STREAMS = 10000
GOAL_STREAMS_RSS_MB = 1024.0
GOAL_DELIVERY_P99_MS = 1000.0
EVENTS_PATH = "/device/v1/events"
CREATE_PATH = "/onetouch/json/users/{user}/approval_requests"
DECISION_PATH = "/device/v1/requests/{uuid}/decision"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("push")
    group.add_argument(
        "--push-requests",
        type=int,
        default=500,
        help="approval requests per latency pass (a, b) (default 500)",
    )
    group.add_argument(
        "--push-concurrency",
        default="1,8",
        help="comma-separated create/approve loops in flight, one pass each (default 1,8)",
    )
    group.add_argument(
        "--push-streams",
        default="1000,5000,10000",
        help="comma-separated open-stream counts for (c), cumulative on one process "
        "(default 1000,5000,10000; empty to skip)",
    )
    group.add_argument(
        "--push-create-concurrency",
        type=int,
        default=8,
        help="creation requests in flight while delivering to N streams (default 8)",
    )
    group.add_argument(
        "--push-connect-concurrency",
        type=int,
        default=100,
        help="stream connects in flight while opening N streams (default 100)",
    )
    group.add_argument(
        "--push-source-addresses",
        type=int,
        default=1,
        help="spread stream connections over 127.0.0.1..127.0.0.K (default 1)",
    )


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split(",") if x]


# Devices -------------------------------------------------------------------------------------


@dataclass
class BenchDevice:
    """An application user on its own phone with one enrolled device (and its private key)."""

    user_id: int
    phone_e164: str
    uuid: str
    key: Any  # ec.EllipticCurvePrivateKey
    stream: SseStream | None = None

    def signed_headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        from twofa.authenticator.device import request_text
        from twofa.authenticator.keys import sign

        timestamp = str(int(time.time()))
        nonce = secrets.token_urlsafe(18)
        text = request_text(method, "127.0.0.1", target, self.uuid, timestamp, nonce, body)
        return {
            "X-Twofa-Device": self.uuid,
            "X-Twofa-Timestamp": timestamp,
            "X-Twofa-Nonce": nonce,
            "X-Twofa-Signature": sign(self.key, text),
        }

    def decision_body(self, uuid: str, approve: bool = True) -> bytes:
        from twofa.authenticator.device import decision_text
        from twofa.authenticator.keys import sign

        status = "approved" if approve else "denied"
        when = int(time.time())
        return json.dumps(
            {
                "decision": "approve" if approve else "deny",
                "signing_time": when,
                "signature": sign(self.key, decision_text(uuid, status, when, None)),
            },
            separators=(",", ":"),
        ).encode()


class Population:
    """Users with distinct phone numbers, each with one device row holding a fresh key's JWK.

    Inserted through the provider's services and tables: far faster than SMS registration,
    and the stream still authenticates each device by its own signature.
    """

    def __init__(self, services: Any, app: Any, *, area: int = 202) -> None:
        self._services = services
        self._app = app
        self._area = area
        self.devices: list[BenchDevice] = []

    def phone(self, n: int) -> str:
        return f"{self._area}-{300 + n // 10000:03d}-{n % 10000:04d}"

    def grow(self, count: int) -> list[BenchDevice]:
        from sqlalchemy import insert

        from twofa.authenticator import keys
        from twofa.storage.database import utcnow
        from twofa.storage.tables import devices

        made: list[BenchDevice] = []
        start = len(self.devices)
        for n in range(start, start + count):
            user = self._services.users.create(
                self._app.id,
                email=f"push{n}@bench.example",
                cellphone=self.phone(n),
                country_code=1,
            )
            made.append(BenchDevice(user.id, user.phone.e164, _uuid(), keys.generate()))
        now = utcnow()
        rows = [
            {
                "uuid": d.uuid,
                "phone_e164": d.phone_e164,
                "name": f"bench {i}",
                "os_type": "cli",
                "public_key": keys.public_jwk(d.key),
                "created_at": now,
                "last_seen_at": now,
            }
            for i, d in enumerate(made, start)
        ]
        for offset in range(0, len(rows), 1000):
            with self._services.db.write() as conn:
                conn.execute(insert(devices), rows[offset : offset + 1000])
        self.devices.extend(made)
        return made


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


async def open_stream(url: str, device: BenchDevice, local_host: str | None) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    headers = device.signed_headers("GET", EVENTS_PATH, b"")
    device.stream = await SseStream.open(
        parts.hostname or "127.0.0.1",
        parts.port or 80,
        EVENTS_PATH,
        headers,
        local_host=local_host,
    )


async def open_streams(
    url: str, devices: list[BenchDevice], concurrency: int, sources: int
) -> dict[str, Any]:
    """Open a stream per device, ``concurrency`` connects at a time; failures are counted."""
    gate = asyncio.Semaphore(concurrency)
    errors: dict[str, int] = {}
    latencies: list[float] = []

    async def one(index: int, device: BenchDevice) -> None:
        local = f"127.0.0.{1 + index % sources}" if sources > 1 else None
        async with gate:
            started = time.perf_counter()
            try:
                await open_stream(url, device, local)
            except Exception as exc:
                name = f"{type(exc).__name__}: {str(exc)[:80]}"
                errors[name] = errors.get(name, 0) + 1
                return
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(i, d) for i, d in enumerate(devices)))
    elapsed = time.perf_counter() - started
    return {
        "opened": len(latencies),
        "seconds": round(elapsed, 2),
        "per_second": round(len(latencies) / elapsed, 1) if elapsed else None,
        "connect": latency_summary(latencies),
        "errors": errors,
    }


# (a) and (b) ---------------------------------------------------------------------------------


@dataclass
class Pass:
    concurrency: int
    create_to_event: list[float] = field(default_factory=list)
    decision_to_callback: list[float] = field(default_factory=list)
    create_http: list[float] = field(default_factory=list)
    decision_http: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_cpu: float | None = None
    client_cpu: float | None = None

    def error(self, text: str) -> None:
        self.errors[text] = self.errors.get(text, 0) + 1


async def approve_loop(
    authy_url: str,
    device_url: str,
    api_key: str,
    device: BenchDevice,
    sink: CallbackSink,
    count: int,
    tally: Pass | None,
) -> None:
    """``count`` times: create a request, wait for its frame, approve it, wait for its callback.

    Creations go to ``authy_url``; the device's stream and decisions to ``device_url``.
    """
    assert device.stream is not None
    authy = HttpClient(authy_url, {"X-Authy-API-Key": api_key})
    dev = HttpClient(device_url)
    body = json.dumps(
        {
            "message": "Login requested",
            "details": {"Email": "a@bench.example"},
            "hidden_details": {"ip": "10.0.0.1"},
        }
    ).encode()
    try:
        for _ in range(count):
            sent = time.perf_counter()
            status, raw = await authy.request(
                "POST",
                CREATE_PATH.format(user=device.user_id),
                body,
                {"Content-Type": "application/json"},
            )
            answered = time.perf_counter()
            if status != 200:
                if tally:
                    tally.error(f"create {status}")
                continue
            uuid = json.loads(raw)["approval_request"]["uuid"]
            try:
                arrived = await device.stream.wait("request", uuid, 10.0)
            except (TimeoutError, ConnectionError) as exc:
                if tally:
                    tally.error(f"event: {type(exc).__name__}")
                continue
            path = DECISION_PATH.format(uuid=uuid)
            decision = device.decision_body(uuid)
            headers = {
                **device.signed_headers("POST", path, decision),
                "Content-Type": "application/json",
            }
            decided = time.perf_counter()
            status, raw = await dev.request("POST", path, decision, headers)
            decided_answer = time.perf_counter()
            if status != 200:
                if tally:
                    tally.error(f"decision {status}: {raw[:120]!r}")
                continue
            try:
                called = await sink.wait(uuid, 10.0)
            except TimeoutError:
                if tally:
                    tally.error("callback timeout")
                continue
            if tally:
                tally.create_to_event.append((arrived - sent) * 1000)
                tally.create_http.append((answered - sent) * 1000)
                tally.decision_to_callback.append((called - decided) * 1000)
                tally.decision_http.append((decided_answer - decided) * 1000)
    finally:
        authy.close()
        dev.close()


async def latency_pass(
    running: Provider,
    api_key: str,
    devices: list[BenchDevice],
    sink: CallbackSink,
    requests: int,
    concurrency: int,
    device_url: str | None = None,
) -> Pass:
    """``requests`` create/approve rounds over ``concurrency`` loops (after a short warm-up).

    With ``device_url`` the devices live on another provider process than ``running``.
    """
    import resource

    tally = Pass(concurrency)
    device_url = device_url or running.url
    # warm-up: a few rounds unrecorded
    await asyncio.gather(
        *(
            approve_loop(running.url, device_url, api_key, d, sink, 5, None)
            for d in devices[:concurrency]
        )
    )
    per_loop = -(-requests // concurrency)
    meter = CpuMeter(running.pid)
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            approve_loop(running.url, device_url, api_key, d, sink, per_loop, tally)
            for d in devices[:concurrency]
        )
    )
    tally.seconds = time.perf_counter() - started
    tally.server_cpu = meter.stop()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    tally.client_cpu = (
        (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    ) / tally.seconds
    return tally


# (c) -----------------------------------------------------------------------------------------


async def deliver_all(
    running: Provider, api_key: str, devices: list[BenchDevice], concurrency: int
) -> dict[str, Any]:
    """One request to every device, ``concurrency`` creations in flight; create→frame latency."""
    queue: asyncio.Queue[BenchDevice] = asyncio.Queue()
    for device in devices:
        queue.put_nowait(device)
    latencies: list[float] = []
    create_http: list[float] = []
    errors: dict[str, int] = {}
    pending: list[asyncio.Task[None]] = []
    body = json.dumps(
        {"message": "Login requested", "details": {"Email": "a@bench.example"}}
    ).encode()

    def error(text: str) -> None:
        errors[text] = errors.get(text, 0) + 1

    async def await_frame(device: BenchDevice, uuid: str, sent: float) -> None:
        assert device.stream is not None
        try:
            arrived = await device.stream.wait("request", uuid, 30.0)
        except (TimeoutError, ConnectionError) as exc:
            error(f"event: {type(exc).__name__}")
            return
        latencies.append((arrived - sent) * 1000)

    async def creator() -> None:
        client = HttpClient(
            running.url, {"X-Authy-API-Key": api_key, "Content-Type": "application/json"}
        )
        try:
            while not queue.empty():
                device = queue.get_nowait()
                sent = time.perf_counter()
                try:
                    status, raw = await client.request(
                        "POST", CREATE_PATH.format(user=device.user_id), body
                    )
                except (OSError, asyncio.IncompleteReadError) as exc:
                    error(f"create: {type(exc).__name__}")
                    continue
                create_http.append((time.perf_counter() - sent) * 1000)
                if status != 200:
                    error(f"create {status}")
                    continue
                uuid = json.loads(raw)["approval_request"]["uuid"]
                pending.append(asyncio.create_task(await_frame(device, uuid, sent)))
        finally:
            client.close()

    meter = CpuMeter(running.pid)
    meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(creator() for _ in range(concurrency)))
    created_in = time.perf_counter() - started
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - started
    server_cpu = meter.stop()
    return {
        "devices": len(devices),
        "delivered": len(latencies),
        "create_seconds": round(created_in, 2),
        "creates_per_second": round(len(create_http) / created_in, 1) if created_in else None,
        "seconds": round(elapsed, 2),
        "latency": latency_summary(latencies),
        "create_http": latency_summary(create_http),
        "errors": errors,
        "server_cpu": server_cpu,
    }


def memory(pid: int) -> dict[str, Any]:
    status = process_status(pid)
    return {
        "rss_mb": rss_mb(pid),
        "hwm_mb": status.get("VmHWM", 0) / 1024,
        "open_fds": open_fds(pid),
        "threads": status.get("Threads"),
    }


async def streams_phase(options: argparse.Namespace, counts: list[int]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    nofile = raise_nofile()
    need = max(counts) + 1000
    notes: list[str] = []
    if nofile < need:
        notes.append(f"open-file limit {nofile} < {need}: larger N will fail to connect")
    env = {**RELAXED_LIMITS}
    with provider(env) as running:
        provider_nofile = nofile_limit(running.pid)
        created = running.services.apps.create("bench streams")
        app, api_key = created.app, created.api_key
        population = Population(running.services, app, area=203)
        base = memory(running.pid)
        print(
            f"  provider pid {running.pid}: RSS {base['rss_mb']:.0f} MiB at start, "
            f"open-file limit {provider_nofile} (bench {nofile})",
            flush=True,
        )
        for target in counts:
            grow = target - len(population.devices)
            t0 = time.monotonic()
            new = population.grow(grow) if grow > 0 else []
            setup = time.monotonic() - t0
            print(
                f"  N={target:,}: {len(new):,} users+devices in {setup:.1f} s; opening streams ...",
                flush=True,
            )
            opened = await open_streams(
                running.url, new, options.push_connect_concurrency, options.push_source_addresses
            )
            await asyncio.sleep(2.0)
            live = [d for d in population.devices if d.stream is not None and not d.stream.closed]
            idle = memory(running.pid)
            print(
                f"    {len(live):,} streams open ({opened['per_second']}/s, errors "
                f"{opened['errors'] or 0}); RSS {idle['rss_mb']:.0f} MiB, "
                f"fds {idle['open_fds']}; delivering ...",
                flush=True,
            )
            delivered = await deliver_all(running, api_key, live, options.push_create_concurrency)
            await asyncio.sleep(1.0)
            after = memory(running.pid)
            still = sum(
                1 for d in population.devices if d.stream is not None and not d.stream.closed
            )
            per_stream_kb = (idle["rss_mb"] - base["rss_mb"]) * 1024 / len(live) if live else None
            rows.append(
                {
                    "n": target,
                    "open": len(live),
                    "still_open_after": still,
                    "setup_seconds": round(setup, 1),
                    "connect": opened,
                    "idle": idle,
                    "after_delivery": after,
                    "per_stream_kb": per_stream_kb,
                    "delivery": delivered,
                }
            )
            lat = delivered["latency"]
            print(
                f"    delivered {delivered['delivered']:,}/{len(live):,} in "
                f"{delivered['seconds']} s; p50 {lat['p50_ms']:.0f} ms p99 "
                f"{lat['p99_ms']:.0f} ms; RSS {after['rss_mb']:.0f} MiB",
                flush=True,
            )
            if opened["errors"]:
                notes.append(f"N={target}: connect errors {opened['errors']}")
            if delivered["errors"]:
                notes.append(f"N={target}: delivery errors {delivered['errors']}")
        for device in population.devices:
            if device.stream is not None:
                device.stream.close()
        log_tail = running.log_path.read_text(errors="replace")[-3000:]
    warnings = [
        line
        for line in log_tail.splitlines()
        if "Traceback" in line or "ERROR" in line or "Too many open files" in line
    ]
    return {
        "base": base,
        "rows": rows,
        "bench_nofile": nofile,
        "provider_nofile": provider_nofile,
        "notes": notes,
        "log_warnings": warnings[-10:],
    }


# Run -----------------------------------------------------------------------------------------


async def latency_phase(options: argparse.Namespace) -> dict[str, Any]:
    concurrencies = _ints(options.push_concurrency) or [1]
    sink = await CallbackSink().start()
    passes: list[Pass] = []
    try:
        with provider(RELAXED_LIMITS) as running:
            created = running.services.apps.create("bench push", callback_url=sink.url)
            population = Population(running.services, created.app)
            devices = population.grow(max(concurrencies))
            opened = await open_streams(running.url, devices, 16, 1)
            if opened["errors"]:
                raise RuntimeError(f"could not open device streams: {opened['errors']}")
            print(
                f"  provider {running.url} pid {running.pid}; callback sink {sink.url}", flush=True
            )
            for concurrency in concurrencies:
                print(
                    f"  {options.push_requests} requests, {concurrency} in flight ...", flush=True
                )
                passes.append(
                    await latency_pass(
                        running, created.api_key, devices, sink, options.push_requests, concurrency
                    )
                )
            # The callback is signed like Authy's: check one with the client library.
            signature_ok = _callback_signature_ok(sink, created.api_key)
            for device in devices:
                if device.stream is not None:
                    device.stream.close()
    finally:
        await sink.close()
    return {"passes": passes, "callback_signature_ok": signature_ok}


def _callback_signature_ok(sink: CallbackSink, api_key: str) -> bool | None:
    try:
        from twofa import signing
    except ImportError:
        return None
    verify = getattr(signing, "verify", None)
    if verify is None or not sink.bodies:
        return None
    uuid = next(iter(sink.bodies))
    headers = sink.headers[uuid]
    try:
        return bool(
            verify(
                key=api_key,
                nonce=headers.get("x-authy-signature-nonce", ""),
                method="POST",
                url=sink.url,
                params=sink.bodies[uuid],
                signature=headers.get("x-authy-signature", ""),
            )
        )
    except TypeError:
        return None


def run(options: argparse.Namespace) -> dict[str, Any]:
    counts = _ints(options.push_streams)
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        latency = runner.run(latency_phase(options))
        streams = runner.run(streams_phase(options, counts)) if counts else None

    passes: list[Pass] = latency["passes"]
    rows = []
    for p in passes:
        a, b = latency_summary(p.create_to_event), latency_summary(p.decision_to_callback)
        rows.append(
            [
                f"create → device event (c={p.concurrency})",
                a["count"],
                a["p50_ms"],
                a["p90_ms"],
                a["p99_ms"],
                a["max_ms"],
                latency_summary(p.create_http)["p50_ms"],
                p.server_cpu,
                p.client_cpu,
            ]
        )
        rows.append(
            [
                f"decision → callback (c={p.concurrency})",
                b["count"],
                b["p50_ms"],
                b["p90_ms"],
                b["p99_ms"],
                b["max_ms"],
                latency_summary(p.decision_http)["p50_ms"],
                p.server_cpu,
                p.client_cpu,
            ]
        )
    print_table(
        "push latency on one provider process (SQLite, loopback; ms; c = loops in flight)",
        ["path", "n", "p50", "p90", "p99", "max", "HTTP answer p50", "server cpu", "bench cpu"],
        rows,
    )
    verdicts: dict[str, Any] = {}
    for p in passes:
        a = latency_summary(p.create_to_event)
        b = latency_summary(p.decision_to_callback)
        verdicts[f"c={p.concurrency}"] = {
            f"create→event p99 <= {GOAL_P99_MS:.0f} ms": a["p99_ms"] <= GOAL_P99_MS,
            f"decision→callback p99 <= {GOAL_P99_MS:.0f} ms": b["p99_ms"] <= GOAL_P99_MS,
            "no errors": not p.errors,
        }
        if p.errors:
            print(f"  c={p.concurrency}: errors {p.errors}")
    print(f"  callback signature verifies: {latency['callback_signature_ok']}")

    if streams is not None:
        srows = []
        for r in streams["rows"]:
            d = r["delivery"]
            srows.append(
                [
                    r["n"],
                    r["open"],
                    r["connect"]["per_second"],
                    r["idle"]["rss_mb"],
                    r["per_stream_kb"],
                    r["idle"]["open_fds"],
                    d["delivered"],
                    d["creates_per_second"],
                    d["latency"]["p50_ms"],
                    d["latency"]["p99_ms"],
                    d["latency"]["max_ms"],
                    r["after_delivery"]["rss_mb"],
                    r["still_open_after"],
                ]
            )
        print_table(
            f"open device streams on one provider process (SQLite; base RSS "
            f"{streams['base']['rss_mb']:.0f} MiB; {options.push_create_concurrency} creations "
            f"in flight; open-file limit {streams['provider_nofile']})",
            [
                "N",
                "open",
                "connects/s",
                "RSS idle MiB",
                "KiB/stream",
                "fds",
                "delivered",
                "creates/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "RSS after MiB",
                "open after",
            ],
            srows,
        )
        for r in streams["rows"]:
            if r["n"] == GOAL_STREAMS or r is streams["rows"][-1]:
                verdicts[f"streams N={r['n']}"] = {
                    f"all {r['n']} open": r["open"] == r["n"] and r["still_open_after"] == r["n"],
                    f"RSS < {GOAL_STREAMS_RSS_MB:.0f} MiB": max(
                        r["idle"]["rss_mb"], r["after_delivery"]["rss_mb"]
                    )
                    < GOAL_STREAMS_RSS_MB,
                    f"delivery p99 <= {GOAL_DELIVERY_P99_MS:.0f} ms": (
                        r["delivery"]["latency"]["p99_ms"] <= GOAL_DELIVERY_P99_MS
                    ),
                    "everything delivered": r["delivery"]["delivered"] == r["open"],
                }
        for note in streams["notes"] + streams["log_warnings"]:
            print(f"  note: {note}")
    print(
        f"\nGoal: (a), (b) p99 <= {GOAL_P99_MS:.0f} ms; {GOAL_STREAMS:,} streams < "
        f"{GOAL_STREAMS_RSS_MB:.0f} MiB with delivery p99 <= {GOAL_DELIVERY_P99_MS:.0f} ms"
    )
    print_verdicts(verdicts, 16)

    return {
        "latency": {
            f"c={p.concurrency}": {
                "create_to_event": latency_summary(p.create_to_event),
                "decision_to_callback": latency_summary(p.decision_to_callback),
                "create_http": latency_summary(p.create_http),
                "decision_http": latency_summary(p.decision_http),
                "errors": p.errors,
                "seconds": round(p.seconds, 2),
                "server_cpu": p.server_cpu,
                "client_cpu": p.client_cpu,
            }
            for p in passes
        },
        "callback_signature_ok": latency["callback_signature_ok"],
        "streams": streams,
        "goal": {
            "p99_ms": GOAL_P99_MS,
            "streams": GOAL_STREAMS,
            "streams_rss_mb": GOAL_STREAMS_RSS_MB,
            "delivery_p99_ms": GOAL_DELIVERY_P99_MS,
        },
        "verdicts": verdicts,
        "pass": all(all(v.values()) for v in verdicts.values()),
    }
