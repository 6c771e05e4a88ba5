"""Statistics of a sample, and one load phase's result."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

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


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | int]:
    """count, p50, p90, p99, max (ms) of a latency sample."""
    return {
        "count": len(values_ms),
        "p50_ms": percentile(values_ms, 50),
        "p90_ms": percentile(values_ms, 90),
        "p99_ms": percentile(values_ms, 99),
        "max_ms": max(values_ms) if values_ms else math.nan,
    }
