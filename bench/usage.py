"""What a process uses: CPU seconds and cores, memory, open files and their limit."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from pathlib import Path

# CPU accounting ------------------------------------------------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (all its threads), from /proc or psutil."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except Exception:
        return None


class CpuMeter:
    """CPU used by a process between ``start()`` and ``stop()``, in cores (1.0 = one core)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self._cpu0: float | None = None
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._cpu0 = process_cpu_seconds(self.pid) if self.pid else None

    def stop(self) -> float | None:
        elapsed = time.monotonic() - self._t0
        if self.pid is None or self._cpu0 is None or elapsed <= 0:
            return None
        cpu1 = process_cpu_seconds(self.pid)
        return None if cpu1 is None else (cpu1 - self._cpu0) / elapsed


# Process limits and memory -----------------------------------------------------------------


def raise_nofile(wanted: int | None = None) -> int:
    """Raise this process's open-file soft limit toward ``wanted`` (default: the hard limit).

    Child processes (the provider) inherit it. Returns the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if wanted is None else min(wanted, hard)
    if hard == resource.RLIM_INFINITY and wanted is not None:
        target = wanted
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def process_status(pid: int) -> dict[str, int]:
    """Numeric fields of ``/proc/<pid>/status`` in kB where they are sizes (VmRSS, VmHWM, ...)."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            out[name] = int(parts[0])
    return out


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB (VmRSS), or None when it cannot be read."""
    kb = process_status(pid).get("VmRSS")
    return None if kb is None else kb / 1024


def open_fds(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def nofile_limit(pid: int) -> int | None:
    """The soft ``Max open files`` of ``pid``."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                value = line.split()[3]
                return None if value == "unlimited" else int(value)
    except (OSError, ValueError, IndexError):
        return None
    return None
