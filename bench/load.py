"""Load generation: GET precomputed paths with wrk when installed, else Python asyncio."""

from __future__ import annotations

from collections.abc import Sequence

from bench.python_load import run_python
from bench.stats import LoadResult
from bench.usage import CpuMeter
from bench.wrk_load import INSTALL_HINT, find_wrk, run_wrk

GENERATORS = ("auto", "wrk", "aiohttp", "asyncio")
_hinted: list[bool] = []


def _hint_once() -> None:
    if not _hinted:
        _hinted.append(True)
        print(f"bench: wrk not found, using a Python generator; {INSTALL_HINT}", flush=True)


def choose_generator(wanted: str) -> str:
    """Resolve ``auto`` to the cheapest generator available."""
    if wanted not in GENERATORS:
        raise ValueError(f"unknown generator {wanted!r}; choose from {', '.join(GENERATORS)}")
    if wanted == "wrk":
        if not find_wrk():
            raise RuntimeError(f"wrk is not installed: {INSTALL_HINT}")
        return "wrk"
    if wanted == "aiohttp":
        import aiohttp  # raises ImportError when missing

        return "aiohttp"
    if wanted == "asyncio":
        return "asyncio"
    if find_wrk():
        return "wrk"
    _hint_once()
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
        result = run_wrk(
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
        result = run_python(
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
