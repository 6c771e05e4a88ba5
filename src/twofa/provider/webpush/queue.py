"""Wake-ups on the one delivery queue: queued with the change, sent by the queue's workers.

``queue_wake_ups`` runs in the transaction that creates or ends an approval request, and
``queue_device_notice`` in the one that registers, approves, denies or revokes a device, so a
change is never recorded without its wake-ups, and never waits for a push service: the
queue's workers lease and send them, retry with back-off (honouring ``Retry-After``), and a
push service outage pauses that service's deliveries without dropping any.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import ColumnElement, Connection

from twofa.provider.deliveries import store as deliveries
from twofa.provider.deliveries.model import Delivery, Outcome, Outgoing
from twofa.provider.deliveries.policy import retry_after
from twofa.provider.webpush.sender import (
    DEVICE_KIND,
    ENDED_KIND,
    KIND,
    NOTICE_TTL,
    DeviceEvent,
    Message,
    WakeUp,
    push_request,
    read_answer,
)
from twofa.provider.webpush.service import WebPushService
from twofa.provider.webpush.store import (
    Subscription,
    delete_device_subscriptions,
    forget_gone,
    still_subscribed,
    subscriptions_of_phone,
)
from twofa.storage.tables import deliveries as delivery_rows

log = logging.getLogger(__name__)
# The message each kind of queued wake-up sends ("ended" rows copy their request's body).
MESSAGES: dict[str, Message] = {KIND: "request", ENDED_KIND: "ended", DEVICE_KIND: "device"}


def _subscription_of(body: ColumnElement[Any]) -> ColumnElement[int]:
    """A queued wake-up's subscription id, read from its JSON body in SQL."""
    return body["subscription_id"].as_integer()


# Built once: the decision path copies "ended" wake-ups with it on every answer.
_STILL_SUBSCRIBED = still_subscribed(_subscription_of(delivery_rows.c.body), delivery_rows.c.url)


def target_of(endpoint: str) -> str:
    """The breaker key: one push service (an outage at FCM pauses nothing at Mozilla)."""
    return f"webpush:{(urlsplit(endpoint).hostname or '')[:180]}"


def queue_wake_ups(
    conn: Connection, *, uuid: str, phone_e164: str, expires_at: datetime | None, now: datetime
) -> int:
    """Queue a wake-up for every subscribed, active device of the phone; how many."""
    subscriptions = subscriptions_of_phone(conn, phone_e164)
    return _enqueue(
        conn,
        KIND,
        uuid,
        [(s, WakeUp.of("request", uuid, s, expires_at)) for s in subscriptions],
        now,
    )


def queue_ended(conn: Connection, *, uuid: str, now: datetime) -> int:
    """Queue an "ended" wake-up for every device that was woken for the request and still has
    that subscription (a device revoked since has none); how many.

    Copied from the request's own wake-ups in one statement, so answering a request (the path
    every push login waits on) reads nothing more for it.
    """
    return deliveries.enqueue_follow_ups(
        conn, kind=ENDED_KIND, of_kind=KIND, subject=uuid, now=now, only=_STILL_SUBSCRIBED
    )


def queue_device_notice(
    conn: Connection,
    *,
    event: DeviceEvent,
    device_uuid: str,
    phone_e164: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> int:
    """Queue a notice about ``device_uuid`` for every other subscribed, active device of the
    phone; how many. A join request's notice lives as long as the request (``expires_at``);
    the others ``NOTICE_TTL``."""
    deadline = expires_at or now + timedelta(seconds=NOTICE_TTL)
    subscriptions = subscriptions_of_phone(conn, phone_e164, besides=device_uuid)
    return _enqueue(
        conn,
        DEVICE_KIND,
        device_uuid,
        [(s, WakeUp.of("device", device_uuid, s, deadline, event)) for s in subscriptions],
        now,
    )


def _enqueue(
    conn: Connection,
    kind: str,
    subject: str,
    wake_ups: list[tuple[Subscription, WakeUp]],
    now: datetime,
) -> int:
    """Queue each wake-up for its subscription's endpoint; how many."""
    for subscription, wake_up in wake_ups:
        deliveries.enqueue(
            conn,
            kind=kind,
            target=target_of(subscription.endpoint),
            subject=subject,
            url=subscription.endpoint,
            body=wake_up.body(),
            now=now,
        )
    return len(wake_ups)


def forget_device(conn: Connection, device_id: int, *, now: datetime) -> int:
    """At a device's revocation: delete its subscription and give up the wake-ups still queued
    for it, so a revoked device is woken for nothing more; how many were given up."""
    gone = delete_device_subscriptions(conn, device_id)
    if not gone:
        return 0
    return deliveries.cancel(
        conn,
        kinds=MESSAGES.keys(),
        only=_subscription_of(delivery_rows.c.body).in_(gone),
        reason="the device was revoked",
        now=now,
    )


class WebPushSender:
    """Encrypts and signs each attempt afresh, and reads the push service's answer."""

    def __init__(self, service: WebPushService, kind: str = KIND) -> None:
        self.kind = kind
        self._message = MESSAGES[kind]
        self._service = service
        # The queue pins every attempt to checked public addresses unless this is true: only
        # when the operator allowed loopback (dev, test) or private push service hosts.
        self.allow_private = service.policy.allow_loopback or service.policy.allow_private

    def prepare(self, delivery: Delivery) -> Outgoing | None:
        """The attempt's request; None when the request's time is up (nothing worth sending)."""
        try:
            wake_up = replace(WakeUp.from_body(delivery.body), kind=self._message)
            built = push_request(self._service, delivery.url, wake_up, time.time())
        except (KeyError, TypeError, ValueError):
            # A row that cannot be sent must not stop the queue's round; it is logged and
            # marked failed, and the rest go out.
            log.exception("web push: delivery %s cannot be sent", delivery.id)
            return None
        if built is None:
            return None
        body, headers = built
        return Outgoing("POST", body, headers)

    def judge(self, response: httpx.Response | None, error: str | None) -> Outcome:
        answer = read_answer(
            response.status_code if response is not None else None,
            retry_after(response) if response is not None else None,
            error,
        )
        if answer.verdict == "gone":
            return Outcome("refused", error=answer.error)
        return Outcome(answer.verdict, answer.error, answer.retry_after, answer.reached)

    def settle(self, conn: Connection, delivery: Delivery, outcome: Outcome) -> None:
        """After a 404/410 (in the attempt's transaction): forget the subscription, unless the
        device has sent a new one since this wake-up was queued."""
        if outcome.result != "refused" or outcome.error not in ("HTTP 404", "HTTP 410"):
            return
        forget_gone(conn, int(delivery.body["subscription_id"]), delivery.url)
