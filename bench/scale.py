"""Scaling out: verification throughput on one and two provider processes, and push across them.

Both processes share a throwaway PostgreSQL database (created here, dropped afterwards) and
Redis (``TWOFA_REDIS_URL``, logical database 15 by default; its ``twofa:*`` keys are
deleted before and after) for rate limits and the event bus. They run side by side on two
loopback ports with the same master secret; "two processes" means the load is split across
both ports (one ``wrk`` per port, half the connections each), as a load balancer would.

Throughput uses the verify benchmark's codes: wrong codes (401) cycled, and valid codes (200),
each used once (see bench/verify.py). CPU is reported for each server process, for PostgreSQL
and Redis, and for the load generator, all in cores (2.0 = both cores of a two-core machine).

Then cross-process push: approval requests created on process A, the device's stream open on
process B; time from sending the creation to the SSE frame arriving (the event crosses Redis
pub/sub), and from B's decision to the callback (delivered by whichever process claims it).

Goals: two processes >= 1.5x one process; cross-process create→event p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.aio_http import event_loop_factory
from bench.callback_sink import CallbackSink
from bench.load import choose_generator, run_load
from bench.push import Population, latency_pass, open_streams
from bench.report import print_table, print_verdicts
from bench.servers import RELAXED_LIMITS, Provider, provider
from bench.stats import LoadResult, latency_summary
from bench.usage import process_cpu_seconds
from bench.verify import (
    CODES_PER_USER,
    MAX_VALID_SECONDS,
    Users,
    current_step,
    valid_lanes,
    wrong_lanes,
)

DESCRIPTION = "verification on 1 vs 2 provider processes and push across them (PostgreSQL+Redis)"
GOAL_SPEEDUP = 1.5
GOAL_CROSS_P99_MS = 100.0
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scale")
    group.add_argument(
        "--postgres-admin",
        default=POSTGRES_ADMIN,
        help=f"server where the throwaway database is made (default {POSTGRES_ADMIN})",
    )
    group.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="Redis for limits and the bus (default redis://127.0.0.1:6379/15)",
    )
    group.add_argument(
        "--scale-push-requests",
        type=int,
        default=300,
        help="cross-process approval requests per pass (default 300)",
    )
    group.add_argument(
        "--scale-push-concurrency",
        default="1,4",
        help="cross-process loops in flight, one pass each (default 1,4)",
    )
    group.add_argument(
        "--scale-max-users",
        type=int,
        default=30000,
        help="upper bound on users for the valid phases (default 30000)",
    )


# Throwaway PostgreSQL database and Redis -----------------------------------------------------


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"twofa_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    """Delete the provider's keys (``twofa:*``: rate-limit counters) from that Redis database."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        batch = []
        for key in client.scan_iter(match="twofa:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
    finally:
        client.close()


# CPU of helper processes (PostgreSQL backends, Redis) ------------------------------------------


def pids_named(*names: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if any(comm.startswith(n) for n in names):
            found.append(int(entry.name))
    return found


class GroupCpu:
    """CPU (cores) of every process whose name starts with one of ``names``; new ones count
    from zero (PostgreSQL forks a backend per connection)."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def _snapshot(self) -> dict[int, float]:
        out = {}
        for pid in pids_named(*self.names):
            value = process_cpu_seconds(pid)
            if value is not None:
                out[pid] = value
        return out

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._cpu0 = self._snapshot()

    def stop(self) -> float:
        elapsed = time.monotonic() - self._t0
        now = self._snapshot()
        used = sum(v - self._cpu0.get(pid, 0.0) for pid, v in now.items())
        return used / elapsed if elapsed > 0 else 0.0


# Throughput ----------------------------------------------------------------------------------


def parallel_load(
    name: str,
    targets: list[tuple[Provider, list[list[str]]]],
    *,
    seconds: float,
    concurrency: int,
    expected: int,
    headers: dict[str, str],
    cycle: bool,
    generator: str,
) -> dict[str, Any]:
    """One load generator per provider, all at once; ``concurrency`` is split between them."""
    results: list[LoadResult | None] = [None] * len(targets)
    errors: list[BaseException] = []
    share = max(1, concurrency // len(targets))
    helpers = {"postgres": GroupCpu("postgres"), "redis": GroupCpu("redis-server")}

    def work(index: int, running: Provider, lanes: list[list[str]]) -> None:
        try:
            results[index] = run_load(
                name,
                running.url,
                lanes,
                seconds=seconds,
                concurrency=max(share, len(lanes)),
                expected_status=expected,
                headers=headers,
                cycle=cycle,
                generator=generator,
                server_pid=running.pid,
            )
        except BaseException as exc:
            errors.append(exc)

    for meter in helpers.values():
        meter.start()
    threads = [
        threading.Thread(target=work, args=(i, r, lanes)) for i, (r, lanes) in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    helper_cpu = {k: m.stop() for k, m in helpers.items()}
    if errors:
        raise errors[0]
    done = [r for r in results if r is not None]
    total = sum(r.requests for r in done)
    return {
        "name": name,
        "processes": len(targets),
        "generator": done[0].generator,
        "concurrency": share * len(targets),
        "rps": sum(r.rps for r in done),
        "requests": total,
        # Percentiles cannot be merged exactly: the request-weighted p50, the worst p99.
        "p50_ms": sum(r.p50_ms * r.requests for r in done) / total if total else math.nan,
        "p99_ms": max(r.p99_ms for r in done),
        "errors": sum(r.errors for r in done),
        "exhausted": any(r.exhausted for r in done),
        "server_cpu": [r.server_cpu for r in done],
        "client_cpu": sum(r.client_cpu or 0.0 for r in done),
        "postgres_cpu": helper_cpu["postgres"],
        "redis_cpu": helper_cpu["redis"],
        "per_process": [r.as_dict() for r in done],
    }


def throughput(options: argparse.Namespace, a: Provider, b: Provider) -> list[dict[str, Any]]:
    seconds = float(options.seconds)
    valid_seconds = min(seconds, MAX_VALID_SECONDS)
    generator = choose_generator(options.generator)
    lanes = max(1, int(options.threads)) if generator == "wrk" else 1
    created = a.services.apps.create("bench scale")
    headers = {"X-Authy-API-Key": created.api_key}
    step_seconds = a.services.settings.totp_step
    users = Users(a, created.app)
    rng = random.Random(20240602)
    t0 = time.monotonic()
    base = users.create(max(64, options.concurrency * 16))
    print(f"  {len(base)} users in {time.monotonic() - t0:.1f} s", flush=True)
    wrong = wrong_lanes(base, lanes, current_step(step_seconds), rng, seconds * 6 + 120)
    trivial = [["/healthz"] for _ in range(lanes)]
    common = {"concurrency": options.concurrency, "headers": headers, "generator": generator}
    setups = {1: [a], 2: [a, b]}
    if options.warmup > 0:
        for running in (a, b):
            run_load(
                "warmup",
                running.url,
                wrong,
                seconds=options.warmup,
                concurrency=options.concurrency,
                expected_status=401,
                headers=headers,
                generator=generator,
            )
    rows: list[dict[str, Any]] = []
    for name, paths, expected in (("trivial /healthz", trivial, 200), ("verify wrong", wrong, 401)):
        for count, procs in setups.items():
            print(f"  {name}: {count} process(es), {seconds:.0f} s ...", flush=True)
            rows.append(
                parallel_load(
                    name,
                    [(p, paths) for p in procs],
                    seconds=seconds,
                    expected=expected,
                    cycle=True,
                    **common,
                )
            )
    wrong_one = next(r for r in rows if r["name"] == "verify wrong" and r["processes"] == 1)
    for count, procs in setups.items():
        # Codes are single use: enough fresh users for what this many processes can verify.
        expect = wrong_one["rps"] * count
        needed = min(
            options.scale_max_users,
            math.ceil((expect * valid_seconds * 1.5 + 500) / CODES_PER_USER),
        )
        t0 = time.monotonic()
        pool = users.create(needed)
        print(
            f"  verify valid: {count} process(es), {needed} fresh users in "
            f"{time.monotonic() - t0:.1f} s; {valid_seconds:.0f} s ...",
            flush=True,
        )
        step = current_step(step_seconds)
        shares = [pool[i::count] for i in range(count)]
        targets = [
            (p, valid_lanes(share, lanes, step)) for p, share in zip(procs, shares, strict=True)
        ]
        rows.append(
            parallel_load(
                "verify valid", targets, seconds=valid_seconds, expected=200, cycle=False, **common
            )
        )
    return rows


# Cross-process push ------------------------------------------------------------------------


async def cross_push(options: argparse.Namespace, a: Provider, b: Provider) -> dict[str, Any]:
    concurrencies = [int(x) for x in options.scale_push_concurrency.split(",") if x.strip()]
    sink = await CallbackSink().start()
    passes = []
    try:
        created = a.services.apps.create("bench scale push", callback_url=sink.url)
        population = Population(a.services, created.app, area=204)
        devices = population.grow(max(concurrencies))
        opened = await open_streams(b.url, devices, 16, 1)
        if opened["errors"]:
            raise RuntimeError(f"could not open streams on B: {opened['errors']}")
        for concurrency in concurrencies:
            print(
                f"  cross-process push: {options.scale_push_requests} requests created on A, "
                f"streams on B, {concurrency} in flight ...",
                flush=True,
            )
            passes.append(
                await latency_pass(
                    a,
                    created.api_key,
                    devices,
                    sink,
                    options.scale_push_requests,
                    concurrency,
                    device_url=b.url,
                )
            )
        for device in devices:
            if device.stream is not None:
                device.stream.close()
    finally:
        await sink.close()
    return {
        f"c={p.concurrency}": {
            "create_to_event": latency_summary(p.create_to_event),
            "decision_to_callback": latency_summary(p.decision_to_callback),
            "create_http": latency_summary(p.create_http),
            "decision_http": latency_summary(p.decision_http),
            "errors": p.errors,
            "server_cpu_a": p.server_cpu,
            "client_cpu": p.client_cpu,
        }
        for p in passes
    }


# Run -----------------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> dict[str, Any]:
    flush_redis(options.redis_url)
    env = {
        **RELAXED_LIMITS,
        "TWOFA_REDIS_URL": options.redis_url,
        "TWOFA_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
    }
    try:
        with (
            throwaway_database(options.postgres_admin) as url,
            provider(env, database_url=url) as a,
            provider(env, database_url=url) as b,
        ):
            print(
                f"  A {a.url} pid {a.pid}, B {b.url} pid {b.pid}; {url.rsplit('/', 1)[1]}, "
                f"{options.redis_url}",
                flush=True,
            )
            rows = throughput(options, a, b)
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                cross = runner.run(cross_push(options, a, b))
    finally:
        flush_redis(options.redis_url)

    def cores(values: list[float | None]) -> str:
        return " + ".join("-" if v is None else f"{v:.2f}" for v in values)

    print_table(
        f"verification throughput, PostgreSQL + Redis, {options.seconds:.0f} s per phase, "
        f"{options.concurrency} connections in all, generator {rows[0]['generator']} "
        f"(cpu in cores; {os.cpu_count()} cores)",
        [
            "phase",
            "procs",
            "req/s",
            "vs 1 proc",
            "p50 ms",
            "p99 ms",
            "requests",
            "errors",
            "server cpu",
            "postgres cpu",
            "redis cpu",
            "generator cpu",
        ],
        [
            [
                r["name"],
                r["processes"],
                r["rps"],
                _ratio(r, rows),
                r["p50_ms"],
                r["p99_ms"],
                r["requests"],
                r["errors"] + (1 if r["exhausted"] else 0),
                cores(r["server_cpu"]),
                f"{r['postgres_cpu']:.2f}",
                f"{r['redis_cpu']:.2f}",
                f"{r['client_cpu']:.2f}",
            ]
            for r in rows
        ],
    )
    crow = []
    for name, p in cross.items():
        a_, b_ = p["create_to_event"], p["decision_to_callback"]
        crow.append(
            [
                f"create on A → event on B ({name})",
                a_["count"],
                a_["p50_ms"],
                a_["p90_ms"],
                a_["p99_ms"],
                a_["max_ms"],
            ]
        )
        crow.append(
            [
                f"decision on B → callback ({name})",
                b_["count"],
                b_["p50_ms"],
                b_["p90_ms"],
                b_["p99_ms"],
                b_["max_ms"],
            ]
        )
    print_table(
        "push across processes through Redis (ms)", ["path", "n", "p50", "p90", "p99", "max"], crow
    )

    verdicts: dict[str, Any] = {}
    for name in ("verify valid", "verify wrong"):
        ratio = _speedup(rows, name)
        verdicts[name] = {
            f"2 processes >= {GOAL_SPEEDUP}x one": ratio >= GOAL_SPEEDUP,
            "no errors": all(
                r["errors"] == 0 and not r["exhausted"] for r in rows if r["name"] == name
            ),
        }
    for name, p in cross.items():
        verdicts[f"cross push {name}"] = {
            f"p99 <= {GOAL_CROSS_P99_MS:.0f} ms": p["create_to_event"]["p99_ms"]
            <= GOAL_CROSS_P99_MS,
            "no errors": not p["errors"],
        }
        if p["errors"]:
            print(f"  cross push {name}: errors {p['errors']}")
    print(
        f"\nGoal: 2 processes >= {GOAL_SPEEDUP}x one; cross-process create→event p99 <= "
        f"{GOAL_CROSS_P99_MS:.0f} ms"
    )
    print_verdicts(verdicts, 18)
    return {
        "throughput": rows,
        "speedup": {
            name: round(_speedup(rows, name), 3)
            for name in ("trivial /healthz", "verify wrong", "verify valid")
        },
        "cross_process_push": cross,
        "goal": {"speedup": GOAL_SPEEDUP, "cross_p99_ms": GOAL_CROSS_P99_MS},
        "verdicts": verdicts,
        "pass": all(all(v.values()) for v in verdicts.values()),
    }


def _speedup(rows: list[dict[str, Any]], name: str) -> float:
    by = {r["processes"]: r["rps"] for r in rows if r["name"] == name}
    return by.get(2, 0.0) / by[1] if by.get(1) else 0.0


def _ratio(row: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    one = next((r["rps"] for r in rows if r["name"] == row["name"] and r["processes"] == 1), None)
    return f"{row['rps'] / one:.2f}x" if one else "-"
