"""The wrk generator: C and epoll, a Lua script walking precomputed paths per thread."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.stats import LoadResult
from bench.usage import CpuMeter

INSTALL_HINT = "install wrk for server-bound figures (Debian: sudo apt-get install wrk)"


def find_wrk() -> str | None:
    """The ``wrk`` binary on ``PATH``. Benchmarks never install anything; they say what to."""
    return shutil.which("wrk")


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


def run_wrk(
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
