"""The official ``twilio`` npm package (Node) against the provider: a smoke test of contract
§7 items 1, 6, 8, 10, 12 and 13. The package is installed from the npm registry into
``tests/compat/node/node_modules`` (ignored by git) on first use, and by ``make test``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.compat.verify_helpers import new_account, new_number, sent_code
from tests.servers import LiveProvider

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the pinned npm packages installed."""
    found = shutil.which("node")
    if found is None:
        message = "Node.js is not installed: the npm twilio smoke test needs node and npm"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # the official Node client is part of the contract
        pytest.skip(message)
    if not (NODE_DIR / "node_modules" / "twilio" / "package.json").exists():
        npm = shutil.which("npm")
        assert npm, "node is installed but npm is not: cannot install the twilio package"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    return found


def test_node_client_smoke(node: str, sqlite_provider: LiveProvider) -> None:
    account = new_account(sqlite_provider)
    phone = new_number(sqlite_provider)
    env = {k: v for k, v in os.environ.items() if k not in {"TWILIO_REGION", "TWILIO_EDGE"}}
    proc = subprocess.Popen(
        [node, "smoke.js", sqlite_provider.url, account.account_sid, account.auth_token, phone],
        cwd=NODE_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    result: dict[str, Any] = {}
    try:
        for line in proc.stdout:
            message = json.loads(line)
            if message.get("need") == "code":
                proc.stdin.write(sent_code(sqlite_provider, phone) + "\n")
                proc.stdin.flush()
            elif "error" in message:
                pytest.fail(message["error"])
            else:
                result = message["result"]
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    service = result["service"]
    assert re.fullmatch(r"VA[0-9a-f]{32}", service["sid"]) and service["codeLength"] == 6
    assert service["url"].startswith(sqlite_provider.url) and service["dateIsDate"] is True
    assert (result["wrongToken"]["status"], result["wrongToken"]["code"]) == (401, 20003)
    assert result["wrongToken"]["moreInfo"] == "https://www.twilio.com/docs/errors/20003"
    assert result["started"] == {
        "sid": result["started"]["sid"],
        "status": "pending",
        "valid": False,
        "attempts": 1,
    }
    assert result["checked"] == {
        "sid": result["started"]["sid"],
        "status": "approved",
        "valid": True,
    }
    assert (result["again"]["status"], result["again"]["code"]) == (404, 20404)
    assert result["wrong"] == ["pending"] * 5
    assert (result["sixth"]["status"], result["sixth"]["code"]) == (429, 60202)
