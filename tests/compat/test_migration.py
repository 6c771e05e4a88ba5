"""Moving an Authy integration over, seen by the official ``authy`` client: users imported
with their Authy ids answer verify and OneTouch calls unchanged; sandbox applications accept
Authy's test codes and never reach a real gateway."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from authy.api import AuthyApiClient
from sqlalchemy import func, select

from tests.conftest import BACKENDS
from tests.servers import (
    LiveProvider,
    RecordingServer,
    e164,
    postgres_database,
    run_cli,
    start_provider,
)
from twofa.storage.tables import users

ROWS = 10_000


def import_file(path: Path, rows: list[tuple[int, str, str]]) -> Path:
    lines = ["authy_id,email,country_code,phone,name"]
    lines += [
        f"{authy_id},{email},1,{phone},Imported {authy_id}" for authy_id, email, phone in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def import_cli(provider: LiveProvider, app_id: int, path: Path) -> tuple[int, dict[str, object]]:
    done = run_cli(
        "users", "import", str(app_id), str(path), "--json", env=provider.env, timeout=600
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def count_users(provider: LiveProvider, app_id: int) -> int:
    with provider.services.db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(users).where(users.c.app_id == app_id)
            ).scalar_one()
        )


def test_ten_thousand_imported_users_answer_the_official_client(
    provider: LiveProvider, tmp_path: Path
) -> None:
    app_id, key = provider.new_app("Moved from Authy")
    base = 800_000_000 + secrets.randbelow(10**6) * 100  # Authy-sized ids, unique per run
    ours = provider.new_phone()  # the user this test talks to, mid-file
    while ours.startswith(("201-300-", "201-301-")):  # the exchanges the other rows use
        ours = provider.new_phone()
    rows = [
        (base + n, f"user{n}@example.com", f"201-{300 + n // 10000:03d}-{n % 10000:04d}")
        for n in range(ROWS)
    ]
    rows[ROWS // 2] = (base + ROWS // 2, "ours@example.com", ours)
    path = import_file(tmp_path / "authy-users.csv", rows)

    status, report = import_cli(provider, app_id, path)
    assert status == 0, report
    assert (report["created"], report["unchanged"], report["error_count"]) == (ROWS, 0, 0)
    assert count_users(provider, app_id) == ROWS

    client = AuthyApiClient(key, api_uri=provider.url)
    authy_id = base + ROWS // 2
    found = client.users.status(authy_id)
    assert found.ok(), found.content
    assert found.content["status"]["authy_id"] == authy_id

    sent = client.users.request_sms(authy_id, {"force": True})
    assert sent.ok(), sent.content
    verified = client.tokens.verify(authy_id, provider.last_code(e164(ours)))
    assert verified.ok(), verified.content

    device = provider.enroll_device(1, ours)  # the user re-registers the authenticator
    request = client.one_touch.send_request(authy_id, "Log in to the moved app?")
    assert request.ok(), request.content
    assert device.approve(request.get_uuid()) == "approved"
    answer = client.one_touch.get_approval_status(request.get_uuid())
    assert answer.content["approval_request"]["status"] == "approved"
    assert client.tokens.verify(authy_id, device.app_code(authy_id)).ok()

    # A second run is a no-op.
    status, again = import_cli(provider, app_id, path)
    assert status == 0, again
    assert (again["created"], again["unchanged"]) == (0, ROWS)
    assert count_users(provider, app_id) == ROWS

    # One bad row in a new file: nothing of it is imported, and the report names the row.
    more = [(base + ROWS + n, f"more{n}@example.com", f"201-301-{n:04d}") for n in range(20)]
    more[13] = (base + ROWS + 13, "more13@example.com", "not a phone")
    status, refused = import_cli(provider, app_id, import_file(tmp_path / "more.csv", more))
    assert status == 1
    assert refused["written"] is False and refused["error_count"] == 1
    (error,) = refused["errors"]  # type: ignore[misc]
    assert error["line"] == 15 and error["authy_id"] == str(base + ROWS + 13)
    assert "phone" in error["reason"]
    assert count_users(provider, app_id) == ROWS
    missing = client.users.status(base + ROWS)
    assert missing.response.status_code == 404 and missing.content["error_code"] == "60026"


@pytest.fixture
def sandbox_client(provider: LiveProvider) -> AuthyApiClient:
    created = provider.services.apps.create(f"Sandbox {secrets.token_hex(3)}", sandbox=True)
    assert created.api_key.startswith("sandbox_")
    return AuthyApiClient(created.api_key, api_uri=provider.url)


def test_the_sandbox_token(provider: LiveProvider, sandbox_client: AuthyApiClient) -> None:
    phone = provider.new_phone()
    tester = sandbox_client.users.create("tester@example.com", phone, 1)
    assert tester.ok(), tester.content
    accepted = sandbox_client.tokens.verify(tester.id, "0000000")
    assert accepted.ok(), accepted.content
    assert accepted.content["token"] == "is valid"

    _, key = provider.new_app("Real")
    real = AuthyApiClient(key, api_uri=provider.url)
    user = real.users.create("real@example.com", phone, 1)
    refused = real.tokens.verify(user.id, "0000000")
    assert not refused.ok()
    assert refused.response.status_code == 401 and refused.content["error_code"] == "60020"


def test_the_sandbox_phone_code(provider: LiveProvider, sandbox_client: AuthyApiClient) -> None:
    phone = provider.new_phone()
    assert sandbox_client.phones.verification_start(phone, "1", via="sms").ok()
    checked = sandbox_client.phones.verification_check(phone, "1", "0000")
    assert checked.ok(), checked.content

    _, key = provider.new_app("Real")
    real = AuthyApiClient(key, api_uri=provider.url)
    assert real.phones.verification_start(phone, "1", via="sms", code_length=6).ok()
    refused = real.phones.verification_check(phone, "1", "0000")
    assert not refused.ok() and refused.content["error_code"] == "60022"


@pytest.fixture(scope="module")
def gateway() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture(scope="module", params=BACKENDS)
def http_gateway_provider(
    request: pytest.FixtureRequest,
    gateway: RecordingServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveProvider]:
    """A provider whose SMS and calls go to a real gateway: an HTTP webhook (the recorder)."""
    tmp = tmp_path_factory.mktemp(f"gateway-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp / 'provider.db'}"
        live = start_provider(
            tmp, url, TWOFA_SMS_GATEWAY="http", TWOFA_SMS_HTTP_URL=gateway.url + "/messages"
        )
        stack.callback(live.stop)
        yield live


def test_no_sandbox_message_reaches_the_gateway(
    http_gateway_provider: LiveProvider, gateway: RecordingServer
) -> None:
    provider = http_gateway_provider
    created = provider.services.apps.create("Sandbox", sandbox=True)
    sandbox = AuthyApiClient(created.api_key, api_uri=provider.url)
    before = len(gateway.received())
    phone = provider.new_phone()
    tester = sandbox.users.create("tester@example.com", phone, 1, send_install_link_via_sms=True)
    assert tester.ok(), tester.content
    assert sandbox.users.request_sms(tester.id, {"force": True}).ok()
    assert sandbox.users.request_call(tester.id, {"force": True}).ok()
    assert sandbox.phones.verification_start(provider.new_phone(), "1", via="call").ok()
    assert sandbox.one_touch.send_request(tester.id, "Sandbox login?").ok()
    kept = [m for m in provider.outbox() if m.gateway == "sandbox"]
    assert {m.channel for m in kept} >= {"sms", "call", "push"}

    # The gateway works: a real application on the same provider reaches it at once.
    _, key = provider.new_app("Real")
    real = AuthyApiClient(key, api_uri=provider.url)
    user = real.users.create("real@example.com", phone, 1)
    assert real.users.request_sms(user.id, {"force": True}).ok()
    received = gateway.wait_for(before + 1)
    assert len(received) == before + 1
    assert json.loads(received[-1].body)["to"] == e164(phone)
