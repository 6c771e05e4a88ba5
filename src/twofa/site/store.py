"""SQL for the site's three tables, returning small frozen dataclasses.

Browser-held secrets (login and session tokens) are stored only as SHA-256 digests, so a copy of
the database does not let anyone resume a login or a session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from twofa.site.db import login_attempts, sessions, users
from twofa.storage.database import Database, aware


def token_digest(token: str) -> str:
    """The stored form of a browser-held token."""
    return hashlib.sha256(token.encode()).hexdigest()


class EmailTaken(Exception):
    """A local account with this e-mail address exists already."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    password_hash: str
    full_name: str
    country_code: int
    region: str
    phone: str
    authy_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A login that passed the password step and waits for (or finished) its second factor."""

    id: int
    user_id: int
    state: str
    created_at: datetime
    expires_at: datetime
    next_url: str | None
    ip: str | None
    user_agent: str | None
    approval_uuid: str | None
    approval_status: str | None
    approval_number: int | None
    approval_expires_at: datetime | None
    code_channel: str | None
    code_destination: str | None
    code_sent_at: datetime | None
    code_sends: int
    code_failures: int
    method: str | None
    completed_at: datetime | None


_WHEN_FIELDS = ("created_at", "expires_at", "approval_expires_at", "code_sent_at", "completed_at")


def _attempt(row: Any) -> LoginAttempt:
    data = dict(row._mapping)
    data.pop("token_hash", None)
    for name in _WHEN_FIELDS:
        data[name] = aware(data[name])
    return LoginAttempt(**data)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _user(row: Any) -> User:
    data = dict(row._mapping)
    data["created_at"] = aware(data["created_at"])
    return User(**data)


class UserStore:
    """Local accounts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        *,
        email: str,
        password_hash: str,
        full_name: str,
        country_code: int,
        region: str,
        phone: str,
        authy_id: int,
        now: datetime,
    ) -> User:
        """Insert a user; raises :class:`EmailTaken` when the address is registered already."""
        values = {
            "email": email,
            "password_hash": password_hash,
            "full_name": full_name,
            "country_code": country_code,
            "region": region,
            "phone": phone,
            "authy_id": authy_id,
            "created_at": now,
        }
        try:
            with self.db.write() as conn:
                new_id = _new_id(conn.execute(insert(users).values(**values)))
        except IntegrityError as exc:
            raise EmailTaken(email) from exc
        return User(id=int(new_id), **values)  # type: ignore[arg-type]

    def by_email(self, email: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).first()
        return _user(row) if row else None

    def by_id(self, user_id: int) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )


class AttemptStore:
    """Pending and finished login attempts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        *,
        token: str,
        user_id: int,
        now: datetime,
        expires_at: datetime,
        next_url: str | None,
        ip: str | None,
        user_agent: str | None,
    ) -> LoginAttempt:
        values = {
            "token_hash": token_digest(token),
            "user_id": user_id,
            "state": "open",
            "created_at": now,
            "expires_at": expires_at,
            "next_url": next_url,
            "ip": (ip or "")[:64] or None,
            "user_agent": (user_agent or "")[:300] or None,
            "code_sends": 0,
            "code_failures": 0,
        }
        with self.db.write() as conn:
            new_id = _new_id(conn.execute(insert(login_attempts).values(**values)))
        found = self.by_id(int(new_id))
        assert found is not None
        return found

    def by_id(self, attempt_id: int) -> LoginAttempt | None:
        return self._one(login_attempts.c.id == attempt_id)

    def by_token(self, token: str) -> LoginAttempt | None:
        return self._one(login_attempts.c.token_hash == token_digest(token))

    def by_approval(self, uuid: str) -> LoginAttempt | None:
        return self._one(login_attempts.c.approval_uuid == uuid)

    def _one(self, clause: Any) -> LoginAttempt | None:
        with self.db.read() as conn:
            row = conn.execute(select(login_attempts).where(clause)).first()
        return _attempt(row) if row else None

    def set_approval(
        self, attempt_id: int, *, uuid: str, number: int | None, expires_at: datetime | None
    ) -> None:
        """Attach a new push request to the attempt (replacing an expired one)."""
        self._update(
            attempt_id,
            approval_uuid=uuid,
            approval_status="pending",
            approval_number=number,
            approval_expires_at=expires_at,
        )

    def settle_approval(self, attempt_id: int, uuid: str, status: str) -> bool:
        """Move a pending push to ``status`` once; False when it was settled already."""
        with self.db.write() as conn:
            result = conn.execute(
                update(login_attempts)
                .where(
                    and_(
                        login_attempts.c.id == attempt_id,
                        login_attempts.c.approval_uuid == uuid,
                        login_attempts.c.approval_status == "pending",
                    )
                )
                .values(approval_status=status)
            )
        return bool(result.rowcount)

    def record_send(
        self, attempt_id: int, *, channel: str, destination: str, now: datetime
    ) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(login_attempts)
                .where(login_attempts.c.id == attempt_id)
                .values(
                    code_channel=channel,
                    code_destination=destination[:40],
                    code_sent_at=now,
                    code_sends=login_attempts.c.code_sends + 1,
                )
            )

    def add_failure(self, attempt_id: int) -> int:
        """Count one wrong code; returns the new total."""
        with self.db.write() as conn:
            conn.execute(
                update(login_attempts)
                .where(login_attempts.c.id == attempt_id)
                .values(code_failures=login_attempts.c.code_failures + 1)
            )
            total = conn.execute(
                select(login_attempts.c.code_failures).where(login_attempts.c.id == attempt_id)
            ).scalar_one()
        return int(total)

    def complete(self, attempt_id: int, *, method: str, now: datetime) -> bool:
        """Close an open attempt as a successful sign-in; False if it was not open."""
        return self._close(attempt_id, state="completed", method=method, completed_at=now)

    def cancel(self, attempt_id: int) -> bool:
        return self._close(attempt_id, state="cancelled")

    def recent_for_user(self, user_id: int, limit: int = 10) -> list[LoginAttempt]:
        """The user's latest finished or denied sign-ins, newest first."""
        query = (
            select(login_attempts)
            .where(
                and_(
                    login_attempts.c.user_id == user_id,
                    (login_attempts.c.state == "completed")
                    | (login_attempts.c.approval_status == "denied"),
                )
            )
            .order_by(login_attempts.c.created_at.desc(), login_attempts.c.id.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_attempt(row) for row in conn.execute(query)]

    def _close(self, attempt_id: int, **values: Any) -> bool:
        with self.db.write() as conn:
            result = conn.execute(
                update(login_attempts)
                .where(and_(login_attempts.c.id == attempt_id, login_attempts.c.state == "open"))
                .values(**values)
            )
        return bool(result.rowcount)

    def _update(self, attempt_id: int, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(login_attempts).where(login_attempts.c.id == attempt_id).values(**values)
            )


class SessionStore:
    """Server-side records of logged-in browsers."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, *, token: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        with self.db.write() as conn:
            conn.execute(
                insert(sessions).values(
                    token_hash=token_digest(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def user_id(self, token: str, *, now: datetime) -> int | None:
        """The user of a live (unexpired, unrevoked) session, else None."""
        with self.db.read() as conn:
            row = conn.execute(
                select(sessions.c.user_id, sessions.c.expires_at).where(
                    and_(
                        sessions.c.token_hash == token_digest(token),
                        sessions.c.revoked_at.is_(None),
                    )
                )
            ).first()
        if row is None:
            return None
        expires_at = aware(row.expires_at)
        if expires_at is None or expires_at <= now:
            return None
        return int(row.user_id)

    def revoke(self, token: str, *, now: datetime) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == token_digest(token))
                .values(revoked_at=now)
            )
