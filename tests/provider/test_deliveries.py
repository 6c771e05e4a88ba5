"""The delivery queue's policy in-process: back-off, retry window, breaker, probes, Retry-After.

Time moves by rewriting the rows (a retry made due, a failure made old), so each rule is seen
without waiting for it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.provider.conftest import Authy, Callbacks, provider_settings
from tests.provider.test_callbacks import approved, delivery, make_due
from tests.servers import RecordedPath
from twofa.provider.deliveries import policy, store
from twofa.provider.deliveries.authy import app_target
from twofa.provider.deliveries.model import Outcome
from twofa.settings import Settings
from twofa.storage.database import utcnow
from twofa.storage.tables import deliveries, delivery_circuits


@pytest.fixture
def settings(tmp_path: Path, migrated: Path) -> Settings:
    return provider_settings(
        tmp_path,
        migrated,
        delivery_pause_after_attempts=3,
        delivery_pause_after_seconds=60,
        delivery_probe_interval=30,
    )


def receiver_state(authy: Authy) -> Any:
    return authy.services.deliveries.receivers().get(app_target(authy.app_id))


def age_failures(authy: Authy, seconds: float) -> None:
    """The receiver has been failing for ``seconds`` longer than it has."""
    since = receiver_state(authy).failing_since
    with authy.services.db.write() as conn:
        conn.execute(
            update(delivery_circuits)
            .where(delivery_circuits.c.target == app_target(authy.app_id))
            .values(failing_since=since - timedelta(seconds=seconds))
        )


def make_probe_due(authy: Authy) -> None:
    with authy.services.db.write() as conn:
        conn.execute(
            update(delivery_circuits)
            .where(delivery_circuits.c.target == app_target(authy.app_id))
            .values(probe_at=utcnow())
        )


def test_backoff_doubles_with_jitter_up_to_its_ceiling(settings: Settings) -> None:
    tuned = settings.model_copy(
        update={"delivery_retry_base": 10.0, "delivery_retry_max_delay": 100.0}
    )
    for attempts, full in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 80.0), (5, 100.0), (60, 100.0)]:
        delays = [policy.backoff(tuned, attempts) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays), (attempts, delays)
        assert len(set(delays)) > 1  # jittered, so receivers are not met all at once


def test_the_default_policy_retries_for_at_least_a_day(settings: Settings) -> None:
    defaults = Settings(env="test", secret_key="k" * 40)
    assert defaults.delivery_retry_window >= 86400
    assert defaults.delivery_pause_after_seconds >= 60
    assert defaults.delivery_pause_after_attempts > 3


def test_retry_after_is_honoured(settings: Settings) -> None:
    now = utcnow()
    outcome = Outcome("retry", error="HTTP 429", retry_after=120, reached=False)
    when = policy.retry_at(settings, attempts=1, window_start=now, now=now, outcome=outcome)
    assert when is not None and when - now >= timedelta(seconds=120)


def test_failures_pause_only_when_long_and_many(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    receiver.server.status = 503
    first = approved(authy, authy.new_user())
    second = approved(authy, authy.new_user())
    for _ in range(3):  # six failed attempts, all within a minute: still failing, not paused
        assert callbacks.deliver_due() == ["HTTP 503", "HTTP 503"]
        make_due(authy)
    assert receiver_state(authy).state == "failing"

    age_failures(authy, 61)  # failing for over a minute, and more than three attempts
    assert callbacks.deliver_due() == ["HTTP 503", "HTTP 503"]
    state = receiver_state(authy)
    assert state.state == "paused" and state.pending == 2
    make_due(authy)
    assert callbacks.deliver_due() == []  # paused: nothing is sent until the probe is due

    make_probe_due(authy)
    assert callbacks.deliver_due() == ["HTTP 503"]  # one probe, the oldest delivery
    assert json_uuid(receiver.received()[-1].body) == first
    assert receiver_state(authy).state == "paused"

    receiver.server.status = 200
    make_probe_due(authy)
    assert callbacks.deliver_due() == [None]  # the probe answers: resumed
    assert receiver_state(authy).state == "ok"
    assert callbacks.deliver_due() == [None]  # and the rest is due at once
    assert delivery(authy, second).status == "delivered"  # type: ignore[attr-defined]
    events = [e.event for e in authy.services.audit.entries(limit=50)]
    assert events.count("delivery.paused") == 1 and events.count("delivery.resumed") == 1


def json_uuid(body: bytes) -> str:
    import json

    return str(json.loads(body)["uuid"])


def test_a_delivery_gives_up_after_its_retry_window(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    receiver.server.status = 500
    uuid = approved(authy, authy.new_user())
    window = authy.services.settings.delivery_retry_window
    with authy.services.db.write() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.subject == uuid)
            .values(window_start=utcnow() - timedelta(seconds=window + 1))
        )
    assert callbacks.deliver_due() == ["HTTP 500"]
    row = delivery(authy, uuid)
    assert row.status == "failed" and row.finished_at is not None  # type: ignore[attr-defined]


def test_a_paused_receivers_deliveries_outlive_their_window(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    receiver.server.status = 503
    uuid = approved(authy, authy.new_user())
    for _ in range(3):
        callbacks.deliver_due()
        make_due(authy)
    age_failures(authy, 61)
    callbacks.deliver_due()
    assert receiver_state(authy).state == "paused"
    with authy.services.db.write() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.subject == uuid)
            .values(window_start=utcnow() - timedelta(days=30))
        )
    make_probe_due(authy)
    assert callbacks.deliver_due() == ["HTTP 503"]
    assert delivery(authy, uuid).status == "pending"  # type: ignore[attr-defined]


def test_a_refusal_resets_the_failure_count(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    """A 4xx answer proves the receiver is up: it is not an outage."""
    receiver.server.status = 503
    approved(authy, authy.new_user())
    callbacks.deliver_due()
    assert receiver_state(authy).failures == 1
    receiver.server.status = 400
    make_due(authy)
    assert callbacks.deliver_due() == ["HTTP 400"]
    assert receiver_state(authy) is None


def test_a_new_callback_url_carries_the_queue_along(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    receiver.server.status = 503
    uuid = approved(authy, authy.new_user())
    callbacks.deliver_due()
    moved = receiver.url + "/moved"
    authy.services.apps.set_callback(authy.app_id, moved)
    receiver.server.status = 200
    make_due(authy)
    assert callbacks.deliver_due() == [None]
    assert receiver.received()[-1].path == "/moved"
    authy.services.apps.set_callback(authy.app_id, None)
    other = approved(authy, authy.new_user())
    assert callbacks.deliver_due() == []
    with authy.services.db.read() as conn:
        subjects = conn.execute(
            select(deliveries.c.subject).where(deliveries.c.app_id == authy.app_id)
        ).scalars()
        assert set(subjects) == {uuid}  # no callback URL, nothing queued for ``other``
    assert other


def test_a_kind_without_a_sender_here_is_left_to_processes_that_know_it(
    authy: Authy, callbacks: Callbacks
) -> None:
    with authy.services.db.write() as conn:
        store.enqueue(
            conn,
            kind="not_known_here",
            target="push:example",
            subject="device:1",
            url="https://push.example/endpoint",
            body={},
            now=utcnow(),
        )
    assert callbacks.deliver_due() == []
    with authy.services.db.read() as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.kind == "not_known_here")).one()
    assert row.status == "pending" and row.lease_until is None and row.attempts == 0


def test_a_delivery_that_cannot_be_signed_fails_alone(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath, caplog: pytest.LogCaptureFixture
) -> None:
    """No application, no key: that row is given up, and the rest of the round still goes."""
    with authy.services.db.write() as conn:
        store.enqueue(
            conn,
            kind="authy_callback",
            target="app:orphan",
            subject="orphan",
            url=receiver.url + "/authy/callback",
            body={},
            now=utcnow(),
        )
    uuid = approved(authy, authy.new_user())
    assert sorted(callbacks.deliver_due(), key=str) == [None, "cannot prepare: ValueError"]
    assert delivery(authy, uuid).status == "delivered"  # type: ignore[attr-defined]
    with authy.services.db.read() as conn:
        orphan = conn.execute(select(deliveries).where(deliveries.c.subject == "orphan")).one()
    assert orphan.status == "failed"
    assert len(receiver.received()) == 1


def test_a_failure_sent_before_the_receiver_came_back_is_retried_at_once(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    """Two callbacks in flight: the first meets the outage, the second the recovered receiver
    and is recorded first. The first's failure is older than that answer: it is sent again at
    once, not backed off, and the receiver's breaker does not count it."""
    first, second = approved(authy, authy.new_user()), approved(authy, authy.new_user())
    dispatcher = authy.services.deliveries
    batch = {d.subject: d for d in dispatcher.claim()}
    sent_at = utcnow()

    def attempt(uuid: str) -> Outcome:
        return callbacks.attempt(batch[uuid])

    receiver.server.status = 503
    down = attempt(first)
    receiver.server.status = 200
    dispatcher.record(batch[second], attempt(second), sent_at=sent_at)
    dispatcher.record(batch[first], down, sent_at=sent_at)

    row = delivery(authy, first)
    assert down.result == "retry" and not down.reached
    assert row.status == "pending" and row.attempts == 1  # type: ignore[attr-defined]
    assert row.next_attempt_at <= utcnow().replace(tzinfo=None)  # type: ignore[attr-defined]
    assert receiver_state(authy).state == "ok" and receiver_state(authy).failures == 0
    assert callbacks.deliver_due() == [None]
    assert delivery(authy, first).status == "delivered"  # type: ignore[attr-defined]


def test_a_failure_sent_after_the_last_answer_is_backed_off(
    authy: Authy, callbacks: Callbacks, receiver: RecordedPath
) -> None:
    """The same failure, sent after the receiver's last answer, is news: backed off, counted."""
    first, second = approved(authy, authy.new_user()), approved(authy, authy.new_user())
    dispatcher = authy.services.deliveries
    batch = {d.subject: d for d in dispatcher.claim()}

    def attempt(uuid: str) -> Outcome:
        return callbacks.attempt(batch[uuid])

    dispatcher.record(batch[second], attempt(second), sent_at=utcnow())
    receiver.server.status = 503
    sent_at = utcnow()
    dispatcher.record(batch[first], attempt(first), sent_at=sent_at)

    row = delivery(authy, first)
    assert row.status == "pending"  # type: ignore[attr-defined]
    assert row.next_attempt_at > utcnow().replace(tzinfo=None)  # type: ignore[attr-defined]
    assert receiver_state(authy).failures == 1
