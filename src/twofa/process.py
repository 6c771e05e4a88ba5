"""twofa's own child processes: spawn one, wait until it answers over HTTP, stop it.

``twofa serve``, the reference deployment (``deploy/local.py``), the benchmarks and the tests
all start providers and sites this way; each keeps its own choices of port, environment and
log file. Children are plain ``subprocess.Popen`` objects, so coverage's subprocess patching
measures them and callers can still signal them directly.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

POLL_SECONDS = 0.05


class ProcessFailed(RuntimeError):
    """A child exited, or did not answer in time; the message ends with its log's tail."""


def twofa_command(*args: str) -> list[str]:
    """``twofa ARGS`` run by this interpreter (no reliance on a script on ``PATH``)."""
    return [sys.executable, "-m", "twofa.cli", *args]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without its ``TWOFA_`` settings, plus ``values``.

    A child then reads only the settings it is given, whatever the parent's shell holds.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFA_")}
    env.update(values)
    return env


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def answering(status: int) -> bool:
    """Any answer but a server error: the process is up."""
    return status < 500


def healthy(status: int) -> bool:
    """Only 200: up and ready (``/readyz`` answers 503 until its dependencies are)."""
    return status == 200


def tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ('' when there is none)."""
    if path is None:
        return ""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def spawn(
    command: Sequence[str],
    *,
    env: dict[str, str],
    log_path: Path | None = None,
    append: bool = False,
    cwd: Path | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command``; its output goes to ``log_path`` (or this process's own output)."""
    if log_path is None:
        return subprocess.Popen(  # noqa: S603 (our own commands)
            list(command), env=env, cwd=cwd, preexec_fn=preexec_fn
        )
    with log_path.open("ab" if append else "wb") as log:
        return subprocess.Popen(  # noqa: S603 (our own commands)
            list(command),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=preexec_fn,
        )


def wait_until_up(
    url: str,
    *procs: subprocess.Popen[bytes],
    timeout: float = 60.0,
    ok: Callable[[int], bool] = answering,
    log_path: Path | None = None,
) -> None:
    """Return once ``url`` answers with a status ``ok`` accepts.

    Raises ``ProcessFailed`` as soon as one of ``procs`` exits, or after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise ProcessFailed(
                    f"{_name(proc)} exited with {proc.returncode} before {url} answered\n"
                    + tail(log_path)
                )
        status = http_status(url, timeout=1.0)
        if status is not None and ok(status):
            return
        if time.monotonic() > deadline:
            raise ProcessFailed(f"{url} did not answer within {timeout:.0f} s\n" + tail(log_path))
        time.sleep(POLL_SECONDS)


def start(
    command: Sequence[str],
    url: str,
    *,
    env: dict[str, str],
    log_path: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
    ok: Callable[[int], bool] = answering,
) -> subprocess.Popen[bytes]:
    """Spawn ``command`` and wait until ``url`` answers; a child that fails to come up is
    killed before ``ProcessFailed`` is raised."""
    proc = spawn(command, env=env, log_path=log_path, cwd=cwd)
    try:
        wait_until_up(url, proc, timeout=timeout, ok=ok, log_path=log_path)
    except BaseException:
        kill(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM (a graceful shutdown, which also lets coverage save), then SIGKILL after
    ``timeout`` seconds; the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    kill(proc)
    return proc.returncode


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL and reap: no shutdown at all."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(10)


def _name(proc: subprocess.Popen[bytes]) -> str:
    args = proc.args if isinstance(proc.args, list | tuple) else [proc.args]
    words = [str(a) for a in args]
    if words[1:3] == ["-m", "twofa.cli"]:
        return " ".join(["twofa", *words[3:4]])
    return Path(words[0]).name if words else "process"
