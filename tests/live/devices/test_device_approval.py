"""A phone's second device needs its first: one SMS code no longer clones the authenticator.

The attack: whoever reads one SMS to the victim's number (SIM swap, SS7, a shared inbox)
registered a device silently, received every application's TOTP secret for that phone and
could approve any login. Now the new device waits until an existing device approves it by
typing the number the new device shows; the owner hears of every device added or revoked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live.devices.conftest import Account, e164
from tests.live.devices.test_events import Stream
from tests.servers import LiveProvider, TestDevice, run_cli
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceApiError, confirm_registration, start_registration


def ask_to_join(
    provider: LiveProvider, national: str, name: str = "attacker"
) -> tuple[TestDevice, dict[str, object]]:
    """Register a further device with nothing but the SMS code; it comes back pending."""
    started = start_registration(provider.url, country_code="1", phone_number=national)
    key = keys.generate()
    answer = httpx.post(
        f"{provider.url}/device/v1/registrations/{started.registration_id}/confirm",
        json={
            "code": provider.last_code(e164(national), 6),
            "name": name,
            "os_type": "web",
            "public_key": keys.public_jwk(key),
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return TestDevice(provider.url, body["device"]["uuid"], key), body


@pytest.fixture
def first(provider: LiveProvider, account: Account) -> Iterator[TestDevice]:
    device = provider.enroll_device("1", account.national, name="first")
    yield device


def test_sms_code_alone_gives_nothing(
    provider: LiveProvider, account: Account, first: TestDevice
) -> None:
    stream = Stream(first)
    newcomer, body = ask_to_join(provider, account.national)
    assert body["device"]["state"] == "pending"  # type: ignore[index]
    number = body["approval"]["number"]  # type: ignore[index]
    assert 10 <= number <= 99
    # The waiting device may ask about itself, and nothing else.
    assert newcomer.me()["device"]["state"] == "pending"
    for attempt in (newcomer.accounts, newcomer.pending, newcomer.devices):
        with pytest.raises(DeviceApiError) as refused:
            attempt()
        assert refused.value.status == 403 and refused.value.code == "60031"
    with pytest.raises(DeviceApiError):
        next(iter(newcomer.events()))
    uuid = account.push("while waiting")["uuid"]
    with pytest.raises(DeviceApiError):
        newcomer.approve(uuid)
    assert account.status(uuid) == "pending"
    # The existing device is asked, live, with the name and where it registers from.
    asked = stream.next("device.request")
    assert asked.data["uuid"] == newcomer.device_uuid and asked.data["name"] == "attacker"
    assert asked.data["registered_from"] == "127.0.0.1"
    # The existing device is never told the number: the user must read it off the new one.
    assert "number" not in asked.data
    assert str(number) not in {str(value) for value in asked.data.values()}
    assert [d.uuid for d in first.pending_devices()] == [newcomer.device_uuid]
    assert [d.uuid for d in first.devices()] == [first.device_uuid]


def test_first_device_approves_by_typing_the_number(
    provider: LiveProvider, account: Account, first: TestDevice
) -> None:
    stream = Stream(first)
    newcomer, body = ask_to_join(provider, account.national, "my laptop")
    with pytest.raises(DeviceApiError) as missing:
        first.decide_device(newcomer.device_uuid, approve=True)
    assert missing.value.status == 400
    number = int(body["approval"]["number"])  # type: ignore[index]
    assert first.decide_device(newcomer.device_uuid, approve=True, number=number) == "approved"
    assert newcomer.me()["device"]["state"] == "active"
    assert [a.authy_id for a in newcomer.accounts()] == [account.authy_id]
    ended = stream.next("device.ended")
    assert ended.data == {"uuid": newcomer.device_uuid, "status": "approved"}
    added = stream.next("device.added")
    assert added.data["name"] == "my laptop"
    notice = provider.outbox(account.phone)[-1]
    assert "my laptop" in notice.body and "added" in notice.body
    with pytest.raises(DeviceApiError):  # answered once
        first.decide_device(newcomer.device_uuid, approve=False)


def test_a_wrong_number_denies_and_is_recorded(
    provider: LiveProvider, account: Account, first: TestDevice
) -> None:
    newcomer, body = ask_to_join(provider, account.national)
    wrong = 10 + (int(body["approval"]["number"]) - 10 + 1) % 90  # type: ignore[index]
    assert first.decide_device(newcomer.device_uuid, approve=True, number=wrong) == "denied"
    with pytest.raises(DeviceApiError) as refused:
        newcomer.me()
    assert refused.value.status == 401
    denied = provider.services.audit.entries(event="device.denied", limit=50)
    assert any(
        e.subject == f"device:{newcomer.device_uuid}" and e.data.get("reason") == "number_mismatch"
        for e in denied
    )
    assert not any(m.body.endswith("added to your number.") for m in provider.outbox(account.phone))


def test_first_device_denies(provider: LiveProvider, account: Account, first: TestDevice) -> None:
    newcomer, _ = ask_to_join(provider, account.national)
    assert first.decide_device(newcomer.device_uuid, approve=False) == "denied"
    with pytest.raises(DeviceApiError):
        newcomer.me()
    assert first.pending_devices() == []


def test_another_phone_cannot_approve(
    provider: LiveProvider, account: Account, first: TestDevice
) -> None:
    newcomer, body = ask_to_join(provider, account.national)
    stranger = provider.enroll_device("1", provider.new_phone())
    with pytest.raises(DeviceApiError) as refused:
        stranger.decide_device(
            newcomer.device_uuid,
            approve=True,
            number=int(body["approval"]["number"]),  # type: ignore[index]
        )
    assert refused.value.status == 404
    assert newcomer.me()["device"]["state"] == "pending"


def test_multi_device_off_refuses_a_further_device(
    provider: LiveProvider, account: Account
) -> None:
    provider.enroll_device("1", account.national)
    app = httpx.get(
        provider.url + "/protected/json/app/details",
        headers={"X-Authy-API-Key": account.api_key},
        timeout=10,
    ).json()["app"]["name"]
    done = run_cli("apps", "multi-device", app, "off", env=provider.env)
    assert done.returncode == 0, done.stderr
    started = start_registration(provider.url, country_code="1", phone_number=account.national)
    with pytest.raises(DeviceApiError) as refused:
        confirm_registration(
            provider.url,
            started.registration_id,
            code=provider.last_code(account.phone, 6),
            name="second",
            os_type="cli",
            public_key=keys.public_jwk(keys.generate()),
        )
    assert refused.value.status == 403 and refused.value.code == "60031"


def test_operator_recovers_a_phone_that_lost_every_device(
    provider: LiveProvider, account: Account, first: TestDevice, tmp_path: Path
) -> None:
    """The owner lost ``first``: the operator revokes it and approves the new device."""
    newcomer, _ = ask_to_join(provider, account.national, "replacement")
    listed = run_cli("devices", "list", account.phone, "--json", env=provider.env)
    assert listed.returncode == 0, listed.stderr
    assert [d["state"] for d in json.loads(listed.stdout)] == ["active", "pending"]
    assert run_cli("devices", "revoke", first.device_uuid, env=provider.env).returncode == 0
    approved = run_cli("devices", "approve", newcomer.device_uuid, env=provider.env)
    assert approved.returncode == 0, approved.stderr
    assert newcomer.me()["device"]["state"] == "active"
    with pytest.raises(DeviceApiError):
        first.me()
    bodies = [m.body for m in provider.outbox(account.phone)]
    assert any("was revoked" in b for b in bodies) and any("replacement" in b for b in bodies)


def test_revocation_tells_the_other_devices_and_the_phone(
    provider: LiveProvider, account: Account, first: TestDevice
) -> None:
    second = provider.enroll_device("1", account.national, name="second")
    stream = Stream(first)
    first.revoke(second.device_uuid)
    told = stream.next("device.revoked")
    assert told.data == {"uuid": second.device_uuid, "name": "second"}
    assert 'device "second" was revoked' in provider.outbox(account.phone)[-1].body
