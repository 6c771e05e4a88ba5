"""A wake-up on the delivery queue: what is queued, what is sent, how the answer is read.

The queue row holds the subscription (endpoint, keys) and a deadline, captured in the
transaction of the change that causes it; everything time-dependent (the ``TTL``, the VAPID
token, the encryption with a fresh key and salt) is made at send time, so a retry never
replays stale bytes. The payload is only ``{"t": "request" | "ended", "uuid": …}`` or, for a
device of the phone joining, added or revoked, ``{"t": "device", "event": …, "uuid": …}``: the
service worker fetches the details itself, signed, so nothing private passes the push service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from twofa.provider.webpush.crypto import SubscriptionKeys, b64url_decode, encrypt
from twofa.provider.webpush.service import WebPushService
from twofa.provider.webpush.store import Subscription

log = logging.getLogger(__name__)
KIND = "webpush"
ENDED_KIND = "webpush_ended"  # the same body; the message says the request ended
DEVICE_KIND = "webpush_device"  # a device of the phone asks to join, is added, denied, revoked
# RFC 8030 section 5.4: a Topic replaces an undelivered message with the same topic on the same
# subscription. A subscription is one device, so a constant is a topic per device, and the
# push service learns no identifier of ours.
TOPIC = "twofa-requests"
ENDED_MIN_TTL = 60
MAX_TTL = 28 * 24 * 3600  # push services keep a message four weeks at most
# How long a notice that a device was added, denied or revoked is worth delivering: a phone
# offline for longer learns it from the app (the devices list) and the SMS to the number.
NOTICE_TTL = 24 * 3600
MAX_TOPIC = 32  # RFC 8030 section 5.4: at most 32 characters of the base64url alphabet

Message = Literal["request", "ended", "device"]
# pending: asks to join; added: approved; denied: refused while pending (closes the "pending"
# notification elsewhere); revoked: an active device was revoked.
DeviceEvent = Literal["pending", "added", "denied", "revoked"]
DEVICE_EVENTS: tuple[DeviceEvent, ...] = ("pending", "added", "denied", "revoked")


@dataclass(frozen=True, slots=True)
class WakeUp:
    """One queued wake-up for one device (the queue row's JSON body)."""

    kind: Message
    uuid: str  # the request's, or for a device notice the device's that it is about
    device_id: int
    subscription_id: int
    p256dh: str
    auth: str
    expires_at: float | None  # the deadline (unix time); None: no deadline
    event: DeviceEvent | None = None  # for a device notice

    def body(self) -> dict[str, Any]:
        body = {
            "t": self.kind,
            "uuid": self.uuid,
            "device_id": self.device_id,
            "subscription_id": self.subscription_id,
            "p256dh": self.p256dh,
            "auth": self.auth,
            "expires_at": self.expires_at,
        }
        if self.event is not None:
            body["event"] = self.event
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> WakeUp:
        event = body.get("event")
        if (body["t"] == "device") != (event is not None) or event not in (None, *DEVICE_EVENTS):
            raise ValueError(f"a device notice needs a known event, not {event!r}")
        return cls(
            body["t"],
            body["uuid"],
            int(body["device_id"]),
            int(body["subscription_id"]),
            body["p256dh"],
            body["auth"],
            body.get("expires_at"),
            event,
        )

    @classmethod
    def of(
        cls,
        kind: Message,
        uuid: str,
        subscription: Subscription,
        expires_at: datetime | None,
        event: DeviceEvent | None = None,
    ) -> WakeUp:
        return cls(
            kind,
            uuid,
            subscription.device_id,
            subscription.id,
            subscription.p256dh,
            subscription.auth,
            expires_at.timestamp() if expires_at else None,
            event,
        )

    def ttl(self, now: float) -> int:
        """Seconds the push service may hold the message: what is left of the deadline.

        A request wake-up past its deadline is worthless (``0``: do not send), and so is a
        device notice (a join request's window, or ``NOTICE_TTL`` after the change). An
        "ended" wake-up is worth as long as a notification of the request could still be
        showing.
        """
        left = MAX_TTL if self.expires_at is None else math.floor(self.expires_at - now)
        if self.kind == "ended":
            return min(max(left, ENDED_MIN_TTL), MAX_TTL)
        return min(max(left, 0), MAX_TTL)

    @property
    def urgency(self) -> str:
        """``high`` for what waits on the user (a request, a device asking to join); a notice
        that a device came or went may wait for the phone's next wake (RFC 8030 5.3)."""
        return "normal" if self.kind == "device" and self.event != "pending" else "high"

    @property
    def topic(self) -> str:
        """Requests share one topic per device: the newest wake-up stands for them all (the
        worker re-reads the whole pending list). A device notice gets a topic of its own per
        device and event, so it never replaces a request's wake-up, and a copy accepted twice
        (an answer lost, the attempt retried) shows once. That topic is keyed with the
        subscription's secret: the push service sees no identifier of ours, and cannot tell
        that two subscriptions were told of the same device."""
        if self.kind != "device":
            return TOPIC
        label = f"twofa-device|{self.event}|{self.uuid}".encode()
        digest = hmac.new(b64url_decode(self.auth), label, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")[:MAX_TOPIC]

    def payload(self) -> bytes:
        message: dict[str, str] = {"t": self.kind}
        if self.kind == "device" and self.event is not None:
            message["event"] = self.event
        message["uuid"] = self.uuid
        return json.dumps(message, separators=(",", ":")).encode()


def push_request(
    service: WebPushService, endpoint: str, wake_up: WakeUp, now: float
) -> tuple[bytes, dict[str, str]] | None:
    """The encrypted body and headers of one attempt; None when there is nothing to send."""
    ttl = wake_up.ttl(now)
    if ttl <= 0:
        return None
    keys = SubscriptionKeys.parse(wake_up.p256dh, wake_up.auth)
    headers = {
        "Authorization": service.authorization(endpoint, now),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(ttl),
        "Urgency": wake_up.urgency,
        "Topic": wake_up.topic,
    }
    return encrypt(wake_up.payload(), keys), headers


Verdict = Literal["delivered", "retry", "gone", "refused"]


@dataclass(frozen=True, slots=True)
class Answer:
    """How a push service answered, in the queue's terms."""

    verdict: Verdict
    error: str | None = None
    retry_after: float | None = None
    reached: bool = True


def read_answer(status: int | None, retry_after: float | None, error: str | None) -> Answer:
    """201 delivered; 404/410 the subscription is gone; 429 and 5xx later; 413 is our bug.

    RFC 8030 section 5: a push service answers 201 Created. 404 and 410 mean the browser
    unsubscribed or the subscription expired: it will never work again, so it is forgotten.
    429 asks us to slow down (``Retry-After`` is honoured by the queue). 413 means we sent more
    than 4096 bytes, which ``encrypt`` never does: a bug, logged as one, not retried. Other
    4xx (a 400 or 403 from a VAPID mismatch, say) will not change on retry either.
    """
    if status is None:
        return Answer("retry", error or "no answer", reached=False)
    text = f"HTTP {status}"
    if 200 <= status < 300:
        return Answer("delivered")
    if status in (404, 410):
        return Answer("gone", text)
    if status == 413:
        log.error("web push: the push service refused a message as too large (a bug): %s", text)
        return Answer("refused", text)
    if status in (408, 429):
        return Answer("retry", text, retry_after, reached=False)
    if 300 <= status < 400:
        return Answer("refused", f"{text}: push services do not redirect; not followed")
    if 400 <= status < 500:
        log.warning("web push: the push service refused a wake-up: %s", text)
        return Answer("refused", text)
    return Answer("retry", text, retry_after, reached=False)
