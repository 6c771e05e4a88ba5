"""Verify credentials from the command line: ``apps create --json``, ``apps auth-token`` and
``apps keys create|list|revoke``; each credential then works (or stops working) on the wire."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import LiveProvider, run_cli, start_provider


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    tmp = tmp_path_factory.mktemp("verify-cli")
    provider = start_provider(tmp, f"sqlite:///{tmp / 'p.db'}")
    yield provider
    provider.stop()


def services(url: str, user: str, password: str) -> httpx.Response:
    return httpx.get(f"{url}/v2/Services", auth=(user, password))


def cli_json(live: LiveProvider, *args: str) -> object:
    done = run_cli(*args, "--json", env=live.env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_account_sid_and_auth_token_from_apps_create(live: LiveProvider) -> None:
    body = cli_json(live, "apps", "create", "Verify CLI")
    assert isinstance(body, dict)
    assert re.fullmatch(r"AC[0-9a-f]{32}", body["account_sid"])
    assert re.fullmatch(r"[0-9a-f]{32}", body["auth_token"])
    assert services(live.url, body["account_sid"], body["auth_token"]).status_code == 200
    wrong = services(live.url, body["account_sid"], "f" * 32)
    assert wrong.status_code == 401 and wrong.json()["code"] == 20003
    # Re-issuing the token keeps the SID and retires the old token.
    again = cli_json(live, "apps", "auth-token", str(body["app_id"]))
    assert isinstance(again, dict) and again["account_sid"] == body["account_sid"]
    assert services(live.url, again["account_sid"], again["auth_token"]).status_code == 200
    # A process that checked the old token keeps its answer for the credential cache's life.
    deadline = time.monotonic() + 15
    while services(live.url, body["account_sid"], body["auth_token"]).status_code != 401:
        assert time.monotonic() < deadline, "the retired token is still accepted"
        time.sleep(0.25)


def test_api_keys_create_list_revoke(live: LiveProvider) -> None:
    app = cli_json(live, "apps", "create", "Keys CLI")
    assert isinstance(app, dict)
    made = cli_json(live, "apps", "keys", "create", str(app["app_id"]), "--name", "ci")
    assert isinstance(made, dict) and re.fullmatch(r"SK[0-9a-f]{32}", made["sid"])
    assert made["account_sid"] == app["account_sid"]
    listed = cli_json(live, "apps", "keys", "list", str(app["app_id"]))
    assert isinstance(listed, list) and len(listed) == 1
    assert {k: listed[0][k] for k in ("sid", "friendly_name", "revoked")} == {
        "sid": made["sid"],
        "friendly_name": "ci",
        "revoked": False,
    }
    unused = cli_json(live, "apps", "keys", "create", str(app["app_id"]))
    assert isinstance(unused, dict)
    assert services(live.url, made["sid"], made["secret"]).status_code == 200
    revoked = run_cli("apps", "keys", "revoke", str(app["app_id"]), unused["sid"], env=live.env)
    assert revoked.returncode == 0, revoked.stderr
    assert services(live.url, unused["sid"], unused["secret"]).status_code == 401
    twice = run_cli("apps", "keys", "revoke", str(app["app_id"]), unused["sid"], env=live.env)
    assert twice.returncode == 1 and "No active API key" in twice.stderr
