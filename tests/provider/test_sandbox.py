"""Sandbox applications: Authy's test codes for them only, no message to a real gateway, and
no use at all where the operator does not allow sandboxes (production)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.provider.conftest import BASE_URL, Authy, Callbacks, provider_settings
from tests.servers import RecordedPath
from twofa import signing
from twofa.errors import InvalidRequest
from twofa.provider.app import create_app
from twofa.provider.cli import apps_group
from twofa.provider.services import Services, build_services
from twofa.settings import Settings
from twofa.storage.tables import deliveries, users

FCM = "https://fcm.googleapis.com/fcm/send/"


@pytest.fixture
def sandbox(http: TestClient, services: Services, receiver: RecordedPath) -> Authy:
    """A sandbox application on the same deployment as ``authy``."""
    return Authy(http, services, callback_url=receiver.url + "/authy/callback", sandbox=True)


def test_a_sandbox_key_says_what_it_is(services: Services) -> None:
    real = services.apps.create("Real")
    test = services.apps.create("Test", sandbox=True)
    assert test.api_key.startswith("sandbox_") and test.app.sandbox
    assert not real.api_key.startswith("sandbox_") and not real.app.sandbox
    assert services.apps.api_key(test.app) == test.api_key  # what callbacks are signed with
    rotated = services.apps.rotate_key(test.app.id)
    assert rotated.api_key.startswith("sandbox_") and rotated.app.sandbox
    assert services.apps.authenticate(rotated.api_key).id == test.app.id
    assert services.apps.rotate_key(real.app.id).api_key[:8] != "sandbox_"


def test_the_sandbox_token_verifies_for_a_sandbox_user_only(authy: Authy, sandbox: Authy) -> None:
    tester = sandbox.new_user()
    for _ in range(3):  # the official clients' live tests verify it again and again
        answer = sandbox.verify(tester, "0000000")
        assert answer.status_code == 200, answer.text
        assert answer.json()["token"] == "is valid"
    status = sandbox.get(f"/protected/json/users/{tester.id}/status").json()["status"]
    assert status["confirmed"] is True

    real = authy.new_user()
    refused = authy.verify(real, "0000000")
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "60020"
    # Another application's user stays unknown to the sandbox, test token or not.
    assert sandbox.verify(real, "0000000").json()["error_code"] == "60026"
    assert sandbox.get("/protected/json/verify/0000000/99999999").json()["error_code"] == "60026"
    assert sandbox.verify(tester, "0000001").json()["error_code"] == "60020"


def test_the_sandbox_keeps_the_failure_limit(tmp_path: Path, migrated: Path) -> None:
    settings = provider_settings(tmp_path, migrated, limit_verify_failures_per_user="3/600")
    services = build_services(settings)
    try:
        with TestClient(create_app(settings, services, workers=False), base_url=BASE_URL) as c:
            sandbox = Authy(c, services, callback_url=None, sandbox=True)
            tester = sandbox.new_user()
            for _ in range(3):
                assert sandbox.verify(tester, "1234567").status_code == 401
            locked = sandbox.verify(tester, "0000000")
            assert locked.status_code == 429, locked.text
            assert locked.json()["error_code"] == "60003"
    finally:
        services.close()


def test_the_sandbox_phone_code(authy: Authy, sandbox: Authy) -> None:
    phone = {"phone_number": "201-555-0144", "country_code": "1"}
    check = "/protected/json/phones/verification/check"
    none_pending = sandbox.get(check, params={**phone, "verification_code": "0000"})
    assert none_pending.status_code == 404 and none_pending.json()["error_code"] == "60023"
    for app in (authy, sandbox):
        started = app.post(
            "/protected/json/phones/verification/start",
            json={**phone, "via": "sms", "code_length": 6},  # a real code is never "0000"
        )
        assert started.status_code == 200, started.text
    passed = sandbox.get(check, params={**phone, "verification_code": "0000"})
    assert passed.status_code == 200, passed.text
    assert passed.json()["message"] == "Verification code is correct."
    refused = authy.get(check, params={**phone, "verification_code": "0000"})
    assert refused.status_code == 401 and refused.json()["error_code"] == "60022"


@pytest.fixture
def gateway(receiver: RecordedPath, tmp_path: Path, migrated: Path) -> Iterator[tuple[Authy, ...]]:
    """A deployment whose SMS gateway is an HTTP webhook (the recorder): a real application
    and a sandbox on it."""
    settings = provider_settings(
        tmp_path, migrated, sms_gateway="http", sms_http_url=receiver.url + "/sms"
    )
    services = build_services(settings)
    try:
        with TestClient(create_app(settings, services, workers=False), base_url=BASE_URL) as c:
            yield (
                Authy(c, services, callback_url=None),
                Authy(c, services, callback_url=None, sandbox=True),
            )
    finally:
        services.close()


def test_no_sandbox_message_reaches_the_gateway(
    gateway: tuple[Authy, Authy], receiver: RecordedPath
) -> None:
    real, sandbox = gateway
    user = real.new_user()
    assert real.sms(user, force="true").status_code == 200
    assert len(receiver.wait_for(1)) == 1  # the gateway is live: a real application reaches it

    tester = sandbox.new_user(national="201-555-0177")
    created = sandbox.post(
        "/protected/json/users/new",
        json={
            "user": {"email": "t@example.com", "cellphone": "201-555-0178", "country_code": 1},
            "send_install_link_via_sms": True,
        },
    )
    assert created.status_code == 200, created.text
    assert sandbox.sms(tester, force="true").status_code == 200
    assert sandbox.get(f"/protected/json/call/{tester.id}", params={"force": "true"}).is_success
    started = sandbox.post(
        "/protected/json/phones/verification/start",
        json={"phone_number": "201-555-0179", "country_code": "1", "via": "sms"},
    )
    assert started.status_code == 200, started.text
    account = sandbox.services.verify.accounts.issue_account(sandbox.app_id)
    auth = (account.sid, account.secret)
    service = sandbox.http.post("/v2/Services", data={"FriendlyName": "Shop"}, auth=auth)
    for to, channel in (("+12015550180", "sms"), ("eve@example.com", "email")):
        verification = sandbox.http.post(
            f"/v2/Services/{service.json()['sid']}/Verifications",
            data={"To": to, "Channel": channel},
            auth=auth,
        )
        assert verification.status_code == 201, verification.text

    assert len(receiver.received()) == 1  # still only the real application's message
    stored = [m for m in sandbox.services.messaging.list() if m.gateway == "sandbox"]
    assert {m.channel for m in stored} == {"sms", "call", "email"}
    assert {m.to for m in stored} >= {
        tester.phone,
        "+12015550178",
        "+12015550179",
        "+12015550180",
        "eve@example.com",
    }
    # The outbox is the sandbox's phone: its record shows the code, as the dev outbox does.
    assert sandbox.last_code(tester.phone, 7)


def test_a_phone_only_sandboxes_know_gets_its_device_codes_in_the_outbox(
    gateway: tuple[Authy, Authy], receiver: RecordedPath
) -> None:
    """A device registration belongs to a phone, not to an application: its code reaches a
    real gateway only when some real application knows the phone."""
    real, sandbox = gateway
    tester = sandbox.new_user(national="201-555-0166")
    phone = sandbox.enrol(tester)  # the code came from the outbox
    assert receiver.received() == []
    stored = sandbox.services.messaging.list(to=tester.phone)
    assert {m.gateway for m in stored} == {"sandbox"}
    assert any("authenticator code" in m.body for m in stored)

    real.new_user(national="201-555-0166")  # now a real application knows the phone too
    started = real.http.post(
        "/device/v1/registrations", json={"country_code": "1", "phone_number": "201-555-0166"}
    )
    assert started.status_code == 200, started.text
    (sent,) = receiver.wait_for(1)
    assert json.loads(sent.body)["to"] == tester.phone
    assert phone.me()  # the sandbox-registered device is a device like any other


def test_a_sandbox_push_wakes_no_push_service(authy: Authy, sandbox: Authy) -> None:
    national = "201-555-0190"
    real_user = authy.new_user(national=national)
    tester = sandbox.new_user(national=national)  # the same phone in both applications
    phone = authy.enrol(real_user)
    phone.call(
        "PUT",
        "/device/v1/webpush/subscription",
        {"endpoint": FCM + "abc", "keys": {"p256dh": P256DH, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
    )
    real_uuid = authy.push(real_user)
    test_uuid = sandbox.push(tester, "Sandbox login?")
    with authy.services.db.read() as conn:
        woken = conn.execute(
            select(deliveries.c.subject).where(deliveries.c.kind == "webpush")
        ).all()
    assert [row.subject for row in woken] == [real_uuid]
    pushes = [m for m in sandbox.services.messaging.list() if m.channel == "push"]
    assert [(m.gateway, m.to) for m in pushes] == [("sandbox", tester.phone)]
    assert test_uuid in pushes[0].body and "Sandbox login?" in pushes[0].body
    # The phone's own event stream still carries it: the device lists it and may answer.
    assert test_uuid in {request.uuid for request in phone.pending()}


def test_a_sandbox_decision_calls_back_signed_with_the_sandbox_key(
    sandbox: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    tester = sandbox.new_user()
    phone = sandbox.enrol(tester)
    uuid = sandbox.push(tester)
    assert phone.approve(uuid) == "approved"
    assert callbacks.deliver_due() == [None]
    (callback,) = receiver.received()
    body = json.loads(callback.body)
    assert body["uuid"] == uuid and body["status"] == "approved"
    assert sandbox.key.startswith("sandbox_")
    assert signing.verify(
        key=sandbox.key,
        signature=callback.headers["X-Authy-Signature"],
        nonce=callback.headers["X-Authy-Signature-Nonce"],
        method="POST",
        url=sandbox.callback_url or "",
        params=body,
        max_age=60,
    )


P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"


def prod(settings: Settings, **overrides: object) -> Settings:
    return settings.model_copy(update={"env": "prod", **overrides})


def test_production_refuses_sandboxes(settings: Settings, services: Services) -> None:
    real = services.apps.create("Real")
    test = services.apps.create("Test", sandbox=True)
    account = services.verify.accounts.issue_account(test.app.id)
    strict = build_services(prod(settings))
    try:
        with pytest.raises(InvalidRequest, match="TWOFA_ALLOW_SANDBOX"):
            strict.apps.create("Another test", sandbox=True)
        client = TestClient(create_app(prod(settings), strict, workers=False), base_url=BASE_URL)
        with client:
            refused = client.get(
                "/protected/json/app/details", headers={"X-Authy-API-Key": test.api_key}
            )
            assert refused.status_code == 401
            body = refused.json()
            assert body["error_code"] == "60001" and body["success"] is False
            assert "Sandbox" in body["message"]
            # Every route, not just one: a user created earlier is out of reach as well.
            verify = client.get(
                "/protected/json/verify/0000000/1", headers={"X-Authy-API-Key": test.api_key}
            )
            assert verify.status_code == 401 and verify.json()["error_code"] == "60001"
            verify_v2 = client.get("/v2/Services", auth=(account.sid, account.secret))
            assert verify_v2.status_code == 401 and verify_v2.json()["code"] == 20003
            fine = client.get(
                "/protected/json/app/details", headers={"X-Authy-API-Key": real.api_key}
            )
            assert fine.status_code == 200, fine.text
    finally:
        strict.close()
    allowed = build_services(prod(settings, allow_sandbox=True))
    try:
        assert allowed.apps.authenticate(test.api_key).sandbox
    finally:
        allowed.close()


def test_a_sandbox_user_is_a_user(sandbox: Authy) -> None:
    """Same rules as any application: one id per phone, invalid input refused alike."""
    first = sandbox.new_user(national="201-555-0150")
    assert sandbox.new_user(national="201-555-0150").id == first.id
    bad = sandbox.post("/protected/json/users/new", json={"user": {"email": "x", "cellphone": "1"}})
    assert bad.status_code == 400 and bad.json()["error_code"] == "60027"
    with sandbox.services.db.read() as conn:
        assert conn.execute(select(users.c.app_id).where(users.c.id == first.id)).scalar() == (
            sandbox.app_id
        )


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": settings.key.decode(),
        "TWOFA_DATABASE_URL": settings.provider_database_url,
        "TWOFA_DATA_DIR": str(settings.data_dir),
        **extra,
    }


def test_listings_mark_the_sandbox(settings: Settings, services: Services) -> None:
    runner = CliRunner()
    made = runner.invoke(apps_group, ["create", "Playground", "--sandbox"], env=cli_env(settings))
    assert made.exit_code == 0, made.output
    assert "Sandbox application 'Playground'" in made.stdout
    assert "API key: sandbox_" in made.stdout
    services.apps.create("Shop")
    listed = runner.invoke(apps_group, ["list"], env=cli_env(settings)).stdout
    assert "[sandbox] Playground" in listed and "[sandbox] Shop" not in listed
    rows = json.loads(runner.invoke(apps_group, ["list", "--json"], env=cli_env(settings)).stdout)
    assert {row["name"]: row["sandbox"] for row in rows} == {"Playground": True, "Shop": False}
    rotated = runner.invoke(apps_group, ["rotate-key", "Playground"], env=cli_env(settings))
    assert "sandbox_" in rotated.stdout


def test_production_refuses_to_create_a_sandbox(settings: Settings) -> None:
    env = cli_env(settings, TWOFA_ENV="prod")
    refused = CliRunner().invoke(apps_group, ["create", "Playground", "--sandbox"], env=env)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("twofa: sandbox applications are not allowed")
    allowed = CliRunner().invoke(
        apps_group,
        ["create", "Playground", "--sandbox", "--json"],
        env={**env, "TWOFA_ALLOW_SANDBOX": "true"},
    )
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["sandbox"] is True
