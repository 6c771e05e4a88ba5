"""Approval requests: created pending, answered once, or expired when their time is up.

Expiry is lazy (a read past the deadline turns the request ``expired``) plus a periodic sweep
that tells devices. A decision is a conditional UPDATE on a pending, unexpired row, so two
devices answering at once cannot both win; the callback is queued in the same transaction,
so no decision is ever recorded without its callback.
"""

from __future__ import annotations

import secrets
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from twofa.crypto import derive, public_id
from twofa.errors import ApprovalRequestNotFound, ApprovalRequestNotPending, UserNotRegistered
from twofa.events import EventBus
from twofa.provider.apps.service import App
from twofa.provider.audit.service import AuditLog
from twofa.provider.devices.model import millis, request_view
from twofa.provider.observability import metrics
from twofa.provider.push.callback import enqueue_callback
from twofa.provider.push.model import ApprovalRequest, authy_json
from twofa.provider.ratelimit import Limits
from twofa.provider.users.service import User, load_user
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import approval_requests, apps, users


def number_key(settings: Settings) -> bytes:
    """The key behind number-matching choices (the same on every process)."""
    return derive(settings.key, "twofa:number-matching")


def new_request_event(request: ApprovalRequest, app: App, user: User, key: bytes) -> dict[str, Any]:
    """The bus event for a new request; ``view`` never holds hidden details or the answer."""
    return {
        "type": "request",
        "key": f"request:{request.uuid}",
        "id": millis(request.created_at),
        "uuid": request.uuid,
        "view": request_view(request, app, user, number_key=key, now=request.created_at),
    }


def ended_event(uuid: str, status: str, at: datetime) -> dict[str, Any]:
    """The bus event for a request that was answered or expired at ``at``."""
    return {
        "type": "request.ended",
        "key": f"ended:{uuid}",
        "id": millis(at),
        "uuid": uuid,
        "status": status,
    }


def phone_topic(phone_e164: str) -> str:
    return f"phone:{phone_e164}"


def request_topic(uuid: str) -> str:
    return f"request:{uuid}"


@dataclass(frozen=True, slots=True)
class NewRequest:
    message: str
    details: dict[str, str]
    hidden_details: dict[str, str]
    logos: list[dict[str, str]] | None
    seconds_to_expire: int | None
    number_matching: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """A device's answer, already verified by the device layer."""

    status: str  # approved or denied
    device_id: int
    device_uuid: str
    device_json: dict[str, Any]
    signature: str
    signing_time: int


class PushService:
    def __init__(
        self, db: Database, settings: Settings, bus: EventBus, limits: Limits, audit: AuditLog
    ) -> None:
        self._db = db
        self._audit = audit
        self._number_key = number_key(settings)
        self._settings = settings
        self._bus = bus
        self._limits = limits

    def create(self, app: App, raw_id: str, new: NewRequest) -> ApprovalRequest:
        """A pending request for the user's devices; published to them at once."""
        if not app.onetouch_enabled:
            raise UserNotRegistered("OneTouch is disabled for this application")
        with self._db.read() as conn:
            user = load_user(conn, app.id, raw_id)
        self._limits.hit("push_per_user", f"{app.id}:{user.id}")
        ttl = self._settings.onetouch_default_ttl
        if new.seconds_to_expire is not None:
            ttl = new.seconds_to_expire
        now = utcnow()
        with self._db.write() as conn:
            row = conn.execute(
                insert(approval_requests)
                .values(
                    uuid=str(uuidlib.uuid4()),
                    public_id=public_id(),
                    app_id=app.id,
                    user_id=user.id,
                    message=new.message,
                    details=new.details,
                    hidden_details=new.hidden_details,
                    logos=new.logos,
                    seconds_to_expire=ttl,
                    status="pending",
                    number=10 + secrets.randbelow(90) if new.number_matching else None,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl) if ttl else None,
                    updated_at=now,
                )
                .returning(*approval_requests.c)
            ).one()
            self._audit.record(
                "request.created",
                app_id=app.id,
                subject=f"user:{user.id}",
                data={"uuid": row.uuid},
                conn=conn,
            )
        request = ApprovalRequest.from_row(row)
        self._bus.publish(phone_topic(user.phone.e164), self.device_event(request, app, user))
        return request

    def device_event(self, request: ApprovalRequest, app: App, user: User) -> dict[str, Any]:
        """What a device is told about a new request: the view it shows, ready to send, so
        that thousands of open streams never go back to the database for it."""
        return new_request_event(request, app, user, self._number_key)

    def get(self, app: App, uuid: str) -> tuple[ApprovalRequest, dict[str, Any]]:
        """The request and its Authy JSON; expires it first if its time is up."""
        if not isinstance(uuid, str) or len(uuid) > 64:
            raise ApprovalRequestNotFound(str(uuid)[:64])
        with self._db.read() as conn:
            row = conn.execute(
                select(
                    approval_requests,
                    users.c.public_id.label("user_public_id"),
                    users.c.email,
                    users.c.phone_e164,
                )
                .join(users, users.c.id == approval_requests.c.user_id)
                .where(approval_requests.c.uuid == uuid, approval_requests.c.app_id == app.id)
            ).first()
        if row is None:
            raise ApprovalRequestNotFound(uuid)
        request = ApprovalRequest.from_row(row)
        if request.is_expired(utcnow()):
            request = self._expire(request, row.phone_e164) or request
        body = authy_json(
            request,
            app_name=app.name,
            app_public_id=app.public_id,
            user_public_id=row.user_public_id,
            user_email=row.email,
        )
        return request, body

    def _expire(self, request: ApprovalRequest, phone_e164: str) -> ApprovalRequest | None:
        now = utcnow()
        with self._db.write() as conn:
            won = conn.execute(
                update(approval_requests)
                .where(
                    approval_requests.c.id == request.id, approval_requests.c.status == "pending"
                )
                .values(status="expired", processed_at=now, updated_at=now)
            ).rowcount
            row = conn.execute(
                select(approval_requests).where(approval_requests.c.id == request.id)
            ).one()
        if won:
            self._announce_end(request.uuid, "expired", phone_e164, now)
        return ApprovalRequest.from_row(row)

    def expire_due(self, limit: int = 500) -> int:
        """Expire every pending request past its deadline (the periodic sweep)."""
        now = utcnow()
        with self._db.read() as conn:
            due = conn.execute(
                select(approval_requests.c.id, approval_requests.c.uuid, users.c.phone_e164)
                .join(users, users.c.id == approval_requests.c.user_id)
                .where(
                    approval_requests.c.status == "pending",
                    approval_requests.c.expires_at.is_not(None),
                    approval_requests.c.expires_at <= now,
                )
                .limit(limit)
            ).all()
        expired = 0
        for row in due:
            with self._db.write() as conn:
                won = conn.execute(
                    update(approval_requests)
                    .where(
                        approval_requests.c.id == row.id, approval_requests.c.status == "pending"
                    )
                    .values(status="expired", processed_at=now, updated_at=now)
                ).rowcount
            if won:
                expired += 1
                self._announce_end(row.uuid, "expired", row.phone_e164, now)
        return expired

    def pending_for_phone(self, phone_e164: str) -> list[tuple[ApprovalRequest, App, User]]:
        """Unexpired pending requests of every application for this phone, oldest first."""
        now = utcnow()
        with self._db.read() as conn:
            rows = conn.execute(
                select(approval_requests.c.uuid)
                .join(users, users.c.id == approval_requests.c.user_id)
                .where(
                    users.c.phone_e164 == phone_e164,
                    approval_requests.c.status == "pending",
                    or_(
                        approval_requests.c.expires_at.is_(None),
                        approval_requests.c.expires_at > now,
                    ),
                )
                .order_by(approval_requests.c.id)
            ).all()
            return [self._load_full(conn, r.uuid) for r in rows]

    def load_for_phone(self, uuid: str, phone_e164: str) -> tuple[ApprovalRequest, App, User]:
        """A request addressed to ``phone_e164``; 60049 for any other (no probing other phones)."""
        with self._db.read() as conn:
            try:
                request, app, user = self._load_full(conn, uuid)
            except LookupError as exc:
                raise ApprovalRequestNotFound(uuid[:64]) from exc
        if user.phone.e164 != phone_e164:
            raise ApprovalRequestNotFound(uuid[:64])
        return request, app, user

    def _load_full(self, conn: Connection, uuid: str) -> tuple[ApprovalRequest, App, User]:
        row = conn.execute(
            select(approval_requests).where(approval_requests.c.uuid == uuid)
        ).first()
        if row is None:
            raise LookupError(uuid)
        request = ApprovalRequest.from_row(row)
        app = App.from_row(conn.execute(select(apps).where(apps.c.id == request.app_id)).one())
        user = load_user(conn, request.app_id, request.user_id)
        return request, app, user

    def decide(self, uuid: str, phone_e164: str, decision: Decision) -> ApprovalRequest:
        """Record a device's answer once, queue the signed callback, tell everyone waiting."""
        request, app, user = self.load_for_phone(uuid, phone_e164)
        now = utcnow()
        if request.is_expired(now):
            self._expire(request, phone_e164)
            raise ApprovalRequestNotPending()
        with self._db.write() as conn:
            won = conn.execute(
                update(approval_requests)
                .where(
                    approval_requests.c.id == request.id,
                    approval_requests.c.status == "pending",
                    or_(
                        approval_requests.c.expires_at.is_(None),
                        approval_requests.c.expires_at > now,
                    ),
                )
                .values(
                    status=decision.status,
                    processed_at=now,
                    updated_at=now,
                    device_id=decision.device_id,
                    device_signature=decision.signature,
                    device_signing_time=decision.signing_time,
                )
            ).rowcount
            if not won:
                raise ApprovalRequestNotPending()
            row = conn.execute(
                select(approval_requests).where(approval_requests.c.id == request.id)
            ).one()
            decided = ApprovalRequest.from_row(row)
            enqueued = enqueue_callback(conn, app, user, decided, decision)
            self._audit.record(
                "request.answered",
                app_id=app.id,
                subject=f"user:{user.id}",
                data={"uuid": uuid, "status": decision.status, "device": decision.device_uuid},
                conn=conn,
            )
        self._announce_end(uuid, decision.status, phone_e164, now)
        metrics.DECISION_SECONDS.observe((now - request.created_at).total_seconds())
        if enqueued:
            self._bus.publish("deliveries", {"type": "enqueued"})
        return decided

    @staticmethod
    def feed(db: Database, key: bytes) -> Callable[[float], list[tuple[str, dict[str, Any]]]]:
        """The database change feed the event bus polls while Redis is unreachable."""
        return lambda since: PushService.changes_since(db, key, since)

    @staticmethod
    def changes_since(db: Database, key: bytes, since: float) -> list[tuple[str, dict[str, Any]]]:
        """Events for requests created or finished since ``since`` (unix time), read from the
        database, in the shape the bus carries them."""
        moment = datetime.fromtimestamp(since, UTC)
        with db.read() as conn:
            rows = conn.execute(
                select(approval_requests, users.c.phone_e164)
                .join(users, users.c.id == approval_requests.c.user_id)
                .where(
                    or_(
                        approval_requests.c.created_at >= moment,
                        approval_requests.c.processed_at >= moment,
                    )
                )
                .order_by(approval_requests.c.id)
            ).all()
            changes: list[tuple[str, dict[str, Any]]] = []
            for row in rows:
                request = ApprovalRequest.from_row(row)
                if request.created_at >= moment:
                    app, user = PushService._app_and_user(conn, request)
                    changes.append(
                        (phone_topic(row.phone_e164), new_request_event(request, app, user, key))
                    )
                if request.status != "pending" and request.processed_at is not None:
                    event = ended_event(request.uuid, request.status, request.processed_at)
                    changes.append((phone_topic(row.phone_e164), event))
                    changes.append((request_topic(request.uuid), event))
        return changes

    @staticmethod
    def _app_and_user(conn: Connection, request: ApprovalRequest) -> tuple[App, User]:
        app = App.from_row(conn.execute(select(apps).where(apps.c.id == request.app_id)).one())
        return app, load_user(conn, request.app_id, request.user_id)

    def _announce_end(self, uuid: str, status: str, phone_e164: str, at: datetime) -> None:
        event = ended_event(uuid, status, at)
        self._bus.publish(phone_topic(phone_e164), event)
        self._bus.publish(request_topic(uuid), event)
