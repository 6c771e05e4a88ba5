"""Token verification, the provider's hottest path.

One read transaction loads the user, their unexpired SMS/voice codes and their TOTP secrets;
only a valid code costs a write (a conditional UPDATE that makes it single use). Wrong codes
write nothing to the database: they are counted by the rate limiter and audited through the
audit log's buffer.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, select, update

from twofa.crypto import Keyring
from twofa.errors import TokenInvalid, TokenReused, UserNotFound
from twofa.otp.fast import decode_secret, match_step
from twofa.provider.apps.model import App
from twofa.provider.audit.service import AuditLog
from twofa.provider.codes.usage import UsageCounters
from twofa.provider.observability import metrics
from twofa.provider.ratelimit import Limits
from twofa.provider.users.model import User, parse_authy_id
from twofa.provider.users.store import user_from_row
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import sent_codes, totp_secrets, users

Outcome = Literal["valid", "reused", "invalid"]

_CODES = select(sent_codes.c.id, sent_codes.c.code_hash, sent_codes.c.used_at).where(
    sent_codes.c.user_id == bindparam("user_id"), sent_codes.c.expires_at > bindparam("now")
)
_USER_WITH_SECRETS = (
    select(
        users,
        totp_secrets.c.id.label("secret_id"),
        totp_secrets.c.secret_enc,
        totp_secrets.c.digits,
        totp_secrets.c.step,
        totp_secrets.c.last_step,
    )
    .select_from(users.outerjoin(totp_secrets, totp_secrets.c.user_id == users.c.id))
    .where(users.c.id == bindparam("authy_id"), users.c.app_id == bindparam("app_id"))
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
_SPEND_STEP = (
    update(totp_secrets)
    .where(
        totp_secrets.c.id == bindparam("secret_id"),
        totp_secrets.c.last_step < bindparam("matched_step"),
    )
    .values(last_step=bindparam("matched_step"))
)
_CONFIRM = update(users).where(users.c.id == bindparam("owner_id")).values(confirmed=True)


@dataclass(frozen=True, slots=True)
class _Material:
    user: User
    codes: Sequence[Any]
    secrets: list[Any]


class TokenVerifier:
    """Checks SMS/voice codes, app TOTP codes and generic-authenticator TOTP codes, once each."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        limits: Limits,
        audit: AuditLog,
        usage: UsageCounters,
    ) -> None:
        self._db = db
        self._usage = usage
        self._sms_length = settings.sms_code_length
        self._keyring = keyring
        self._window = settings.totp_window
        self._limits = limits
        self._audit = audit

    def verify(self, app: App, raw_id: str, token: str, *, force: bool) -> User:
        """Accept ``token`` once or raise 60020 (wrong) / 60019 (already used) / 60003."""
        material = self._load(app, raw_id, token)
        user = material.user
        if app.lenient_verify and not force and not user.confirmed:
            return user  # the legacy Authy behaviour, only when the application opted in
        subject = f"{app.id}:{user.id}"
        failures = self._limits.check("verify_failures_per_user", subject)
        outcome = self._check(app, material, token)
        metrics.VERIFICATIONS.labels(outcome).inc()
        if outcome == "valid":
            if failures:  # success clears the failure count (nothing to clear: no round trip)
                self._limits.reset("verify_failures_per_user", subject)
            return user
        self._audit.record(
            "verification.failed",
            app_id=app.id,
            subject=f"user:{user.id}",
            data={"reason": outcome},
        )
        self._limits.hit("verify_failures_per_user", subject)
        raise TokenReused() if outcome == "reused" else TokenInvalid()

    def _load(self, app: App, raw_id: str, token: str) -> _Material:
        """The user with their secrets (one query) and, for a code-length token, their codes."""
        authy_id = parse_authy_id(raw_id)
        if authy_id is None:
            raise UserNotFound()
        plausible = token.isascii() and token.isdigit() and 6 <= len(token) <= 12
        with self._db.read() as conn:
            rows = conn.execute(_USER_WITH_SECRETS, {"authy_id": authy_id, "app_id": app.id}).all()
            if not rows:
                raise UserNotFound()
            codes: Sequence[Any] = []
            if plausible and len(token) == self._sms_length:
                codes = conn.execute(_CODES, {"user_id": authy_id, "now": utcnow()}).all()
        user = user_from_row(rows[0])  # the users columns keep their names in the join
        secrets = [r for r in rows if r.secret_id is not None] if plausible else []
        return _Material(user, codes, secrets)

    def _check(self, app: App, material: _Material, token: str) -> Outcome:
        user = material.user
        reused = False
        if material.codes:
            wanted = self._keyring.code_hash(f"user:{user.id}", token)
            for code in material.codes:
                if hmac.compare_digest(code.code_hash, wanted):
                    if code.used_at is None and self._spend_code(app, user, code.id):
                        return "valid"
                    reused = True
        now = time.time()
        for secret in material.secrets:
            if secret.digits != len(token):
                continue
            key = decode_secret(self._keyring.decrypt(secret.secret_enc))
            step = match_step(
                key, token, int(now // secret.step), digits=secret.digits, window=self._window
            )
            if step is None:
                continue
            if step > secret.last_step and self._spend_step(app, user, secret.secret_id, step):
                return "valid"
            reused = True
        return "reused" if reused else "invalid"

    def _spend_code(self, app: App, user: User, code_id: int) -> bool:
        now = utcnow()
        with self._db.write() as conn:
            if not conn.execute(_SPEND_ONE_CODE, {"code_id": code_id, "spent_at": now}).rowcount:
                return False
            conn.execute(_SPEND_ALL_CODES, {"owner_id": user.id, "spent_at": now})
            self._confirm(conn, app, user)
        return True

    def _spend_step(self, app: App, user: User, secret_id: int, step: int) -> bool:
        with self._db.write() as conn:
            if not conn.execute(
                _SPEND_STEP, {"secret_id": secret_id, "matched_step": step}
            ).rowcount:
                return False
            self._confirm(conn, app, user)
        return True

    def _confirm(self, conn: Connection, app: App, user: User) -> None:
        if not user.confirmed:
            conn.execute(_CONFIRM, {"owner_id": user.id})
        self._usage.add(app.id, "auths")
        # Buffered like failures: verification outcomes are the audit log's high-volume events.
        self._audit.record("verification.passed", app_id=app.id, subject=f"user:{user.id}")
