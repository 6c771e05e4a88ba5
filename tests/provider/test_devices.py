"""The device API in-process: registration, signed calls, accounts, a phone's own requests."""

from __future__ import annotations

import pytest

from tests.provider.conftest import Authy, Phone
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceApiError


def test_an_enrolled_device_sees_its_phone_and_accounts(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user, name="Alice's phone")
    me = phone.me()
    assert me["phone"] == user.phone
    assert me["device"]["uuid"] == phone.device_uuid
    assert me["device"]["name"] == "Alice's phone"
    (account,) = phone.accounts()
    assert account.authy_id == user.id
    assert [d.uuid for d in phone.devices()] == [phone.device_uuid]


def test_a_wrong_registration_code_is_refused(authy: Authy) -> None:
    user = authy.new_user()
    started = authy.http.post(
        "/device/v1/registrations", json={"country_code": "1", "phone_number": user.national}
    )
    code = authy.last_code(user.phone, 6)
    response = authy.http.post(
        f"/device/v1/registrations/{started.json()['registration_id']}/confirm",
        json={
            "code": f"{(int(code) + 1) % 10**6:06d}",
            "name": "Mallory",
            "os_type": "cli",
            "public_key": keys.public_jwk(keys.generate()),
        },
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["success"] is False


def test_unsigned_and_forged_calls_are_refused(authy: Authy) -> None:
    phone = authy.enrol(authy.new_user())
    unsigned = authy.http.get("/device/v1/me")
    assert unsigned.status_code == 401
    assert unsigned.json()["success"] is False

    forger = Phone(authy.http, phone.device_uuid, keys.generate())  # right id, wrong key
    with pytest.raises(DeviceApiError) as refused:
        forger.me()
    assert refused.value.status == 401


def test_a_device_sees_only_its_own_phones_requests(authy: Authy) -> None:
    alice, bob = authy.new_user(), authy.new_user("bob@example.com")
    alices, bobs = authy.enrol(alice), authy.enrol(bob)
    uuid = authy.push(alice)
    assert bobs.pending() == []
    with pytest.raises(DeviceApiError) as refused:
        bobs.approve(uuid)
    assert refused.value.status == 404
    assert authy.status(uuid)["status"] == "pending"
    assert alices.approve(uuid) == "approved"


def test_a_revoked_device_is_refused(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    uuid = authy.push(user)
    phone.revoke()
    with pytest.raises(DeviceApiError) as refused:
        phone.approve(uuid)
    assert refused.value.status == 401
    assert authy.status(uuid)["status"] == "pending"


def test_the_device_sees_request_details_but_not_hidden_details(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    uuid = authy.push(
        user, details={"Email": "alice@example.com"}, hidden_details={"ip": "10.0.0.1"}
    )
    request = phone.request(uuid)
    assert request.details == {"Email": "alice@example.com"}
    assert "10.0.0.1" not in repr(request)
    assert request.authy_id == user.id
