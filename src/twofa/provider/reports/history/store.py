"""The SQL of the console's lists: approval requests and their timelines, messages, audit log.

Lists page backwards by id (``before_id``), newest first: a page costs the same however deep
the operator goes, and rows written meanwhile do not shift it. Masks are applied here, as rows
are read (``masking``), so nothing unmasked reaches a service or a template.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, and_, case, select

from twofa.provider.reports.masking import country, mask_address, mask_digits, mask_url
from twofa.provider.reports.model import (
    AuditFilter,
    AuditRow,
    DeliveryRow,
    MessageFilter,
    MessageRow,
    Page,
    RequestFilter,
    RequestRow,
)
from twofa.storage.database import aware
from twofa.storage.tables import approval_requests, apps, audit_log, deliveries, devices, messages

MAX_PAGE = 500
Row = TypeVar("Row")
EXPORT_BATCH = 1000
# Audit events that name an approval request in ``data.uuid``.
REQUEST_EVENTS = ("request.created", "request.answered", "request.number_mismatch")


def _page(rows: list[Row], limit: int, key: Any) -> Page[Row]:
    more = len(rows) > limit
    shown = rows[:limit]
    return Page(tuple(shown), key(shown[-1]) if more and shown else None)


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


# Approval requests ------------------------------------------------------------------------


def _status(now: datetime) -> Any:
    ar = approval_requests.c
    overdue = and_(ar.status == "pending", ar.expires_at.is_not(None), ar.expires_at <= now)
    return case((overdue, "expired"), else_=ar.status)


def _requests_query(now: datetime) -> Select[Any]:
    ar = approval_requests.c
    return (
        select(
            ar.id,
            ar.uuid,
            ar.app_id,
            apps.c.name.label("app_name"),
            ar.user_id,
            _status(now).label("shown_status"),
            ar.message,
            ar.created_at,
            ar.expires_at,
            ar.processed_at,
            devices.c.name.label("device_name"),
        )
        .join(apps, apps.c.id == ar.app_id)
        .outerjoin(devices, devices.c.id == ar.device_id)
    )


def _request(row: Any) -> RequestRow:
    return RequestRow(
        id=row.id,
        uuid=row.uuid,
        app_id=row.app_id,
        app_name=row.app_name,
        user_id=row.user_id,
        status=row.shown_status,
        message=row.message,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        processed_at=aware(row.processed_at),
        device=row.device_name,
    )


def requests(conn: Connection, wanted: RequestFilter, *, now: datetime) -> Page[RequestRow]:
    ar = approval_requests.c
    query = _requests_query(now)
    if wanted.app_id is not None:
        query = query.where(ar.app_id == wanted.app_id)
    if wanted.user_id is not None:
        query = query.where(ar.user_id == wanted.user_id)
    if wanted.status:
        query = query.where(_status(now) == wanted.status)
    if wanted.since is not None:
        query = query.where(ar.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(ar.created_at < wanted.until)
    if wanted.before_id is not None:
        query = query.where(ar.id < wanted.before_id)
    limit = _limit(wanted.limit)
    rows = conn.execute(query.order_by(ar.id.desc()).limit(limit + 1)).all()
    return _page([_request(r) for r in rows], limit, lambda r: r.id)


def request(conn: Connection, uuid: str, *, now: datetime) -> RequestRow | None:
    row = conn.execute(_requests_query(now).where(approval_requests.c.uuid == uuid)).first()
    return _request(row) if row is not None else None


def deliveries_about(conn: Connection, subject: str) -> list[DeliveryRow]:
    """Every delivery queued about ``subject`` (a request's callbacks and wake-ups)."""
    d = deliveries.c
    rows = conn.execute(select(deliveries).where(d.subject == subject).order_by(d.id)).all()
    return [
        DeliveryRow(
            id=r.id,
            kind=r.kind,
            target=r.target,
            url=mask_url(r.url, keep_path=not r.kind.startswith("webpush")),
            status=r.status,
            attempts=r.attempts,
            last_error=r.last_error,
            created_at=aware(r.created_at),
            next_attempt_at=aware(r.next_attempt_at) if r.status == "pending" else None,
            finished_at=aware(r.finished_at),
        )
        for r in rows
    ]


def request_audit(conn: Connection, *, app_id: int, uuid: str) -> list[AuditRow]:
    """The audit entries about one request: its creation, answer and refused answers."""
    a = audit_log.c
    rows = conn.execute(
        select(audit_log)
        .where(
            a.event.in_(REQUEST_EVENTS),
            a.app_id == app_id,
            a.data["uuid"].as_string() == uuid,
        )
        .order_by(a.id)
    ).all()
    return [_audit(r) for r in rows]


def device_name(conn: Connection, device_uuid: str) -> str | None:
    return conn.execute(select(devices.c.name).where(devices.c.uuid == device_uuid)).scalar()


# Messages ---------------------------------------------------------------------------------


def messages_page(conn: Connection, wanted: MessageFilter) -> Page[MessageRow]:
    m = messages.c
    query = select(messages, apps.c.name.label("app_name")).outerjoin(apps, apps.c.id == m.app_id)
    for column, value in ((m.app_id, wanted.app_id), (m.channel, wanted.channel)):
        if value is not None and value != "":
            query = query.where(column == value)
    if wanted.status:
        query = query.where(m.status == wanted.status)
    if wanted.to:
        query = query.where(m.to == wanted.to)
    if wanted.since is not None:
        query = query.where(m.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(m.created_at < wanted.until)
    if wanted.before_id is not None:
        query = query.where(m.id < wanted.before_id)
    limit = _limit(wanted.limit)
    rows = conn.execute(query.order_by(m.id.desc()).limit(limit + 1)).all()
    shown = [
        MessageRow(
            id=r.id,
            created_at=aware(r.created_at),
            app_name=r.app_name,
            to=mask_address(r.to),
            country=country(r.to),
            channel=r.channel,
            gateway=r.gateway,
            status=r.status,
            body=mask_digits(r.body),
            error=mask_digits(r.error) if r.error else None,
        )
        for r in rows
    ]
    return _page(shown, limit, lambda r: r.id)


# Audit log --------------------------------------------------------------------------------


def _audit(row: Any) -> AuditRow:
    return AuditRow(
        id=row.id,
        seq=row.seq,
        created_at=aware(row.created_at),
        event=row.event,
        app_id=row.app_id,
        subject=row.subject,
        actor=row.actor,
        data=row.data or {},
        hash=row.hash,
        prev_hash=row.prev_hash,
    )


def _audit_query(wanted: AuditFilter) -> Select[Any]:
    a = audit_log.c
    query = select(audit_log)
    event = (wanted.event or "").strip()
    if event.endswith(("*", ".")):
        prefix = event.rstrip("*")
        query = query.where(a.event.startswith(prefix, autoescape=True))
    elif event:
        query = query.where(a.event == event)
    subject = (wanted.subject or "").strip()
    if subject.endswith("*"):
        query = query.where(a.subject.startswith(subject.rstrip("*"), autoescape=True))
    elif subject:
        query = query.where(a.subject == subject)
    actor = (wanted.actor or "").strip()
    if actor.endswith("*"):
        query = query.where(a.actor.startswith(actor.rstrip("*"), autoescape=True))
    elif actor:
        query = query.where(a.actor == actor)
    if wanted.app_id is not None:
        query = query.where(a.app_id == wanted.app_id)
    if wanted.since is not None:
        query = query.where(a.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(a.created_at < wanted.until)
    return query


def audit_page(conn: Connection, wanted: AuditFilter) -> Page[AuditRow]:
    query = _audit_query(wanted)
    if wanted.before_id is not None:
        query = query.where(audit_log.c.id < wanted.before_id)
    limit = _limit(wanted.limit)
    rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit + 1)).all()
    return _page([_audit(r) for r in rows], limit, lambda r: r.id)


def audit_batch(
    conn: Connection, wanted: AuditFilter, *, after: int, limit: int = EXPORT_BATCH
) -> list[AuditRow]:
    """Matching entries with an id above ``after``, oldest first (the CSV export's batches)."""
    query = _audit_query(wanted).where(audit_log.c.id > after)
    rows = conn.execute(query.order_by(audit_log.c.id).limit(limit)).all()
    return [_audit(r) for r in rows]
