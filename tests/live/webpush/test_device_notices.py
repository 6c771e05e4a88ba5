"""Web Push notices of a phone's devices: one asks to join, is added, denied or revoked.

The phone's other devices hear of each change while their app is closed; the device the change
is about never does, and a revoked device is woken for nothing more.
"""

from __future__ import annotations

from sqlalchemy import select

from tests.fakepush import Answer, FakePushService, Push, Subscription
from tests.live.devices.conftest import Account
from tests.live.devices.test_device_approval import ask_to_join
from tests.live.webpush.conftest import subscribe
from tests.live.webpush.test_subscription import stored
from tests.live.webpush.test_wake_ups import wait_until
from tests.servers import LiveProvider, TestDevice
from twofa.storage.tables import deliveries


def queued_for(provider: LiveProvider, sub: Subscription) -> list[tuple[str, str, str | None]]:
    """(kind, status, last error) of every wake-up queued for this subscription."""
    with provider.services.db.read() as conn:
        rows = conn.execute(
            select(deliveries.c.kind, deliveries.c.status, deliveries.c.last_error)
            .where(deliveries.c.url == sub.endpoint)
            .order_by(deliveries.c.id)
        ).all()
    return [(r.kind, r.status, r.last_error) for r in rows]


def notices(pushes: list[Push]) -> list[dict[str, object]]:
    return [p.payload for p in pushes if p.payload["t"] == "device"]


def test_joining_added_and_revoked_wake_the_other_device_with_nothing_private(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    first = subscribe(device, push_service)
    newcomer, answer = ask_to_join(push_provider, account.national, name="Mallory's laptop")
    [asked] = push_service.wait_for(first)
    assert push_service.errors == []  # VAPID and encryption checked by the push service
    assert asked.payload == {"t": "device", "event": "pending", "uuid": newcomer.device_uuid}
    assert asked.headers["urgency"] == "high"
    assert 590 <= asked.ttl <= 600  # what is left of the ten minutes to approve it
    topic = asked.headers["topic"]
    assert topic != "twofa-requests" and len(topic) == 32
    # The decrypted payload is the whole message; the raw body holds none of the details
    # either (only strings too long to occur in random ciphertext by chance are searched).
    for secret in ("Mallory", "laptop", "127.0.0.1", account.national, "Test phone"):
        assert secret.encode() not in asked.body

    number = answer["approval"]["number"]  # type: ignore[index]
    assert device.decide_device(newcomer.device_uuid, approve=True, number=number) == "approved"
    added = push_service.wait_for(first, 2)[1]
    assert added.payload == {"t": "device", "event": "added", "uuid": newcomer.device_uuid}
    assert added.headers["urgency"] == "normal"
    assert 24 * 3600 - 10 <= added.ttl <= 24 * 3600
    assert added.headers["topic"] not in (topic, "twofa-requests")

    # The new device turns notifications on, and is then revoked from the first.
    second = subscribe(newcomer, push_service)
    device.revoke(newcomer.device_uuid)
    revoked = push_service.wait_for(first, 3)[2]
    assert revoked.payload == {"t": "device", "event": "revoked", "uuid": newcomer.device_uuid}
    assert revoked.headers["urgency"] == "normal"
    # Its subscription went with it, and nothing was queued for it: the notice of its own
    # revocation was queued in the same transaction as the first device's.
    assert stored(push_provider, newcomer) == []
    assert queued_for(push_provider, second) == []
    assert push_service.received(second) == []
    assert push_service.errors == []


def test_a_denied_device_is_announced_so_its_notice_can_close(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    first = subscribe(device, push_service)
    newcomer, _ = ask_to_join(push_provider, account.national)
    push_service.wait_for(first)
    assert device.decide_device(newcomer.device_uuid, approve=False) == "denied"
    pushes = push_service.wait_for(first, 2)
    assert sorted(str(n["event"]) for n in notices(pushes)) == ["denied", "pending"]
    assert {n["uuid"] for n in notices(pushes)} == {newcomer.device_uuid}
    denied = next(p for p in pushes if p.payload["event"] == "denied")
    assert denied.headers["urgency"] == "normal"


def test_a_revoked_device_is_woken_for_nothing_more(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    """Wake-ups still queued for it are given up, and a request it was woken for sends it no
    "ended" wake-up."""
    first = subscribe(device, push_service)
    laptop = push_provider.enroll_device("1", account.national, name="Laptop", os_type="web")
    second = subscribe(laptop, push_service)
    # The laptop's push service is failing for now: its wake-up stays queued for a retry.
    push_service.script(second, Answer(503), Answer(503), Answer(503))
    request = account.push("Log in?")
    wait_until(lambda: push_service.attempts.get(second.token))
    wait_until(lambda: queued_for(push_provider, second)[0][2] == "HTTP 503")
    device.revoke(laptop.device_uuid)
    assert queued_for(push_provider, second) == [("webpush", "failed", "the device was revoked")]
    assert stored(push_provider, laptop) == []

    device.approve(request["uuid"], number=request.get("number"))
    pushes = push_service.wait_for(first, 5)
    assert sorted(str(p.payload.get("event", p.payload["t"])) for p in pushes) == [
        "added",
        "ended",
        "pending",
        "request",
        "revoked",
    ]
    assert queued_for(push_provider, second) == [("webpush", "failed", "the device was revoked")]
    assert push_service.received(second) == []
    assert push_service.errors == []
