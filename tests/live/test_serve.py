"""``twofa serve`` (what ``make run`` starts): the demo from an empty folder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from authy.api import AuthyApiClient

from tests.servers import e164, run_cli
from twofa.process import free_port


def _serve(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    site, provider = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twofa.cli",
            "serve",
            "--site-port",
            str(site),
            "--provider-port",
            str(provider),
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    shown: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while "Demo API key" not in shown and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(
            r"\s+(Site|Authenticator|Outbox \(phone\)|Provider API|Demo API key)\s+(\S+)", line
        )
        if match:
            shown[match.group(1)] = match.group(2)
    assert "Demo API key" in shown, shown
    return proc, shown


def _stop(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def test_serve_runs_the_demo_and_keeps_its_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFA_")}
    env["TWOFA_ENV"] = "dev"  # what a newcomer gets: dev secret under ./var, outbox page
    proc, shown = _serve(tmp_path, env)
    try:
        assert httpx.get(shown["Site"]).status_code == 200
        assert httpx.get(shown["Authenticator"]).status_code == 200
        provider_url = shown["Provider API"].removesuffix("/docs")
        client = AuthyApiClient(shown["Demo API key"], api_uri=provider_url)
        user = client.users.create("newcomer@example.com", "201-555-0142", 1)
        assert client.users.request_sms(user.id).ok()
        page = httpx.get(shown["Outbox (phone)"])
        assert page.status_code == 200 and "verification code is" in page.text
        listed = run_cli("outbox", "--json", env=env, cwd=tmp_path)  # same folder, same data
        assert [m["to"] for m in json.loads(listed.stdout)] == [e164("201-555-0142")]
        apps = json.loads(run_cli("apps", "list", "--json", env=env, cwd=tmp_path).stdout)
        assert apps[0]["name"] == "twofa demo"
        assert apps[0]["callback_url"] == shown["Site"].rstrip("/") + "/authy/callback"
    finally:
        _stop(proc)
    assert (tmp_path / "var" / "provider.db").exists() and (tmp_path / "var" / "site.db").exists()

    again, shown_again = _serve(tmp_path, env)
    try:
        assert shown_again["Demo API key"] == shown["Demo API key"]  # derived, never stored
    finally:
        _stop(again)
