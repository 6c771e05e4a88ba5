"""The queue's SQL: enqueue, lease, record, and the per-target circuit breaker's row.

Every function takes the caller's connection, so a delivery is enqueued in the transaction of
the change that causes it and an attempt's record, its breaker update and its audit entry
commit together. Leases make delivery safe with any number of provider processes: a worker
claims due rows with one conditional UPDATE (``lease_until`` in the past or empty), so each
row is sent by one worker at a time, and a worker that dies loses its lease to another.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from twofa.provider.deliveries.model import CLOSED, DELIVERED, FAILED, PAUSED, PENDING, Delivery
from twofa.storage.database import aware
from twofa.storage.tables import When, apps, deliveries, delivery_circuits


@dataclass(frozen=True, slots=True)
class Circuit:
    """A receiver's breaker: ``closed`` (sending) or ``paused`` (probed now and then)."""

    target: str
    app_id: int | None
    state: str
    failures: int
    failing_since: datetime | None
    paused_at: datetime | None
    probe_at: datetime | None
    last_error: str | None


def enqueue(
    conn: Connection,
    *,
    kind: str,
    target: str,
    subject: str,
    url: str,
    body: dict[str, Any],
    now: datetime,
    app_id: int | None = None,
) -> None:
    """Queue one delivery, due now, in ``conn``'s transaction."""
    conn.execute(
        insert(deliveries).values(
            kind=kind,
            app_id=app_id,
            target=target,
            subject=subject[:200],
            url=url,
            body=body,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            window_start=now,
            created_at=now,
        )
    )


def enqueue_follow_ups(
    conn: Connection,
    *,
    kind: str,
    of_kind: str,
    subject: str,
    now: datetime,
    only: ColumnElement[bool] | None = None,
) -> int:
    """Queue a ``kind`` delivery to every receiver that was queued an ``of_kind`` one about
    ``subject`` (and passes ``only``, a condition on that row), with the same body; how many.
    One INSERT … SELECT: no read round trip."""
    source = select(
        literal(kind),
        deliveries.c.app_id,
        deliveries.c.target,
        deliveries.c.subject,
        deliveries.c.url,
        deliveries.c.body,
        literal(PENDING),
        literal(0),
        literal(now, When),
        literal(now, When),
        literal(now, When),
    ).where(deliveries.c.kind == of_kind, deliveries.c.subject == subject[:200])
    if only is not None:
        source = source.where(only)
    columns = [
        "kind",
        "app_id",
        "target",
        "subject",
        "url",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "window_start",
        "created_at",
    ]
    return int(conn.execute(insert(deliveries).from_select(columns, source)).rowcount)


def cancel(
    conn: Connection,
    *,
    kinds: Collection[str],
    only: ColumnElement[bool],
    reason: str,
    now: datetime,
) -> int:
    """Give up every pending delivery of ``kinds`` that passes ``only``, in ``conn``'s
    transaction (a revoked device's wake-ups); how many. Each is recorded as failed with
    ``reason``."""
    return int(
        conn.execute(
            update(deliveries)
            .where(deliveries.c.status == PENDING, deliveries.c.kind.in_(kinds), only)
            .values(status=FAILED, finished_at=now, lease_until=None, last_error=reason)
        ).rowcount
    )


def _leased(conn: Connection, ids: list[int], worker: str, probe: bool = False) -> list[Delivery]:
    rows = conn.execute(
        select(deliveries, apps.c.api_key_salt)
        .outerjoin(apps, apps.c.id == deliveries.c.app_id)
        .where(deliveries.c.id.in_(ids), deliveries.c.leased_by == worker)
        .order_by(deliveries.c.id)
    ).all()
    return [
        Delivery(
            id=r.id,
            kind=r.kind,
            app_id=r.app_id,
            target=r.target,
            subject=r.subject,
            url=r.url,
            body=r.body,
            attempts=r.attempts,
            created_at=aware(r.created_at),
            window_start=aware(r.window_start),
            app_key_salt=r.api_key_salt,
            probe=probe,
        )
        for r in rows
    ]


def _lease(conn: Connection, ids: list[int], now: datetime, until: datetime, worker: str) -> None:
    conn.execute(
        update(deliveries)
        .where(
            deliveries.c.id.in_(ids),
            deliveries.c.lease_until.is_(None) | (deliveries.c.lease_until < now),
        )
        .values(lease_until=until, leased_by=worker)
    )


def claim(
    conn: Connection,
    *,
    worker: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    kinds: Collection[str],
) -> list[Delivery]:
    """Lease up to ``limit`` due deliveries of ``kinds`` whose receiver is not paused.

    A process claims only the kinds it can send, so during a rolling upgrade an older process
    leaves a newer kind to the processes that know it.
    """
    paused = exists().where(
        delivery_circuits.c.target == deliveries.c.target, delivery_circuits.c.state == PAUSED
    )
    due = list(
        conn.execute(
            select(deliveries.c.id)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.next_attempt_at <= now,
                deliveries.c.lease_until.is_(None) | (deliveries.c.lease_until < now),
                deliveries.c.kind.in_(kinds),
                ~paused,
            )
            .order_by(deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=deliveries)
        ).scalars()
    )
    if not due:
        return []
    _lease(conn, due, now, lease_until, worker)
    return _leased(conn, due, worker)


def claim_probes(
    conn: Connection,
    *,
    worker: str,
    now: datetime,
    lease_until: datetime,
    interval: float,
    kinds: Collection[str],
) -> tuple[list[Delivery], list[str], int]:
    """Lease one delivery per paused receiver whose probe is due.

    Returns the probes, the targets resumed because nothing was left to send, and how many
    receivers are paused. The conditional UPDATE of ``probe_at`` lets one worker win each probe.
    """
    paused = conn.execute(
        select(delivery_circuits.c.target, delivery_circuits.c.probe_at).where(
            delivery_circuits.c.state == PAUSED
        )
    ).all()
    probes: list[Delivery] = []
    resumed: list[str] = []
    for target, probe_at in paused:
        if probe_at is not None and aware(probe_at) > now:
            continue
        won = conn.execute(
            update(delivery_circuits)
            .where(
                delivery_circuits.c.target == target,
                delivery_circuits.c.state == PAUSED,
                delivery_circuits.c.probe_at.is_(None) | (delivery_circuits.c.probe_at <= now),
            )
            .values(probe_at=now + timedelta(seconds=interval), updated_at=now)
        ).rowcount
        if not won:
            continue
        oldest = conn.execute(
            select(deliveries.c.id)
            .where(
                deliveries.c.target == target,
                deliveries.c.status == PENDING,
                deliveries.c.lease_until.is_(None) | (deliveries.c.lease_until < now),
                deliveries.c.kind.in_(kinds),
            )
            .order_by(deliveries.c.id)
            .limit(1)
        ).scalar()
        if oldest is None:
            resume(conn, target, now)
            resumed.append(target)
            continue
        _lease(conn, [oldest], now, lease_until, worker)
        probes.extend(_leased(conn, [oldest], worker, probe=True))
    return probes, resumed, len(paused) - len(resumed)


def delivered(conn: Connection, delivery: Delivery, now: datetime) -> None:
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery.id)
        .values(
            status=DELIVERED,
            finished_at=now,
            attempts=delivery.attempts + 1,
            lease_until=None,
            last_error=None,
        )
    )


def failed(
    conn: Connection,
    delivery: Delivery,
    now: datetime,
    error: str,
    *,
    retry_at: datetime | None,
) -> None:
    """Count a failed attempt: retry at ``retry_at``, or give up when it is None.

    A delivery cancelled while this attempt was in flight (``cancel``) stays cancelled.
    """
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery.id, deliveries.c.status == PENDING)
        .values(
            status=PENDING if retry_at is not None else FAILED,
            attempts=delivery.attempts + 1,
            next_attempt_at=retry_at or now,
            finished_at=None if retry_at is not None else now,
            lease_until=None,
            last_error=error[:1000],
        )
    )


def circuit(conn: Connection, target: str) -> Circuit | None:
    row = conn.execute(
        select(delivery_circuits).where(delivery_circuits.c.target == target)
    ).first()
    return _circuit(row) if row is not None else None


def _circuit(row: Any) -> Circuit:
    return Circuit(
        target=row.target,
        app_id=row.app_id,
        state=row.state,
        failures=row.failures,
        failing_since=aware(row.failing_since),
        paused_at=aware(row.paused_at),
        probe_at=aware(row.probe_at),
        last_error=row.last_error,
    )


def circuits(conn: Connection) -> dict[str, Circuit]:
    """Every receiver that is failing or paused, by target."""
    return {r.target: _circuit(r) for r in conn.execute(select(delivery_circuits))}


def count_failure(
    conn: Connection, *, target: str, app_id: int | None, now: datetime, error: str
) -> Circuit:
    """One more consecutive failed attempt for ``target``; the breaker row after it."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(delivery_circuits).values(
        target=target,
        app_id=app_id,
        state=CLOSED,
        failures=1,
        failing_since=now,
        last_error=error[:1000],
        updated_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[delivery_circuits.c.target],
        set_={
            "failures": delivery_circuits.c.failures + 1,
            "failing_since": func.coalesce(delivery_circuits.c.failing_since, now),
            "last_error": error[:1000],
            "updated_at": now,
        },
    ).returning(*delivery_circuits.c)
    return _circuit(conn.execute(statement).one())


def pause(conn: Connection, target: str, now: datetime, probe_in: float) -> bool:
    """Pause a closed breaker; False when another worker paused it first."""
    return bool(
        conn.execute(
            update(delivery_circuits)
            .where(delivery_circuits.c.target == target, delivery_circuits.c.state == CLOSED)
            .values(
                state=PAUSED,
                paused_at=now,
                probe_at=now + timedelta(seconds=probe_in),
                updated_at=now,
            )
        ).rowcount
    )


def resume(conn: Connection, target: str, now: datetime) -> None:
    """Close the breaker and make everything the receiver missed due now."""
    conn.execute(delete(delivery_circuits).where(delivery_circuits.c.target == target))
    conn.execute(
        update(deliveries)
        .where(deliveries.c.target == target, deliveries.c.status == PENDING)
        .values(next_attempt_at=now)
    )


def healthy(conn: Connection, target: str, now: datetime) -> bool:
    """The receiver answered: forget its failures. True when that resumed a paused receiver."""
    state = conn.execute(
        select(delivery_circuits.c.state).where(delivery_circuits.c.target == target)
    ).scalar()
    if state is None:
        return False
    resume(conn, target, now)
    return bool(state == PAUSED)


def requeue(conn: Connection, *, target: str, now: datetime) -> int:
    """Send again everything not delivered to ``target``, now, with a fresh retry window."""
    count = conn.execute(
        update(deliveries)
        .where(deliveries.c.target == target, deliveries.c.status.in_((PENDING, FAILED)))
        .values(
            status=PENDING,
            next_attempt_at=now,
            window_start=now,
            finished_at=None,
        )
    ).rowcount
    conn.execute(delete(delivery_circuits).where(delivery_circuits.c.target == target))
    return int(count)


def requeue_one(conn: Connection, *, delivery_id: int, now: datetime) -> str | None:
    """Send one undelivered delivery again now, with a fresh retry window; its target, or
    None when there is no such delivery or it was delivered."""
    target = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status.in_((PENDING, FAILED)))
        .values(status=PENDING, next_attempt_at=now, window_start=now, finished_at=None)
        .returning(deliveries.c.target)
    ).scalar()
    return None if target is None else str(target)


def retarget(conn: Connection, *, target: str, kind: str, url: str | None, now: datetime) -> None:
    """Point queued deliveries at a receiver's new URL; give them up when it has none."""
    waiting = (deliveries.c.target == target) & (deliveries.c.kind == kind)
    waiting &= deliveries.c.status == PENDING
    if url is None:
        conn.execute(
            update(deliveries)
            .where(waiting)
            .values(status=FAILED, finished_at=now, last_error="callback URL removed")
        )
        conn.execute(delete(delivery_circuits).where(delivery_circuits.c.target == target))
        return
    conn.execute(update(deliveries).where(waiting).values(url=url))


def pending_by_target(conn: Connection) -> dict[str, int]:
    """How many deliveries wait, per target."""
    rows = conn.execute(
        select(deliveries.c.target, func.count())
        .where(deliveries.c.status == PENDING)
        .group_by(deliveries.c.target)
    ).all()
    return {target: int(count) for target, count in rows}
