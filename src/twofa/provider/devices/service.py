"""The device side of the provider: what an enrolled device may read and decide.

Every method takes the device that signed the request (``RequestAuthenticator`` found it), and
sees only what belongs to that device's phone: its applications' accounts, its approval
requests, its sibling devices. A uuid addressed to another phone answers exactly like an
unknown one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from twofa.crypto import Keyring
from twofa.errors import (
    ApprovalRequestNotFound,
    DecisionSignatureInvalid,
    DeviceNotFound,
    MissingParameter,
)
from twofa.events import EventBus
from twofa.otp import random_secret
from twofa.provider.apps.model import App
from twofa.provider.audit.service import AuditLog
from twofa.provider.devices.approvals import (
    DEVICE_EVENTS,
    DeviceApprovals,
    accounts_changed_event,
)
from twofa.provider.devices.auth import SKEW, RequestAuthenticator, SignedRequest
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.registration import NewDevice, RegistrationService
from twofa.provider.devices.signature import decision_text, verify
from twofa.provider.devices.streams import StreamRegistry, device_topic, revoked_event
from twofa.provider.push.events import millis, phone_topic
from twofa.provider.push.model import ApprovalRequest, Decision
from twofa.provider.push.service import PushService
from twofa.provider.push.view import number_key, request_view, unix
from twofa.provider.users.store import active_devices, app_accounts
from twofa.provider.webpush.queue import forget_device, queue_device_notice
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import devices as device_rows
from twofa.storage.tables import totp_secrets, users

HISTORY = 50
UUID = re.compile(r"^[0-9a-fA-F-]{1,64}$", re.ASCII)
MAX_SIGNING_TIME = 10**11  # unix seconds, year 5138: far beyond any clock, far below overflow
REPLAY = 200


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    uuid: str
    status: str
    number_mismatch: bool


@dataclass(frozen=True, slots=True)
class SignedDecision:
    """A device's decision as it sent it: what it chose and its signature over that choice."""

    approve: bool
    signing_time: int
    number: int | None
    signature: str


def _int_param(
    params: dict[str, Any], name: str, *, required: bool, low: int, high: int
) -> int | None:
    """An integer within [low, high]; bounded before any arithmetic (JSON ints are unbounded)."""
    value = params.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MissingParameter(name, f"must be an integer from {low} to {high}")
    return value


def _uuid_param(uuid: str) -> str:
    """A uuid path parameter; anything else is simply not found (no NUL reaches the database)."""
    if not UUID.match(uuid):
        raise ApprovalRequestNotFound(uuid[:64].encode("ascii", "replace").decode())
    return uuid


def parse_signed_decision(params: dict[str, Any]) -> SignedDecision:
    """Validate decision, signing_time, number and signature; 400/60004 naming the bad field."""
    choice = params.get("decision")
    if choice not in ("approve", "deny"):
        raise MissingParameter("decision", "must be approve or deny")
    signing_time = _int_param(params, "signing_time", required=True, low=0, high=MAX_SIGNING_TIME)
    number = _int_param(params, "number", required=False, low=0, high=999)
    signature = params.get("signature")
    if not isinstance(signature, str) or not signature:
        raise MissingParameter("signature")
    assert signing_time is not None
    return SignedDecision(choice == "approve", signing_time, number, signature)


def parse_device_decision(params: dict[str, Any]) -> tuple[bool, int | None]:
    """``decision`` (approve/deny) and the ``number`` typed for a waiting device."""
    choice = params.get("decision")
    if choice not in ("approve", "deny"):
        raise MissingParameter("decision", "must be approve or deny")
    return choice == "approve", _int_param(params, "number", required=False, low=0, high=999)


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One Server-Sent Event: id (event time in ms), name and JSON data."""

    id: int
    event: str
    data: dict[str, Any]


class DeviceService:
    """Registration, signed-request authentication and everything a device does afterwards."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        push: PushService,
        bus: EventBus,
        audit: AuditLog,
        registrations: RegistrationService,
        authenticator: RequestAuthenticator,
        approvals: DeviceApprovals,
    ) -> None:
        self._db = db
        self._audit = audit
        self._keyring = keyring
        self._push = push
        self._bus = bus
        self._number_key = number_key(settings)
        self.registrations = registrations
        self.authenticator = authenticator
        self.streams = StreamRegistry(db, bus)
        self.approvals = approvals

    def authenticate(self, request: SignedRequest, *, pending: bool = False) -> EnrolledDevice:
        """The device that signed ``request``; 401/60087 otherwise (403 while it is pending,
        unless ``pending`` allows a device awaiting approval)."""
        return self.authenticator.authenticate(request, pending=pending)

    def enrol(
        self, registration_id: str, code: str | None, new: NewDevice, *, ip: str | None
    ) -> EnrolledDevice:
        """Confirm a registration; a further device then waits for approval on the others."""
        device = self.registrations.confirm(registration_id, code, new, ip=ip)
        self.approvals.announce(device)
        return device

    # Accounts ------------------------------------------------------------------------------

    def accounts(self, device: EnrolledDevice) -> list[dict[str, Any]]:
        """One TOTP account per application user with this phone (the device computes codes)."""
        with self._db.read() as conn:
            found = app_accounts(conn, device.phone_e164)
        return [
            {
                "app_name": a.app_name,
                "authy_id": a.user_id,
                "secret": self._keyring.decrypt(a.secret_enc),
                "digits": a.digits,
                "period": a.step,
                "algorithm": "SHA1",
            }
            for a in found
        ]

    # Approval requests ---------------------------------------------------------------------

    def view(self, request: ApprovalRequest, app: App, user: Any) -> dict[str, Any]:
        return request_view(request, app, user, number_key=self._number_key, now=utcnow())

    def pending(self, device: EnrolledDevice) -> list[dict[str, Any]]:
        """Pending, unexpired requests for this phone, oldest first."""
        return [self.view(*found) for found in self._push.pending_for_phone(device.phone_e164)]

    def request(self, device: EnrolledDevice, uuid: str) -> dict[str, Any]:
        """One request addressed to this phone; 404/60049 for any other."""
        return self.view(*self._push.load_for_phone(_uuid_param(uuid), device.phone_e164))

    def history(self, device: EnrolledDevice) -> list[dict[str, Any]]:
        """The latest answered or expired requests of this phone, newest first."""
        found = self._push.history_for_phone(device.phone_e164, HISTORY)
        return [self.view(*addressed) for addressed in found]

    def decide(
        self, device: EnrolledDevice, uuid: str, decision: SignedDecision
    ) -> DecisionOutcome:
        """Verify the signed decision, apply number matching, record it once."""
        _uuid_param(uuid)
        if abs(time.time() - decision.signing_time) > SKEW:
            raise DecisionSignatureInvalid("The decision's signing time is too far from now")
        found = self._push.load_for_phone(uuid, device.phone_e164)
        request = found[0]
        status = "approved" if decision.approve else "denied"
        signed = decision_text(uuid, status, decision.signing_time, decision.number)
        if not verify(device.public_key, decision.signature, signed):
            raise DecisionSignatureInvalid()
        mismatch = (
            status == "approved"
            and request.number is not None
            and decision.number != request.number
        )
        decided = self._push.decide(
            found,
            Decision(
                status="denied" if mismatch else status,
                device_id=device.id,
                device_uuid=device.uuid,
                device_json=device.callback_json(),
                signature=decision.signature,
                signing_time=decision.signing_time,
            ),
        )
        if mismatch:
            with self._db.write() as conn:
                self._audit.record(
                    "request.number_mismatch",
                    app_id=request.app_id,
                    subject=f"device:{device.uuid}",
                    data={"uuid": uuid, "typed": decision.number},
                    conn=conn,
                )
        return DecisionOutcome(uuid, decided.status, mismatch)

    # Devices -------------------------------------------------------------------------------

    def devices(self, device: EnrolledDevice) -> list[dict[str, Any]]:
        """The active devices of this phone, oldest first."""
        with self._db.read() as conn:
            found = active_devices(conn, device.phone_e164)
        return [
            {
                "uuid": d.uuid,
                "name": d.name,
                "os_type": d.os_type,
                "created_at": unix(d.created_at),
                "last_seen_at": unix(d.last_seen_at),
                "current": d.uuid == device.uuid,
            }
            for d in found
        ]

    def revoke(self, device: EnrolledDevice, uuid: str) -> None:
        """Revoke a device of the same phone (itself included) and end its open streams."""
        self._revoke(uuid, phone_e164=device.phone_e164, by=device.uuid)

    def operator_revoke(self, uuid: str, *, actor: str | None = None) -> None:
        """Revoke any device (``twofa devices revoke``: a lost phone's recovery)."""
        self._revoke(uuid, phone_e164=None, by="operator", actor=actor)

    def _revoke(
        self, uuid: str, *, phone_e164: str | None, by: str, actor: str | None = None
    ) -> None:
        if not UUID.match(uuid):
            raise DeviceNotFound()
        which = [device_rows.c.uuid == uuid, device_rows.c.revoked_at.is_(None)]
        if phone_e164 is not None:
            which.append(device_rows.c.phone_e164 == phone_e164)
        now = utcnow()
        notified = 0
        with self._db.write() as conn:
            target = conn.execute(
                select(
                    device_rows.c.id,
                    device_rows.c.name,
                    device_rows.c.state,
                    device_rows.c.phone_e164,
                ).where(*which)
            ).first()
            revoked = conn.execute(
                update(device_rows).where(*which).values(revoked_at=now)
            ).rowcount
            rotated = 0
            if revoked and target is not None and target.state == "active":
                rotated = self._rotate_secrets(conn, target.phone_e164)
            if revoked and target is not None:
                forget_device(conn, target.id, now=now)
                # A device revoked while it waited was in effect denied: that closes the
                # "asks to join" notice the others may still show.
                notified = queue_device_notice(
                    conn,
                    event="revoked" if target.state == "active" else "denied",
                    device_uuid=uuid,
                    phone_e164=target.phone_e164,
                    now=now,
                )
            if revoked:
                self._audit.record(
                    "device.revoked",
                    subject=f"device:{uuid}",
                    data={"by": by, "secrets_rotated": rotated},
                    actor=actor,
                    conn=conn,
                )
        if not revoked or target is None:
            raise DeviceNotFound()
        self._bus.publish(device_topic(uuid), revoked_event(uuid))
        if notified:
            self._bus.publish("deliveries", {"type": "enqueued"})
        if target.state == "active":
            self._bus.publish(phone_topic(target.phone_e164), accounts_changed_event(uuid))
            self.approvals.revoked(target.phone_e164, uuid, target.name)

    def _rotate_secrets(self, conn: Connection, phone_e164: str) -> int:
        """Give every application user of this phone a new authenticator TOTP secret.

        The revoked device may have copied the secrets; from this commit on, codes computed
        from them fail. Generic-authenticator (QR) secrets are another factor and stay.
        """
        rows = conn.execute(
            select(totp_secrets.c.id)
            .join(users, users.c.id == totp_secrets.c.user_id)
            .where(users.c.phone_e164 == phone_e164, totp_secrets.c.kind == "app")
        ).all()
        for row in rows:
            conn.execute(
                update(totp_secrets)
                .where(totp_secrets.c.id == row.id)
                .values(
                    secret_enc=self._keyring.encrypt(random_secret()),
                    last_step=0,
                    created_at=utcnow(),
                )
            )
        return len(rows)

    # Event stream --------------------------------------------------------------------------

    def opening_events(
        self, device: EnrolledDevice, last_event_id: int | None
    ) -> list[StreamEvent]:
        """What a stream sends first: every pending request, and what ended since the last id.

        Ids are stored event times (created_at, processed_at), so a client resuming against
        another provider process, or after a restart, gets the same answer.
        """
        events = [
            StreamEvent(millis(request.created_at), "request", self.view(request, app, user))
            for request, app, user in self._push.pending_for_phone(device.phone_e164)
        ]
        events += [
            StreamEvent(at, "device.request", view)
            for at, view in self.approvals.pending_events(device.phone_e164)
        ]
        if last_event_id is not None:
            since = datetime.fromtimestamp(last_event_id / 1000, UTC)
            for ended in self._push.ended_for_phone(device.phone_e164, since, REPLAY):
                at = millis(ended.processed_at)
                if at > last_event_id:
                    events.append(
                        StreamEvent(
                            at, "request.ended", {"uuid": ended.uuid, "status": ended.status}
                        )
                    )
        events.sort(key=lambda e: e.id)
        return events

    def live_event(self, device: EnrolledDevice, event: dict[str, Any]) -> StreamEvent | None:
        """Turn a bus event into the stream event this device should see (None: nothing)."""
        kind = event.get("type")
        if kind == "revoked":
            return StreamEvent(millis(utcnow()), "revoked", {"uuid": device.uuid})
        if kind in DEVICE_EVENTS and isinstance(event.get("data"), dict) and "id" in event:
            return StreamEvent(int(event["id"]), str(kind), event["data"])
        uuid = event.get("uuid")
        if kind not in ("request", "request.ended") or not isinstance(uuid, str):
            return None
        # Events carry what the device needs; the bus topic already is this device's phone.
        if kind == "request" and isinstance(event.get("view"), dict) and "id" in event:
            return StreamEvent(int(event["id"]), "request", event["view"])
        if kind == "request.ended" and "id" in event and isinstance(event.get("status"), str):
            return StreamEvent(
                int(event["id"]), "request.ended", {"uuid": uuid, "status": event["status"]}
            )
        try:
            request, app, user = self._push.load_for_phone(uuid, device.phone_e164)
        except ApprovalRequestNotFound:
            return None
        if kind == "request":
            return StreamEvent(millis(request.created_at), "request", self.view(request, app, user))
        status = event.get("status") or request.status
        return StreamEvent(
            millis(request.processed_at or utcnow()),
            "request.ended",
            {"uuid": uuid, "status": status},
        )
