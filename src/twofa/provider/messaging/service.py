"""Send a message through the gateway and record the attempt, whatever its outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from twofa.errors import CallNotStarted, SmsNotSent
from twofa.provider.apps import store as app_store
from twofa.provider.apps.sandbox import SANDBOX_GATEWAY
from twofa.provider.messaging.email import Email, EmailGateway, OutboxEmail, SandboxEmail
from twofa.provider.messaging.gateways import Gateway, GatewayError, Message, SandboxGateway
from twofa.provider.observability import metrics
from twofa.provider.users import store as user_store
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import messages

log = logging.getLogger(__name__)
STORED_ONLY = {"outbox", SANDBOX_GATEWAY}  # gateways whose record is the delivery: full body


@dataclass(frozen=True, slots=True)
class StoredMessage:
    to: str
    channel: str
    body: str
    status: str
    gateway: str
    created_at: datetime


class MessagingService:
    """The one way the provider sends SMS and voice messages."""

    def __init__(self, db: Database, gateway: Gateway, email: EmailGateway | None = None) -> None:
        self._db = db
        self.gateway = gateway
        self.email = email or OutboxEmail()
        self._sandbox_gateway = SandboxGateway()
        self._sandbox_email = SandboxEmail()
        self._sandboxes: dict[int, bool] = {}

    def is_sandbox(self, app_id: int | None, to: str | None = None) -> bool:
        """Whether a message stays in the outbox: it is a sandbox application's, or (sent for
        no application: a device registration code, a device notice) its phone is known to
        sandbox applications only.

        Decided here, for every message, rather than by each caller, so no path that sends
        for a sandbox can reach a real gateway. Remembered per process: an application is a
        sandbox or not from its creation on.
        """
        if app_id is None:
            if to is None or not to.startswith("+"):
                return False
            with self._db.read() as conn:
                return user_store.known_only_to_sandboxes(conn, to)
        known = self._sandboxes.get(app_id)
        if known is None:
            with self._db.read() as conn:
                known = app_store.is_sandbox(conn, app_id)
            if len(self._sandboxes) > 100_000:
                self._sandboxes.clear()
            self._sandboxes[app_id] = known
        return known

    def send(self, message: Message, *, app_id: int | None) -> None:
        """Deliver ``message``; record it as sent or failed; raise 60015/60014 on failure.

        The record is written in its own transaction so a failed delivery is on file even
        though the caller's work is rolled back. A sandbox application's message is recorded
        and goes to no gateway.
        """
        gateway = self._sandbox_gateway if self.is_sandbox(app_id, message.to) else self.gateway
        error: str | None = None
        try:
            gateway.send(message)
        except GatewayError as exc:
            error = str(exc)[:500]
            log.warning("%s to %s failed: %s", message.channel, message.to, error)
        metrics.MESSAGES.labels(gateway.name, message.channel, "failed" if error else "sent").inc()
        with self._db.write() as conn:
            conn.execute(
                insert(messages).values(
                    app_id=app_id,
                    to=message.to,
                    channel=message.channel,
                    # The outbox is the demo's phone: it must show the code. A real gateway has
                    # delivered it, so the record keeps the message without its code.
                    body=message.body if gateway.name in STORED_ONLY else message.redacted(),
                    gateway=gateway.name,
                    status="failed" if error else "sent",
                    error=error,
                    created_at=utcnow(),
                )
            )
        if error is not None:
            raise SmsNotSent() if message.channel == "sms" else CallNotStarted()

    def send_email(self, email: Email, *, app_id: int | None) -> None:
        """Deliver an e-mail and record it like a text message (channel ``email``)."""
        gateway = self._sandbox_email if self.is_sandbox(app_id) else self.email
        error: str | None = None
        try:
            gateway.send(email)
        except GatewayError as exc:
            error = str(exc)[:500]
            log.warning("email to %s failed: %s", email.to, error)
        metrics.MESSAGES.labels(gateway.name, "email", "failed" if error else "sent").inc()
        body = email.body if gateway.name in STORED_ONLY else email.redacted()
        with self._db.write() as conn:
            conn.execute(
                insert(messages).values(
                    app_id=app_id,
                    to=email.to,
                    channel="email",
                    body=f"{email.subject}\n\n{body}",
                    gateway=gateway.name,
                    status="failed" if error else "sent",
                    error=error,
                    created_at=utcnow(),
                )
            )
        if error is not None:
            raise SmsNotSent("E-mail not sent")

    def list(self, *, to: str | None = None, limit: int = 1000) -> list[StoredMessage]:
        """Messages sent, oldest first, optionally to one number."""
        query = select(messages).where(messages.c.status == "sent")
        if to:
            query = query.where(messages.c.to == to)
        query = query.order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            StoredMessage(r.to, r.channel, r.body, r.status, r.gateway, aware(r.created_at))
            for r in reversed(rows)
        ]


def record_stored_only(
    conn: Connection, *, app_id: int, to: str, channel: str, body: str, now: datetime
) -> None:
    """Record, in the caller's transaction, a message a sandbox application caused but that
    goes through no gateway of ours (a push wake-up), so the outbox shows it like the rest."""
    conn.execute(
        insert(messages).values(
            app_id=app_id,
            to=to,
            channel=channel,
            body=body,
            gateway=SANDBOX_GATEWAY,
            status="sent",
            created_at=now,
        )
    )
