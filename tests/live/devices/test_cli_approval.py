"""``twofa authenticator``: a second CLI device asks, the first approves by typing the number
(or denies); a waiting ``confirm`` finishes when the approval lands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.live.devices.test_cli import Cli, register
from tests.servers import LiveProvider


def second(provider: LiveProvider, home: Path, national: str, *args: str) -> Cli:
    cli = Cli(home)
    cli.run("register", "--provider", provider.url, "--country-code", "1", "--phone", national)
    return cli


def number_in(text: str) -> int:
    found = re.search(r"typing the number (\d\d)", text)
    assert found, text
    return int(found.group(1))


def test_second_cli_device_approved_by_the_first(
    sqlite_provider: LiveProvider, tmp_path: Path
) -> None:
    first, account = register(sqlite_provider, tmp_path / "first")
    newcomer = second(sqlite_provider, tmp_path / "second", account.national)
    code = sqlite_provider.last_code(account.phone, 6)
    asked = newcomer.run("confirm", code, "--name", "laptop", "--no-wait")
    number = number_in(asked.stdout)
    assert newcomer.run("status").stdout.split()[-1] == "pending"
    newcomer.run("codes", ok=False)  # nothing to read while it waits
    [waiting] = first.json("devices", "--pending")
    assert waiting["name"] == "laptop" and waiting["registered_from"] == "127.0.0.1"
    shown = first.run("devices", "--pending").stdout
    assert "laptop" in shown and "127.0.0.1" in shown
    first.run("approve-device", waiting["uuid"], "--number", str(number))
    assert newcomer.run("status").stdout.split()[-1] == "active"
    assert [c["authy_id"] for c in newcomer.json("codes")] == [account.authy_id]
    assert first.json("devices", "--pending") == []


def test_wrong_number_and_denial(sqlite_provider: LiveProvider, tmp_path: Path) -> None:
    first, account = register(sqlite_provider, tmp_path / "first")
    for index, answer in enumerate(("wrong", "deny")):
        newcomer = second(sqlite_provider, tmp_path / f"n{index}", account.national)
        code = sqlite_provider.last_code(account.phone, 6)
        number = number_in(newcomer.run("confirm", code, "--no-wait").stdout)
        [waiting] = first.json("devices", "--pending")
        if answer == "wrong":
            refused = first.run(
                "approve-device", waiting["uuid"], "--number", str(10 + (number - 9) % 90), ok=False
            )
            assert "did not match" in refused.stderr
        else:
            first.run("deny-device", waiting["uuid"])
        newcomer.run("status", ok=False)


def test_confirm_waits_for_the_approval(sqlite_provider: LiveProvider, tmp_path: Path) -> None:
    first, account = register(sqlite_provider, tmp_path / "first")
    newcomer = second(sqlite_provider, tmp_path / "second", account.national)
    code = sqlite_provider.last_code(account.phone, 6)
    waiting = subprocess.Popen(
        newcomer.argv("confirm", code, "--name", "waiting"),
        env=newcomer.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert waiting.stdout is not None
        number = number_in(waiting.stdout.readline())
        [asking] = first.json("devices", "--pending")
        first.run("approve-device", asking["uuid"], "--number", str(number))
        out, err = waiting.communicate(timeout=30)
        assert waiting.returncode == 0, err
        assert "Registered device" in out
    finally:
        waiting.kill()
