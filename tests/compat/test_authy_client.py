"""The official ``authy`` 2.2.6 Python client against the provider (contract section 8)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from authy import AuthyFormatException
from authy.api import AuthyApiClient

from tests.fast import signing_recorded as rec
from tests.servers import LiveProvider


def e164(national: str) -> str:
    return "+1" + re.sub(r"\D", "", national)


@pytest.fixture
def client(provider: LiveProvider) -> AuthyApiClient:
    _, key = provider.new_app()
    return AuthyApiClient(key, api_uri=provider.url)


@pytest.fixture
def user(provider: LiveProvider, client: AuthyApiClient) -> tuple[int, str]:
    """A fresh user: (authy id, the phone's E.164)."""
    phone = provider.new_phone()
    created = client.users.create("alice@example.com", phone, 1)
    assert created.ok(), created.content
    return created.id, e164(phone)


def assert_error(response: Any, status: int, code: str) -> None:
    assert not response.ok()
    assert response.response.status_code == status
    assert response.content["success"] is False
    assert response.content["error_code"] == code
    assert isinstance(response.errors()["message"], str)


# 1 ------------------------------------------------------------------------------------------


def test_create_user(provider: LiveProvider, client: AuthyApiClient) -> None:
    phone = provider.new_phone()
    created = client.users.create("alice@example.com", phone, 1)
    assert created.ok()
    assert isinstance(created.id, int) and created.id > 0
    assert created.content["message"] == "User created successfully."
    again = client.users.create("other@example.com", phone, 1)
    assert again.ok()
    assert again.id == created.id
    spaced = client.users.create("alice@example.com", phone.replace("-", " "), "1")
    assert spaced.id == created.id


def test_create_user_with_string_country_code(client: AuthyApiClient) -> None:
    created = client.users.create("bob@example.co.uk", "7911 123456", "44")
    assert created.ok(), created.content
    assert isinstance(created.id, int)
    status = client.users.status(created.id)
    assert status.content["status"]["country_code"] == 44


def test_same_phone_in_two_apps_gets_two_ids(provider: LiveProvider) -> None:
    phone = provider.new_phone()
    ids = set()
    for _ in range(2):
        _, key = provider.new_app()
        ids.add(AuthyApiClient(key, api_uri=provider.url).users.create("a@b.com", phone, 1).id)
    assert len(ids) == 2


# 2 ------------------------------------------------------------------------------------------


def test_create_invalid_user(client: AuthyApiClient) -> None:
    created = client.users.create("bad", "abc", 1)
    assert_error(created, 400, "60027")
    assert created.errors()["message"] == "User was not valid"
    assert created.errors()["email"] == "is invalid"
    assert created.errors()["cellphone"] == "is invalid"
    assert created.content["cellphone"] == "is invalid"
    assert created.id is None


# 3 ------------------------------------------------------------------------------------------


def test_wrong_api_key(provider: LiveProvider, user: tuple[int, str]) -> None:
    status = AuthyApiClient("wrong-key", api_uri=provider.url).users.status(user[0])
    assert_error(status, 401, "60001")
    assert "wrong-key" not in status.response.text


def test_key_of_another_app_does_not_see_the_user(
    provider: LiveProvider, user: tuple[int, str]
) -> None:
    _, other_key = provider.new_app()
    status = AuthyApiClient(other_key, api_uri=provider.url).users.status(user[0])
    assert_error(status, 404, "60026")


# 4 ------------------------------------------------------------------------------------------


def test_user_status(client: AuthyApiClient, user: tuple[int, str]) -> None:
    authy_id, phone = user
    status = client.users.status(authy_id)
    assert status.ok()
    assert status.content["message"] == "User status."
    body = status.content["status"]
    assert body["authy_id"] == authy_id
    for flag in ("registered", "confirmed", "has_hard_token", "account_disabled"):
        assert isinstance(body[flag], bool), flag
    assert body["registered"] is False
    assert body["confirmed"] is False
    assert body["phone_number"] == f"XXX-XXX-{phone[-4:]}"
    assert body["country_code"] == 1
    assert body["devices"] == []
    assert body["email"] == "alice@example.com"


def test_unknown_user_status(client: AuthyApiClient) -> None:
    status = client.users.status(999999999)
    assert_error(status, 404, "60026")
    assert status.errors()["message"] == "User not found."
    assert_error(client.users.status("tony"), 404, "60026")


# 5 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "call"])
def test_request_code(
    provider: LiveProvider, client: AuthyApiClient, user: tuple[int, str], channel: str
) -> None:
    authy_id, phone = user
    before = len(provider.outbox(phone))
    sent = getattr(client.users, f"request_{channel}")(authy_id)
    assert sent.ok(), sent.content
    assert sent.content["success"] is True
    assert sent.ignored() is False
    assert "ignored" not in sent.content
    assert sent.content["cellphone"] == f"+1-XXX-XXX-XX{phone[-2:]}"
    messages = provider.outbox(phone)
    assert len(messages) == before + 1
    assert messages[-1].channel == channel
    assert re.search(r"\b\d{7}\b", messages[-1].body)
    forced = getattr(client.users, f"request_{channel}")(authy_id, {"force": True})
    assert forced.ok() and forced.ignored() is False


def test_request_sms_for_unknown_user(client: AuthyApiClient) -> None:
    assert_error(client.users.request_sms(999999999), 404, "60026")


# 6 ------------------------------------------------------------------------------------------


def test_verify_sms_code(
    provider: LiveProvider, client: AuthyApiClient, user: tuple[int, str]
) -> None:
    authy_id, phone = user
    assert client.users.request_sms(authy_id).ok()
    code = provider.last_code(phone)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)

    refused = client.tokens.verify(authy_id, wrong)
    assert_error(refused, 401, "60020")
    assert refused.content["token"] == "is invalid"

    valid = client.tokens.verify(authy_id, code)
    assert valid.ok() is True
    assert '"token":"is valid"' in valid.response.text
    assert valid.content["message"] == "Token is valid."
    assert valid["success"] in (True, "true")

    replay = client.tokens.verify(authy_id, code)
    assert_error(replay, 401, "60019")
    assert client.users.status(authy_id).content["status"]["confirmed"] is True


def test_verify_refuses_malformed_tokens_client_side(
    client: AuthyApiClient, user: tuple[int, str]
) -> None:
    with pytest.raises(AuthyFormatException):
        client.tokens.verify(user[0], "12345")


def test_verify_unknown_user(client: AuthyApiClient) -> None:
    assert_error(client.tokens.verify(999999999, "1234567"), 404, "60026")


def test_a_newer_sms_leaves_the_older_code_usable_once(
    provider: LiveProvider, client: AuthyApiClient, user: tuple[int, str]
) -> None:
    authy_id, phone = user
    client.users.request_sms(authy_id)
    first = provider.last_code(phone)
    client.users.request_sms(authy_id, {"force": True})
    second = provider.last_code(phone)
    assert client.tokens.verify(authy_id, first).ok()
    assert not client.tokens.verify(authy_id, second).ok()  # using one spends them all


def test_generic_authenticator_totp(client: AuthyApiClient, user: tuple[int, str]) -> None:
    authy_id, _ = user
    qr = client.users.generate_qr(authy_id, label="Demo")
    assert qr.ok(), qr.content
    parts = urlsplit(qr.content["uri"])
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["digits"] == ["6"] and query["period"] == ["30"]
    totp = pyotp.TOTP(query["secret"][0])
    code = totp.now()
    accepted = client.tokens.verify(authy_id, code)
    assert accepted.ok(), accepted.content
    assert_error(client.tokens.verify(authy_id, code), 401, "60019")
    stale = totp.at(time.time() - 600)
    if stale != code:
        assert_error(client.tokens.verify(authy_id, stale), 401, "60020")


# 7 ------------------------------------------------------------------------------------------

APPROVAL_FIELDS = {
    "_app_name",
    "_app_serial_id",
    "_authy_id",
    "_id",
    "_user_email",
    "app_id",
    "created_at",
    "notified",
    "processed_at",
    "seconds_to_expire",
    "status",
    "updated_at",
    "user_id",
    "uuid",
}


def test_one_touch_request(client: AuthyApiClient, user: tuple[int, str]) -> None:
    authy_id, _ = user
    created = client.one_touch.send_request(authy_id, "Login requested")
    assert created.ok(), created.content
    uuid = created.get_uuid()
    assert isinstance(uuid, str) and uuid
    status = client.one_touch.get_approval_status(uuid)
    assert status.ok()
    request = status.content["approval_request"]
    assert set(request) >= APPROVAL_FIELDS
    assert request["status"] == "pending"
    assert request["seconds_to_expire"] == 86400
    assert request["uuid"] == uuid
    assert request["_authy_id"] == authy_id
    assert request["_user_email"] == "alice@example.com"
    assert request["processed_at"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", request["created_at"])
    assert re.fullmatch(r"[0-9a-f]{24}", request["_id"])
    assert re.fullmatch(r"[0-9a-f]{24}", request["app_id"])
    assert re.fullmatch(r"[0-9a-f]{24}", request["user_id"])


def test_one_touch_request_with_everything(client: AuthyApiClient, user: tuple[int, str]) -> None:
    created = client.one_touch.send_request(
        user[0],
        "Login requested",
        seconds_to_expire=120,
        details={"username": "alice", "Account Number": "8675309"},
        hidden_details={"ip_address": "10.0.0.1"},
        logos=[
            {"res": "default", "url": "https://example.com/l.png"},
            {"res": "low", "url": "https://example.com/s.png"},
        ],
    )
    assert created.ok(), created.content
    status = client.one_touch.get_approval_status(created.get_uuid())
    assert status.content["approval_request"]["seconds_to_expire"] == 120


# 9 ------------------------------------------------------------------------------------------


def test_official_validator_accepts_the_recorded_callbacks() -> None:
    for nonce, signature, body in rec.JAVA_POST:
        client = AuthyApiClient(rec.JAVA_KEY)
        assert client.one_touch.validate_one_touch_signature(
            signature, nonce, "POST", rec.JAVA_URL, rec.post_body(body)
        )
    uphold = AuthyApiClient(rec.UPHOLD_KEY)
    assert uphold.one_touch.validate_one_touch_signature(
        rec.UPHOLD_SIGNATURE, rec.UPHOLD_NONCE, "POST", rec.UPHOLD_URL, rec.UPHOLD_BODY
    )


# 10 -----------------------------------------------------------------------------------------


def test_phone_verification(provider: LiveProvider, client: AuthyApiClient) -> None:
    phone = provider.new_phone()
    started = client.phones.verification_start(phone, "1", via="sms", code_length=6)
    assert started.ok(), started.content
    for field in ("message", "seconds_to_expire", "uuid", "carrier", "is_cellphone"):
        assert field in started.content, field
    assert started.content["seconds_to_expire"] == 599
    assert started.content["message"].startswith("Text message sent to +1 ")
    code = provider.last_code(e164(phone), digits=6)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)

    refused = client.phones.verification_check(phone, "1", wrong)
    assert_error(refused, 401, "60022")
    checked = client.phones.verification_check(phone, "1", code)
    assert checked.ok(), checked.content
    assert checked.content["message"] == "Verification code is correct."
    again = client.phones.verification_check(phone, "1", code)
    assert_error(again, 404, "60023")


def test_phone_verification_by_call_in_spanish(
    provider: LiveProvider, client: AuthyApiClient
) -> None:
    phone = provider.new_phone()
    started = client.phones.verification_start(phone, "1", via="call", locale="es")
    assert started.ok(), started.content
    assert started.content["message"].startswith("Call to +1 ")
    message = provider.outbox(e164(phone))[-1]
    assert message.channel == "call"
    assert "código" in message.body
    assert re.search(r"\b\d{4}\b", message.body)


def test_phone_verification_missing_country(client: AuthyApiClient) -> None:
    started = client.phones.verification_start("555-123-4567", "")
    assert_error(started, 400, "60004")
    assert started.errors()["message"] == (
        "Invalid parameter: country_code - Parameter is required"
    )


def test_phone_verification_check_with_nothing_pending(
    provider: LiveProvider, client: AuthyApiClient
) -> None:
    assert_error(client.phones.verification_check(provider.new_phone(), "1", "1234"), 404, "60023")


# 11 -----------------------------------------------------------------------------------------


def test_phone_info(client: AuthyApiClient) -> None:
    info = client.phones.info("555-123-4567", "1")
    assert info.ok(), info.content
    for field in ("type", "provider", "ported", "message"):
        assert field in info.content
    assert re.fullmatch(
        r"Phone number information as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        info.content["message"],
    )
    assert isinstance(info.content["ported"], bool)


# 12 -----------------------------------------------------------------------------------------


def test_app_details_and_stats(provider: LiveProvider) -> None:
    app_id, key = provider.new_app("Stats App")
    client = AuthyApiClient(key, api_uri=provider.url)
    details = client.apps.fetch()
    assert details.ok()
    assert details.content["message"] == "Application information."
    app = details.content["app"]
    assert app["app_id"] == app_id
    assert app["name"].startswith("Stats App")
    assert isinstance(app["plan"], str)
    assert isinstance(app["sms_enabled"], bool)

    created = client.users.create("s@example.com", provider.new_phone(), 1)
    client.users.request_sms(created.id)
    stats = client.stats.fetch()
    assert stats.ok()
    assert stats.content["message"] == "Monthly statistics."
    assert stats.content["total_users"] == 1
    rows = stats.content["stats"]
    assert rows
    for row in rows:
        assert set(row) == {
            "api_calls_count",
            "auths_count",
            "calls_count",
            "month",
            "sms_count",
            "users_count",
            "year",
        }
    assert rows[-1]["users_count"] == 1
    assert rows[-1]["sms_count"] == 1


# 13 -----------------------------------------------------------------------------------------


def test_generate_qr(provider: LiveProvider, client: AuthyApiClient, user: tuple[int, str]) -> None:
    qr = client.users.generate_qr(user[0], size=300, label="Demo")
    assert qr.ok(), qr.content
    assert qr.content["label"] == "Demo"
    image = httpx.get(qr.content["qr_code"]) if qr.content["qr_code"].startswith("http") else None
    if image is not None:
        assert image.status_code == 200
        assert image.content.startswith(b"\x89PNG")
    else:
        assert qr.content["qr_code"].startswith("data:image/png;base64,")
    assert_error(client.users.generate_qr(999999999), 404, "60026")


# 14 -----------------------------------------------------------------------------------------


def test_delete_user(client: AuthyApiClient, user: tuple[int, str]) -> None:
    deleted = client.users.delete(user[0])
    assert deleted.ok(), deleted.content
    assert deleted.content["success"] is True
    assert_error(client.users.status(user[0]), 404, "60026")
    assert_error(client.users.delete(user[0]), 404, "60026")
