"""SMS and voice gateways: HTTP webhook, Twilio, console; failures answer 503 and leave no trace."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from authy.api import AuthyApiClient
from sqlalchemy import select

from tests.servers import LiveProvider, RecordingServer, start_provider
from twofa.provider.messaging.gateways import ConsoleGateway, Message
from twofa.storage.tables import messages, sent_codes


def e164(national: str) -> str:
    return "+1" + re.sub(r"\D", "", national)


@pytest.fixture
def gateway() -> Iterator[RecordingServer]:
    server = RecordingServer(status=500)
    yield server
    server.close()


@pytest.fixture
def http_provider(tmp_path: Path, gateway: RecordingServer) -> Iterator[LiveProvider]:
    live = start_provider(
        tmp_path,
        f"sqlite:///{tmp_path / 'p.db'}",
        TWOFA_SMS_GATEWAY="http",
        TWOFA_SMS_HTTP_URL=gateway.url + "/send",
        TWOFA_SMS_TIMEOUT="3",
    )
    yield live
    live.stop()


def stored(provider: LiveProvider, to: str) -> list[tuple[str, str, str | None, str]]:
    with provider.services.db.read() as conn:
        rows = conn.execute(
            select(messages.c.status, messages.c.gateway, messages.c.error, messages.c.body)
            .where(messages.c.to == to)
            .order_by(messages.c.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_http_gateway_failure_then_recovery(
    http_provider: LiveProvider, gateway: RecordingServer
) -> None:
    _, key = http_provider.new_app()
    client = AuthyApiClient(key, api_uri=http_provider.url)
    phone = http_provider.new_phone()
    user = client.users.create("m@example.com", phone, 1)

    sms = client.users.request_sms(user.id)
    assert sms.response.status_code == 503
    assert sms.content["error_code"] == "60015"
    assert sms.errors()["message"] == "SMS not sent"
    call = client.users.request_call(user.id)
    assert call.response.status_code == 503
    assert call.content["error_code"] == "60014"

    rows = stored(http_provider, e164(phone))
    assert [(status, gw) for status, gw, _, _ in rows] == [("failed", "http"), ("failed", "http")]
    assert all("500" in (error or "") for _, _, error, _ in rows)
    assert http_provider.outbox(e164(phone)) == []
    with http_provider.services.db.read() as conn:
        assert conn.execute(select(sent_codes).where(sent_codes.c.user_id == user.id)).all() == []
    assert "\u2022" * 7 in rows[0][3]  # the stored record keeps no readable code
    sent_body = json.loads(gateway.received()[0].body)["body"]
    failed_code = re.search(r"\b\d{7}\b", sent_body)
    assert failed_code is not None
    assert not client.tokens.verify(user.id, failed_code.group(0)).ok()

    received = gateway.received()
    assert len(received) == 2
    assert received[0].headers["Content-Type"] == "application/json"
    assert json.loads(received[0].body)["to"] == e164(phone)
    assert json.loads(received[0].body)["channel"] == "sms"
    assert json.loads(received[1].body)["channel"] == "call"

    gateway.status = 200
    status = client.users.status(user.id)
    assert status.ok() and status.content["status"]["confirmed"] is False
    sms = client.users.request_sms(user.id)
    assert sms.ok(), sms.content
    payload = json.loads(gateway.wait_for(3)[-1].body)
    code = re.search(r"\b\d{7}\b", payload["body"])
    assert code is not None
    assert client.tokens.verify(user.id, code.group(0)).ok()
    assert stored(http_provider, e164(phone))[-1][:2] == ("sent", "http")


def test_http_gateway_unreachable(tmp_path: Path) -> None:
    dead = RecordingServer()
    url = dead.url
    dead.close()
    live = start_provider(
        tmp_path,
        f"sqlite:///{tmp_path / 'p.db'}",
        TWOFA_SMS_GATEWAY="http",
        TWOFA_SMS_HTTP_URL=url,
        TWOFA_SMS_TIMEOUT="2",
    )
    try:
        _, key = live.new_app()
        client = AuthyApiClient(key, api_uri=live.url)
        phone = live.new_phone()
        started = client.phones.verification_start(phone, "1")
        assert started.response.status_code == 503
        assert started.content["error_code"] == "60015"
        assert stored(live, e164(phone))[0][0] == "failed"
        assert client.phones.verification_check(phone, "1", "0000").content["error_code"] == (
            "60023"
        )
    finally:
        live.stop()


@pytest.fixture
def twilio() -> Iterator[RecordingServer]:
    server = RecordingServer(status=201, body=b'{"sid":"SM123","status":"queued"}')
    yield server
    server.close()


@pytest.fixture
def twilio_provider(tmp_path: Path, twilio: RecordingServer) -> Iterator[LiveProvider]:
    live = start_provider(
        tmp_path,
        f"sqlite:///{tmp_path / 'p.db'}",
        TWOFA_SMS_GATEWAY="twilio",
        TWOFA_TWILIO_API_BASE=twilio.url,
        TWOFA_TWILIO_ACCOUNT_SID="AC0123456789abcdef",
        TWOFA_TWILIO_AUTH_TOKEN="tw-token-secret",
        TWOFA_TWILIO_FROM="+15005550006",
        TWOFA_SMS_TIMEOUT="3",
    )
    yield live
    live.stop()


def test_twilio_gateway(twilio_provider: LiveProvider, twilio: RecordingServer) -> None:
    _, key = twilio_provider.new_app()
    client = AuthyApiClient(key, api_uri=twilio_provider.url)
    phone = twilio_provider.new_phone()
    user = client.users.create("t@example.com", phone, 1)
    assert client.users.request_sms(user.id).ok()
    assert client.users.request_call(user.id).ok()

    sms, call = twilio.wait_for(2)
    expected_auth = "Basic " + base64.b64encode(b"AC0123456789abcdef:tw-token-secret").decode()
    for request in (sms, call):
        assert request.method == "POST"
        assert request.headers["Authorization"] == expected_auth
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sms.path == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    form = {k: v[0] for k, v in parse_qs(sms.body.decode()).items()}
    assert form["To"] == e164(phone)
    assert form["From"] == "+15005550006"
    code = re.search(r"\b\d{7}\b", form["Body"])
    assert code is not None
    assert call.path == "/2010-04-01/Accounts/AC0123456789abcdef/Calls.json"
    call_form = {k: v[0] for k, v in parse_qs(call.body.decode()).items()}
    assert call_form["To"] == e164(phone)
    assert call_form["Twiml"].startswith("<Response><Say>")
    assert call_form["Twiml"].endswith("</Say></Response>")
    assert client.tokens.verify(user.id, code.group(0)).ok()
    assert [r[:2] for r in stored(twilio_provider, e164(phone))] == [("sent", "twilio")] * 2


def test_twilio_gateway_failure(twilio_provider: LiveProvider, twilio: RecordingServer) -> None:
    twilio.status = 400
    twilio.body = b'{"code":21211,"message":"The To number is not a valid phone number."}'
    _, key = twilio_provider.new_app()
    client = AuthyApiClient(key, api_uri=twilio_provider.url)
    phone = twilio_provider.new_phone()
    user = client.users.create("t@example.com", phone, 1)
    sms = client.users.request_sms(user.id)
    assert sms.response.status_code == 503
    assert sms.content["error_code"] == "60015"
    assert "tw-token-secret" not in sms.response.text
    ((status, gateway, error, _),) = stored(twilio_provider, e164(phone))
    assert (status, gateway) == ("failed", "twilio")
    assert "400" in (error or "") and "not a valid phone number" in (error or "")


def test_console_gateway_prints_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleGateway().send(Message("+12015550123", "sms", "Your code is 1234567"))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "[sms to +12015550123] Your code is 1234567\n"


def test_console_gateway_in_a_provider(tmp_path: Path) -> None:
    live = start_provider(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", TWOFA_SMS_GATEWAY="console")
    try:
        _, key = live.new_app()
        client = AuthyApiClient(key, api_uri=live.url)
        phone = live.new_phone()
        user = client.users.create("c@example.com", phone, 1)
        assert client.users.request_sms(user.id).ok()
        log = live.log_path.read_text()
        line = next(x for x in log.splitlines() if x.startswith(f"[sms to {e164(phone)}]"))
        code = re.search(r"\b\d{7}\b", line)
        assert code is not None
        assert client.tokens.verify(user.id, code.group(0)).ok()
        assert live.outbox(e164(phone))[0].gateway == "console"
    finally:
        live.stop()


def test_real_gateways_keep_no_readable_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Only the development outbox stores codes in clear; a real gateway's record is masked."""
    from tests.servers import start_provider

    live = start_provider(
        tmp_path, f"sqlite:///{tmp_path / 'provider.db'}", TWOFA_SMS_GATEWAY="console"
    )
    try:
        _, key = live.new_app()
        client = AuthyApiClient(key, api_uri=live.url)
        phone = live.new_phone()
        user = client.users.create("mask@example.com", phone, 1)
        assert client.users.request_sms(user.id).ok()
        stored = live.outbox("+1" + phone.replace("-", ""))
        assert stored and "\u2022" * 7 in stored[-1].body
        assert not any(ch.isdigit() for ch in stored[-1].body.split("is:")[1].split(".")[0])
    finally:
        live.stop()
