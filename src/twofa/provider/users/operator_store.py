"""SQL behind the operator console's view of users: search across applications, every device
of a phone (revoked ones too), a user's latest codes and requests. Apart from ``store.py``,
which holds what the API's paths run."""

from __future__ import annotations

from sqlalchemy import Connection, func, or_, select

from twofa.provider.users.model import CodeRecord, DeviceRecord, FoundUser, RequestRecord
from twofa.provider.users.store import user_from_row
from twofa.storage.database import aware
from twofa.storage.tables import approval_requests, apps, devices, sent_codes, users


def search(
    conn: Connection,
    *,
    authy_id: int | None,
    phone_digits: str | None,
    email: str | None,
    limit: int,
) -> list[FoundUser]:
    """Users of every application by Authy id, by phone (E.164 digits, a suffix will do) or
    by e-mail address (whole, any case); ``phone_digits`` holds digits only."""
    which = []
    if authy_id is not None:
        which.append(users.c.id == authy_id)
    if phone_digits:
        which.append(users.c.phone_e164.like(f"%{phone_digits}"))
    if email:
        which.append(func.lower(users.c.email) == email.lower())
    if not which:
        return []
    rows = conn.execute(
        select(users, apps.c.name.label("app_name"))
        .join(apps, apps.c.id == users.c.app_id)
        .where(or_(*which))
        .order_by(users.c.id)
        .limit(limit)
    ).all()
    return [FoundUser(user_from_row(r), r.app_name) for r in rows]


def phone_devices(conn: Connection, phone_e164: str) -> list[DeviceRecord]:
    rows = conn.execute(
        select(devices).where(devices.c.phone_e164 == phone_e164).order_by(devices.c.id)
    ).all()
    return [
        DeviceRecord(
            r.uuid,
            r.name,
            r.os_type,
            "revoked" if r.revoked_at is not None else r.state,
            aware(r.created_at),
            aware(r.last_seen_at),
            aware(r.revoked_at),
        )
        for r in rows
    ]


def recent_codes(conn: Connection, user_id: int, limit: int) -> list[CodeRecord]:
    rows = conn.execute(
        select(sent_codes.c.channel, sent_codes.c.created_at, sent_codes.c.expires_at)
        .add_columns(sent_codes.c.used_at)
        .where(sent_codes.c.user_id == user_id)
        .order_by(sent_codes.c.id.desc())
        .limit(limit)
    ).all()
    return [
        CodeRecord(r.channel, aware(r.created_at), aware(r.expires_at), aware(r.used_at))
        for r in rows
    ]


def recent_requests(conn: Connection, user_id: int, limit: int) -> list[RequestRecord]:
    rows = conn.execute(
        select(
            approval_requests.c.uuid,
            approval_requests.c.message,
            approval_requests.c.status,
            approval_requests.c.created_at,
        )
        .where(approval_requests.c.user_id == user_id)
        .order_by(approval_requests.c.id.desc())
        .limit(limit)
    ).all()
    return [RequestRecord(r.uuid, r.message, r.status, aware(r.created_at)) for r in rows]
