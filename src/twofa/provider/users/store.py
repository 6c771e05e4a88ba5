"""SQL on the ``users`` table (and the user's app TOTP secret), returning ``User`` records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from twofa.errors import UserNotFound
from twofa.provider.phone_numbers import Phone
from twofa.provider.users.model import (
    AppAccount,
    CodeRecord,
    Device,
    DeviceRecord,
    FoundUser,
    RequestRecord,
    User,
    parse_authy_id,
)
from twofa.storage.database import aware
from twofa.storage.tables import approval_requests, apps, devices, sent_codes, totp_secrets, users


def user_from_row(row: Any) -> User:
    """A ``User`` from any row carrying the ``users`` columns under their own names."""
    return User(
        id=row.id,
        public_id=row.public_id,
        app_id=row.app_id,
        email=row.email,
        phone=Phone(row.country_code, row.phone_e164),
        confirmed=row.confirmed,
        created_at=aware(row.created_at),
    )


def load_user(conn: Connection, app_id: int, raw_id: str | int) -> User:
    """The application's user ``raw_id``; 404/60026 otherwise (other apps' users included)."""
    authy_id = parse_authy_id(raw_id)
    if authy_id is None:
        raise UserNotFound()
    row = conn.execute(
        select(users).where(users.c.id == authy_id, users.c.app_id == app_id)
    ).first()
    if row is None:
        raise UserNotFound()
    return user_from_row(row)


def by_app_phone(conn: Connection, app_id: int, phone_e164: str) -> User | None:
    row = conn.execute(
        select(users).where(users.c.app_id == app_id, users.c.phone_e164 == phone_e164)
    ).first()
    return user_from_row(row) if row is not None else None


def insert_user(
    conn: Connection,
    *,
    app_id: int,
    public_id: str,
    email: str,
    phone: Phone,
    secret_enc: str,
    digits: int,
    step: int,
    now: datetime,
) -> User:
    """A new, unconfirmed user with the TOTP secret of their app account."""
    row = conn.execute(
        insert(users)
        .values(
            public_id=public_id,
            app_id=app_id,
            email=email,
            country_code=phone.country_code,
            phone_e164=phone.e164,
            confirmed=False,
            created_at=now,
        )
        .returning(*users.c)
    ).one()
    conn.execute(
        insert(totp_secrets).values(
            user_id=row.id,
            kind="app",
            secret_enc=secret_enc,
            digits=digits,
            step=step,
            last_step=0,
            created_at=now,
        )
    )
    return user_from_row(row)


def delete_user(conn: Connection, user_id: int) -> None:
    conn.execute(delete(users).where(users.c.id == user_id))


def set_email(conn: Connection, user_id: int, email: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(email=email))


def active_devices(conn: Connection, phone_e164: str) -> list[Device]:
    """The phone's devices that are not revoked (nor waiting for approval), oldest first."""
    rows = conn.execute(
        select(devices)
        .where(
            devices.c.phone_e164 == phone_e164,
            devices.c.revoked_at.is_(None),
            devices.c.state == "active",
        )
        .order_by(devices.c.id)
    ).all()
    return [
        Device(r.id, r.uuid, r.name, r.os_type, aware(r.created_at), aware(r.last_seen_at))
        for r in rows
    ]


def app_accounts(conn: Connection, phone_e164: str) -> list[AppAccount]:
    """The app TOTP account of every application's user with this phone, oldest user first."""
    rows = conn.execute(
        select(
            users.c.id,
            apps.c.name,
            totp_secrets.c.secret_enc,
            totp_secrets.c.digits,
            totp_secrets.c.step,
        )
        .join(apps, apps.c.id == users.c.app_id)
        .join(
            totp_secrets,
            (totp_secrets.c.user_id == users.c.id) & (totp_secrets.c.kind == "app"),
        )
        .where(users.c.phone_e164 == phone_e164)
        .order_by(users.c.id)
    ).all()
    return [AppAccount(r.id, r.name, r.secret_enc, r.digits, r.step) for r in rows]


# What an operator looks up ------------------------------------------------------------------


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
