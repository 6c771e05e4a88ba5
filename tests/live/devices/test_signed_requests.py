"""Signed requests: every refusal is 401/60087 (unsigned, stale, replayed, forged, revoked)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.live.devices.conftest import Account, enrol
from tests.servers import LiveProvider
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceApiError, DeviceClient, request_text


def get(provider: LiveProvider, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(provider.url + path, headers=headers, timeout=10)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "60087"


def test_signed_request_is_accepted(provider: LiveProvider, device: DeviceClient) -> None:
    response = get(provider, "/device/v1/me", device.signed_headers("GET", "/device/v1/me", b""))
    assert response.status_code == 200
    assert response.json()["device"]["uuid"] == device.device_uuid


def test_unsigned_and_forged(provider: LiveProvider, device: DeviceClient) -> None:
    assert_refused(get(provider, "/device/v1/me", {}))
    headers = device.signed_headers("GET", "/device/v1/me", b"")
    other = keys.sign(keys.generate(), b"something else")
    assert_refused(get(provider, "/device/v1/me", {**headers, "X-Twofa-Signature": other}))
    signed_for_other_path = device.signed_headers("GET", "/device/v1/accounts", b"")
    assert_refused(get(provider, "/device/v1/me", signed_for_other_path))
    unknown = {
        **device.signed_headers("GET", "/device/v1/me", b""),
        "X-Twofa-Device": "00000000-0000-0000-0000-000000000000",
    }
    assert_refused(get(provider, "/device/v1/me", unknown))


def test_body_is_covered(provider: LiveProvider, device: DeviceClient, account: Account) -> None:
    uuid = account.push()["uuid"]
    path = f"/device/v1/requests/{uuid}/decision"
    headers = device.signed_headers("POST", path, b'{"decision":"deny"}')
    response = httpx.post(
        provider.url + path,
        content=b'{"decision":"approve"}',
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert_refused(response)


def test_replayed_nonce(provider: LiveProvider, device: DeviceClient) -> None:
    headers = device.signed_headers("GET", "/device/v1/me", b"")
    assert get(provider, "/device/v1/me", headers).status_code == 200
    assert_refused(get(provider, "/device/v1/me", headers))


def test_clock_skew(provider: LiveProvider, device: DeviceClient) -> None:
    for offset in (-120, 120):
        timestamp = str(int(time.time()) + offset)
        nonce = "n" * 20 + str(offset + 1000)
        text = request_text(
            "GET", "127.0.0.1", "/device/v1/me", device.device_uuid, timestamp, nonce, b""
        )
        headers = {
            "X-Twofa-Device": device.device_uuid,
            "X-Twofa-Timestamp": timestamp,
            "X-Twofa-Nonce": nonce,
            "X-Twofa-Signature": keys.sign(device._key, text),
        }
        assert_refused(get(provider, "/device/v1/me", headers))


def test_bad_nonce_shape(provider: LiveProvider, device: DeviceClient) -> None:
    headers = device.signed_headers("GET", "/device/v1/me", b"")
    assert_refused(get(provider, "/device/v1/me", {**headers, "X-Twofa-Nonce": "short"}))


def test_revoked_device_is_refused(provider: LiveProvider, account: Account) -> None:
    first = enrol(provider, account.national, name="first")
    second = enrol(provider, account.national, name="second")
    listed = second.devices()
    assert [d.name for d in listed] == ["first", "second"]
    assert [d.current for d in listed] == [False, True]
    second.revoke(first.device_uuid)
    with pytest.raises(DeviceApiError) as refused:
        first.me()
    assert (refused.value.status, refused.value.code) == (401, "60087")
    with pytest.raises(DeviceApiError) as again:
        second.revoke(first.device_uuid)
    assert (again.value.status, again.value.code) == (404, "60051")
    assert [d.name for d in second.devices()] == ["second"]
