"""Shared benchmark plumbing: the provider subprocess, load generation, statistics, output.

Load generation prefers ``wrk`` (C, epoll, a Lua script walking precomputed paths), so that the
numbers describe the server rather than the client; without it a Python asyncio generator
(aiohttp when installed, otherwise raw keep-alive HTTP/1.1 over asyncio streams) stands in.
Every result says which generator produced it and how much CPU the server and the generator used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
GENERATORS = ("auto", "wrk", "aiohttp", "asyncio")

# Rate limits high enough that a benchmark never meets them.
RELAXED_LIMITS = {
    f"TWOFA_LIMIT_{name.upper()}": "1000000/60"
    for name in (
        "verify_failures_per_user",
        "sms_per_phone",
        "sms_per_phone_total",
        "sms_per_app",
        "push_per_user",
        "phone_verifications_per_number",
        "device_registrations_per_number",
        "device_registrations_per_ip",
        "device_registrations_total",
    )
}


# Provider subprocess -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, urllib.error.URLError):
        return None


@dataclass
class Provider:
    """A provider process on a loopback port plus direct access to its services."""

    url: str
    proc: subprocess.Popen[bytes]
    services: Any  # twofa.provider.services.Services
    data_dir: Path
    log_path: Path
    env: dict[str, str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.services.close()


@contextlib.contextmanager
def provider(
    extra_env: dict[str, str] | None = None, *, database_url: str | None = None
) -> Iterator[Provider]:
    """Start ``twofa provider`` on a free loopback port with a fresh SQLite database.

    The database is migrated first; the process is stopped and its data removed on exit.
    """
    from twofa.provider.services import build_services
    from twofa.settings import load_settings
    from twofa.storage.engine import upgrade

    data_dir = Path(tempfile.mkdtemp(prefix="twofa-bench-"))
    database_url = database_url or f"sqlite:///{data_dir / 'provider.db'}"
    upgrade(database_url)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFA_")}
    env.update(
        {
            "TWOFA_ENV": "test",
            "TWOFA_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "TWOFA_DATA_DIR": str(data_dir),
            "TWOFA_DATABASE_URL": database_url,
        }
    )
    env.update(extra_env or {})
    log_path = data_dir / f"provider-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twofa.cli", "provider", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while http_status(url + "/healthz", timeout=1.0) != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"provider did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.05)
    overrides = {k[len("TWOFA_") :].lower(): v for k, v in env.items() if k.startswith("TWOFA_")}
    services = build_services(load_settings(**overrides))
    running = Provider(url, proc, services, data_dir, log_path, env)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


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


def machine_info() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# Statistics ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


# Load generation -----------------------------------------------------------------------------


@dataclass
class LoadResult:
    """One load phase: throughput, latency (ms), outcome counts and CPU use."""

    name: str
    generator: str
    seconds: float
    concurrency: int
    requests: int
    rps: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    expected_status: int
    statuses: dict[str, int]
    unexpected: int  # responses whose status was not the expected one
    socket_errors: int  # connect/read/write errors and timeouts
    exhausted: bool = False  # the precomputed paths ran out before the time was up
    server_cpu: float | None = None  # cores used by the server process
    client_cpu: float | None = None  # cores used by the load generator
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.unexpected + self.socket_errors

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = self.errors
        return data


def find_wrk(install: bool = True) -> str | None:
    """The ``wrk`` binary; installs Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("bench: wrk not found; installing Debian's wrk package ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> int:
        return subprocess.run(
            ["apt-get", *args],
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ).returncode

    if apt("install", "-y", "-qq", "wrk") != 0:
        apt("update", "-qq")
        apt("install", "-y", "-qq", "wrk")
    return shutil.which("wrk")


def choose_generator(wanted: str) -> str:
    """Resolve ``auto`` to the cheapest generator available."""
    if wanted not in GENERATORS:
        raise ValueError(f"unknown generator {wanted!r}; choose from {', '.join(GENERATORS)}")
    if wanted == "wrk":
        if not find_wrk():
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        return "wrk"
    if wanted == "aiohttp":
        import aiohttp  # raises ImportError when missing

        return "aiohttp"
    if wanted == "asyncio":
        return "asyncio"
    if find_wrk():
        return "wrk"
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return "asyncio"
    return "aiohttp"


def run_load(
    name: str,
    base_url: str,
    lanes: Sequence[Sequence[str]],
    *,
    seconds: float,
    concurrency: int,
    expected_status: int,
    headers: dict[str, str] | None = None,
    cycle: bool = True,
    generator: str = "auto",
    server_pid: int | None = None,
) -> LoadResult:
    """GET the paths of ``lanes`` for ``seconds`` over ``concurrency`` keep-alive connections.

    Each lane is consumed in order by its own share of the connections (``wrk`` runs one thread
    per lane), so a lane never has two requests for paths far apart in flight at once. With
    ``cycle`` a lane starts over at its end; without it the lane is done (``exhausted``).
    """
    if not lanes or any(not lane for lane in lanes):
        raise ValueError("every lane needs at least one path")
    if concurrency < len(lanes):
        raise ValueError("concurrency must be at least the number of lanes")
    kind = choose_generator(generator)
    meter = CpuMeter(server_pid)
    if kind == "wrk":
        result = _run_wrk(
            name,
            base_url,
            lanes,
            seconds=seconds,
            concurrency=concurrency,
            expected=expected_status,
            headers=headers or {},
            cycle=cycle,
            meter=meter,
        )
    else:
        result = _run_python(
            kind,
            name,
            base_url,
            lanes,
            seconds=seconds,
            concurrency=concurrency,
            expected=expected_status,
            headers=headers or {},
            cycle=cycle,
            meter=meter,
        )
    return result


# wrk ---------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Walk a precomputed list of paths per thread; count statuses; report JSON from done().
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local dir, cycle_arg = args[1], args[2]
  expected = tonumber(args[3])
  cycle = cycle_arg == "cycle"
  local hdrs = {}
  for i = 4, #args do
    local k, v = string.match(args[i], "^([^:]+):%s*(.*)$")
    if k then hdrs[k] = v end
  end
  requests_ = {}
  local f = assert(io.open(dir .. "/lane-" .. id .. ".txt", "r"))
  for line in f:lines() do
    if #line > 0 then requests_[#requests_ + 1] = wrk.format("GET", line, hdrs) end
  end
  f:close()
  idle = wrk.format("GET", "/healthz", hdrs)
  n = #requests_
  i = 0
  statuses = {}
  unexpected = 0
  exhausted = 0
end

function request()
  i = i + 1
  if i > n then
    if cycle then
      i = 1
    else
      if exhausted == 0 then
        exhausted = 1
        wrk.thread:stop()
      end
      return idle
    end
  end
  return requests_[i]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status ~= expected then unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local parts = {}
  local total_unexpected, any_exhausted = 0, 0
  local merged = {}
  for _, t in ipairs(threads) do
    total_unexpected = total_unexpected + (t:get("unexpected") or 0)
    any_exhausted = math.max(any_exhausted, t:get("exhausted") or 0)
    local st = t:get("statuses") or {}
    for k, v in pairs(st) do merged[k] = (merged[k] or 0) + v end
  end
  local st = {}
  for k, v in pairs(merged) do st[#st + 1] = string.format('"%s": %d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status_errors": %d, ' ..
    '"unexpected": %d, "exhausted": %d, "statuses": {%s}, ' ..
    '"mean_us": %f, "max_us": %f, "p50_us": %f, "p90_us": %f, "p99_us": %f}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    total_unexpected, any_exhausted, table.concat(st, ", "),
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99)))
end
"""


def _run_wrk(
    name: str,
    base_url: str,
    lanes: Sequence[Sequence[str]],
    *,
    seconds: float,
    concurrency: int,
    expected: int,
    headers: dict[str, str],
    cycle: bool,
    meter: CpuMeter,
) -> LoadResult:
    wrk = find_wrk()
    assert wrk is not None
    with tempfile.TemporaryDirectory(prefix="twofa-wrk-") as tmp:
        for index, lane in enumerate(lanes):
            Path(tmp, f"lane-{index}.txt").write_text("\n".join(lane) + "\n")
        script = Path(tmp, "walk.lua")
        script.write_text(WRK_SCRIPT)
        duration = max(1, round(seconds))
        cmd = [
            wrk,
            f"-t{len(lanes)}",
            f"-c{concurrency}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base_url,
            "--",
            tmp,
            "cycle" if cycle else "once",
            str(expected),
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        out_path = Path(tmp, "out.txt")
        with out_path.open("wb") as out:
            meter.start()
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            server_cpu = meter.stop()
            proc.returncode = os.waitstatus_to_exitcode(status)
        output = out_path.read_text()
    line = next((x for x in output.splitlines() if x.startswith("BENCHJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{output[-3000:]}")
    data = json.loads(line[len("BENCHJSON ") :])
    elapsed = data["duration_us"] / 1e6
    client_cpu = (usage.ru_utime + usage.ru_stime) / elapsed if elapsed > 0 else None
    return LoadResult(
        name=name,
        generator=f"wrk ({len(lanes)} thread{'s' if len(lanes) > 1 else ''})",
        seconds=round(elapsed, 3),
        concurrency=concurrency,
        requests=data["requests"],
        rps=data["requests"] / elapsed if elapsed > 0 else 0.0,
        mean_ms=data["mean_us"] / 1000,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        expected_status=expected,
        statuses=data["statuses"],
        unexpected=data["unexpected"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        exhausted=bool(data["exhausted"]),
        server_cpu=server_cpu,
        client_cpu=client_cpu,
    )


# Python asyncio generators -------------------------------------------------------------------


class _Lane:
    def __init__(self, paths: Sequence[str], cycle: bool) -> None:
        self.paths = paths
        self.cycle = cycle
        self.index = 0
        self.exhausted = False

    def next(self) -> str | None:
        if self.index >= len(self.paths):
            if not self.cycle:
                self.exhausted = True
                return None
            self.index = 0
        path = self.paths[self.index]
        self.index += 1
        return path


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: int = 0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; returns (status, keep-alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status, _, keep_alive = await _read_body(reader, head)
    return status, keep_alive


async def _asyncio_worker(
    host: str, port: int, lane: _Lane, headers: dict[str, str], tally: _Tally, stop_at: float
) -> None:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < stop_at:
            path = lane.next()
            if path is None:
                return
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n"
            started = time.perf_counter()
            try:
                writer.write(request.encode("latin-1"))
                status, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                tally.socket_errors += 1
                writer.close()
                reader = writer = None
                continue
            tally.record(status, time.perf_counter() - started)
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _aiohttp_worker(
    session: Any, base_url: str, lane: _Lane, headers: dict[str, str], tally: _Tally, stop_at: float
) -> None:
    import aiohttp

    while time.perf_counter() < stop_at:
        path = lane.next()
        if path is None:
            return
        started = time.perf_counter()
        try:
            async with session.get(base_url + path, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError):
            tally.socket_errors += 1
            continue
        tally.record(status, time.perf_counter() - started)


async def _python_load(
    kind: str,
    base_url: str,
    lanes: list[_Lane],
    concurrency: int,
    headers: dict[str, str],
    seconds: float,
    tally: _Tally,
) -> float:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    started = time.perf_counter()
    stop_at = started + seconds
    if kind == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(
                *(
                    _aiohttp_worker(
                        session, base_url, lanes[i % len(lanes)], headers, tally, stop_at
                    )
                    for i in range(concurrency)
                )
            )
    else:
        await asyncio.gather(
            *(
                _asyncio_worker(host, port, lanes[i % len(lanes)], headers, tally, stop_at)
                for i in range(concurrency)
            )
        )
    return time.perf_counter() - started


def _run_python(
    kind: str,
    name: str,
    base_url: str,
    lanes: Sequence[Sequence[str]],
    *,
    seconds: float,
    concurrency: int,
    expected: int,
    headers: dict[str, str],
    cycle: bool,
    meter: CpuMeter,
) -> LoadResult:
    states = [_Lane(lane, cycle) for lane in lanes]
    tally = _Tally()
    loop_factory: Callable[[], asyncio.AbstractEventLoop]
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = asyncio.new_event_loop
    rusage0 = resource.getrusage(resource.RUSAGE_SELF)
    meter.start()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        elapsed = runner.run(
            _python_load(kind, base_url, states, concurrency, headers, seconds, tally)
        )
    server_cpu = meter.stop()
    rusage1 = resource.getrusage(resource.RUSAGE_SELF)
    client = (rusage1.ru_utime - rusage0.ru_utime) + (rusage1.ru_stime - rusage0.ru_stime)
    ms = [x * 1000 for x in tally.latencies]
    done = len(ms)
    unexpected = sum(n for status, n in tally.statuses.items() if int(status) != expected)
    return LoadResult(
        name=name,
        generator=f"python {kind}",
        seconds=round(elapsed, 3),
        concurrency=concurrency,
        requests=done,
        rps=done / elapsed if elapsed > 0 else 0.0,
        mean_ms=sum(ms) / done if done else math.nan,
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms) if ms else math.nan,
        expected_status=expected,
        statuses=tally.statuses,
        unexpected=unexpected,
        socket_errors=tally.socket_errors,
        exhausted=any(lane.exhausted for lane in states),
        server_cpu=server_cpu,
        client_cpu=client / elapsed if elapsed > 0 else None,
    )


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


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (cheaper per connection), else asyncio's default loop."""
    try:
        import uvloop

        return uvloop.new_event_loop  # type: ignore[no-any-return]
    except ImportError:
        return asyncio.new_event_loop


# A minimal asyncio HTTP/1.1 client, Server-Sent Events reader and callback receiver ---------
# (no third-party client: the cost per connection stays small enough for 10,000 streams)


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> tuple[int, bytes, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    body = b""
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(data[:-2])
        body = b"".join(parts)
    elif length:
        body = await reader.readexactly(length)
    return status, body, keep_alive


class HttpClient:
    """One keep-alive HTTP/1.1 connection; ``request`` reconnects when the server closed it."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.headers = headers or {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        all_headers = {**self.headers, **(headers or {})}
        if body or method in ("POST", "PUT", "PATCH"):
            all_headers["Content-Length"] = str(len(body))
        head = "".join(f"{k}: {v}\r\n" for k, v in all_headers.items())
        self._writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}\r\n".encode(
                "latin-1"
            )
            + body
        )
        try:
            raw = await self._reader.readuntil(b"\r\n\r\n")
            status, data, keep_alive = await _read_body(self._reader, raw)
        except (OSError, asyncio.IncompleteReadError):
            self.close()
            raise
        if not keep_alive:
            self.close()
        return status, data

    async def json(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        extra = {"Content-Type": "application/json"} if payload is not None else {}
        status, data = await self.request(method, path, body, {**extra, **(headers or {})})
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class SseStream:
    """A Server-Sent Events connection read by one task; remembers when each event arrived.

    ``arrivals`` maps ``(event, uuid)`` to the ``time.perf_counter()`` at which the bytes that
    completed the frame were read; ``wait(event, uuid)`` resolves when such a frame is there.
    """

    def __init__(self) -> None:
        self.arrivals: dict[tuple[str, str], float] = {}
        self._waiters: dict[tuple[str, str], asyncio.Future[float]] = {}
        self.status: int | None = None
        self.opened_at: float | None = None
        self.closed = False
        self.error: str | None = None
        self.frames = 0
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        path: str,
        headers: dict[str, str],
        *,
        local_host: str | None = None,
        timeout: float = 30.0,
    ) -> SseStream:
        """Connect, send the GET, wait for the response head (raises unless 200)."""
        stream = cls()
        local = (local_host, 0) if local_host else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=local), timeout
        )
        stream._writer = writer
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"{head}\r\n".encode("latin-1")
        )
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = int(raw.split(b" ", 2)[1])
            stream.status = status
            if status != 200:
                _, body, _ = await _read_body(reader, raw)
                raise RuntimeError(f"event stream answered {status}: {body[:300]!r}")
            if b"chunked" not in raw.lower():
                raise RuntimeError("event stream is not chunked")
        except BaseException:
            writer.close()
            raise
        stream.opened_at = time.perf_counter()
        stream._task = asyncio.create_task(stream._read(reader))
        return stream

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = b""
        try:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                now = time.perf_counter()
                buffer += chunk[:-2]
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    self._frame(frame, now)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.closed = True
            for future in self._waiters.values():
                if not future.done():
                    future.set_exception(ConnectionError("event stream closed"))

    def _frame(self, frame: bytes, now: float) -> None:
        name = "message"
        data = None
        for line in frame.decode("utf-8", "replace").split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
        if data is None:
            return
        self.frames += 1
        try:
            uuid = str(json.loads(data).get("uuid", ""))
        except (ValueError, AttributeError):
            uuid = ""
        key = (name, uuid)
        self.arrivals.setdefault(key, now)
        future = self._waiters.pop(key, None)
        if future is not None and not future.done():
            future.set_result(now)

    async def wait(self, event: str, uuid: str, timeout: float = 10.0) -> float:
        """The arrival time of ``event`` for ``uuid`` (waits up to ``timeout`` seconds)."""
        key = (event, uuid)
        if key in self.arrivals:
            return self.arrivals[key]
        if self.closed:
            raise ConnectionError(f"event stream closed ({self.error})")
        future = self._waiters.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[key] = future
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()


class CallbackSink:
    """A loopback HTTP server that answers 200 to every POST and remembers when each came.

    ``arrivals`` maps the ``uuid`` of the JSON body to ``time.perf_counter()`` when the whole
    request had been read; ``wait(uuid)`` resolves when it is there.
    """

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    async def start(self) -> CallbackSink:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()  # idle keep-alive connections of the dispatcher
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, OSError, asyncio.CancelledError):
                    return
                _, body, keep_alive = await _read_body_request(reader, raw)
                now = time.perf_counter()
                self.requests += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                )
                try:
                    data = json.loads(body)
                    uuid = str(data.get("uuid", ""))
                except (ValueError, AttributeError):
                    continue
                self.arrivals.setdefault(uuid, now)
                self.bodies[uuid] = data
                headers = {}
                for line in raw.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                self.headers[uuid] = headers
                future = self._waiters.pop(uuid, None)
                if future is not None and not future.done():
                    future.set_result(now)
                if not keep_alive:
                    return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def wait(self, uuid: str, timeout: float = 10.0) -> float:
        if uuid in self.arrivals:
            return self.arrivals[uuid]
        future = self._waiters.get(uuid)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[uuid] = future
        return await asyncio.wait_for(asyncio.shield(future), timeout)


async def _read_body_request(reader: asyncio.StreamReader, head: bytes) -> tuple[str, bytes, bool]:
    """The request line, body (Content-Length only) and keep-alive of an HTTP/1.1 request."""
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    body = await reader.readexactly(length) if length else b""
    return lines[0], body, keep_alive


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | int]:
    """count, p50, p90, p99, max (ms) of a latency sample."""
    return {
        "count": len(values_ms),
        "p50_ms": percentile(values_ms, 50),
        "p90_ms": percentile(values_ms, 90),
        "p99_ms": percentile(values_ms, 99),
        "max_ms": max(values_ms) if values_ms else math.nan,
    }


def print_verdicts(verdicts: dict[str, dict[str, bool]], width: int = 16) -> None:
    """One PASS/MISS line per goal, naming the checks that failed."""
    for name, checks in verdicts.items():
        failed = [c for c, ok in checks.items() if not ok]
        print(
            f"  {name:<{width}} {'PASS' if not failed else 'MISS'}"
            f"{'  (' + '; '.join(failed) + ')' if failed else ''}"
        )
