"""``twofa authenticator`` end to end: real subprocesses against a live provider."""

from __future__ import annotations

import json
import os
import selectors
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.live.devices.conftest import Account, e164, new_account
from tests.servers import LiveProvider


class Cli:
    """Run the CLI with its own authenticator home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFA_")}
        self.env.update({"TWOFA_AUTHENTICATOR_HOME": str(home), "PYTHONUNBUFFERED": "1"})

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "twofa.cli", "authenticator", *args]

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=30, check=False
        )
        if ok:
            assert done.returncode == 0, done.stderr
        else:
            assert done.returncode != 0, done.stdout
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("twofa: "), done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)


def register(provider: LiveProvider, home: Path) -> tuple[Cli, Account]:
    """A fresh application user and a CLI device registered for the user's phone."""
    account = new_account(provider)
    cli = Cli(home)
    cli.run(
        "register", "--provider", provider.url, "--country-code", "1", "--phone", account.national
    )
    cli.run("confirm", provider.last_code(account.phone, 6), "--name", "terminal")
    return cli, account


@pytest.fixture(scope="module")
def registered(
    sqlite_provider: LiveProvider, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Cli, Account]:
    """One registration shared by the tests that do not revoke it (CLI start-up is slow)."""
    return register(sqlite_provider, tmp_path_factory.mktemp("cli") / "home")


def test_register_keeps_the_key_private(registered: tuple[Cli, Account]) -> None:
    cli, account = registered
    key = cli.home / "device.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    devices = cli.json("devices")
    assert [(d["name"], d["os_type"], d["current"]) for d in devices] == [("terminal", "cli", True)]
    status = account.authy("GET", f"/protected/json/users/{account.authy_id}/status").json()
    assert status["status"]["registered"] is True


def test_codes_verify(registered: tuple[Cli, Account]) -> None:
    cli, account = registered
    codes = cli.json("codes")
    assert [c["authy_id"] for c in codes] == [account.authy_id]
    assert 0 < codes[0]["seconds_left"] <= 30
    verified = account.authy("GET", f"/protected/json/verify/{codes[0]['code']}/{account.authy_id}")
    assert verified.status_code == 200, verified.text


def test_pending_approve_deny(registered: tuple[Cli, Account]) -> None:
    cli, account = registered
    first = account.push("first")["uuid"]
    second = account.push("second")["uuid"]
    pending = cli.json("pending")
    assert [p["uuid"] for p in pending] == [first, second]
    assert set(pending[0]) >= {"uuid", "app_name", "message", "details", "expires_at"}
    cli.run("approve", first)
    cli.run("deny", second)
    assert (account.status(first), account.status(second)) == ("approved", "denied")
    cli.run("approve", first, ok=False)  # already answered
    matching = account.push("match", number_matching=True)
    refused = cli.run("approve", matching["uuid"], ok=False)
    assert "--number" in refused.stderr
    cli.run("approve", matching["uuid"], "--number", str(matching["number"]))
    assert account.status(matching["uuid"]) == "approved"


def test_watch_json_prints_new_requests(sqlite_provider: LiveProvider, tmp_path: Path) -> None:
    cli, account = register(sqlite_provider, tmp_path / "home")
    waiting = account.push("already waiting")["uuid"]
    proc = subprocess.Popen(
        cli.argv("watch", "--json"),
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(read_line(proc))["data"]["uuid"] == waiting
        fresh = account.push("fresh")["uuid"]
        line = json.loads(read_line(proc))
        assert line["event"] == "request" and line["data"]["uuid"] == fresh
        assert line["data"]["message"] == "fresh"
        cli.run("revoke")
        assert json.loads(read_line(proc))["event"] == "revoked"
        assert proc.wait(10) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    refused = cli.run("pending", ok=False)
    assert "not registered" in refused.stderr
    assert not (cli.home / "device.pem").exists()


def read_line(proc: subprocess.Popen[str], timeout: float = 15.0) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    ready = selector.select(timeout)
    selector.close()
    assert ready, "no output from watch"
    return proc.stdout.readline()


def test_refusals(sqlite_provider: LiveProvider, tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    cli.run("codes", ok=False)
    national = sqlite_provider.new_phone()
    sqlite_provider.know_number("1", national)
    cli.run(
        "register", "--provider", sqlite_provider.url, "--country-code", "1", "--phone", national
    )
    right = sqlite_provider.last_code(e164(national), 6)
    refused = cli.run("confirm", "000000" if right != "000000" else "111111", ok=False)
    assert "incorrect" in refused.stderr
