"""Accounts, approval requests as a device sees them, and signed decisions."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.live.devices.conftest import Account, enrol, new_account
from tests.servers import LiveProvider, run_cli
from twofa import otp
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceApiError, DeviceClient, decision_text
from twofa.provider.apps.service import AUTH_CACHE_SECONDS as APP_CACHE_SECONDS


def refused(call: object, status: int, code: str) -> None:
    with pytest.raises(DeviceApiError) as caught:
        call()  # type: ignore[operator]
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.message


def test_accounts_give_working_codes(
    provider: LiveProvider, account: Account, device: DeviceClient
) -> None:
    other = new_account(provider, account.national)
    accounts = device.accounts()
    assert {a.authy_id for a in accounts} == {account.authy_id, other.authy_id}
    mine = next(a for a in accounts if a.authy_id == account.authy_id)
    assert (mine.digits, mine.period, mine.algorithm) == (7, 30, "SHA1")
    code = otp.totp(mine.secret, time.time(), digits=mine.digits, step=mine.period)
    verified = account.authy("GET", f"/protected/json/verify/{code}/{account.authy_id}")
    assert verified.status_code == 200, verified.text


def test_pending_request_and_history(account: Account, device: DeviceClient) -> None:
    created = account.push("Log in to Demo")
    pending = device.pending()
    assert [r.uuid for r in pending] == [created["uuid"]]
    request = pending[0]
    assert request.message == "Log in to Demo" and request.details == {"Email": "a@example.com"}
    assert request.status == "pending" and request.numbers is None
    assert request.authy_id == account.authy_id
    raw = device.call("GET", f"/device/v1/requests/{created['uuid']}")["request"]
    assert "hidden_details" not in raw and "ip" not in str(raw)
    assert device.decide(created["uuid"], approve=True) == "approved"
    assert account.status(created["uuid"]) == "approved"
    assert device.pending() == []
    assert [r.uuid for r in device.history()] == [created["uuid"]]


def test_request_of_another_phone_is_not_found(
    provider: LiveProvider, account: Account, device: DeviceClient
) -> None:
    stranger = new_account(provider)
    uuid = stranger.push()["uuid"]
    refused(lambda: device.request(uuid), 404, "60049")
    refused(lambda: device.decide(uuid, approve=True), 404, "60049")
    refused(lambda: device.request("no-such-uuid"), 404, "60049")


def test_deny_then_answer_again(account: Account, device: DeviceClient) -> None:
    uuid = account.push()["uuid"]
    assert device.decide(uuid, approve=False) == "denied"
    assert account.status(uuid) == "denied"
    refused(lambda: device.decide(uuid, approve=True), 400, "60079")


def test_expired_request(account: Account, device: DeviceClient) -> None:
    uuid = account.push(seconds_to_expire=1)["uuid"]
    time.sleep(1.1)
    refused(lambda: device.decide(uuid, approve=True), 400, "60079")
    assert account.status(uuid) == "expired"
    assert device.request(uuid).status == "expired"


def test_bad_decision_signature(
    provider: LiveProvider, account: Account, device: DeviceClient
) -> None:
    uuid = account.push()["uuid"]
    now = int(time.time())
    forged = {
        "decision": "approve",
        "signing_time": now,
        "signature": keys.sign(keys.generate(), decision_text(uuid, "approved", now, None)),
    }
    refused(
        lambda: device.call("POST", f"/device/v1/requests/{uuid}/decision", forged), 400, "60087"
    )
    signed_deny = {
        "decision": "approve",
        "signing_time": now,
        "signature": keys.sign(device._key, decision_text(uuid, "denied", now, None)),
    }
    refused(
        lambda: device.call("POST", f"/device/v1/requests/{uuid}/decision", signed_deny),
        400,
        "60087",
    )
    refused(lambda: device.decide(uuid, approve=True, signing_time=now - 300), 400, "60087")
    refused(
        lambda: device.call("POST", f"/device/v1/requests/{uuid}/decision", {"decision": "maybe"}),
        400,
        "60004",
    )
    assert account.status(uuid) == "pending"


def test_typed_number_matching(
    provider: LiveProvider, account: Account, device: DeviceClient
) -> None:
    """The device is shown no number: the user types the one on the login page."""
    created = account.push(number_matching=True)
    seen = device.request(created["uuid"])
    assert seen.number_matching and seen.numbers is None
    assert device.decide(created["uuid"], approve=True, number=created["number"]) == "approved"
    # A wrong number is a denial, recorded as such.
    other = account.push(number_matching=True)
    wrong = 10 + (other["number"] - 9) % 90
    assert device.decide(other["uuid"], approve=True, number=wrong) == "denied"
    assert account.status(other["uuid"]) == "denied"
    recorded = provider.services.audit.entries(event="request.number_mismatch", limit=100)
    assert any(
        e.data.get("uuid") == other["uuid"] and e.data.get("typed") == wrong for e in recorded
    )
    # Guessing is hopeless: one try per request, and 1 in 90 at best.
    third = account.push(number_matching=True)
    assert device.decide(third["uuid"], approve=True) == "denied"


def test_number_choices_only_as_an_app_setting(
    provider: LiveProvider, account: Account, device: DeviceClient
) -> None:
    """The old three-number mode, for an application that turns it on."""
    app_id = provider.services.apps.authenticate(account.api_key).id
    done = run_cli("apps", "number-choices", str(app_id), "on", env=provider.env)
    assert done.returncode == 0, done.stderr
    time.sleep(APP_CACHE_SECONDS)  # the provider caches an application for a few seconds
    second = enrol(provider, account.national, name="second")
    right_uuid, numbers = [], []
    for _ in range(3):
        created = account.push(number_matching=True)
        right_uuid.append(created["uuid"])
        seen = device.request(created["uuid"]).numbers
        assert seen is not None and len(set(seen)) == 3 and seen == sorted(seen)
        assert created["number"] in seen
        assert second.request(created["uuid"]).numbers == seen  # same for every device
        numbers.append((created["number"], seen))
    right, _ = numbers[0]
    assert device.decide(right_uuid[0], approve=True, number=right) == "approved"
    wrong = next(n for n in numbers[1][1] if n != numbers[1][0])
    assert device.decide(right_uuid[1], approve=True, number=wrong) == "denied"
    assert account.status(right_uuid[1]) == "denied"
    assert device.decide(right_uuid[2], approve=True) == "denied"


def test_malformed_json_body(
    provider: LiveProvider, account: Account, device: DeviceClient
) -> None:
    uuid = account.push()["uuid"]
    path = f"/device/v1/requests/{uuid}/decision"
    headers = device.signed_headers("POST", path, b"[1, 2]")
    response = httpx.post(
        provider.url + path,
        content=b"[1, 2]",
        timeout=10,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error_code"] == "60002"
