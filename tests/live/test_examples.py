"""The integration examples in examples/ run against a live provider (SMS path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import LiveProvider, e164

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("script", ["plain_http.py", "with_sdk.py"])
def test_example_signs_in_with_an_sms_code(sqlite_provider: LiveProvider, script: str) -> None:
    _, key = sqlite_provider.new_app("Example")
    phone = sqlite_provider.new_phone()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / script),
            "--provider",
            sqlite_provider.url,
            "--api-key",
            key,
            "--email",
            "example@example.com",
            "--phone",
            phone,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    first = proc.stdout.readline()
    assert "XX" in first, first  # "... sent to +1-XXX-XXX-XX23"
    proc.stdin.write(sqlite_provider.last_code(e164(phone)) + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
    assert out.strip().endswith("valid")
