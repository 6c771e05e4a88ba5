"""The client SDK's request shapes and error mapping (wire answers staged with MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from twofa import client as sdk
from twofa.client import Client, validate_callback


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    return Client("key-123", "http://provider.test/", transport=httpx.MockTransport(handler))


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return _client(handler)


def _error(status: int, code: str, message: str = "x", **fields: str) -> dict[str, Any]:
    return {
        "message": message,
        "success": False,
        "errors": {"message": message, **fields},
        "error_code": code,
        **fields,
    }


def test_requests_carry_the_api_key_and_json_bodies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"user": {"id": 42}, "success": True})

    with _client(handler) as provider:
        user = provider.create_user(email="a@example.com", cellphone="2015550123", country_code=1)
    assert user == sdk.User(authy_id=42)
    (request,) = seen
    assert request.headers["X-Authy-API-Key"] == "key-123"
    assert str(request.url) == "http://provider.test/protected/json/users/new"
    assert json.loads(request.content) == {
        "user": {"email": "a@example.com", "cellphone": "2015550123", "country_code": 1},
        "send_install_link_via_sms": False,
    }


def test_verify_always_forces_and_checks_the_format_locally() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "message": "Token is valid.",
                "token": "is valid",
                "success": "true",
                "device": {"os_type": "sms"},
            },
        )

    provider = _client(handler)
    assert provider.verify_token(7, " 1234567 ") == sdk.TokenCheck("Token is valid.", "sms")
    assert seen[0].url.path == "/protected/json/verify/1234567/7"
    assert seen[0].url.params["force"] == "true"
    with pytest.raises(sdk.InvalidToken):
        provider.verify_token(7, "12ab")
    assert len(seen) == 1


def test_number_matching_is_sent_only_when_asked() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        created: dict[str, Any] = {"uuid": "u-1"}
        if bodies[-1].get("number_matching"):
            created["number"] = 42
        return httpx.Response(200, json={"approval_request": created, "success": True})

    provider = _client(handler)
    plain = provider.create_approval_request(5, message="Log in")
    matched = provider.create_approval_request(
        5, message="Log in", number_matching=True, seconds_to_expire=120, details={"Email": "a"}
    )
    assert "number_matching" not in bodies[0] and bodies[0]["seconds_to_expire"] is None
    assert bodies[1]["number_matching"] is True and bodies[1]["details"] == {"Email": "a"}
    assert (plain.uuid, plain.status, plain.number) == ("u-1", "pending", None)
    assert (matched.number, matched.seconds_to_expire) == (42, 120)


def test_approval_status_is_parsed() -> None:
    provider = _answer(
        200,
        {
            "approval_request": {
                "uuid": "u-2",
                "status": "approved",
                "_authy_id": 9,
                "seconds_to_expire": 60,
                "created_at": "2024-01-01T00:00:00Z",
                "processed_at": "2024-01-01T00:00:30Z",
            },
            "success": True,
        },
    )
    request = provider.get_approval_request("u-2")
    assert (request.status, request.authy_id) == ("approved", 9)
    assert request.expires_at is not None and request.expires_at.isoformat().startswith(
        "2024-01-01T00:01:00"
    )


def test_sms_ignored_means_the_key_is_present() -> None:
    sent = _answer(200, {"success": True, "message": "SMS token was sent", "cellphone": "+1-X"})
    ignored = _answer(
        200,
        {
            "success": True,
            "ignored": True,
            "device": "android",
            "cellphone": "+1-X",
            "message": "Ignored",
        },
    )
    assert sent.request_sms(1) == sdk.SmsResult(False, "+1-X", "SMS token was sent")
    assert ignored.request_call(1, force=False).ignored is True


def test_user_status_is_parsed() -> None:
    status = _answer(
        200,
        {
            "status": {
                "authy_id": 3,
                "registered": True,
                "confirmed": False,
                "country_code": 44,
                "phone_number": "XXX-XXX-1118",
                "devices": ["android"],
                "has_hard_token": False,
                "account_disabled": False,
                "detailed_devices": [
                    {
                        "device_type": "authy",
                        "os_type": "android",
                        "device_id": 8,
                        "creation_date": 1433868212,
                        "last_sync_date": 0,
                    }
                ],
            },
            "message": "User status.",
            "success": True,
        },
    ).user_status(3)
    assert (status.registered, status.confirmed, status.country_code) == (True, False, 44)
    assert status.devices == ("android",)
    (device,) = status.detailed_devices
    assert device.device_id == 8 and device.created_at is not None and device.last_sync_at is None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, _error(401, "60020", "Token is invalid"), sdk.InvalidToken),
        (401, _error(401, "60019", "Token is invalid"), sdk.TokenReused),
        (404, _error(404, "60026", "User not found."), sdk.UserNotFound),
        (429, _error(429, "60003", "DoS protection"), sdk.RateLimited),
        (400, _error(400, "60027", "User was not valid", cellphone="is invalid"), sdk.InvalidUser),
        (401, _error(401, "60001", "Invalid API key"), sdk.InvalidApiKey),
        (404, _error(404, "60049", "Approval request not found: x"), sdk.ApprovalRequestNotFound),
        (400, _error(400, "60050"), sdk.UserNotRegistered),
        (503, _error(503, "60015", "SMS not sent"), sdk.ProviderUnavailable),
        (500, b"<html>oops</html>", sdk.ProviderUnavailable),
        (200, b"not json", sdk.ProviderUnavailable),
        (418, b"teapot", sdk.ProviderError),
        (400, _error(400, "69999", "new"), sdk.ProviderError),
    ],
)
def test_failures_map_to_one_exception_tree(status: int, body: Any, expected: type) -> None:
    with pytest.raises(expected) as caught:
        _answer(status, body).user_status(1)
    assert type(caught.value) is expected
    assert isinstance(caught.value, sdk.ProviderError)
    assert caught.value.status == status


def test_error_details_are_kept() -> None:
    body = _error(400, "60027", "User was not valid", cellphone="is invalid")
    with pytest.raises(sdk.InvalidUser) as caught:
        _answer(400, body).create_user(email="a@b.c", cellphone="x", country_code=1)
    assert caught.value.error_code == "60027"
    assert caught.value.message == "User was not valid"
    assert caught.value.fields == {"cellphone": "is invalid"}
    with pytest.raises(sdk.RateLimited) as limited:
        _answer(429, _error(429, "60003"), {"Retry-After": "90"}).request_sms(1)
    assert limited.value.retry_after == 90


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ReadTimeout])
def test_transport_failures_are_provider_unavailable(failure: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("boom", request=request)

    with pytest.raises(sdk.ProviderUnavailable):
        _client(handler).app_details()


def test_path_segments_are_escaped() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json=_error(404, "60049"))

    with pytest.raises(sdk.ApprovalRequestNotFound):
        _client(handler).get_approval_request("../../protected/json/app/details")
    assert seen[0].url.raw_path.startswith(b"/onetouch/json/approval_requests/..%2F..%2F")


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
