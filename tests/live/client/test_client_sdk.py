"""The client SDK against the real provider; raw request shapes seen by a loopback recorder."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import LiveProvider, RecordedPath, TestDevice, e164
from twofa import client as sdk
from twofa.client import Client, validate_callback


def _error(code: str, message: str = "x", **fields: str) -> dict[str, Any]:
    return {
        "message": message,
        "success": False,
        "errors": {"message": message, **fields},
        "error_code": code,
        **fields,
    }


def _recorder_client(recorder: RecordedPath, status: int, body: Any) -> Client:
    """A client whose provider is the recorder, answering ``status`` and ``body``."""
    recorder.server.status = status
    recorder.server.body = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Client("key-123", recorder.url + "/", timeout=5)


def _user(live: LiveProvider, provider: Client) -> tuple[int, str]:
    phone = live.new_phone()
    user = provider.create_user(email="a@example.com", cellphone=phone, country_code=1)
    return user.authy_id, phone


@pytest.fixture
def app_user(live: LiveProvider, provider: Client) -> Iterator[tuple[int, TestDevice]]:
    """A user whose phone has an authenticator device."""
    authy_id, phone = _user(live, provider)
    yield authy_id, live.enroll_device("1", phone)


# -- request shapes ----------------------------------------------------------------------------


def test_requests_carry_the_api_key_and_json_bodies(relay: RecordedPath) -> None:
    with _recorder_client(relay, 200, {"user": {"id": 42}, "success": True}) as provider:
        user = provider.create_user(email="a@example.com", cellphone="2015550123", country_code=1)
    assert user == sdk.User(authy_id=42)
    (request,) = relay.received()
    assert request.headers["X-Authy-API-Key"] == "key-123"
    assert request.headers["User-Agent"].startswith("twofa-client/")
    assert (request.method, request.path) == ("POST", "/protected/json/users/new")
    assert json.loads(request.body) == {
        "user": {"email": "a@example.com", "cellphone": "2015550123", "country_code": 1},
        "send_install_link_via_sms": False,
    }


def test_verify_always_forces_and_checks_the_format_locally(relay: RecordedPath) -> None:
    ok = {"message": "Token is valid.", "token": "is valid", "success": "true"}
    provider = _recorder_client(relay, 200, {**ok, "device": {"os_type": "sms"}})
    assert provider.verify_token(7, " 1234567 ") == sdk.TokenCheck("Token is valid.", "sms")
    assert relay.received()[0].path == "/protected/json/verify/1234567/7?force=true"
    with pytest.raises(sdk.InvalidToken):
        provider.verify_token(7, "12ab")
    with pytest.raises(sdk.InvalidToken):
        provider.verify_token(7, "12345")
    assert len(relay.received()) == 1
    provider.close()


def test_number_matching_is_sent_only_when_asked(relay: RecordedPath) -> None:
    answer = {"approval_request": {"uuid": "u-1"}, "success": True}
    with _recorder_client(relay, 200, answer) as provider:
        provider.create_approval_request(5, message="Log in")
        provider.create_approval_request(
            5, message="Log in", number_matching=True, seconds_to_expire=120, details={"E": "a"}
        )
    plain, matched = (json.loads(r.body) for r in relay.received())
    assert "number_matching" not in plain and plain["seconds_to_expire"] is None
    assert matched["number_matching"] is True and matched["details"] == {"E": "a"}


def test_path_segments_are_escaped(relay: RecordedPath, provider: Client) -> None:
    hostile = "../../protected/json/app/details"
    with (
        _recorder_client(relay, 404, _error("60049")) as recorded,
        pytest.raises(sdk.ApprovalRequestNotFound),
    ):
        recorded.get_approval_request(hostile)
    assert relay.received()[0].path.startswith("/onetouch/json/approval_requests/..%2F..%2F")
    with pytest.raises(sdk.ProviderError) as caught:
        provider.get_approval_request(hostile)
    assert caught.value.status == 404


# -- answers of the real provider --------------------------------------------------------------


def test_user_lifecycle_and_status(live: LiveProvider, provider: Client) -> None:
    authy_id, phone = _user(live, provider)
    again = provider.create_user(email="a@example.com", cellphone=phone, country_code="1")
    assert again.authy_id == authy_id
    status = provider.user_status(authy_id)
    assert (status.authy_id, status.registered, status.country_code) == (authy_id, False, 1)
    assert status.phone_number.endswith(phone[-4:])
    assert (status.devices, status.detailed_devices) == ((), ())
    live.enroll_device("1", phone, os_type="web")
    status = provider.user_status(authy_id)
    assert status.registered is True and status.devices == ("web",)
    (device,) = status.detailed_devices
    assert device.os_type == "web" and device.created_at is not None
    provider.delete_user(authy_id)
    with pytest.raises(sdk.UserNotFound) as caught:
        provider.user_status(authy_id)
    assert (caught.value.status, caught.value.error_code) == (404, "60026")


def test_codes_are_skipped_for_app_users_unless_forced(
    live: LiveProvider, provider: Client, app_user: tuple[int, TestDevice]
) -> None:
    authy_id, device = app_user
    skipped = provider.request_sms(authy_id)
    assert (skipped.ignored, skipped.device) == (True, "cli")
    called = provider.request_call(authy_id, force=True)
    assert called.ignored is False and called.cellphone
    phone = device.me()["phone"]
    assert [m.channel for m in live.outbox(phone) if "verification code" in m.body] == ["call"]
    check = provider.verify_token(authy_id, device.app_code(authy_id))
    assert check.message == "Token is valid."


def test_a_code_verifies_once(live: LiveProvider, provider: Client) -> None:
    authy_id, phone = _user(live, provider)
    sent = provider.request_sms(authy_id)
    assert sent.ignored is False and sent.cellphone
    code = live.last_code(e164(phone), live.settings.sms_code_length)
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
    with pytest.raises(sdk.InvalidToken) as invalid:
        provider.verify_token(authy_id, wrong)
    assert type(invalid.value) is sdk.InvalidToken and invalid.value.error_code == "60020"
    assert provider.verify_token(authy_id, code).message == "Token is valid."
    with pytest.raises(sdk.TokenReused) as reused:
        provider.verify_token(authy_id, code)
    assert reused.value.status == 401


def test_approval_requests_are_created_and_read(
    provider: Client, app_user: tuple[int, TestDevice]
) -> None:
    authy_id, device = app_user
    plain = provider.create_approval_request(authy_id, message="Log in")
    assert (plain.status, plain.number) == ("pending", None)
    matched = provider.create_approval_request(
        authy_id,
        message="Log in",
        details={"Email": "a"},
        seconds_to_expire=120,
        number_matching=True,
    )
    assert matched.number is not None and 10 <= matched.number <= 99
    (seen,) = [r for r in device.pending() if r.uuid == matched.uuid]
    assert seen.details == {"Email": "a"} and seen.number_matching and seen.numbers is None
    device.approve(matched.uuid, matched.number)
    fetched = provider.get_approval_request(matched.uuid)
    assert (fetched.uuid, fetched.status, fetched.authy_id) == (matched.uuid, "approved", authy_id)
    assert fetched.seconds_to_expire == 120
    assert fetched.created_at is not None and fetched.processed_at is not None
    assert fetched.expires_at is not None and fetched.expires_at > fetched.created_at
    assert provider.get_approval_request(plain.uuid).status == "pending"
    with pytest.raises(sdk.ApprovalRequestNotFound):
        provider.get_approval_request("no-such-uuid")


def test_the_providers_callback_validates(
    provider: Client, relay: RecordedPath, app_key: str, app_user: tuple[int, TestDevice]
) -> None:
    authy_id, device = app_user
    request = provider.create_approval_request(authy_id, message="Log in")
    device.deny(request.uuid)
    (received,) = relay.wait_for(1)
    args: dict[str, Any] = {
        "api_key": app_key,
        "signature": received.headers.get("X-Authy-Signature"),
        "nonce": received.headers.get("X-Authy-Signature-Nonce"),
        "method": received.method,
        "url": relay.url + received.path,
        "params": json.loads(received.body),
    }
    assert args["params"]["uuid"] == request.uuid and args["params"]["status"] == "denied"
    assert validate_callback(**args)
    assert not validate_callback(**{**args, "api_key": "another-key"})
    assert not validate_callback(**{**args, "url": "https://example.com/authy/callback"})
    assert not validate_callback(**{**args, "params": {**args["params"], "status": "approved"}})
    assert not validate_callback(**{**args, "max_age": -1})


def test_phone_verification_and_app_details(live: LiveProvider, provider: Client) -> None:
    phone = live.new_phone()
    started = provider.start_phone_verification(phone_number=phone, country_code=1, code_length=6)
    assert started.uuid and started.seconds_to_expire
    with pytest.raises(sdk.VerificationFailed):
        provider.check_phone_verification(
            phone_number=phone, country_code=1, verification_code="000000"
        )
    code = live.last_code(e164(phone), 6)
    provider.check_phone_verification(phone_number=phone, country_code=1, verification_code=code)
    with pytest.raises(sdk.InvalidPhone):
        provider.start_phone_verification(phone_number="12", country_code=1)
    details = provider.app_details()
    assert details.name.startswith("SDK") and details.sms_enabled is True


def test_refusals_of_the_real_provider_map_to_the_exception_tree(
    live: LiveProvider, provider: Client
) -> None:
    with pytest.raises(sdk.InvalidUser) as invalid:
        provider.create_user(email="bad", cellphone="abc", country_code=1)
    assert (invalid.value.status, invalid.value.error_code) == (400, "60027")
    assert invalid.value.fields and invalid.value.message
    with Client("wrong-key", live.url) as wrong, pytest.raises(sdk.InvalidApiKey) as key:
        wrong.app_details()
    assert key.value.status == 401
    with pytest.raises(sdk.UserNotFound):
        provider.request_sms(2_000_000_000)


def test_onetouch_disabled_is_user_not_registered(live: LiveProvider) -> None:
    app_id, key = live.new_app("No push")
    live.services.apps.set_options(app_id, onetouch_enabled=False)
    with Client(key, live.url) as provider:
        authy_id, _ = _user(live, provider)
        with pytest.raises(sdk.UserNotRegistered) as caught:
            provider.create_approval_request(authy_id, message="Log in")
    assert caught.value.error_code == "60050"


def test_rate_limits_carry_retry_after(live: LiveProvider, provider: Client) -> None:
    authy_id, _ = _user(live, provider)
    limit = live.settings.limit("verify_failures_per_user").count
    with pytest.raises(sdk.RateLimited) as caught:
        for _ in range(limit + 1):
            try:
                provider.verify_token(authy_id, "1234567")
            except sdk.InvalidToken:
                continue
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


# -- answers the real provider does not give ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (503, _error("60015", "SMS not sent"), sdk.ProviderUnavailable),
        (500, b"<html>oops</html>", sdk.ProviderUnavailable),
        (200, b"not json", sdk.ProviderUnavailable),
        (200, _error("60020"), sdk.InvalidToken),
        (418, b"teapot", sdk.ProviderError),
        (400, _error("69999", "new"), sdk.ProviderError),
        (429, {"message": "slow down"}, sdk.RateLimited),
    ],
)
def test_unusual_answers_map_to_one_exception_tree(
    relay: RecordedPath, status: int, body: Any, expected: type
) -> None:
    with pytest.raises(expected) as caught, _recorder_client(relay, status, body) as provider:
        provider.user_status(1)
    assert type(caught.value) is expected
    assert isinstance(caught.value, sdk.ProviderError)
    assert caught.value.status == status


def test_a_device_never_synced_has_no_sync_time(relay: RecordedPath) -> None:
    device = {
        "device_type": "authy",
        "os_type": "android",
        "device_id": 8,
        "creation_date": 1433868212,
        "last_sync_date": 0,
    }
    status = {"authy_id": 3, "registered": True, "devices": ["android"]}
    answer = {"status": {**status, "detailed_devices": [device]}, "success": True}
    with _recorder_client(relay, 200, answer) as provider:
        (parsed,) = provider.user_status(3).detailed_devices
    assert parsed.device_id == 8 and parsed.created_at is not None and parsed.last_sync_at is None


def test_an_unreachable_provider_is_unavailable() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        with Client("key", url, timeout=2) as provider, pytest.raises(sdk.ProviderUnavailable):
            provider.app_details()


def test_a_silent_provider_times_out_as_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are accepted by the kernel, never answered
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client("key", url, timeout=0.3) as provider, pytest.raises(sdk.ProviderUnavailable):
            provider.app_details()


def test_validate_callback_accepts_contract_vector_a() -> None:
    body = {
        "authy_id": 1234,
        "status": "approved",
        "uuid": "abc-123",
        "approval_request": {
            "transaction": {"message": "Hi there/you", "flagged": False, "reason": None}
        },
    }
    args: dict[str, Any] = {
        "api_key": "foobar123",
        "nonce": "1427849783.886085",
        "method": "POST",
        "url": "https://example.com/authy/callback",
        "params": body,
        "max_age": None,
    }
    good = "G/ukXeF+dIDrJ9C4SbacnJBlMjAugWCx0yrLnLOSDck="
    assert validate_callback(signature=good, **args)
    assert not validate_callback(signature=good, **{**args, "max_age": 300})  # 2015 is stale
    assert not validate_callback(signature=None, **args)
    assert not validate_callback(signature=good, **{**args, "params": None})
    assert not validate_callback(
        signature=good, **{**args, "url": "http://example.com/authy/callback"}
    )
