"""Profiles of the server under load: py-spy samples and their top functions."""

from __future__ import annotations

import contextlib
import math
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# Profiling -----------------------------------------------------------------------------------


def find_py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def py_spy_record(
    pid: int, seconds: float, outputs: dict[str, Path], *, rate: int = 100
) -> Iterator[None]:
    """Sample ``pid`` with ``py-spy record`` (raw collapsed stacks) while the block runs.

    ``outputs`` maps a mode to a file: ``"wall"`` samples every thread that is not idle
    (time spent waiting on SQLite locks included), ``"gil"`` only the thread holding the GIL
    (where the CPU goes). Each mode is one ``py-spy`` process, all sampling at once.
    """
    binary = find_py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
    procs = []
    for mode, output in outputs.items():
        output.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, math.ceil(seconds))),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(output),
        ]
        if mode == "gil":
            cmd.append("--gil")
        procs.append(
            (output, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        )
    time.sleep(0.5)  # let them attach
    try:
        yield
    finally:
        for output, proc in procs:
            try:
                _, err = proc.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            if proc.returncode != 0 and not output.exists():
                raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-2000:]}")


def summarize_collapsed(
    path: Path, *, top: int = 20, focus: str | None = None
) -> dict[str, list[tuple[str, float]]]:
    """Top functions by self and by inclusive share of samples in a collapsed-stack file.

    With ``focus``, only stacks containing a frame with that substring are counted (shares are
    then of those stacks).
    """
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    total = 0
    for raw in path.read_text().splitlines():
        stack, _, count_text = raw.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        if focus and focus not in stack:
            continue
        count = int(count_text)
        frames = [
            f
            for f in stack.split(";")
            if not f.startswith("process ") and not f.startswith("thread ")
        ]
        if not frames:
            continue
        total += count
        leaf = frames[-1]
        self_counts[leaf] = self_counts.get(leaf, 0) + count
        for frame in set(frames):
            incl_counts[frame] = incl_counts.get(frame, 0) + count
    if not total:
        return {"self": [], "inclusive": [], "samples": []}

    def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
        items = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)[:top]
        return [(name, round(100.0 * n / total, 1)) for name, n in items]

    return {
        "self": ranked(self_counts),
        "inclusive": ranked(incl_counts),
        "samples": [("total", float(total))],
    }
