"""``twofa provider --workers N``: connections spread over the processes, a dead one comes back,
and the whole-database jobs run in one of them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.scale.conftest import wait_until
from tests.servers import START_TIMEOUT, provider_env
from twofa import process
from twofa.storage.engine import upgrade

pytestmark = pytest.mark.xdist_group("workers")


def _children(pid: int) -> list[int]:
    """The provider processes the supervisor started (not multiprocessing's helper process)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) != pid:
                continue
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
    return found


def _established(port: int) -> set[int]:
    """Socket inodes of established connections whose local port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(int(fields[9]))
    return inodes


def _listening(port: int) -> set[int]:
    """Socket inodes of listening sockets on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(int(fields[9]))
    return inodes


def _owners(pids: list[int], inodes: set[int]) -> Counter[int]:
    owners: Counter[int] = Counter()
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                owners[pid] += 1
    return owners


def _wait_listening(port: int, pids: list[int]) -> None:
    """Each process binds its own socket once its application is built: wait until all listen."""
    wait_until(
        lambda: all(_owners([pid], _listening(port)) for pid in pids),
        timeout=60,
        what="every process listening",
    )


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[str, int, process.subprocess.Popen[bytes]]]:
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    upgrade(url)
    port = process.free_port()
    base = f"http://127.0.0.1:{port}"
    proc = process.start(
        process.twofa_command("provider", "--port", str(port), "--workers", "2", "--no-migrate"),
        base + "/healthz",
        env=provider_env(tmp_path, url),
        log_path=tmp_path / "provider.log",
        ok=process.healthy,
        timeout=START_TIMEOUT,
    )
    try:
        wait_until(lambda: len(_children(proc.pid)) >= 2, what="two worker processes")
        _wait_listening(port, _children(proc.pid))
        yield base, port, proc
    finally:
        process.stop(proc)


def test_keep_alive_connections_spread_over_the_processes(
    workers: tuple[str, int, process.subprocess.Popen[bytes]],
) -> None:
    base, port, proc = workers
    pids = _children(proc.pid)
    # Both processes must be accepting before the burst (each binds its own socket).
    wait_until(
        lambda: (
            all(os.path.exists(f"/proc/{pid}") for pid in pids)
            and httpx.get(base + "/healthz", timeout=5).status_code == 200
        )
    )
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        for conn in conns:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        for conn in conns:
            assert b"200" in conn.recv(4096).split(b"\r\n", 1)[0]
        owners = _owners(pids, _established(port))
        # The kernel hashes connections over the two sockets: with 32 connections, fewer than
        # 4 on one process happens about once in 400,000 runs. One shared socket gave skews
        # far beyond that (all on one process).
        assert sum(owners.values()) == 32, owners
        assert min(owners.get(pid, 0) for pid in pids) >= 4, owners
    finally:
        for conn in conns:
            conn.close()


def test_a_process_that_dies_is_replaced(
    workers: tuple[str, int, process.subprocess.Popen[bytes]],
) -> None:
    base, port, proc = workers
    first = _children(proc.pid)
    os.kill(first[0], signal.SIGKILL)
    replaced = wait_until(
        lambda: (now := _children(proc.pid)) and len(now) == 2 and first[0] not in now,
        timeout=30,
        what="a replacement process",
    )
    assert replaced
    _wait_listening(port, _children(proc.pid))
    for _ in range(20):
        assert httpx.get(base + "/healthz", timeout=30).status_code == 200
    assert proc.poll() is None
