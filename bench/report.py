"""Benchmark output: tables, verdicts, the machine, JSON files under bench/results/."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def machine_info() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# Output ------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """An aligned plain-text table (numbers right-aligned)."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    print()
    print(title)
    print(line(list(headers)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(line(row))
    sys.stdout.flush()


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def write_results(name: str, data: dict[str, Any], stamp: str | None = None) -> tuple[Path, Path]:
    """Write ``bench/results/<name>-<UTC>.json`` and ``<name>-latest.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = stamp or utc_stamp()
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    latest = RESULTS_DIR / f"{name}-latest.json"
    path.write_text(text)
    latest.write_text(text)
    return path, latest


def print_verdicts(verdicts: dict[str, dict[str, bool]], width: int = 16) -> None:
    """One PASS/MISS line per goal, naming the checks that failed."""
    for name, checks in verdicts.items():
        failed = [c for c, ok in checks.items() if not ok]
        print(
            f"  {name:<{width}} {'PASS' if not failed else 'MISS'}"
            f"{'  (' + '; '.join(failed) + ')' if failed else ''}"
        )
