"""Callbacks in-process: a decision queues a signed callback; the worker's steps deliver it.

The worker is off; ``callbacks.deliver_due()`` runs one round (claim, send, record) against
a loopback receiver, so each test decides when time moves and what the receiver answers.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update

from tests.provider.conftest import Authy, Callbacks, User
from tests.servers import RecordedPath
from twofa import signing
from twofa.process import free_port
from twofa.provider.deliveries.authy import app_target
from twofa.storage.database import utcnow
from twofa.storage.tables import apps, deliveries


def approved(authy: Authy, user: User) -> str:
    """A request for ``user``, approved on a new device; its uuid."""
    phone = authy.enrol(user)
    uuid = authy.push(
        user, details={"Email": "alice@example.com"}, hidden_details={"ip": "1.2.3.4"}
    )
    phone.approve(uuid)
    return uuid


def make_due(authy: Authy) -> None:
    """Time passes: every scheduled retry of the application is due now."""
    with authy.services.db.write() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.app_id == authy.app_id)
            .values(next_attempt_at=utcnow())
        )


def delivery(authy: Authy, uuid: str) -> object:
    with authy.services.db.read() as conn:
        return conn.execute(select(deliveries).where(deliveries.c.subject == uuid)).one()


def failures(authy: Authy) -> int:
    """The receiver's consecutive failed attempts, as its circuit breaker counts them."""
    receiver = authy.services.deliveries.receivers().get(app_target(authy.app_id))
    return receiver.failures if receiver else 0


def test_a_decision_delivers_one_signed_callback(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    user = authy.new_user()
    uuid = approved(authy, user)
    assert receiver.received() == []  # queued in the decision's transaction, not sent inline

    assert callbacks.deliver_due() == [None]
    (request,) = receiver.received()
    assert request.path == "/authy/callback"
    body = json.loads(request.body)
    assert body["uuid"] == uuid
    assert body["authy_id"] == user.id
    assert body["status"] == "approved"
    assert body["approval_request"]["transaction"]["hidden_details"] == {"ip": "1.2.3.4"}
    assert signing.verify(
        key=authy.key,
        signature=request.headers["X-Authy-Signature"],
        nonce=request.headers["X-Authy-Signature-Nonce"],
        method="POST",
        url=authy.callback_url or "",
        params=body,
        max_age=60,
    )
    assert callbacks.deliver_due() == []  # delivered once
    assert delivery(authy, uuid).status == "delivered"  # type: ignore[attr-defined]


def test_a_retry_that_succeeds_resets_the_failure_count(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    receiver.server.status = 503
    uuid = approved(authy, authy.new_user())
    assert callbacks.deliver_due() == ["HTTP 503"]
    assert failures(authy) == 1
    assert callbacks.deliver_due() == []  # the retry waits for its time

    receiver.server.status = 200
    make_due(authy)
    assert callbacks.deliver_due() == [None]
    row = delivery(authy, uuid)
    assert row.status == "delivered"  # type: ignore[attr-defined]
    assert row.attempts == 2  # type: ignore[attr-defined]
    assert failures(authy) == 0
    assert len(receiver.received()) == 2


def test_consecutive_failures_never_disable_the_callback(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    """Three failures once disabled the callback and abandoned its queue; now they are retried."""
    receiver.server.status = 500
    uuid = approved(authy, authy.new_user())
    for _ in range(5):
        assert callbacks.deliver_due() == ["HTTP 500"]
        make_due(authy)
    assert delivery(authy, uuid).status == "pending"  # type: ignore[attr-defined]
    assert failures(authy) == 5
    assert authy.services.deliveries.receivers()[app_target(authy.app_id)].state == "failing"
    receiver.server.status = 200
    assert callbacks.deliver_due() == [None]
    assert delivery(authy, uuid).status == "delivered"  # type: ignore[attr-defined]
    assert len(receiver.received()) == 6


def test_a_refused_callback_is_not_retried(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    receiver.server.status = 404
    uuid = approved(authy, authy.new_user())
    assert callbacks.deliver_due() == ["HTTP 404"]
    make_due(authy)
    assert callbacks.deliver_due() == []
    row = delivery(authy, uuid)
    assert row.status == "failed"  # type: ignore[attr-defined]
    assert row.last_error == "HTTP 404"  # type: ignore[attr-defined]


def test_an_unreachable_receiver_is_a_failure_not_a_crash(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/authy/callback"  # nothing listens there
    with authy.services.db.write() as conn:
        conn.execute(update(apps).where(apps.c.id == authy.app_id).values(callback_url=closed))
    uuid = approved(authy, authy.new_user())
    (error,) = callbacks.deliver_due()
    assert error is not None and "Connect" in error
    assert delivery(authy, uuid).status == "pending"  # type: ignore[attr-defined]
    assert failures(authy) == 1


def test_an_app_without_a_callback_queues_nothing(authy: Authy, callbacks: Callbacks) -> None:
    quiet = Authy(authy.http, authy.services, callback_url=None)
    user = quiet.new_user()
    phone = quiet.enrol(user)
    phone.approve(quiet.push(user))
    assert callbacks.deliver_due() == []
