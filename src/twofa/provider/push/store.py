"""Every query on ``approval_requests``.

Readers of a request almost always need its application and its user too (to render it, to
check the phone it is addressed to, to build the callback), so the usual load is one joined
SELECT that returns all three (``Addressed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, insert, or_, select, update

from twofa.provider.apps.model import App
from twofa.provider.push.model import Addressed, ApprovalRequest, Decision, NewRequest
from twofa.provider.users.store import user_from_row
from twofa.storage.database import aware
from twofa.storage.tables import approval_requests, apps, users

_APP = "app__"
_USER = "user__"
_APP_COLUMNS = [c.label(_APP + c.name) for c in apps.c if c.name in App.__dataclass_fields__]
_USER_COLUMNS = [c.label(_USER + c.name) for c in users.c]


class _Prefixed:
    """The columns of one joined table in a row, read by their own names."""

    __slots__ = ("_mapping", "_prefix")

    def __init__(self, row: Any, prefix: str) -> None:
        self._mapping = row._mapping
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[self._prefix + name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _addressed_query() -> Select[Any]:
    return (
        select(approval_requests, *_APP_COLUMNS, *_USER_COLUMNS)
        .join(apps, apps.c.id == approval_requests.c.app_id)
        .join(users, users.c.id == approval_requests.c.user_id)
    )


def _addressed(row: Any) -> Addressed:
    return (
        ApprovalRequest.from_row(row),
        App.from_row(_Prefixed(row, _APP)),
        user_from_row(_Prefixed(row, _USER)),
    )


def _pending_at(now: datetime) -> Any:
    """Still pending and not past its deadline at ``now``."""
    return (approval_requests.c.status == "pending") & or_(
        approval_requests.c.expires_at.is_(None), approval_requests.c.expires_at > now
    )


@dataclass(frozen=True, slots=True)
class Ended:
    """A request's end as a device's stream replays it."""

    uuid: str
    status: str
    processed_at: datetime


@dataclass(frozen=True, slots=True)
class Due:
    """A pending request past its deadline, with the phone its devices listen on."""

    id: int
    uuid: str
    phone_e164: str


def insert_request(
    conn: Connection,
    *,
    uuid: str,
    public_id: str,
    app_id: int,
    user_id: int,
    new: NewRequest,
    ttl: int,
    number: int | None,
    now: datetime,
    expires_at: datetime | None,
) -> ApprovalRequest:
    row = conn.execute(
        insert(approval_requests)
        .values(
            uuid=uuid,
            public_id=public_id,
            app_id=app_id,
            user_id=user_id,
            message=new.message,
            details=new.details,
            hidden_details=new.hidden_details,
            logos=new.logos,
            seconds_to_expire=ttl,
            status="pending",
            number=number,
            created_at=now,
            expires_at=expires_at,
            updated_at=now,
        )
        .returning(*approval_requests.c)
    ).one()
    return ApprovalRequest.from_row(row)


def load(conn: Connection, uuid: str, *, app_id: int | None = None) -> Addressed | None:
    """The request with its application and user, in one query; only ``app_id``'s if given."""
    query = _addressed_query().where(approval_requests.c.uuid == uuid)
    if app_id is not None:
        query = query.where(approval_requests.c.app_id == app_id)
    row = conn.execute(query).first()
    return _addressed(row) if row is not None else None


def by_id(conn: Connection, request_id: int) -> ApprovalRequest:
    return ApprovalRequest.from_row(
        conn.execute(select(approval_requests).where(approval_requests.c.id == request_id)).one()
    )


def pending_for_phone(conn: Connection, phone_e164: str, now: datetime) -> list[Addressed]:
    """Unexpired pending requests of every application for this phone, oldest first."""
    rows = conn.execute(
        _addressed_query()
        .where(users.c.phone_e164 == phone_e164, _pending_at(now))
        .order_by(approval_requests.c.id)
    ).all()
    return [_addressed(r) for r in rows]


def history_for_phone(conn: Connection, phone_e164: str, limit: int) -> list[Addressed]:
    """The latest answered or expired requests of this phone, newest first."""
    rows = conn.execute(
        _addressed_query()
        .where(users.c.phone_e164 == phone_e164, approval_requests.c.status != "pending")
        .order_by(approval_requests.c.processed_at.desc(), approval_requests.c.id.desc())
        .limit(limit)
    ).all()
    return [_addressed(r) for r in rows]


def ended_for_phone(conn: Connection, phone_e164: str, since: datetime, limit: int) -> list[Ended]:
    """Requests of this phone that ended after ``since``, in the order they ended."""
    rows = conn.execute(
        select(
            approval_requests.c.uuid, approval_requests.c.status, approval_requests.c.processed_at
        )
        .join(users, users.c.id == approval_requests.c.user_id)
        .where(
            users.c.phone_e164 == phone_e164,
            approval_requests.c.status != "pending",
            approval_requests.c.processed_at > since,
        )
        .order_by(approval_requests.c.processed_at)
        .limit(limit)
    ).all()
    return [Ended(r.uuid, r.status, aware(r.processed_at)) for r in rows]


def changed_since(conn: Connection, moment: datetime) -> list[Addressed]:
    """Requests created or finished at or after ``moment``, in creation order."""
    rows = conn.execute(
        _addressed_query()
        .where(
            or_(
                approval_requests.c.created_at >= moment,
                approval_requests.c.processed_at >= moment,
            )
        )
        .order_by(approval_requests.c.id)
    ).all()
    return [_addressed(r) for r in rows]


def due_for_expiry(conn: Connection, now: datetime, limit: int) -> list[Due]:
    rows = conn.execute(
        select(approval_requests.c.id, approval_requests.c.uuid, users.c.phone_e164)
        .join(users, users.c.id == approval_requests.c.user_id)
        .where(
            approval_requests.c.status == "pending",
            approval_requests.c.expires_at.is_not(None),
            approval_requests.c.expires_at <= now,
        )
        .limit(limit)
    ).all()
    return [Due(r.id, r.uuid, r.phone_e164) for r in rows]


def expire(conn: Connection, request_id: int, now: datetime) -> bool:
    """Turn a pending request expired; False when it had already ended."""
    won = conn.execute(
        update(approval_requests)
        .where(approval_requests.c.id == request_id, approval_requests.c.status == "pending")
        .values(status="expired", processed_at=now, updated_at=now)
    ).rowcount
    return bool(won)


def record_decision(
    conn: Connection, request_id: int, decision: Decision, now: datetime
) -> ApprovalRequest | None:
    """Record the answer on a pending, unexpired request (one conditional UPDATE, so two
    devices answering at once cannot both win); the decided request, or None if it was not."""
    row = conn.execute(
        update(approval_requests)
        .where(approval_requests.c.id == request_id, _pending_at(now))
        .values(
            status=decision.status,
            processed_at=now,
            updated_at=now,
            device_id=decision.device_id,
            device_signature=decision.signature,
            device_signing_time=decision.signing_time,
        )
        .returning(*approval_requests.c)
    ).first()
    return ApprovalRequest.from_row(row) if row is not None else None
