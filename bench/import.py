"""Moving users in from Authy: rows per second for a 1,000,000-row file, SQLite and PostgreSQL.

One CSV file (Authy-sized ids, distinct phones, fifty e-mail domains) is generated once; on
each backend, in this process and on a fresh database:

- ``read``: ``read_import`` parses and checks every record (no database);
- ``write``: ``UserImporter.run`` compares every row with the database (no lock), then inserts
  them in one transaction (``of which inserting``: on SQLite, the time the write lock is held);
- ``re-run``: the same file again, every row found unchanged (nothing written).

Goal: a million rows in minutes, read and write together under 5 minutes on each backend.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.report import print_table
from bench.scale import throwaway_database
from twofa.provider.services import build_services
from twofa.provider.users.importer import read_import
from twofa.settings import load_settings
from twofa.storage.engine import upgrade

DESCRIPTION = "users import: rows per second for a 1,000,000-row file; SQLite and PostgreSQL"
GOAL_SECONDS = 300.0
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FIRST_ID = 300_000_000
# US exchanges 200-999, without the N11 service codes: 7,920,000 distinct numbers in 201.
EXCHANGES = [exchange for exchange in range(200, 1000) if exchange % 100 != 11]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("import")
    group.add_argument(
        "--import-rows", type=int, default=1_000_000, help="rows in the file (default 1000000)"
    )
    group.add_argument(
        "--import-backends",
        default="sqlite,postgres",
        help="comma-separated: sqlite, postgres (default both)",
    )


def write_file(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("authy_id,email,country_code,phone,name\n")
        for n in range(rows):
            exchange = EXCHANGES[n // 10000]
            out.write(
                f"{FIRST_ID + n * 3},user{n}@example{n % 50}.com,1,"
                f"201-{exchange}-{n % 10000:04d},User {n}\n"
            )


@contextlib.contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "postgres":
        with throwaway_database(POSTGRES_ADMIN) as url:
            yield url
        return
    yield f"sqlite:///{folder / 'import.db'}"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(backend: str, path: Path, rows: int, folder: Path) -> list[dict[str, Any]]:
    with database(backend, folder) as url:
        upgrade(url)
        settings = load_settings(env="test", secret_key="b" * 40, database_url=url, data_dir=folder)
        services = build_services(settings)
        try:
            app = services.apps.create(f"bench import {backend}").app
            started = time.perf_counter()
            with path.open("rb") as stream:
                parsed = read_import(stream, filename=path.name)
            read = time.perf_counter() - started
            if not parsed.ok:
                raise RuntimeError(f"the generated file has errors: {parsed.errors[:3]}")
            report = services.importer.run(app=app, parsed=parsed, dry_run=False, actor="bench")
            if not report.written or report.created != rows:
                raise RuntimeError(f"import failed: {report.json()}")
            again = services.importer.run(app=app, parsed=parsed, dry_run=False, actor="bench")
            if again.unchanged != rows:
                raise RuntimeError(f"re-run changed something: {again.json()}")
        finally:
            services.close()
    phases = [
        ("read", read),
        ("write", report.seconds),
        ("  of which inserting", report.write_seconds),
        ("re-run", again.seconds),
    ]
    results = [
        {"backend": backend, "phase": name, "seconds": seconds, "rows_per_second": rows / seconds}
        for name, seconds in phases
    ]
    total = read + report.seconds
    results.append(
        {
            "backend": backend,
            "phase": "read + write",
            "seconds": total,
            "rows_per_second": rows / total,
            "peak_rss_mb": peak_mb(),
        }
    )
    return results


def run(options: argparse.Namespace) -> dict[str, Any]:
    rows = int(options.import_rows)
    backends = [name.strip() for name in options.import_backends.split(",") if name.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        raise ValueError(f"unknown backend(s): {', '.join(sorted(unknown))}")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="twofa-bench-import-") as tmp:
        folder = Path(tmp)
        path = folder / "authy-users.csv"
        started = time.perf_counter()
        write_file(path, rows)
        size_mb = path.stat().st_size / 1e6
        print(f"{rows:,} rows, {size_mb:.1f} MB, made in {time.perf_counter() - started:.1f} s")
        for backend in backends:
            print(f"{backend} ...", flush=True)
            results += measure(backend, path, rows, folder)
    print_table(
        f"import: {rows:,} rows ({size_mb:.1f} MB CSV), in-process, one transaction per import",
        ["backend", "phase", "seconds", "rows/s", "peak RSS MB"],
        [
            [
                r["backend"],
                r["phase"],
                round(r["seconds"], 1),
                round(r["rows_per_second"]),
                round(r["peak_rss_mb"]) if "peak_rss_mb" in r else None,
            ]
            for r in results
        ],
    )
    checks = {
        f"{r['backend']} read + write < {GOAL_SECONDS:.0f} s": r["seconds"] < GOAL_SECONDS
        for r in results
        if r["phase"] == "read + write"
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return {"rows": rows, "file_mb": round(size_mb, 1), "phases": results, "checks": checks,
            "pass": all(checks.values())}  # fmt: skip
