"""The statements of token verification: one read, and a conditional UPDATE per valid code.

They run at driver level (``storage/statements.py``): verification is the provider's busiest
call, and SQLAlchemy's execution layer cost more than the statements themselves. The SQL is
still written with Core against the tables, so it is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, true, update

from twofa.storage.database import Database
from twofa.storage.statements import Statement
from twofa.storage.tables import sent_codes, totp_secrets, users


@dataclass(frozen=True, slots=True)
class Secret:
    id: int
    secret_enc: str
    digits: int
    step: int
    last_step: int
    kind: str  # "app" or "generic": what a verification it passes is counted as


@dataclass(frozen=True, slots=True)
class SentCode:
    id: int
    code_hash: str
    used: bool
    channel: str  # "sms" or "call"


@dataclass(frozen=True, slots=True)
class Material:
    """What a verification compares a token against."""

    user_id: int
    confirmed: bool
    secrets: list[Secret]
    codes: list[SentCode]


_USER_WITH_SECRETS = (
    select(
        users.c.id,
        users.c.confirmed,
        totp_secrets.c.id,
        totp_secrets.c.secret_enc,
        totp_secrets.c.digits,
        totp_secrets.c.step,
        totp_secrets.c.last_step,
        totp_secrets.c.kind,
    )
    .select_from(users.outerjoin(totp_secrets, totp_secrets.c.user_id == users.c.id))
    .where(users.c.id == bindparam("user_id"), users.c.app_id == bindparam("app_id"))
)
_CODES = (
    select(sent_codes.c.id, sent_codes.c.code_hash, sent_codes.c.used_at, sent_codes.c.channel)
    .where(sent_codes.c.user_id == bindparam("user_id"), sent_codes.c.expires_at > bindparam("now"))
    .order_by(sent_codes.c.id)
)
_SPEND_STEP = (
    update(totp_secrets)
    .where(
        totp_secrets.c.id == bindparam("secret_id"), totp_secrets.c.last_step < bindparam("step")
    )
    .values(last_step=bindparam("step"))
)
_SPEND_ONE_CODE = (
    update(sent_codes)
    .where(sent_codes.c.id == bindparam("code_id"), sent_codes.c.used_at.is_(None))
    .values(used_at=bindparam("spent_at"))
)
_SPEND_ALL_CODES = (
    update(sent_codes)
    .where(sent_codes.c.user_id == bindparam("owner_id"), sent_codes.c.used_at.is_(None))
    .values(used_at=bindparam("spent_at"))
)
_CONFIRM = update(users).where(users.c.id == bindparam("owner_id")).values(confirmed=true())


class VerificationStore:
    """Reads a user's secrets and codes; spends a matched code or time step exactly once."""

    def __init__(self, db: Database) -> None:
        self._db = db
        engine = db.engine
        self._user = Statement(_USER_WITH_SECRETS, engine)
        self._codes = Statement(_CODES, engine)
        self._spend_step = Statement(_SPEND_STEP, engine)
        self._spend_one = Statement(_SPEND_ONE_CODE, engine)
        self._spend_all = Statement(_SPEND_ALL_CODES, engine)
        self._confirm = Statement(_CONFIRM, engine)

    def material(
        self, app_id: int, user_id: int, *, codes_after: datetime | None
    ) -> Material | None:
        """The user's TOTP secrets and, when ``codes_after`` is given, their codes unexpired
        then; None when the application has no such user."""
        with self._db.cursor() as cursor:
            rows = self._user.execute(cursor, {"user_id": user_id, "app_id": app_id}).fetchall()
            if not rows:
                return None
            codes: list[SentCode] = []
            if codes_after is not None:
                found = self._codes.execute(
                    cursor, {"user_id": user_id, "now": self._db.time(codes_after)}
                ).fetchall()
                codes = [SentCode(r[0], r[1], r[2] is not None, r[3]) for r in found]
        secrets = [Secret(*row[2:]) for row in rows if row[2] is not None]
        return Material(rows[0][0], bool(rows[0][1]), secrets, codes)

    def spend_step(self, user_id: int, secret_id: int, step: int, *, confirm: bool) -> bool:
        """Accept time step ``step`` of a secret once: False if it (or a later one) was used."""
        with self._db.cursor(write=True, single=not confirm) as cursor:
            spent = self._spend_step.execute(cursor, {"secret_id": secret_id, "step": step})
            if spent.rowcount != 1:
                return False
            if confirm:
                self._confirm.execute(cursor, {"owner_id": user_id})
        return True

    def confirm(self, user_id: int) -> None:
        """Mark the user confirmed (a sandbox application's test token passed)."""
        with self._db.cursor(write=True, single=True) as cursor:
            self._confirm.execute(cursor, {"owner_id": user_id})

    def spend_code(self, user_id: int, code_id: int, at: datetime, *, confirm: bool) -> bool:
        """Use a sent code once; using any code spends every other code of the user too."""
        spent_at = self._db.time(at)
        with self._db.cursor(write=True) as cursor:
            spent = self._spend_one.execute(cursor, {"code_id": code_id, "spent_at": spent_at})
            if spent.rowcount != 1:
                return False
            self._spend_all.execute(cursor, {"owner_id": user_id, "spent_at": spent_at})
            if confirm:
                self._confirm.execute(cursor, {"owner_id": user_id})
        return True
