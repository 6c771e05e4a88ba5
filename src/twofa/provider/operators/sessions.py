"""Console sessions: a random token in the browser, its SHA-256 in ``operator_sessions``.

A session ends when its operator signs out or is disabled, after ``console_session_idle``
seconds unused and ``console_session_max`` seconds after sign-in, whichever comes first. It
records when its operator last gave a second factor, for actions that ask for a recent one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from twofa.provider.audit.service import AuditLog
from twofa.provider.operators import store
from twofa.provider.operators.model import Operator, Session
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow

TOUCH_SECONDS = 60  # a session's last use is written at most once a minute


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleSessions:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        audit: AuditLog,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._settings = settings
        self._audit = audit
        self._now = clock

    def start(self, operator: Operator, *, factor: str, address: str) -> str:
        """A new session after a complete sign-in; returns the cookie's token."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._db.write() as conn:
            store.insert_session(
                conn,
                token_hash=token_hash(token),
                operator_id=operator.id,
                address=address,
                now=now,
            )
            store.purge_sessions(conn, before=now - timedelta(days=1))
            self._audit.record(
                "operator.signed_in",
                subject=operator.actor,
                data={"factor": factor, "address": address},
                actor=operator.actor,
                conn=conn,
            )
        return token

    def load(self, token: str | None) -> Session | None:
        """The live session of ``token``, its last use recorded; None if there is none."""
        if not token or len(token) > 100:
            return None
        now = self._now()
        with self._db.read() as conn:
            session = store.live_session(
                conn,
                token_hash(token),
                seen_after=now - timedelta(seconds=self._settings.console_session_idle),
                created_after=now - timedelta(seconds=self._settings.console_session_max),
            )
        if session is not None and (now - session.seen_at).total_seconds() > TOUCH_SECONDS:
            with self._db.write() as conn:
                store.touch_session(conn, session.id, now)
        return session

    def recently_verified(self, session: Session) -> bool:
        """Whether the session's last second factor is recent enough for a sensitive action."""
        age = (self._now() - session.verified_at).total_seconds()
        return age <= self._settings.console_reauth_seconds

    def reverified(self, session: Session, *, factor: str) -> None:
        """The operator gave a second factor again (re-authentication)."""
        with self._db.write() as conn:
            store.mark_verified(conn, session.id, self._now())
            self._audit.record(
                "operator.reauthenticated",
                subject=session.operator.actor,
                data={"factor": factor},
                actor=session.operator.actor,
                conn=conn,
            )

    def end(self, session: Session) -> None:
        with self._db.write() as conn:
            store.end_session(conn, session.id, self._now())
            self._audit.record(
                "operator.signed_out",
                subject=session.operator.actor,
                actor=session.operator.actor,
                conn=conn,
            )
