"""Reading a push service's answer, the TTL of a wake-up, and what the queue sends."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fakepush import b64e, check_vapid, decrypt
from twofa.crypto import Keyring
from twofa.provider.deliveries.model import Delivery
from twofa.provider.webpush.crypto import raw_public_key
from twofa.provider.webpush.queue import WebPushSender, target_of
from twofa.provider.webpush.sender import DEVICE_KIND, ENDED_KIND, NOTICE_TTL, WakeUp, read_answer
from twofa.provider.webpush.service import WebPushService
from twofa.provider.webpush.store import WebPushStore
from twofa.settings import load_settings
from twofa.storage.database import Database, utcnow
from twofa.storage.engine import make_engine


def wake_up(kind: str = "request", expires_in: float | None = 120.0) -> WakeUp:
    browser = ec.generate_private_key(ec.SECP256R1())
    return WakeUp(
        kind,  # type: ignore[arg-type]
        "4d7f1c2e-0000-4000-8000-000000000001",
        7,
        3,
        b64e(raw_public_key(browser)),
        b64e(b"0123456789abcdef"),
        None if expires_in is None else time.time() + expires_in,
    )


@pytest.mark.parametrize(
    ("status", "verdict", "reached"),
    [
        (201, "delivered", True),
        (404, "gone", True),
        (410, "gone", True),
        (413, "refused", True),
        (400, "refused", True),
        (403, "refused", True),
        (301, "refused", True),
        (429, "retry", False),
        (500, "retry", False),
        (503, "retry", False),
        (None, "retry", False),
    ],
)
def test_answers(status: int | None, verdict: str, reached: bool) -> None:
    answer = read_answer(status, 7.0, "ConnectError" if status is None else None)
    assert (answer.verdict, answer.reached) == (verdict, reached)
    if status == 429:
        assert answer.retry_after == 7.0


def test_413_is_logged_as_a_bug(caplog: pytest.LogCaptureFixture) -> None:
    read_answer(413, None, None)
    assert any(r.levelname == "ERROR" and "bug" in r.getMessage() for r in caplog.records)


def test_ttl_is_the_remaining_lifetime() -> None:
    now = time.time()
    assert 118 <= wake_up(expires_in=120).ttl(now) <= 120
    assert wake_up(expires_in=-1).ttl(now) == 0  # too late: not sent at all
    assert wake_up("ended", expires_in=-1).ttl(now) == 60
    assert wake_up(expires_in=None).ttl(now) == 28 * 24 * 3600


@pytest.fixture
def service(tmp_path: Path, migrated: Path) -> WebPushService:
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    shutil.copyfile(migrated, tmp_path / "provider.db")
    settings = load_settings(webpush_subject="mailto:ops@example.org")
    return WebPushService(WebPushStore(Database(make_engine(url))), Keyring(b"k" * 40), settings)


def delivery(body: WakeUp, url: str) -> Delivery:
    return delivery_of(body.body(), url)


def delivery_of(
    body: dict[str, Any], url: str = "https://fcm.googleapis.com/fcm/send/a"
) -> Delivery:
    now = utcnow()
    return Delivery(
        id=1,
        kind="webpush",
        app_id=None,
        target=target_of(url),
        subject=body["uuid"],
        url=url,
        body=body,
        attempts=0,
        created_at=now,
        window_start=now,
        app_key_salt=None,
    )


def test_sender_encrypts_signs_and_sets_the_headers(service: WebPushService) -> None:
    browser = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    body = WakeUp("request", "u-1", 1, 1, b64e(raw_public_key(browser)), b64e(auth), None)
    url = "https://fcm.googleapis.com/fcm/send/abc"
    sender = WebPushSender(service)
    outgoing = sender.prepare(delivery(body, url))
    assert outgoing is not None and outgoing.method == "POST"
    assert json.loads(decrypt(outgoing.body, browser, auth)) == {"t": "request", "uuid": "u-1"}
    headers = outgoing.headers
    assert headers["Urgency"] == "high" and headers["Content-Encoding"] == "aes128gcm"
    assert headers["TTL"] == str(28 * 24 * 3600) and headers["Topic"] == "twofa-requests"
    check_vapid(headers["Authorization"], aud="https://fcm.googleapis.com", now=time.time())
    assert target_of(url) == "webpush:fcm.googleapis.com"
    assert sender.allow_private is False  # the queue pins FCM to checked public addresses
    assert sender.prepare(delivery(wake_up(expires_in=-5), url)) is None
    gone = sender.judge(httpx.Response(410), None)
    assert (gone.result, gone.error) == ("refused", "HTTP 410")
    limited = sender.judge(httpx.Response(429, headers={"Retry-After": "30"}), None)
    assert (limited.result, limited.retry_after) == ("retry", 30.0)


def test_a_row_that_cannot_be_sent_does_not_raise(service: WebPushService) -> None:
    broken = delivery(wake_up(), "https://fcm.googleapis.com/fcm/send/abc")
    broken = Delivery(**{**{f: getattr(broken, f) for f in broken.__slots__}, "body": {"t": 1}})
    assert WebPushSender(service).prepare(broken) is None
    ended = WebPushSender(service, ENDED_KIND)
    assert ended.kind == "webpush_ended"
    for event in (None, "joined"):  # a device notice needs an event this code knows
        body = {**notice("pending").body(), "event": event}
        assert WebPushSender(service, DEVICE_KIND).prepare(delivery_of(body)) is None


DEVICE = "8a1e5c3d-0000-4000-8000-000000000002"


def notice(event: str, auth: bytes = b"0123456789abcdef", expires_in: float = 600.0) -> WakeUp:
    browser = ec.generate_private_key(ec.SECP256R1())
    return WakeUp(
        "device",
        DEVICE,
        7,
        3,
        b64e(raw_public_key(browser)),
        b64e(auth),
        time.time() + expires_in,
        event,  # type: ignore[arg-type]
    )


def test_a_device_notice_says_only_what_happened_to_which_device(
    service: WebPushService,
) -> None:
    browser = ec.generate_private_key(ec.SECP256R1())
    auth = b"fedcba9876543210"
    body = WakeUp(
        "device",
        DEVICE,
        1,
        1,
        b64e(raw_public_key(browser)),
        b64e(auth),
        time.time() + 600,
        "pending",
    )
    outgoing = WebPushSender(service, DEVICE_KIND).prepare(
        delivery(body, "https://fcm.googleapis.com/fcm/send/a")
    )
    assert outgoing is not None
    message = json.loads(decrypt(outgoing.body, browser, auth))
    assert message == {"t": "device", "event": "pending", "uuid": DEVICE}
    assert outgoing.headers["Urgency"] == "high"  # someone waits for the answer
    assert 598 <= int(outgoing.headers["TTL"]) <= 600  # what is left of the join window


@pytest.mark.parametrize("event", ["added", "denied", "revoked"])
def test_a_notice_of_a_change_made_waits_for_the_phone(event: str) -> None:
    wake = notice(event, expires_in=NOTICE_TTL)
    assert wake.urgency == "normal"
    assert NOTICE_TTL - 2 <= wake.ttl(time.time()) <= NOTICE_TTL
    assert wake.ttl(time.time() + NOTICE_TTL + 1) == 0  # a day late: not sent


def test_device_notice_topics() -> None:
    """One per device and event, never the requests' topic, and nothing a push service could
    match across subscriptions or back to the device."""
    topic = notice("pending").topic
    assert len(topic) == 32 and re.fullmatch(r"[A-Za-z0-9_-]+", topic)
    assert notice("pending").topic == topic  # the same notice replaces its undelivered copy
    assert notice("added").topic != topic
    assert notice("pending", auth=b"another-secret!!").topic != topic
    assert topic != wake_up().topic == "twofa-requests"
    assert DEVICE.split("-")[0] not in topic
