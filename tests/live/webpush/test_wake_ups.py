"""Wake-ups through the delivery queue to the fake push service (RFC 8030/8291/8292)."""

from __future__ import annotations

import time

from sqlalchemy import select

from tests.fakepush import Answer, FakePushService
from tests.live.devices.conftest import Account, enrol, new_account
from tests.live.webpush.conftest import subscribe
from tests.live.webpush.test_subscription import stored
from tests.servers import LiveProvider, TestDevice
from twofa.storage.tables import deliveries


def attempts(provider: LiveProvider, uuid: str) -> list[tuple[str, int, str | None]]:
    with provider.services.db.read() as conn:
        rows = conn.execute(
            select(deliveries.c.status, deliveries.c.attempts, deliveries.c.last_error).where(
                deliveries.c.kind == "webpush", deliveries.c.subject == uuid
            )
        ).all()
    return [(r.status, r.attempts, r.last_error) for r in rows]


def wait_until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_new_request_wakes_the_device_with_nothing_private(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    sub = subscribe(device, push_service)
    request = account.push(
        "Log in to Acme Bank?",
        seconds_to_expire=300,
        number_matching=True,
        details={"Email": "alice@example.com"},
        hidden_details={"ip": "203.0.113.9"},
    )
    [push] = push_service.wait_for(sub)
    assert push_service.errors == []  # VAPID JWT and encryption checked by the service
    assert push.payload == {"t": "request", "uuid": request["uuid"]}
    assert 290 <= push.ttl <= 300  # the request's remaining lifetime
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == "twofa-requests"
    assert push.headers["content-encoding"] == "aes128gcm"
    # The decrypted payload above is the whole message, so the number cannot be in it; the
    # raw body is searched only for strings long enough not to occur in random ciphertext by
    # chance (two digits do, about once in 400 runs).
    for secret in ("Acme Bank", "alice@example", "203.0.113", "Log in"):
        assert secret.encode() not in push.body
    # Decided on the phone: the device's notification is told to close.
    device.approve(request["uuid"], number=request["number"])
    pushes = push_service.wait_for(sub, 2)
    assert pushes[1].payload == {"t": "ended", "uuid": request["uuid"]}


def test_a_wake_up_is_never_sent_inline(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    """With the push service down the request is created at once, and its wake-up waits."""
    sub = subscribe(device, push_service)
    push_service.stop()
    try:
        started = time.monotonic()
        request = account.push("Log in?")
        assert time.monotonic() - started < 2.0
        wait_until(lambda: any(a >= 1 for _, a, _ in attempts(push_provider, request["uuid"])))
        [(status, _, error)] = attempts(push_provider, request["uuid"])
        assert status == "pending" and error  # refused connection, retried later
        assert push_service.received(sub) == []
    finally:
        push_service.start()
    [push] = push_service.wait_for(sub, timeout=30)  # the outage lost nothing
    assert push.payload == {"t": "request", "uuid": request["uuid"]}


def test_gone_subscription_is_forgotten(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    sub = subscribe(device, push_service)
    push_service.expire(sub)  # the browser unsubscribed: 410 Gone from now on
    request = account.push("Log in?")
    wait_until(lambda: stored(push_provider, device) == [])
    assert attempts(push_provider, request["uuid"]) == [("failed", 1, "HTTP 410")]
    # The next request has no subscription to wake.
    second = account.push("Log in again?")
    time.sleep(0.5)
    assert attempts(push_provider, second["uuid"]) == []


def test_rate_limited_wake_up_honours_retry_after(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    sub = subscribe(device, push_service)
    push_service.script(sub, Answer(429, {"Retry-After": "3"}))
    request = account.push("Log in?")
    [push] = push_service.wait_for(sub, timeout=30)
    assert push.payload["uuid"] == request["uuid"]
    first, *_, last = push_service.attempts[sub.token]
    assert last - first >= 2.9  # not before the push service asked


def test_only_the_phones_active_devices_are_woken(
    push_provider: LiveProvider,
    push_service: FakePushService,
    account: Account,
    device: TestDevice,
) -> None:
    revoked = subscribe(device, push_service)
    device.revoke()
    elsewhere = new_account(push_provider)
    other = subscribe(enrol(push_provider, elsewhere.national, os_type="web"), push_service)
    second = enrol(push_provider, account.national, os_type="web")
    current = subscribe(second, push_service)
    request = account.push("Log in?")
    [push] = push_service.wait_for(current)
    assert push.payload["uuid"] == request["uuid"]
    assert len(attempts(push_provider, request["uuid"])) == 1
    assert push_service.received(revoked) == push_service.received(other) == []
