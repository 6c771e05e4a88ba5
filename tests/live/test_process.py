"""The process helper: spawn, wait until up, stop; a child that dies early fails at once."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from twofa import process


def test_start_waits_for_an_answer_and_stop_ends_the_process(tmp_path: Path) -> None:
    port = process.free_port()
    proc = process.start(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        f"http://127.0.0.1:{port}/",
        env=process.clean_env(),
        log_path=tmp_path / "server.log",
        cwd=tmp_path,
    )
    assert process.http_status(f"http://127.0.0.1:{port}/") == 200
    assert process.stop(proc) == -signal.SIGTERM
    assert process.http_status(f"http://127.0.0.1:{port}/") is None


def test_a_child_that_exits_fails_at_once_with_its_log(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(process.ProcessFailed) as failed:
        process.start(
            [sys.executable, "-c", "import sys; print('no database'); sys.exit(3)"],
            f"http://127.0.0.1:{process.free_port()}/",
            env=process.clean_env(),
            log_path=tmp_path / "child.log",
            timeout=60,
        )
    assert time.monotonic() - started < 30  # not the whole timeout
    assert "exited with 3" in str(failed.value)
    assert "no database" in str(failed.value)


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    log = tmp_path / "stubborn.log"
    proc = process.spawn([sys.executable, "-c", stubborn], env=process.clean_env(), log_path=log)
    deadline = time.monotonic() + 30
    while "ready" not in log.read_text():  # SIGTERM is ignored only from here on
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    assert process.stop(proc, timeout=0.5) == -signal.SIGKILL


def test_clean_env_drops_the_parents_twofa_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFA_DATABASE_URL", "postgresql://elsewhere/db")
    env = process.clean_env(TWOFA_ENV="test")
    assert "TWOFA_DATABASE_URL" not in env
    assert env["TWOFA_ENV"] == "test"
    assert env["PATH"]
