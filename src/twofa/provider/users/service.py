"""Register, read and delete users; their devices decide ``registered``."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from twofa.crypto import Keyring, public_id
from twofa.errors import UserInvalid
from twofa.otp import random_secret
from twofa.provider.audit.service import AuditLog
from twofa.provider.fraud.policy import check_line_type
from twofa.provider.phone_numbers import Phone, parse_phone_number
from twofa.provider.users import operator_store, store
from twofa.provider.users.model import (
    CodeRecord,
    Device,
    DeviceRecord,
    FoundUser,
    RequestRecord,
    User,
    parse_authy_id,
)
from twofa.provider.users.store import active_devices, load_user
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow


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
    parsed = None
    if country_code is None or country_code == "":
        country_code = 1
    if isinstance(cellphone, int) and not isinstance(cellphone, bool):
        cellphone = str(cellphone)
    if (
        isinstance(cellphone, str)
        and isinstance(country_code, int | str)
        and not isinstance(country_code, bool)
    ):
        parsed = parse_phone_number(country_code, cellphone)
    if parsed is None:
        fields["cellphone"] = "is invalid"
    if fields or parsed is None:
        raise UserInvalid(fields=fields)
    phone, number = parsed
    # 60083: premium-rate and similar numbers would cost every message
    check_line_type(phone, number=number)
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
        try:
            return self._insert(app_id, normalized_email, phone)
        except IntegrityError:
            # Another request registered the phone between our read and our insert (on
            # PostgreSQL both can pass the read): theirs is the user, for both.
            with self._db.read() as conn:
                existing = store.by_app_phone(conn, app_id, phone.e164)
            if existing is None:
                raise
            return existing

    def _insert(self, app_id: int, normalized_email: str, phone: Phone) -> User:
        with self._db.write() as conn:
            existing = store.by_app_phone(conn, app_id, phone.e164)
            if existing is not None:
                return existing
            user = store.insert_user(
                conn,
                app_id=app_id,
                public_id=public_id(),
                email=normalized_email,
                phone=phone,
                secret_enc=self._keyring.encrypt(random_secret()),
                digits=self._settings.totp_digits,
                step=self._settings.totp_step,
                now=utcnow(),
            )
            self._audit.record(
                "user.created",
                app_id=app_id,
                subject=f"user:{user.id}",
                data={"country_code": phone.country_code},
                conn=conn,
            )
        return user

    def get(self, app_id: int, raw_id: str | int) -> User:
        with self._db.read() as conn:
            return load_user(conn, app_id, raw_id)

    def status(self, app_id: int, raw_id: str | int) -> tuple[User, list[Device]]:
        """The user and the active devices of their phone."""
        with self._db.read() as conn:
            user = load_user(conn, app_id, raw_id)
            return user, active_devices(conn, user.phone.e164)

    def delete(self, app_id: int, raw_id: str | int, *, actor: str | None = None) -> None:
        """Delete at once; the id answers 60026 from then on."""
        with self._db.write() as conn:
            user = load_user(conn, app_id, raw_id)
            store.delete_user(conn, user.id)
            self._audit.record(
                "user.deleted", app_id=app_id, subject=f"user:{user.id}", actor=actor, conn=conn
            )

    # The operator's view ----------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 50) -> list[FoundUser]:
        """Users of any application whose Authy id, phone number or e-mail is ``query``."""
        query = query.strip()[:320]
        digits = "".join(c for c in query if c.isdigit())
        authy_id = parse_authy_id(query) if query.isdigit() else None
        phone = digits if len(digits) >= 6 and not query.count("@") else None
        email = query if "@" in query else None
        with self._db.read() as conn:
            return operator_store.search(
                conn, authy_id=authy_id, phone_digits=phone, email=email, limit=limit
            )

    def activity(
        self, app_id: int, raw_id: str | int, *, limit: int = 20
    ) -> tuple[User, list[DeviceRecord], list[CodeRecord], list[RequestRecord]]:
        """A user with every device of their phone, and their latest codes and requests."""
        with self._db.read() as conn:
            user = load_user(conn, app_id, raw_id)
            return (
                user,
                operator_store.phone_devices(conn, user.phone.e164),
                operator_store.recent_codes(conn, user.id, limit),
                operator_store.recent_requests(conn, user.id, limit),
            )

    def update_email(self, app_id: int, raw_id: str | int, email: Any) -> User:
        """Replace the user's e-mail address after validating it."""
        try:
            normalized = validate_email(str(email or ""), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise UserInvalid(fields={"email": "is invalid"}) from exc
        with self._db.write() as conn:
            user = load_user(conn, app_id, raw_id)
            store.set_email(conn, user.id, normalized)
            return load_user(conn, app_id, raw_id)


__all__ = [
    "Device",
    "User",
    "UserService",
    "active_devices",
    "load_user",
    "parse_authy_id",
]
