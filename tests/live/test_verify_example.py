"""examples/verify_twilio.py against a live provider: the official client, one changed line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.compat.verify_helpers import new_account, new_number, sent_code
from tests.servers import LiveProvider

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "verify_twilio.py"


def test_verify_example_approves_the_code(sqlite_provider: LiveProvider) -> None:
    account = new_account(sqlite_provider)
    to = new_number(sqlite_provider)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLE),
            "--provider",
            sqlite_provider.url,
            "--account-sid",
            account.account_sid,
            "--auth-token",
            account.auth_token,
            "--to",
            to,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    first = proc.stdout.readline()
    assert first.startswith(f"code sent by sms to {to}"), first
    proc.stdin.write("000000\n")  # a wrong code first (unless it is the right one)
    proc.stdin.flush()
    proc.stdin.write(sent_code(sqlite_provider, to) + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    assert out.strip().endswith("approved")
