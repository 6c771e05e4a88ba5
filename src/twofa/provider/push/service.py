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
from datetime import UTC, datetime, timedelta
from typing import Any

from twofa.crypto import public_id
from twofa.errors import ApprovalRequestNotFound, ApprovalRequestNotPending, UserNotRegistered
from twofa.events import EventBus
from twofa.provider.apps.model import App
from twofa.provider.audit.service import AuditLog
from twofa.provider.messaging.service import record_stored_only
from twofa.provider.observability import metrics
from twofa.provider.push import store
from twofa.provider.push.callback import callback_body, enqueue_callback
from twofa.provider.push.events import ended_event, new_request_event, phone_topic, request_topic
from twofa.provider.push.model import Addressed, ApprovalRequest, Decision, NewRequest, authy_json
from twofa.provider.push.view import NUMBER_HIGH, NUMBER_LOW, number_key
from twofa.provider.ratelimit import Limits
from twofa.provider.users.model import User
from twofa.provider.users.store import load_user
from twofa.provider.webpush.queue import queue_ended, queue_wake_ups
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow


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
        # What the request does not say, the application's defaults (set in the console) do.
        ttl = app.onetouch_ttl
        if ttl is None:
            ttl = self._settings.onetouch_default_ttl
        if new.seconds_to_expire is not None:
            ttl = new.seconds_to_expire
        now = utcnow()
        number = None
        matching = new.number_matching
        if matching is None:
            matching = app.number_matching
        if matching:
            number = NUMBER_LOW + secrets.randbelow(NUMBER_HIGH - NUMBER_LOW + 1)
        with self._db.write() as conn:
            request = store.insert_request(
                conn,
                uuid=str(uuidlib.uuid4()),
                public_id=public_id(),
                app_id=app.id,
                user_id=user.id,
                new=new,
                ttl=ttl,
                number=number,
                now=now,
                expires_at=now + timedelta(seconds=ttl) if ttl else None,
            )
            self._audit.record(
                "request.created",
                app_id=app.id,
                subject=f"user:{user.id}",
                data={"uuid": request.uuid},
                conn=conn,
            )
            if app.sandbox:
                # No wake-up for a push service to carry: the outbox shows the request instead
                # (the phone's own event stream, below, is ours and still tells its devices).
                record_stored_only(
                    conn,
                    app_id=app.id,
                    to=user.phone.e164,
                    channel="push",
                    body=f"OneTouch request {request.uuid}: {request.message}",
                    now=now,
                )
                woken = 0
            else:
                woken = queue_wake_ups(
                    conn,
                    uuid=request.uuid,
                    phone_e164=user.phone.e164,
                    expires_at=request.expires_at,
                    now=now,
                )
        self._bus.publish(phone_topic(user.phone.e164), self.device_event(request, app, user))
        if woken:
            self._bus.publish("deliveries", {"type": "enqueued"})
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
            found = store.load(conn, uuid, app_id=app.id)
        if found is None:
            raise ApprovalRequestNotFound(uuid)
        request, _, user = found
        if request.is_expired(utcnow()):
            request = self._expire(request, user.phone.e164)
        body = authy_json(
            request,
            app_name=app.name,
            app_public_id=app.public_id,
            user_public_id=user.public_id,
            user_email=user.email,
        )
        return request, body

    def _expire(self, request: ApprovalRequest, phone_e164: str) -> ApprovalRequest:
        """Expire a request found past its deadline; the request as it now stands."""
        now = utcnow()
        with self._db.write() as conn:
            won = store.expire(conn, request.id, now)
            current = store.by_id(conn, request.id)
            woken = won and queue_ended(conn, uuid=request.uuid, now=now) > 0
        if won:
            self._announce_end(request.uuid, "expired", phone_e164, now)
        if woken:
            self._bus.publish("deliveries", {"type": "enqueued"})
        return current

    def expire_due(self, limit: int = 500) -> int:
        """Expire every pending request past its deadline (the periodic sweep)."""
        now = utcnow()
        with self._db.read() as conn:
            due = store.due_for_expiry(conn, now, limit)
        expired = 0
        woken = False
        for row in due:
            with self._db.write() as conn:
                won = store.expire(conn, row.id, now)
                if won:
                    woken |= queue_ended(conn, uuid=row.uuid, now=now) > 0
            if won:
                expired += 1
                self._announce_end(row.uuid, "expired", row.phone_e164, now)
        if woken:
            self._bus.publish("deliveries", {"type": "enqueued"})
        return expired

    def pending_for_phone(self, phone_e164: str) -> list[Addressed]:
        """Unexpired pending requests of every application for this phone, oldest first."""
        with self._db.read() as conn:
            return store.pending_for_phone(conn, phone_e164, utcnow())

    def history_for_phone(self, phone_e164: str, limit: int) -> list[Addressed]:
        """The latest answered or expired requests of this phone, newest first."""
        with self._db.read() as conn:
            return store.history_for_phone(conn, phone_e164, limit)

    def ended_for_phone(self, phone_e164: str, since: datetime, limit: int) -> list[store.Ended]:
        """Requests of this phone that ended after ``since``, in the order they ended."""
        with self._db.read() as conn:
            return store.ended_for_phone(conn, phone_e164, since, limit)

    def load_for_phone(self, uuid: str, phone_e164: str) -> Addressed:
        """A request addressed to ``phone_e164``; 60049 for any other (no probing other phones)."""
        with self._db.read() as conn:
            found = store.load(conn, uuid)
        if found is None or found[2].phone.e164 != phone_e164:
            raise ApprovalRequestNotFound(uuid[:64])
        return found

    def decide(self, found: Addressed, decision: Decision) -> ApprovalRequest:
        """Record a device's answer once, queue the signed callback, tell everyone waiting.

        ``found`` is the request as the device layer loaded it (``load_for_phone``), so a
        decision reads its request once; the conditional UPDATE settles any race since.
        """
        request, app, user = found
        phone_e164 = user.phone.e164
        now = utcnow()
        if request.is_expired(now):
            self._expire(request, phone_e164)
            raise ApprovalRequestNotPending()
        with self._db.write() as conn:
            decided = store.record_decision(conn, request.id, decision, now)
            if decided is None:
                raise ApprovalRequestNotPending()
            body = callback_body(app, user, decided, decision)
            enqueued = enqueue_callback(conn, app, decided.uuid, body)
            enqueued |= queue_ended(conn, uuid=decided.uuid, now=now) > 0
            self._audit.record(
                "request.answered",
                app_id=app.id,
                subject=f"user:{user.id}",
                data={
                    "uuid": decided.uuid,
                    "status": decision.status,
                    "device": decision.device_uuid,
                },
                conn=conn,
            )
        self._announce_end(decided.uuid, decision.status, phone_e164, now)
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
            found = store.changed_since(conn, moment)
        changes: list[tuple[str, dict[str, Any]]] = []
        for request, app, user in found:
            topic = phone_topic(user.phone.e164)
            if request.created_at >= moment:
                changes.append((topic, new_request_event(request, app, user, key)))
            if request.status != "pending" and request.processed_at is not None:
                event = ended_event(request.uuid, request.status, request.processed_at)
                changes.append((topic, event))
                changes.append((request_topic(request.uuid), event))
        return changes

    def _announce_end(self, uuid: str, status: str, phone_e164: str, at: datetime) -> None:
        event = ended_event(uuid, status, at)
        self._bus.publish(phone_topic(phone_e164), event)
        self._bus.publish(request_topic(uuid), event)
