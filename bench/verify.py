"""Token verification throughput: valid codes, wrong codes and ``/healthz`` on one provider.

The provider runs on SQLite with rate limits relaxed. Codes are single use (a TOTP time step is
accepted once per secret), so the valid phase needs many users: each user has two secrets, the
app secret (7 digits) and the generic-authenticator secret (6 digits), and each secret yields one
code for time step T and one for T+1, where T is the step when the phase starts. Both steps stay
inside the provider's window (one step either side) for any phase shorter than a step, and every
lane sends all step-T codes before any step-T+1 code, so no valid request is a replay: each must
answer 200, and each wrong code 401. Anything else is counted as an error.

Goal: verification at >= 50% of the trivial endpoint's rate, >= 1,000/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import choose_generator, run_load
from bench.profiling import find_py_spy, py_spy_record, summarize_collapsed
from bench.report import RESULTS_DIR, print_table, utc_stamp
from bench.servers import RELAXED_LIMITS, Provider, provider
from bench.stats import LoadResult

DESCRIPTION = "token verification (valid and wrong codes) vs /healthz, SQLite"
GOAL_RATIO = 0.5
GOAL_RPS = 1000.0
GOAL_P99_MS = 50.0
CODES_PER_USER = 4  # two secrets x steps T and T+1
MAX_VALID_SECONDS = 25.0  # steps T and T+1 must cover the whole phase
VERIFY_PATH = "/protected/json/verify/{code}/{user}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("verify")
    group.add_argument(
        "--verify-users",
        type=int,
        default=0,
        help="users for the valid phase (default: sized from the wrong-code rate)",
    )
    group.add_argument(
        "--verify-max-users",
        type=int,
        default=40000,
        help="upper bound on users created for the valid phase (default 40000)",
    )
    group.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, run the valid phase again under py-spy and print "
        "the top functions (needs py-spy in the venv)",
    )


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: int
    app_secret: str
    app_digits: int
    app_step: int
    generic_secret: str


class Users:
    """Creates users straight through the provider's services (much faster than over HTTP)."""

    def __init__(self, running: Provider, app: Any) -> None:
        self._services = running.services
        self._app = app
        self._next = 0
        self.all: list[BenchUser] = []

    def create(self, count: int) -> list[BenchUser]:
        made = []
        for _ in range(count):
            n = self._next
            self._next += 1
            user = self._services.users.create(
                self._app.id,
                email=f"bench{n}@bench.example",
                cellphone=f"201-{200 + n // 10000:03d}-{n % 10000:04d}",
                country_code=1,
            )
            generic = self._services.codes.generic_secret(self._app, str(user.id), label=None)
            secret, digits, step = self._services.codes.app_secret(user.id)
            made.append(BenchUser(user.id, secret, digits, step, generic.secret))
        self.all.extend(made)
        return made


def _codes(user: BenchUser, step_index: int) -> tuple[str, str]:
    """The app code and the generic code of ``user`` for the absolute time step ``step_index``."""
    from twofa.otp import hotp

    return (
        hotp(user.app_secret, step_index, digits=user.app_digits),
        hotp(user.generic_secret, step_index, digits=6),
    )


def valid_lanes(users: list[BenchUser], lanes: int, step: int) -> list[list[str]]:
    """Per lane: every user's step-T codes, then every user's step-T+1 codes."""
    out: list[list[str]] = [[] for _ in range(lanes)]
    for offset in (0, 1):
        for index, user in enumerate(users):
            app_code, generic_code = _codes(user, step + offset)
            lane = out[index % lanes]
            lane.append(VERIFY_PATH.format(code=app_code, user=user.id))
            lane.append(VERIFY_PATH.format(code=generic_code, user=user.id))
    return out


def wrong_lanes(
    users: list[BenchUser], lanes: int, step: int, rng: random.Random, seconds: float
) -> list[list[str]]:
    """For every user a wrong 7-digit and a wrong 6-digit code (never one the window accepts)."""
    out: list[list[str]] = [[] for _ in range(lanes)]
    span = range(step - 2, step + 3 + math.ceil(seconds / 30))
    for index, user in enumerate(users):
        forbidden_app, forbidden_generic = set(), set()
        for s in span:
            app_code, generic_code = _codes(user, s)
            forbidden_app.add(app_code)
            forbidden_generic.add(generic_code)
        for digits, forbidden in ((user.app_digits, forbidden_app), (6, forbidden_generic)):
            code = f"{rng.randrange(10**digits):0{digits}d}"
            while code in forbidden:
                code = f"{rng.randrange(10**digits):0{digits}d}"
            out[index % lanes].append(VERIFY_PATH.format(code=code, user=user.id))
    return out


def current_step(step_seconds: int) -> int:
    return int(time.time() // step_seconds)


def _row(result: LoadResult, trivial_rps: float | None) -> list[Any]:
    ratio = result.rps / trivial_rps if trivial_rps else None
    return [
        result.name,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.max_ms,
        result.requests,
        result.errors,
        None if ratio is None else f"{ratio:.0%}",
        None if result.server_cpu is None else f"{result.server_cpu:.2f}",
        None if result.client_cpu is None else f"{result.client_cpu:.2f}",
    ]


def goal(result: LoadResult, trivial: LoadResult) -> dict[str, Any]:
    ratio = result.rps / trivial.rps if trivial.rps else 0.0
    checks = {
        f"rate >= {GOAL_RATIO:.0%} of trivial": ratio >= GOAL_RATIO,
        f"rate >= {GOAL_RPS:,.0f}/s": result.rps >= GOAL_RPS,
        f"p99 < {GOAL_P99_MS:.0f} ms": result.p99_ms < GOAL_P99_MS,
        "no errors": result.errors == 0 and not result.exhausted,
    }
    return {"ratio": round(ratio, 3), "checks": checks, "pass": all(checks.values())}


def _auths_recorded(running: Provider, app_id: int) -> int:
    """Successful verifications the provider counted (usage table), as a cross-check."""
    from sqlalchemy import func, select

    from twofa.storage.tables import usage

    with running.services.db.read() as conn:
        value = conn.execute(
            select(func.coalesce(func.sum(usage.c.count), 0)).where(
                usage.c.app_id == app_id, usage.c.kind == "auths"
            )
        ).scalar_one()
    return int(value)


def run(options: argparse.Namespace) -> dict[str, Any]:
    seconds = float(options.seconds)
    valid_seconds = min(seconds, MAX_VALID_SECONDS)
    if valid_seconds < seconds:
        print(
            f"verify: the valid phase is limited to {MAX_VALID_SECONDS:.0f} s "
            "(codes for two time steps)"
        )
    lanes = max(1, int(options.threads))
    generator = choose_generator(options.generator)
    if generator != "wrk":
        lanes = 1  # one asyncio loop: one shared cursor per lane is enough
    if options.profile and find_py_spy() is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    rng = random.Random(20240601)
    load = {"seconds": seconds, "concurrency": options.concurrency, "generator": generator}
    phases: list[LoadResult] = []
    notes: list[str] = []
    result: dict[str, Any] = {}

    with provider(RELAXED_LIMITS) as running:
        created = running.services.apps.create("bench verify")
        app, api_key = created.app, created.api_key
        headers = {"X-Authy-API-Key": api_key}
        step_seconds = running.services.settings.totp_step
        users = Users(running, app)
        t0 = time.monotonic()
        users.create(max(64, options.concurrency * 16))
        print(
            f"provider {running.url} pid {running.pid}; generator {generator}; "
            f"{len(users.all)} users in {time.monotonic() - t0:.1f} s",
            flush=True,
        )

        wrong = wrong_lanes(users.all, lanes, current_step(step_seconds), rng, seconds * 3 + 60)
        trivial = [["/healthz"] for _ in range(lanes)]
        if options.warmup > 0:
            for paths, expected in ((trivial, 200), (wrong, 401)):
                run_load(
                    "warmup",
                    running.url,
                    paths,
                    seconds=options.warmup,
                    concurrency=options.concurrency,
                    expected_status=expected,
                    headers=headers,
                    generator=generator,
                )

        def measure(
            name: str,
            paths: list[list[str]],
            expected: int,
            cycle: bool = True,
            duration: float = seconds,
        ) -> LoadResult:
            print(
                f"  {name}: {duration:.0f} s at concurrency {options.concurrency} ...", flush=True
            )
            return run_load(
                name,
                running.url,
                paths,
                seconds=duration,
                concurrency=options.concurrency,
                expected_status=expected,
                headers=headers,
                cycle=cycle,
                generator=generator,
                server_pid=running.pid,
            )

        trivial_result = measure("trivial /healthz", trivial, 200)
        wrong_result = measure("verify wrong", wrong, 401)
        phases += [trivial_result, wrong_result]

        # Size the valid phase from the wrong-code rate (the valid path does more work).
        rounds = 2 if options.profile else 1
        needed = options.verify_users or math.ceil(
            (wrong_result.rps * valid_seconds * 1.5 + 500) / CODES_PER_USER
        )
        needed = min(needed, options.verify_max_users)
        t0 = time.monotonic()
        pools = [users.create(needed) for _ in range(rounds)]
        print(
            f"  created {needed * rounds} users for the valid phase in "
            f"{time.monotonic() - t0:.1f} s",
            flush=True,
        )

        auths_before = _auths_recorded(running, app.id)
        step = current_step(step_seconds)
        valid = valid_lanes(pools[0], lanes, step)
        valid_result = measure("verify valid", valid, 200, cycle=False, duration=valid_seconds)
        valid_result.extra["codes_available"] = sum(len(x) for x in valid)
        auths = _auths_recorded(running, app.id) - auths_before
        ok_200 = valid_result.statuses.get("200", 0)
        valid_result.extra["auths_recorded"] = auths
        if valid_result.exhausted:
            notes.append("the valid phase ran out of precomputed codes; raise --verify-users")
        # Requests still in flight when the generator stops are answered but not counted.
        if not 0 <= auths - ok_200 <= options.concurrency:
            notes.append(
                f"the provider recorded {auths} successful verifications, "
                f"the generator saw {ok_200} answers 200"
            )
        phases.insert(1, valid_result)

        if options.profile:
            stamp = utc_stamp()
            raw = {
                mode: RESULTS_DIR / f"verify-profile-{mode}-{stamp}.txt" for mode in ("gil", "wall")
            }
            step = current_step(step_seconds)
            valid = valid_lanes(pools[1], lanes, step)
            with py_spy_record(running.pid, valid_seconds, raw):
                profiled = measure(
                    "verify valid (py-spy)", valid, 200, cycle=False, duration=valid_seconds
                )
            result["profile"] = _report_profile(raw, profiled)

    trivial_rps = trivial_result.rps
    print_table(
        f"verify: {load['seconds']:.0f} s per phase, concurrency {options.concurrency}, "
        f"generator {phases[0].generator}, SQLite",
        [
            "phase",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "requests",
            "errors",
            "vs trivial",
            "server cpu",
            "client cpu",
        ],
        [_row(p, trivial_rps) for p in phases],
    )
    verdicts = {
        "valid": goal(valid_result, trivial_result),
        "wrong": goal(wrong_result, trivial_result),
    }
    print(
        f"\nGoal: verification >= {GOAL_RATIO:.0%} of the trivial endpoint's rate, "
        f">= {GOAL_RPS:,.0f}/s, p99 < {GOAL_P99_MS:.0f} ms (cpu in cores; 2 = both cores)"
    )
    for name, verdict in verdicts.items():
        failed = [check for check, ok in verdict["checks"].items() if not ok]
        print(
            f"  {name:<5}  {'PASS' if verdict['pass'] else 'MISS'}"
            f"{'  (' + '; '.join(failed) + ')' if failed else ''}"
        )
    for phase in phases:
        others = {k: v for k, v in phase.statuses.items() if int(k) != phase.expected_status}
        if others or phase.socket_errors:
            print(
                f"  {phase.name}: unexpected statuses {others}, socket errors {phase.socket_errors}"
            )
    for note in notes:
        print(f"  note: {note}")

    result.update(
        {
            "generator": phases[0].generator,
            "load": load,
            "users": len(users.all),
            "phases": {p.name: p.as_dict() for p in phases},
            "goal": {"ratio": GOAL_RATIO, "rps": GOAL_RPS, "p99_ms": GOAL_P99_MS},
            "verdicts": verdicts,
            "notes": notes,
            "pass": all(v["pass"] for v in verdicts.values()),
        }
    )
    return result


PROFILE_TITLES = {
    "gil": "holding the GIL (CPU)",
    "wall": "all active threads (CPU and waiting, e.g. on SQLite's write lock)",
}


def _report_profile(raw: dict[str, Path], profiled: LoadResult) -> dict[str, Any]:
    report: dict[str, Any] = {"rps_while_sampled": profiled.rps}
    print(f"\npy-spy during the valid phase ({profiled.rps:,.0f} req/s while sampled)")
    for mode, path in raw.items():
        if not path.exists():
            continue
        summary = summarize_collapsed(path, top=20)
        for kind in ("self", "inclusive"):
            print_table(
                f"py-spy {mode}: {PROFILE_TITLES[mode]}, {kind} time",
                ["function (file:line)", "% samples"],
                summary[kind],
            )
        report[mode] = {"raw_stacks": str(path), **summary}
        print(f"  raw stacks: {path}")
    return report
