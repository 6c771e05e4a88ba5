"""``python -m bench [NAME ...] [options]``: run the benchmarks present, print tables, write JSON.

Examples::

    python -m bench                       # every benchmark present
    python -m bench verify --seconds 3    # a quick run of one
    python -m bench verify --generator asyncio --profile
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench.load import GENERATORS
from bench.report import BENCH_DIR, machine_info, utc_stamp, write_results

# Every benchmark module, in running order. A name whose bench/<name>.py is absent is skipped.
BENCHMARKS = ("verify", "push", "login", "scale", "attacks", "import")


def available() -> list[str]:
    return [name for name in BENCHMARKS if (BENCH_DIR / f"{name}.py").exists()]


def load(name: str) -> ModuleType:
    return importlib.import_module(f"bench.{name}")


def parser_for(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run twofa's benchmarks; tables go to stdout, JSON to bench/results/.",
        epilog="benchmarks: "
        + ", ".join(
            f"{name} ({getattr(module, 'DESCRIPTION', '')})" for name, module in modules.items()
        ),
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all of {', '.join(modules)})",
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="duration of each measured phase (default 10)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="concurrent keep-alive connections (default 16)"
    )
    parser.add_argument(
        "--generator",
        choices=GENERATORS,
        default="auto",
        help="load generator (default: wrk if available, else Python)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="wrk threads (default 1; the server needs the cores more)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of unrecorded load before measuring (default 1)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write JSON results")
    for module in modules.values():
        add_arguments = getattr(module, "add_arguments", None)
        if add_arguments is not None:
            add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    names = available()
    modules = {name: load(name) for name in names}
    options = parser_for(modules).parse_args(argv)
    unknown = [n for n in options.names if n not in modules]
    if unknown:
        print(
            f"bench: unknown benchmark(s) {', '.join(unknown)}; present: {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    selected = options.names or names
    failed = []
    for name in selected:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        stamp = utc_stamp()
        try:
            result = modules[name].run(options)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        result = {
            "benchmark": name,
            "started_utc": stamp,
            "wall_seconds": round(time.monotonic() - started, 1),
            "machine": machine_info(),
            "options": {k: v for k, v in vars(options).items() if k != "names"},
            **result,
        }
        if not options.no_write:
            path, latest = write_results(name, result, stamp)
            shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
            print(f"\nresults: {shown} (and {latest.name})")
    if failed:
        print(f"\nbench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
