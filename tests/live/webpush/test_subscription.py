"""The VAPID key and the signed subscription endpoint (docs/device-api.md section 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.fakepush import FakePushService, b64d
from tests.live.webpush.conftest import subscribe, webpush_env
from tests.servers import LiveProvider, TestDevice, start_provider
from twofa.authenticator.device import DeviceApiError
from twofa.storage.tables import devices, webpush_keys, webpush_subscriptions

PATH = "/device/v1/webpush/subscription"


def stored(provider: LiveProvider, device: TestDevice) -> list[dict[str, Any]]:
    """The device's subscription rows, read straight from the provider's database."""
    with provider.services.db.read() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(webpush_subscriptions)
                .join(devices, devices.c.id == webpush_subscriptions.c.device_id)
                .where(devices.c.uuid == device.device_uuid)
            ).all()
        ]


def test_key_is_made_once_stored_encrypted_and_survives_a_restart(tmp_path: Path) -> None:
    push = FakePushService(tmp_path / "push")
    database = f"sqlite:///{tmp_path / 'provider.db'}"
    first = start_provider(tmp_path / "a", database, **webpush_env(push))
    try:
        with first.services.db.read() as conn:
            row = conn.execute(select(webpush_keys)).one()  # made at start, before any device
        key = httpx.get(first.url + "/device/v1/webpush/key").json()["public_key"]
        assert key == row.public_key
        assert len(b64d(key)) == 65 and b64d(key)[0] == 4
        assert "PRIVATE KEY" not in row.private_key_enc  # encrypted at rest
    finally:
        first.stop()
    second = start_provider(tmp_path / "b", database, **webpush_env(push))
    try:
        assert httpx.get(second.url + "/device/v1/webpush/key").json()["public_key"] == key
        with second.services.db.read() as conn:
            assert len(conn.execute(select(webpush_keys)).all()) == 1
    finally:
        second.stop()
        push.stop()


def test_subscribe_refresh_and_turn_off(
    push_provider: LiveProvider, push_service: FakePushService, device: TestDevice
) -> None:
    sub = subscribe(device, push_service)
    [row] = stored(push_provider, device)
    assert row["endpoint"] == sub.endpoint
    assert row["p256dh"] == sub.json()["keys"]["p256dh"]
    assert row["auth"] == sub.json()["keys"]["auth"]

    renewed = subscribe(device, push_service)  # the browser's subscription changed
    [row] = stored(push_provider, device)
    assert row["endpoint"] == renewed.endpoint

    assert device.call("DELETE", PATH) == {"subscribed": False, "success": True}
    assert stored(push_provider, device) == []
    assert device.call("DELETE", PATH)["success"] is True  # already off: still fine


def test_unsigned_or_revoked_devices_cannot_subscribe(
    push_provider: LiveProvider, push_service: FakePushService, device: TestDevice
) -> None:
    body = push_service.subscribe().json()
    answer = httpx.put(push_provider.url + PATH, json=body)
    assert answer.status_code == 401 and answer.json()["error_code"] == "60087"
    device.revoke()
    with pytest.raises(DeviceApiError) as caught:
        device.call("PUT", PATH, body)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://127.0.0.1:9/wpush/1"}, "endpoint"),
        ({"endpoint": "https://attacker.example/collect"}, "endpoint"),
        ({"endpoint": "https://169.254.169.254/latest/meta-data/"}, "endpoint"),
        ({"endpoint": "https://10.0.0.7/wpush/1"}, "endpoint"),
        ({"endpoint": None}, "endpoint"),
        ({"keys": None}, "keys"),
        ({"keys": {"p256dh": "BAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "keys"),
        ({"keys": {"p256dh": None, "auth": None}}, "keys"),
    ],
)
def test_bad_subscriptions_are_refused(
    push_provider: LiveProvider,
    push_service: FakePushService,
    device: TestDevice,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**push_service.subscribe().json(), **change}
    with pytest.raises(DeviceApiError) as caught:
        device.call("PUT", PATH, body)
    assert (caught.value.status, caught.value.code) == (400, "60004")
    assert field in str(caught.value)
    assert stored(push_provider, device) == []


def test_body_must_be_a_json_object(push_provider: LiveProvider, device: TestDevice) -> None:
    raw = b"[1, 2]"
    answer = httpx.put(
        push_provider.url + PATH, content=raw, headers=device.signed_headers("PUT", PATH, raw)
    )
    assert answer.status_code == 400 and answer.json()["error_code"] == "60002"
