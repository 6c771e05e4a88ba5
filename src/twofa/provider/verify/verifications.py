"""Verifications: start (send or re-send a code), fetch, cancel or approve, and check.

A verification lives while it is pending. Re-starting it within its lifetime re-sends the
same code (contract R3/R4) and counts toward five sends (R5); five wrong checks end it on the
sixth (R6); once approved, canceled, expired or out of attempts it answers 404 (R7). The code is
stored encrypted, since a re-send must repeat it, and compared in constant time.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from twofa.crypto import Keyring, random_digits
from twofa.errors import TwofaError
from twofa.provider.audit.service import AuditLog
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.messaging import Message, MessagingService
from twofa.provider.messaging.email import Email
from twofa.provider.messaging.gateways import Channel
from twofa.provider.phone_numbers import phone_from_e164
from twofa.provider.ratelimit import Limits
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.catalog import load_service
from twofa.provider.verify.errors import (
    ChannelDisabled,
    ConcurrentRequests,
    DeliveryFailed,
    FeatureNotSupported,
    InvalidParameter,
    LandlineNotSupported,
    MaxCheckAttempts,
    MaxSendAttempts,
    Psd2ParamsRequired,
    ResourceNotFound,
    TooManyRequests,
)
from twofa.provider.verify.messages import compose, normalise_locale
from twofa.provider.verify.model import SendAttempt, Verification, VerifyService
from twofa.provider.verify.ratelimits import BucketGuard
from twofa.provider.verify.start_request import (
    StartRequest,
    carrier_lookup,
    lenient_to,
    parse_start,
)
from twofa.provider.verify.wire import Form, canonical, is_sid, new_sid, twilio_date
from twofa.settings import Limit
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_verifications as vv

MAX_SENDS = 5
MAX_CHECKS = 5
# Twilio's limits on polling one verification's status (contract R8).
FETCH_LIMITS = (Limit(60, 60), Limit(180, 3600), Limit(250, 86400))
SENDABLE = {"sms", "call", "email"}


def _attempts(raw: list[dict[str, str]]) -> tuple[SendAttempt, ...]:
    return tuple(
        SendAttempt(
            datetime.strptime(a["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            a["channel"],
            a["attempt_sid"],
        )
        for a in raw
    )


def _verification(row: Row, service: VerifyService) -> Verification:
    return Verification(
        id=row.id,
        sid=row.sid,
        service=service,
        to=row.to,
        channel=row.channel,
        status=row.status,
        amount=row.amount,
        payee=row.payee,
        lookup=row.lookup,
        send_attempts=_attempts(row.send_attempts),
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


class VerificationService:
    """Start, fetch, update and check verifications for one provider."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        messaging: MessagingService,
        limits: Limits,
        buckets: BucketGuard,
        audit: AuditLog,
        *,
        ttl: int,
        guard: FraudGuard | None = None,
    ) -> None:
        self._guard = guard
        self._db = db
        self._keyring = keyring
        self._messaging = messaging
        self._limits = limits
        self._buckets = buckets
        self._audit = audit
        self._ttl = timedelta(seconds=ttl)

    def start(self, account: Account, service_sid: str, form: Form) -> Verification:
        """Send a code (or re-send the pending one); see the module docstring for the rules."""
        request = parse_start(form)
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
        locale = normalise_locale(request.locale)
        if locale is None:
            raise InvalidParameter("Locale")
        if request.custom_code is not None and not service.enabled("custom_code_enabled"):
            raise FeatureNotSupported()
        if service.enabled("psd2_enabled") and not (request.amount and request.payee):
            raise Psd2ParamsRequired()
        if request.channel not in SENDABLE:
            raise ChannelDisabled(request.channel)
        lookup = (
            carrier_lookup(request.to, request.channel) if service.enabled("lookup_enabled") else {}
        )
        if (
            request.channel == "sms"
            and service.enabled("skip_sms_to_landlines")
            and lookup.get("carrier", {}).get("type") == "landline"
        ):
            raise LandlineNotSupported()
        self._buckets.hit(service, request.rate_limits)
        if self._guard is not None and request.channel != "email":
            # The provider's fraud guard: geo permissions, line types, pumping (60605, 60410).
            self._guard.before_send(service.app_id, phone_from_e164(request.to))
        verification, code = self._record_send(service, request, lookup, locale)
        self._deliver(service, request, code, locale)
        return verification

    def _record_send(
        self, service: VerifyService, request: StartRequest, lookup: dict[str, Any], locale: str
    ) -> tuple[Verification, str]:
        now = utcnow()
        attempt = {
            "time": twilio_date(now),
            "channel": request.channel.upper(),
            "attempt_sid": new_sid("VL"),
        }
        try:
            with self._db.write() as conn:
                row = self._pending(conn, service, request.to, lock=True)
                if row is not None and len(row.send_attempts) >= MAX_SENDS:
                    raise MaxSendAttempts()
                # The shared anti-pumping limits count real sends only (not a refused 6th);
                # raising here rolls the attempt back.
                self._limits.hit("sms_per_phone", request.to)
                self._limits.hit("sms_per_app", str(service.app_id))
                if row is None:
                    code = request.custom_code or random_digits(service.code_length)
                    sid = new_sid("VE")
                    saved = conn.execute(
                        insert(vv)
                        .values(
                            sid=sid,
                            service_id=service.id,
                            to=request.to,
                            channel=request.channel,
                            status="pending",
                            code_enc=self._keyring.encrypt(code),
                            amount=request.amount,
                            payee=request.payee,
                            locale=locale,
                            lookup=lookup,
                            send_attempts=[attempt],
                            checks=0,
                            created_at=now,
                            updated_at=now,
                            expires_at=now + self._ttl,
                        )
                        .returning(*vv.c)
                    ).one()
                    event = "verify.verification.started"
                else:
                    sid = row.sid
                    code = request.custom_code or self._keyring.decrypt(row.code_enc)
                    saved = conn.execute(
                        update(vv)
                        .where(vv.c.id == row.id)
                        .values(
                            channel=request.channel,
                            code_enc=(
                                self._keyring.encrypt(code) if request.custom_code else row.code_enc
                            ),
                            send_attempts=[*row.send_attempts, attempt],
                            updated_at=now,
                        )
                        .returning(*vv.c)
                    ).one()
                    event = "verify.verification.resent"
                self._audit.record(
                    event,
                    app_id=service.app_id,
                    subject=sid,
                    data={"channel": request.channel, "service": service.sid},
                    conn=conn,
                )
        except IntegrityError as exc:
            # Another start for the same (service, To) inserted first (contract R9).
            raise ConcurrentRequests() from exc
        return _verification(saved, service), code

    def _deliver(
        self, service: VerifyService, request: StartRequest, code: str, locale: str
    ) -> None:
        """Send the code; a gateway failure leaves the verification pending (503)."""
        texts = compose(
            locale=locale,
            name=request.friendly_name or service.friendly_name,
            code=code,
            channel=request.channel,
            amount=request.amount,
            payee=request.payee,
            do_not_share=service.enabled("do_not_share_warning_enabled"),
            app_hash=request.app_hash,
        )
        try:
            if request.channel == "email":
                self._messaging.send_email(
                    Email(request.to, texts.subject, texts.body, secret=code),
                    app_id=service.app_id,
                )
            else:
                channel: Channel = "call" if request.channel == "call" else "sms"
                self._messaging.send(
                    Message(request.to, channel, texts.body, secret=code), app_id=service.app_id
                )
        except TwofaError as exc:
            raise DeliveryFailed() from exc

    def _pending(
        self, conn: Connection, service: VerifyService, to: str, *, lock: bool
    ) -> Row | None:
        """The pending verification for (service, To); an expired one is closed on the way."""
        query = select(vv).where(
            vv.c.service_id == service.id, vv.c.to == to, vv.c.status == "pending"
        )
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is not None and aware(row.expires_at) <= utcnow():
            if lock:
                self._close(conn, row.id, "expired")
            return None
        return row

    @staticmethod
    def _close(conn: Connection, row_id: int, status: str) -> None:
        conn.execute(
            update(vv)
            .where(vv.c.id == row_id, vv.c.status == "pending")
            .values(status=status, updated_at=utcnow())
        )

    def _by_sid(
        self, conn: Connection, service: VerifyService, sid: str, *, lock: bool
    ) -> Row | None:
        if not is_sid(sid, "VE"):
            return None
        query = select(vv).where(vv.c.service_id == service.id, vv.c.sid == canonical(sid))
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None or row.status != "pending" or aware(row.expires_at) <= utcnow():
            return None
        return row

    def fetch(self, account: Account, service_sid: str, sid: str) -> Verification:
        """A pending verification; polling one more than 60/min, 180/h or 250/day is 20429."""
        for limit in FETCH_LIMITS:
            decision = self._limits.windows.hit(f"verify-fetch:{limit.seconds}:{sid[:40]}", limit)
            if not decision.allowed:
                raise TooManyRequests(retry_after=decision.retry_after)
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            row = self._by_sid(conn, service, sid, lock=False)
        if row is None:
            raise ResourceNotFound()
        return _verification(row, service)

    def update(self, account: Account, service_sid: str, sid: str, form: Form) -> Verification:
        """Cancel, or approve (custom-code flows checked by the application itself)."""
        status = form.text("Status", max_length=20, required=True)
        if status not in {"canceled", "approved"}:
            raise InvalidParameter("Status")
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            row = self._by_sid(conn, service, sid, lock=True)
            if row is None:
                raise ResourceNotFound()
            self._close(conn, row.id, status)
            self._audit.record(
                f"verify.verification.{status}", app_id=account.app_id, subject=row.sid, conn=conn
            )
            saved = conn.execute(select(vv).where(vv.c.id == row.id)).one()
        return _verification(saved, service)

    def check(self, account: Account, service_sid: str, form: Form) -> Verification:
        """Check a code: approved, or still pending after a wrong one; 60202 on the sixth."""
        code = form.text("Code", max_length=10)
        if code is None or not 4 <= len(code) <= 10:
            raise InvalidParameter("Code")
        to = form.text("To", max_length=320)
        sid = form.text("VerificationSid", max_length=34)
        if not to and not sid:
            raise InvalidParameter("To")
        amount, payee = form.text("Amount", max_length=64), form.text("Payee", max_length=128)
        outcome = "pending"
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            if sid:
                row = self._by_sid(conn, service, sid, lock=True)
            else:
                row = self._pending(conn, service, lenient_to(to or ""), lock=True)
            if row is None:
                raise ResourceNotFound()
            if row.checks >= MAX_CHECKS:
                self._close(conn, row.id, "max_attempts_reached")
                outcome = "max_attempts_reached"
            else:
                right = hmac.compare_digest(
                    code.encode(), self._keyring.decrypt(row.code_enc).encode()
                )
                if service.enabled("psd2_enabled"):
                    # A payment confirmed for another amount or payee is a wrong code (R11).
                    right = right and (amount, payee) == (row.amount, row.payee)
                conn.execute(
                    update(vv)
                    .where(vv.c.id == row.id)
                    .values(
                        checks=row.checks + 1,
                        status="approved" if right else "pending",
                        updated_at=utcnow(),
                    )
                )
                outcome = "approved" if right else "pending"
                if right and self._guard is not None and "@" not in row.to:
                    self._guard.converted(service.app_id, phone_from_e164(row.to), conn)
                if right:
                    self._audit.record(
                        "verify.verification.approved",
                        app_id=account.app_id,
                        subject=row.sid,
                        conn=conn,
                    )
            saved = conn.execute(select(vv).where(vv.c.id == row.id)).one()
        if outcome == "max_attempts_reached":
            raise MaxCheckAttempts()
        if outcome == "pending":
            self._audit.record("verify.check.failed", app_id=account.app_id, subject=saved.sid)
        return _verification(saved, service)
