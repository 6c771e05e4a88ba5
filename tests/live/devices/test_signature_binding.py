"""A device signature names its device and its host; one key enrols one device.

The attacks: enrol a second device with a public key already enrolled (yours, captured from a
backup, or the victim's), then replay a request captured from one device as the other; or
replay a request signed for one deployment against another.
"""

from __future__ import annotations

import uuid as uuidlib

import httpx
from sqlalchemy import insert

from tests.live.devices.conftest import Account, enrol
from tests.servers import LiveProvider
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceClient, confirm_registration, start_registration
from twofa.storage.database import utcnow
from twofa.storage.tables import devices


def register_with(provider: LiveProvider, national: str, jwk: dict[str, str]) -> httpx.Response:
    provider.know_number("1", national)  # codes go only to numbers an application knows
    started = start_registration(provider.url, country_code="1", phone_number=national)
    code = provider.last_code("+1" + "".join(c for c in national if c.isdigit()), 6)
    return httpx.post(
        f"{provider.url}/device/v1/registrations/{started.registration_id}/confirm",
        json={"code": code, "name": "second", "os_type": "cli", "public_key": jwk},
        timeout=10,
    )


def test_an_enrolled_key_is_refused(provider: LiveProvider, account: Account) -> None:
    key = keys.generate()
    first = start_registration(provider.url, country_code="1", phone_number=account.national)
    confirm_registration(
        provider.url,
        first.registration_id,
        code=provider.last_code(account.phone, 6),
        name="first",
        os_type="cli",
        public_key=keys.public_jwk(key),
    )
    for national in (account.national, provider.new_phone()):  # same phone or another
        refused = register_with(provider, national, keys.public_jwk(key))
        assert refused.status_code == 400, refused.text
        assert refused.json()["error_code"] == "60004"
        assert "already enrolled" in refused.json()["message"]


def test_a_request_does_not_replay_as_another_device(
    provider: LiveProvider, account: Account
) -> None:
    """Even a key shared by two device rows (enrolled before thumbprints) signs for one."""
    first = enrol(provider, account.national)
    twin = str(uuidlib.uuid4())
    with provider.services.db.write() as conn:
        conn.execute(
            insert(devices).values(
                uuid=twin,
                phone_e164=account.phone,
                name="twin",
                os_type="cli",
                public_key=keys.public_jwk(first._key),
                created_at=utcnow(),
            )
        )
    captured = first.signed_headers("GET", "/device/v1/me", b"")
    replayed = {**captured, "X-Twofa-Device": twin}
    response = httpx.get(provider.url + "/device/v1/me", headers=replayed, timeout=10)
    assert response.status_code == 401 and response.json()["error_code"] == "60087"
    assert DeviceClient(provider.url, twin, first._key).me()["device"]["uuid"] == twin


def test_a_request_signed_for_another_host_is_refused(
    provider: LiveProvider, device: DeviceClient
) -> None:
    elsewhere = DeviceClient("https://twofa.example.org", device.device_uuid, device._key)
    headers = elsewhere.signed_headers("GET", "/device/v1/me", b"")
    response = httpx.get(provider.url + "/device/v1/me", headers=headers, timeout=10)
    assert response.status_code == 401 and response.json()["error_code"] == "60087"
    spoofed = httpx.get(
        provider.url + "/device/v1/me",
        headers={**headers, "Host": "twofa.example.org"},
        timeout=10,
    )
    assert spoofed.status_code == 200  # the host name is what the provider was asked as
    localhost = DeviceClient(
        provider.url.replace("127.0.0.1", "localhost"), device.device_uuid, device._key
    )
    assert localhost.me()["device"]["uuid"] == device.device_uuid
