"""The ``twofa`` command as a person runs it: apps, outbox, db upgrade, configuration errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from authy.api import AuthyApiClient

from tests.servers import LiveProvider, provider_env, run_cli, start_provider


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    tmp = tmp_path_factory.mktemp("cli")
    provider = start_provider(tmp, f"sqlite:///{tmp / 'p.db'}")
    yield provider
    provider.stop()


def details(url: str, key: str) -> httpx.Response:
    return httpx.get(f"{url}/protected/json/app/details", headers={"X-Authy-API-Key": key})


def test_apps_create_json_and_the_key_works(live: LiveProvider) -> None:
    made = run_cli("apps", "create", "CLI App", "--json", env=live.env)
    assert made.returncode == 0, made.stderr
    body = json.loads(made.stdout)
    assert set(body) == {"app_id", "name", "sandbox", "api_key", "account_sid", "auth_token"}
    assert body["sandbox"] is False
    assert body["name"] == "CLI App"
    answer = details(live.url, body["api_key"])
    assert answer.status_code == 200
    assert answer.json()["app"]["app_id"] == body["app_id"]


def test_apps_create_plain_text_and_with_callback(live: LiveProvider) -> None:
    made = run_cli(
        "apps",
        "create",
        "Plain App",
        "--callback-url",
        "https://rp.example/authy/callback",
        env=live.env,
    )
    assert made.returncode == 0, made.stderr
    key = re.search(r"API key: (\S+)", made.stdout)
    assert key is not None
    assert details(live.url, key.group(1)).status_code == 200
    listed = json.loads(run_cli("apps", "list", "--json", env=live.env).stdout)
    (row,) = [r for r in listed if r["name"] == "Plain App"]
    assert row["callback_url"] == "https://rp.example/authy/callback"
    assert row["callback"]["state"] == "ok"
    assert "api_key" not in row
    assert key.group(1) not in json.dumps(listed)


def test_apps_create_refuses_a_bad_callback(live: LiveProvider) -> None:
    made = run_cli("apps", "create", "Bad", "--callback-url", "ftp://x", env=live.env)
    assert made.returncode != 0
    assert made.stderr.strip().startswith("twofa: ")
    assert "Traceback" not in made.stderr


def test_apps_set_callback(live: LiveProvider) -> None:
    app_id = json.loads(run_cli("apps", "create", "Hook App", "--json", env=live.env).stdout)[
        "app_id"
    ]
    done = run_cli("apps", "set-callback", str(app_id), "http://127.0.0.1:9/cb", env=live.env)
    assert done.returncode == 0, done.stderr
    (row,) = [
        r
        for r in json.loads(run_cli("apps", "list", "--json", env=live.env).stdout)
        if r["app_id"] == app_id
    ]
    assert row["callback_url"] == "http://127.0.0.1:9/cb"
    cleared = run_cli("apps", "set-callback", "Hook App", env=live.env)
    assert cleared.returncode == 0, cleared.stderr
    (row,) = [
        r
        for r in json.loads(run_cli("apps", "list", "--json", env=live.env).stdout)
        if r["app_id"] == app_id
    ]
    assert row["callback_url"] is None
    missing = run_cli("apps", "set-callback", "no-such-app", "https://x", env=live.env)
    assert missing.returncode != 0
    assert "no-such-app" in missing.stderr


def test_apps_rotate_key(live: LiveProvider) -> None:
    body = json.loads(run_cli("apps", "create", "Rotating", "--json", env=live.env).stdout)
    rotated = run_cli("apps", "rotate-key", str(body["app_id"]), "--json", env=live.env)
    assert rotated.returncode == 0, rotated.stderr
    new_key = json.loads(rotated.stdout)["api_key"]
    assert new_key != body["api_key"]
    old = details(live.url, body["api_key"])
    assert old.status_code == 401
    assert old.json()["error_code"] == "60001"
    assert details(live.url, new_key).status_code == 200


def test_outbox(live: LiveProvider) -> None:
    _, key = live.new_app()
    client = AuthyApiClient(key, api_uri=live.url)
    first, second = live.new_phone(), live.new_phone()
    one = client.users.create("o1@example.com", first, 1)
    two = client.users.create("o2@example.com", second, 1)
    client.users.request_sms(one.id)
    client.users.request_call(two.id)
    client.users.request_sms(one.id)
    e164_first = "+1" + re.sub(r"\D", "", first)

    shown = run_cli("outbox", "--json", env=live.env)
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    for row in rows:
        assert set(row) == {"to", "channel", "body", "gateway", "created_at"}
    times = [datetime.fromisoformat(r["created_at"]) for r in rows]
    assert times == sorted(times)  # oldest first
    assert times[-1].tzinfo is not None
    mine = [r for r in rows if r["to"] in {e164_first, "+1" + re.sub(r"\D", "", second)}]
    assert [r["channel"] for r in mine] == ["sms", "call", "sms"]

    shown = run_cli("outbox", "--to", e164_first, "--json", env=live.env)
    assert shown.returncode == 0, shown.stderr
    filtered = json.loads(shown.stdout)
    assert [r["to"] for r in filtered] == [e164_first, e164_first]
    assert filtered[-1]["body"] == live.outbox(e164_first)[-1].body

    text = run_cli("outbox", "--to", e164_first, env=live.env)
    assert text.returncode == 0
    assert len(text.stdout.strip().splitlines()) == 2
    empty = run_cli("outbox", "--to", "+19999999999", env=live.env)
    assert empty.stdout.strip() == "No messages."


def test_db_upgrade_on_a_fresh_data_dir(tmp_path: Path) -> None:
    env = provider_env(tmp_path, "")
    env.pop("TWOFA_DATABASE_URL")
    done = run_cli("db", "upgrade", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "provider.db").exists()
    again = run_cli("db", "upgrade", env=env)
    assert again.returncode == 0, again.stderr
    made = run_cli("apps", "create", "Fresh", "--json", env=env)
    assert made.returncode == 0, made.stderr


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"TWOFA_ENV": "prod", "TWOFA_SECRET_KEY": ""}, "TWOFA_SECRET_KEY"),
        ({"TWOFA_ENV": "prod", "TWOFA_SECRET_KEY": "changeme"}, "TWOFA_SECRET_KEY"),
        ({"TWOFA_ENV": "test", "TWOFA_SECRET_KEY": "short"}, "TWOFA_SECRET_KEY"),
        ({"TWOFA_LIMIT_SMS_PER_PHONE": "many"}, "TWOFA_LIMIT_SMS_PER_PHONE"),
    ],
)
def test_settings_refusal(tmp_path: Path, extra: dict[str, str], needle: str) -> None:
    env = {**provider_env(tmp_path, f"sqlite:///{tmp_path / 'p.db'}"), **extra}
    for args in (("apps", "list"), ("provider", "--port", "1")):
        done = run_cli(*args, env=env, cwd=tmp_path)
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("twofa: configuration error: ")
        assert needle in lines[0]
        assert "Traceback" not in done.stderr
