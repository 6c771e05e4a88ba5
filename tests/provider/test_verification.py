"""Codes in-process: SMS tokens, app codes, and the phone verification API."""

from __future__ import annotations

import time

from tests.provider.conftest import Authy
from twofa import otp


def test_an_sms_code_verifies_once(authy: Authy) -> None:
    user = authy.new_user()
    response = authy.sms(user)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "SMS token was sent"
    code = authy.last_code(user.phone)

    valid = authy.verify(user, code)
    assert valid.status_code == 200, valid.text
    assert valid.json()["token"] == "is valid"

    reused = authy.verify(user, code)
    assert reused.status_code == 401
    assert reused.json()["error_code"] == "60019"


def test_a_wrong_code_is_refused(authy: Authy) -> None:
    user = authy.new_user()
    authy.sms(user)
    code = authy.last_code(user.phone)
    wrong = f"{(int(code) + 1) % 10**7:07d}"
    response = authy.verify(user, wrong)
    assert response.status_code == 401
    assert response.json()["error_code"] == "60020"
    assert authy.verify(user, code).status_code == 200


def test_the_sms_is_ignored_for_a_user_with_the_app_unless_forced(authy: Authy) -> None:
    user = authy.new_user()
    authy.enrol(user)
    before = len(authy.services.messaging.list(to=user.phone))
    ignored = authy.sms(user)
    assert ignored.status_code == 200
    assert ignored.json()["ignored"] is True
    assert len(authy.services.messaging.list(to=user.phone)) == before
    assert authy.sms(user, force="true").json()["message"] == "SMS token was sent"
    assert len(authy.services.messaging.list(to=user.phone)) == before + 1


def test_the_app_code_on_the_device_verifies(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    (account,) = [a for a in phone.accounts() if a.authy_id == user.id]
    code = otp.totp(account.secret, time.time(), digits=account.digits, step=account.period)
    assert authy.verify(user, code).status_code == 200


def test_a_code_of_another_application_is_refused(authy: Authy) -> None:
    user = authy.new_user()
    authy.sms(user)
    code = authy.last_code(user.phone)
    other = Authy(authy.http, authy.services, callback_url=None)
    response = other.get(f"/protected/json/verify/{code}/{user.id}")
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_verify_with_a_malformed_token_is_a_clean_4xx(authy: Authy) -> None:
    user = authy.new_user()
    for token in ("abc", "1" * 40, "%00"):
        response = authy.verify(user, token)
        assert 400 <= response.status_code < 500, (token, response.text)
        assert response.json()["success"] is False


def test_phone_verification_start_and_check(authy: Authy) -> None:
    national = authy.new_phone()
    phone = {"phone_number": national, "country_code": "1"}
    started = authy.post(
        "/protected/json/phones/verification/start", json={**phone, "code_length": 6}
    )
    assert started.status_code == 200, started.text
    assert started.json()["seconds_to_expire"] > 0
    code = authy.last_code("+1" + national.replace("-", ""), 6)

    wrong = authy.get(
        "/protected/json/phones/verification/check",
        params={**phone, "verification_code": f"{(int(code) + 1) % 10**6:06d}"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error_code"] == "60022"

    right = authy.get(
        "/protected/json/phones/verification/check", params={**phone, "verification_code": code}
    )
    assert right.status_code == 200, right.text
    status = authy.get("/protected/json/phones/verification/status", params=phone)
    assert status.json()["status"] == "verified"


def test_phone_verification_check_without_a_start_is_404(authy: Authy) -> None:
    response = authy.get(
        "/protected/json/phones/verification/check",
        params={
            "phone_number": authy.new_phone(),
            "country_code": "1",
            "verification_code": "1234",
        },
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "60023"
