"""Register, read and delete users; their devices decide ``registered``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, delete, insert, select, update

from twofa.crypto import Keyring, public_id
from twofa.errors import UserInvalid, UserNotFound
from twofa.otp import random_secret
from twofa.provider.audit.service import AuditLog
from twofa.provider.fraud.policy import check_line_type
from twofa.provider.phones.numbers import Phone, parse_phone, phone_from_e164
from twofa.settings import Settings
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import devices, totp_secrets, users

MAX_AUTHY_ID = 2**53


@dataclass(frozen=True, slots=True)
class User:
    id: int
    public_id: str
    app_id: int
    email: str
    phone: Phone
    confirmed: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    uuid: str
    name: str
    os_type: str
    created_at: datetime
    last_seen_at: datetime | None


def _user(row: Any) -> User:
    return User(
        id=row.id,
        public_id=row.public_id,
        app_id=row.app_id,
        email=row.email,
        phone=Phone(row.country_code, row.phone_e164),
        confirmed=row.confirmed,
        created_at=aware(row.created_at),
    )


def parse_authy_id(raw: str | int) -> int | None:
    """A path id as an integer, or None for anything that cannot be one of ours."""
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        return None
    value = int(text)
    return value if 0 < value < MAX_AUTHY_ID else None


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
    return _user(row)


def active_devices(conn: Connection, phone_e164: str) -> list[Device]:
    rows = conn.execute(
        select(devices)
        .where(devices.c.phone_e164 == phone_e164, devices.c.revoked_at.is_(None))
        .order_by(devices.c.id)
    ).all()
    return [
        Device(r.id, r.uuid, r.name, r.os_type, aware(r.created_at), aware(r.last_seen_at))
        for r in rows
    ]


def validate_new_user(email: Any, cellphone: Any, country_code: Any) -> tuple[str, Phone]:
    """Check e-mail and phone; field errors are ``"is invalid"`` as Authy answers."""
    fields: dict[str, str] = {}
    normalized_email = ""
    if not isinstance(email, str) or len(email) > 320:
        fields["email"] = "is invalid"
    else:
        try:
            normalized_email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            fields["email"] = "is invalid"
    phone = None
    if country_code is None or country_code == "":
        country_code = 1
    if isinstance(cellphone, int) and not isinstance(cellphone, bool):
        cellphone = str(cellphone)
    if (
        isinstance(cellphone, str)
        and isinstance(country_code, int | str)
        and not isinstance(country_code, bool)
    ):
        phone = parse_phone(country_code, cellphone)
    if phone is None:
        fields["cellphone"] = "is invalid"
    if fields or phone is None:
        raise UserInvalid(fields=fields)
    check_line_type(phone)  # 60083: premium-rate and similar numbers would cost every message
    return normalized_email, phone


class UserService:
    """Application users (Authy ids)."""

    def __init__(self, db: Database, keyring: Keyring, settings: Settings, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit
        self._keyring = keyring
        self._settings = settings

    def create(self, app_id: int, *, email: Any, cellphone: Any, country_code: Any) -> User:
        """Register a user, or return the one already registered with that phone."""
        normalized_email, phone = validate_new_user(email, cellphone, country_code)
        with self._db.write() as conn:
            row = conn.execute(
                select(users).where(users.c.app_id == app_id, users.c.phone_e164 == phone.e164)
            ).first()
            if row is not None:
                return _user(row)
            now = utcnow()
            row = conn.execute(
                insert(users)
                .values(
                    public_id=public_id(),
                    app_id=app_id,
                    email=normalized_email,
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
                    secret_enc=self._keyring.encrypt(random_secret()),
                    digits=self._settings.totp_digits,
                    step=self._settings.totp_step,
                    last_step=0,
                    created_at=now,
                )
            )
            self._audit.record(
                "user.created",
                app_id=app_id,
                subject=f"user:{row.id}",
                data={"country_code": phone.country_code},
                conn=conn,
            )
        return _user(row)

    def get(self, app_id: int, raw_id: str | int) -> User:
        with self._db.read() as conn:
            return load_user(conn, app_id, raw_id)

    def status(self, app_id: int, raw_id: str | int) -> tuple[User, list[Device]]:
        """The user and the active devices of their phone."""
        with self._db.read() as conn:
            user = load_user(conn, app_id, raw_id)
            return user, active_devices(conn, user.phone.e164)

    def delete(self, app_id: int, raw_id: str | int) -> None:
        """Delete at once; the id answers 60026 from then on."""
        with self._db.write() as conn:
            user = load_user(conn, app_id, raw_id)
            conn.execute(delete(users).where(users.c.id == user.id))
            self._audit.record("user.deleted", app_id=app_id, subject=f"user:{user.id}", conn=conn)

    def update_email(self, app_id: int, raw_id: str | int, email: Any) -> User:
        """Replace the user's e-mail address after validating it."""
        try:
            normalized = validate_email(str(email or ""), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise UserInvalid(fields={"email": "is invalid"}) from exc
        with self._db.write() as conn:
            user = load_user(conn, app_id, raw_id)
            conn.execute(update(users).where(users.c.id == user.id).values(email=normalized))
            return load_user(conn, app_id, raw_id)

    def by_phone(self, phone_e164: str) -> list[User]:
        """Every application's user with this phone (the accounts a device sees)."""
        with self._db.read() as conn:
            rows = conn.execute(
                select(users).where(users.c.phone_e164 == phone_e164).order_by(users.c.id)
            ).all()
        return [_user(r) for r in rows]


__all__ = ["Device", "User", "UserService", "load_user", "parse_authy_id", "phone_from_e164"]
