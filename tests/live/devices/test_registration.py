"""Registering a device: code by SMS, public key enrolment, effect on Authy user status."""

from __future__ import annotations

import httpx

from tests.live.devices.conftest import Account, e164, enrol
from tests.servers import LiveProvider
from twofa.authenticator import keys


def post(provider: LiveProvider, path: str, body: object) -> httpx.Response:
    return httpx.post(provider.url + "/device/v1" + path, json=body, timeout=10)


def start(provider: LiveProvider, national: str, *, known: bool = True) -> str:
    if known:
        provider.know_number("1", national)  # codes go only to numbers an application knows
    response = post(
        provider, "/registrations", {"country_code": "1", "phone_number": national, "via": "sms"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["seconds_to_expire"] == 600
    return str(body["registration_id"])


def confirm_body(code: str, **extra: object) -> dict[str, object]:
    return {
        "code": code,
        "name": "Alice's phone",
        "os_type": "web",
        "public_key": keys.public_jwk(keys.generate()),
        **extra,
    }


def test_register_and_read_me(provider: LiveProvider) -> None:
    national = provider.new_phone()
    registration = start(provider, national)
    message = provider.outbox(e164(national))[-1]
    assert message.channel == "sms" and "authenticator code" in message.body
    code = provider.last_code(e164(national), 6)
    response = post(provider, f"/registrations/{registration}/confirm", confirm_body(code))
    assert response.status_code == 200, response.text
    device = response.json()["device"]
    assert device["phone"] == e164(national)
    assert device["name"] == "Alice's phone" and device["os_type"] == "web"
    again = post(provider, f"/registrations/{registration}/confirm", confirm_body(code))
    assert again.status_code == 404 and again.json()["error_code"] == "60023"


def test_unknown_number_answers_the_same(provider: LiveProvider) -> None:
    """No enumeration: a number no application knows gets the same answer, and no message."""
    national = provider.new_phone()
    assert start(provider, national, known=False)
    assert provider.outbox(e164(national)) == []


def test_wrong_code_and_attempt_limit(provider: LiveProvider) -> None:
    national = provider.new_phone()
    registration = start(provider, national)
    right = provider.last_code(e164(national), 6)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        response = post(provider, f"/registrations/{registration}/confirm", confirm_body(wrong))
        assert response.status_code == 401
        assert response.json()["error_code"] == "60022"
    response = post(provider, f"/registrations/{registration}/confirm", confirm_body(right))
    assert response.status_code == 404 and response.json()["error_code"] == "60023"


def test_bad_input(provider: LiveProvider) -> None:
    bad_number = post(provider, "/registrations", {"country_code": "1", "phone_number": "12"})
    assert bad_number.status_code == 400 and bad_number.json()["error_code"] == "60033"
    missing = post(provider, "/registrations", {"country_code": "1"})
    assert missing.status_code == 400 and missing.json()["error_code"] == "60004"
    national = provider.new_phone()
    registration = start(provider, national)
    code = provider.last_code(e164(national), 6)
    off_curve = {**keys.public_jwk(keys.generate()), "y": keys.b64url(b"\x01" * 32)}
    for body in (
        confirm_body(code, public_key=off_curve),
        confirm_body(code, public_key={"kty": "RSA", "n": "x", "e": "AQAB"}),
        confirm_body(code, os_type="android"),
        confirm_body(code, name=""),
    ):
        response = post(provider, f"/registrations/{registration}/confirm", body)
        assert response.status_code == 400 and response.json()["error_code"] == "60004"
    unknown = post(provider, "/registrations/no-such-registration/confirm", confirm_body(code))
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "60023"


def test_rate_limited_per_number(provider: LiveProvider) -> None:
    national = provider.new_phone()
    for _ in range(provider.settings.limit("device_registrations_per_number").count):
        start(provider, national)
    response = post(provider, "/registrations", {"country_code": "1", "phone_number": national})
    assert response.status_code == 429 and response.json()["error_code"] == "60003"


def test_user_status_and_sms_follow_devices(provider: LiveProvider, account: Account) -> None:
    status = account.authy("GET", f"/protected/json/users/{account.authy_id}/status").json()
    assert status["status"]["registered"] is False
    device = enrol(provider, account.national)
    status = account.authy("GET", f"/protected/json/users/{account.authy_id}/status").json()
    assert status["status"]["registered"] is True
    assert status["status"]["devices"] == ["cli"]
    sms = account.authy("GET", f"/protected/json/sms/{account.authy_id}").json()
    assert sms["ignored"] is True
    device.revoke()
    status = account.authy("GET", f"/protected/json/users/{account.authy_id}/status").json()
    assert status["status"]["registered"] is False
