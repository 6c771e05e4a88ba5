"""Token verification throughput: twofa against a bare reference doing the same work.

In one run, on one machine: ``/healthz`` (the floor of the HTTP stack), the reference
(``bench/reference.py``: plain ASGI, raw ``sqlite3``, the same reads, checks and single-use
UPDATE) on a copy of the same database, and twofa, each for valid and wrong codes. The verdict
is twofa's rate as a share of the reference's: a ratio measured side by side means something on
a shared, noisy machine where absolute rates do not. ``--postgres`` adds twofa on PostgreSQL.

Goal: twofa >= 50 % of the reference's rate for valid and for wrong codes, p99 < 50 ms (SQLite).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import verify_v2
from bench.load import choose_generator, run_load
from bench.profiling import find_py_spy, py_spy_record, summarize_collapsed
from bench.report import RESULTS_DIR, print_table, utc_stamp
from bench.servers import RELAXED_LIMITS, Provider, provider
from bench.stats import LoadResult
from bench.verify_data import (
    CODES_PER_USER,
    BenchUser,
    Users,
    current_step,
    valid_lanes,
    wrong_lanes,
)
from twofa import process

DESCRIPTION = (
    "token verification (valid and wrong codes): twofa vs a bare reference; "
    "Verify v2 create and check; SQLite"
)
GOAL_RATIO = 0.5
GOAL_P99_MS = 50.0
MAX_VALID_SECONDS = 25.0  # steps T and T+1 must cover the whole phase
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


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
        "--postgres",
        action="store_true",
        help="also measure twofa on the local PostgreSQL (a throw-away database)",
    )
    group.add_argument(
        "--verify-skip-v2",
        action="store_true",
        help="measure the Authy phases only (no Verify v2 create and check)",
    )
    group.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, run the valid and the wrong phase again under py-spy and "
        "print the top functions (needs py-spy in the venv)",
    )


@dataclass(frozen=True, slots=True)
class Target:
    """A server under load: its base URL and process id (for its CPU time)."""

    label: str
    url: str
    pid: int


@dataclass
class Runner:
    """Runs one load phase with the run's options."""

    options: argparse.Namespace
    generator: str
    lanes: int
    headers: dict[str, str]

    def __call__(
        self,
        target: Target,
        kind: str,
        paths: list[list[str]],
        expected: int,
        *,
        cycle: bool = True,
        seconds: float | None = None,
    ) -> LoadResult:
        duration = float(seconds if seconds is not None else self.options.seconds)
        name = f"{target.label} {kind}"
        print(
            f"  {name}: {duration:.0f} s at concurrency {self.options.concurrency} ...", flush=True
        )
        return run_load(
            name,
            target.url,
            paths,
            seconds=duration,
            concurrency=self.options.concurrency,
            expected_status=expected,
            headers=self.headers,
            cycle=cycle,
            generator=self.generator,
            server_pid=target.pid,
        )

    def warm(self, target: Target, wrong: list[list[str]]) -> None:
        if self.options.warmup > 0:
            for paths, expected in (([["/healthz"]] * self.lanes, 200), (wrong, 401)):
                run_load(
                    "warmup",
                    target.url,
                    paths,
                    seconds=self.options.warmup,
                    concurrency=self.options.concurrency,
                    expected_status=expected,
                    headers=self.headers,
                    generator=self.generator,
                )


def cpu_ms(result: LoadResult) -> float | None:
    """Server CPU per request, in milliseconds."""
    if result.server_cpu is None or not result.rps:
        return None
    return result.server_cpu / result.rps * 1000


def _row(result: LoadResult, reference: LoadResult | None, healthz: LoadResult) -> list[Any]:
    def share(base: LoadResult | None) -> str | None:
        return f"{result.rps / base.rps:.0%}" if base is not None and base.rps else None

    per_request = cpu_ms(result)
    return [
        result.name,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.max_ms,
        result.requests,
        result.errors,
        share(reference),
        share(healthz),
        None if per_request is None else f"{per_request:.2f}",
        None if result.server_cpu is None else f"{result.server_cpu:.2f}",
    ]


def goal(result: LoadResult, reference: LoadResult) -> dict[str, Any]:
    ratio = result.rps / reference.rps if reference.rps else 0.0
    checks = {
        f"rate >= {GOAL_RATIO:.0%} of the reference": ratio >= GOAL_RATIO,
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


def settle(running: Provider, *, timeout: float = 300.0) -> None:
    """Wait until the provider has chained the audit events of the benchmark's own setup.

    Users made for a phase write one ``user.created`` entry each, inside their transaction;
    the provider's chainer gives them their hashes in the background. Measured while that runs,
    a phase would be charged for chaining tens of thousands of setup entries (and lose its
    write lock to it). The reference starts from a copy made after this, too.
    """
    from sqlalchemy import select

    from twofa.storage.tables import audit_log

    deadline = time.monotonic() + timeout
    query = select(audit_log.c.id).where(audit_log.c.seq.is_(None)).limit(1)
    while True:
        with running.services.db.read() as conn:
            if conn.execute(query).first() is None:
                break
        if time.monotonic() > deadline:
            raise RuntimeError(f"setup's audit entries still unchained after {timeout:.0f} s")
        time.sleep(0.2)
    running.services.db.checkpoint()


@contextlib.contextmanager
def reference_server(running: Provider) -> Iterator[Target]:
    """The bare reference on a copy of ``running``'s SQLite database, as it is now."""
    running.services.db.checkpoint()
    source = Path(running.services.db.engine.url.database)
    copy = running.data_dir / "reference.db"
    shutil.copy(source, copy)
    port = process.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = process.start(
        [
            *(sys.executable, "-m", "bench.reference", "--db", str(copy), "--port", str(port)),
            *("--max-failures", "1000000"),  # as RELAXED_LIMITS does for twofa
        ],
        url + "/healthz",
        env=process.clean_env(TWOFA_SECRET_KEY=running.env["TWOFA_SECRET_KEY"]),
        log_path=running.data_dir / "reference.log",
    )
    try:
        yield Target("reference", url, proc.pid)
    finally:
        process.stop(proc)


def _valid_phase(
    run: Runner, target: Target, pool: list[BenchUser], step_seconds: int, seconds: float
) -> LoadResult:
    valid = valid_lanes(pool, run.lanes, current_step(step_seconds))
    result = run(target, "valid", valid, 200, cycle=False, seconds=seconds)
    result.extra["codes_available"] = sum(len(x) for x in valid)
    return result


def run(options: argparse.Namespace) -> dict[str, Any]:
    seconds = float(options.seconds)
    valid_seconds = min(seconds, MAX_VALID_SECONDS)
    lanes = max(1, int(options.threads))
    generator = choose_generator(options.generator)
    if generator != "wrk":
        lanes = 1  # one asyncio loop: one shared cursor per lane is enough
    if options.profile and find_py_spy() is None:
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    rng = random.Random(20240601)
    phases: list[LoadResult] = []
    notes: list[str] = []
    result: dict[str, Any] = {}

    with provider({**RELAXED_LIMITS, **verify_v2.PROVIDER_ENV}) as running:
        created = running.services.apps.create("bench verify")
        app, api_key = created.app, created.api_key
        run_phase = Runner(options, generator, lanes, {"X-Authy-API-Key": api_key})
        step_seconds = running.services.settings.totp_step
        users = Users(running, app)
        users.create(max(64, options.concurrency * 16))
        settle(running)
        twofa = Target("twofa", running.url, running.pid)
        print(f"provider {running.url} pid {running.pid}; generator {generator}", flush=True)
        # Wrong codes stay wrong for the whole run: its phases, the users' creation and a
        # profile (generously: ten minutes more).
        wrong = wrong_lanes(users.all, lanes, current_step(step_seconds), rng, seconds * 6 + 690)
        run_phase.warm(twofa, wrong)
        healthz = run_phase(twofa, "/healthz", [["/healthz"]] * lanes, 200)

        # Size the valid phases from the /healthz rate (no verification is faster), so that
        # every user exists before the reference copies the database: then each of twofa's
        # phases is followed at once by the reference's, and the machine's drift between the
        # two (other jobs, a cooler or hotter core) stays out of the ratio.
        needed = options.verify_users or math.ceil(
            (healthz.rps * valid_seconds * 2 + 500) / CODES_PER_USER
        )
        needed = min(needed, options.verify_max_users)
        rounds = 3 if options.profile else 2  # twofa, the reference (and the profiled run)
        pools = [users.create(needed) for _ in range(rounds)]
        settle(running)

        with reference_server(running) as reference:
            run_phase.warm(reference, wrong)
            wrong_result = run_phase(twofa, "wrong", wrong, 401)
            ref_wrong = run_phase(reference, "wrong", wrong, 401)
            auths_before = _auths_recorded(running, app.id)
            valid_result = _valid_phase(run_phase, twofa, pools[0], step_seconds, valid_seconds)
            ref_valid = _valid_phase(run_phase, reference, pools[1], step_seconds, valid_seconds)
        ok_200 = valid_result.statuses.get("200", 0)
        # Usage counters reach the database once a second: wait for the last second's.
        deadline = time.monotonic() + 5
        auths = _auths_recorded(running, app.id) - auths_before
        while auths < ok_200 and time.monotonic() < deadline:
            time.sleep(0.2)
            auths = _auths_recorded(running, app.id) - auths_before
        valid_result.extra["auths_recorded"] = auths
        # Requests still in flight when the generator stops are answered but not counted.
        if not 0 <= auths - ok_200 <= options.concurrency:
            notes.append(f"twofa recorded {auths} verifications, the generator saw {ok_200}")
        phases += [healthz, ref_valid, valid_result, ref_wrong, wrong_result]
        # Twilio Verify v2 on the same provider: start (outbox gateway) and check.
        if not options.verify_skip_v2:
            phases += verify_v2.phases(running, seconds=seconds, concurrency=options.concurrency)

        if options.profile:
            stamp = utc_stamp()
            result["profile"] = {}
            for kind in ("valid", "wrong"):
                raw = {
                    m: RESULTS_DIR / f"verify-profile-{kind}-{m}-{stamp}.txt"
                    for m in ("gil", "wall")
                }
                with py_spy_record(running.pid, valid_seconds, raw):
                    if kind == "valid":
                        profiled = _valid_phase(
                            run_phase, twofa, pools[2], step_seconds, valid_seconds
                        )
                    else:
                        profiled = run_phase(
                            twofa, "wrong (profiled)", wrong, 401, seconds=valid_seconds
                        )
                result["profile"][kind] = _report_profile(raw, profiled, kind)

    if options.postgres:
        phases += _postgres_phases(options, run_phase, valid_seconds, rng)

    for phase in phases:
        if phase.exhausted:
            notes.append(f"{phase.name} ran out of precomputed codes; raise --verify-users")
    print_table(
        f"verify: {seconds:.0f} s per phase, concurrency {options.concurrency}, "
        f"generator {generator}, SQLite unless named",
        [
            "phase",
            "req/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "requests",
            "errors",
            "vs reference",
            "vs /healthz",
            "cpu ms/req",
            "server cpu",
        ],
        [
            _row(p, ref_valid if "valid" in p.name else ref_wrong, healthz)
            if p.name.startswith("twofa")
            else _row(p, None, healthz)
            for p in phases
        ],
    )
    verdicts = {"valid": goal(valid_result, ref_valid), "wrong": goal(wrong_result, ref_wrong)}
    print(
        f"\nGoal: twofa >= {GOAL_RATIO:.0%} of the reference's rate, p99 < {GOAL_P99_MS:.0f} ms "
        "(server cpu in cores; 2 = both cores)"
    )
    for name, verdict in verdicts.items():
        failed = [check for check, ok in verdict["checks"].items() if not ok]
        print(
            f"  {name:<5}  {'PASS' if verdict['pass'] else 'MISS'}  ratio {verdict['ratio']:.0%}"
            f"{'  (' + '; '.join(failed) + ')' if failed else ''}"
        )
    for phase in phases:
        others = {k: v for k, v in phase.statuses.items() if int(k) != phase.expected_status}
        if others or phase.socket_errors:
            print(f"  {phase.name}: unexpected {others}, socket errors {phase.socket_errors}")
    for note in notes:
        print(f"  note: {note}")
    result.update(
        {
            "generator": generator,
            "load": {"seconds": seconds, "concurrency": options.concurrency},
            "phases": {p.name: {**p.as_dict(), "cpu_ms_per_request": cpu_ms(p)} for p in phases},
            "goal": {"ratio": GOAL_RATIO, "p99_ms": GOAL_P99_MS},
            "verdicts": verdicts,
            "notes": notes,
            "pass": all(v["pass"] for v in verdicts.values()),
        }
    )
    return result


def _postgres_phases(
    options: argparse.Namespace, run_phase: Runner, valid_seconds: float, rng: random.Random
) -> list[LoadResult]:
    """twofa's valid and wrong phases on a throw-away PostgreSQL database."""
    from bench.scale import throwaway_database

    with (
        throwaway_database(POSTGRES_ADMIN) as url,
        provider(RELAXED_LIMITS, database_url=url) as running,
    ):
        created = running.services.apps.create("bench verify pg")
        run_pg = Runner(
            options, run_phase.generator, run_phase.lanes, {"X-Authy-API-Key": created.api_key}
        )
        users = Users(running, created.app)
        users.create(max(64, options.concurrency * 16))
        settle(running)
        step_seconds = running.services.settings.totp_step
        target = Target("twofa pg", running.url, running.pid)
        wrong = wrong_lanes(
            users.all, run_pg.lanes, current_step(step_seconds), rng, options.seconds * 3 + 60
        )
        run_pg.warm(target, wrong)
        wrong_result = run_pg(target, "wrong", wrong, 401)
        needed = min(
            options.verify_max_users,
            math.ceil((wrong_result.rps * valid_seconds * 2 + 500) / CODES_PER_USER),
        )
        pool = users.create(needed)
        settle(running)
        valid_result = _valid_phase(run_pg, target, pool, step_seconds, valid_seconds)
    return [valid_result, wrong_result]


PROFILE_TITLES = {
    "gil": "holding the GIL (CPU)",
    "wall": "all active threads (CPU and waiting, e.g. on SQLite's write lock)",
}


def _report_profile(raw: dict[str, Path], profiled: LoadResult, kind: str) -> dict[str, Any]:
    report: dict[str, Any] = {"rps_while_sampled": profiled.rps}
    print(f"\npy-spy during the {kind} phase ({profiled.rps:,.0f} req/s while sampled)")
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
