"""A phone's further devices are approved on a device it already has; the owner hears of every
change.

One SMS code used to be enough to clone the authenticator: whoever reads one SMS to the number
(SIM swap, SS7, a shared inbox) got every secret of that phone. Now only the first device of a
phone registers with the code alone. A further device waits, ``pending``, until an existing
device approves it by typing the number the new device shows (number matching: a user tapping
"approve" at random cannot let it in), within ``APPROVAL_WINDOW``. A wrong number denies it.
An application may turn further devices off for its users altogether (``apps.multi_device``).
When every device is lost, the operator approves the new one (``twofa devices approve``).

Every device of the phone is told over its stream, and the phone gets an SMS, when a device is
added or revoked. The phone's other devices also get a Web Push notice (``webpush/queue.py``)
when a device asks to join, is added, denied or revoked, queued in the change's transaction,
so an authenticator whose app is closed hears of it too.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from twofa.errors import DeviceNotFound, MissingParameter, MultiDeviceDisabled, TwofaError
from twofa.events import EventBus
from twofa.provider.audit.service import AuditLog
from twofa.provider.devices.auth import APPROVAL_WINDOW
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.streams import device_topic, revoked_event
from twofa.provider.messaging import Message, MessagingService
from twofa.provider.push.events import millis, phone_topic
from twofa.provider.push.view import unix
from twofa.provider.webpush.queue import forget_device, queue_device_notice
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import apps, devices, users

log = logging.getLogger(__name__)
DEVICE_EVENTS = (
    "device.request",
    "device.ended",
    "device.added",
    "device.revoked",
    "accounts.changed",
)


def initial_state(conn: Connection, phone_e164: str) -> tuple[str, int | None]:
    """``("active", None)`` for a phone's first device; ``("pending", number)`` for a further
    one; ``MultiDeviceDisabled`` when an application of this phone's users turned that off."""
    has_device = conn.execute(
        select(devices.c.id).where(
            devices.c.phone_e164 == phone_e164,
            devices.c.revoked_at.is_(None),
            devices.c.state == "active",
        )
    ).first()
    if has_device is None:
        return "active", None
    single = conn.execute(
        select(apps.c.id)
        .join(users, users.c.app_id == apps.c.id)
        .where(users.c.phone_e164 == phone_e164, apps.c.multi_device.is_(False))
    ).first()
    if single is not None:
        raise MultiDeviceDisabled()
    return "pending", 10 + secrets.randbelow(90)


def _event(kind: str, uuid: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "key": f"{kind}:{uuid}", "id": millis(at), "data": data}


def accounts_changed_event(revoked_uuid: str, at: datetime | None = None) -> dict[str, Any]:
    """Tell a phone's devices to fetch their accounts again: the secrets were rotated."""
    data = {"reason": "a device of this phone was revoked"}
    return _event("accounts.changed", revoked_uuid, at or utcnow(), data)


def request_view(row: Any) -> dict[str, Any]:
    """A pending device as an existing device sees it: never the number it must type."""
    created = aware(row.created_at)
    return {
        "uuid": row.uuid,
        "name": row.name,
        "os_type": row.os_type,
        "registered_from": row.registered_ip,
        "created_at": unix(created),
        "expires_at": unix(created + APPROVAL_WINDOW),
    }


def changes_since(db: Database, since: float) -> list[tuple[str, dict[str, Any]]]:
    """The change feed's share for devices: requests to join, their outcome, revocations."""
    moment = datetime.fromtimestamp(since, UTC)
    with db.read() as conn:
        rows = conn.execute(
            select(devices).where(
                (devices.c.revoked_at >= moment)
                | (devices.c.created_at >= moment)
                | (devices.c.decided_at >= moment)
            )
        ).all()
    found: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        topic = phone_topic(row.phone_e164)
        if row.approval_number is not None and aware(row.created_at) >= moment:
            event = _event("device.request", row.uuid, row.created_at, request_view(row))
            found.append((topic, event))
        if row.decided_at is not None and aware(row.decided_at) >= moment:
            status = "approved" if row.state == "active" else "denied"
            data = {"uuid": row.uuid, "status": status}
            found.append((topic, _event("device.ended", row.uuid, row.decided_at, data)))
        if row.revoked_at is not None and aware(row.revoked_at) >= moment:
            found.append((device_topic(row.uuid), revoked_event(row.uuid)))
            if row.state == "active":
                found.append((topic, accounts_changed_event(row.uuid, row.revoked_at)))
    return found


class DeviceApprovals:
    """Pending devices: list, approve or deny them, and tell the phone's owner."""

    def __init__(
        self, db: Database, bus: EventBus, messaging: MessagingService, audit: AuditLog
    ) -> None:
        self._db = db
        self._bus = bus
        self._messaging = messaging
        self._audit = audit

    def announce(self, device: EnrolledDevice) -> None:
        """After a registration: ask the phone's devices, or (a first device) tell the owner."""
        if device.active:
            self.added(device.phone_e164, device.uuid, device.name)
            return
        with self._db.read() as conn:
            row = conn.execute(select(devices).where(devices.c.id == device.id)).one()
        event = _event("device.request", device.uuid, row.created_at, request_view(row))
        self._bus.publish(phone_topic(device.phone_e164), event)
        # The registration may have queued Web Push notices of it: send them now.
        self._bus.publish("deliveries", {"type": "enqueued"})

    def pending(self, phone_e164: str) -> list[dict[str, Any]]:
        """The devices of this phone still waiting for approval, oldest first."""
        since = utcnow() - APPROVAL_WINDOW
        with self._db.read() as conn:
            rows = conn.execute(
                select(devices)
                .where(
                    devices.c.phone_e164 == phone_e164,
                    devices.c.state == "pending",
                    devices.c.revoked_at.is_(None),
                    devices.c.created_at > since,
                )
                .order_by(devices.c.id)
            ).all()
        return [request_view(r) for r in rows]

    def pending_events(self, phone_e164: str) -> list[tuple[int, dict[str, Any]]]:
        """(event id, view) of every pending device, for a stream that opens."""
        return [(v["created_at"] * 1000, v) for v in self.pending(phone_e164)]

    def decide(
        self, approver: EnrolledDevice, uuid: str, *, approve: bool, number: int | None
    ) -> str:
        """Approve (with the number the new device shows) or deny; ``approved`` or ``denied``.

        A wrong or missing number denies the device, as a wrong answer should: the person who
        typed it is not looking at the new device, so it is not theirs.
        """
        if approve and number is None:
            raise MissingParameter("number", "type the number shown on the new device")
        row = self._pending_row(uuid, approver.phone_e164)
        mismatch = approve and number != row.approval_number
        status = "approved" if approve and not mismatch else "denied"
        self._settle(row, status, by=approver.uuid, reason="number_mismatch" if mismatch else None)
        return status

    def operator_approve(self, uuid: str) -> dict[str, Any]:
        """The recovery path when every device is lost: the operator, having checked who the
        owner is, approves the waiting device."""
        with self._db.read() as conn:
            phone = conn.execute(select(devices.c.phone_e164).where(devices.c.uuid == uuid)).first()
        if phone is None:
            raise DeviceNotFound()
        row = self._pending_row(uuid, phone.phone_e164)
        self._settle(row, "approved", by="operator", reason=None)
        return request_view(row)

    def _pending_row(self, uuid: str, phone_e164: str) -> Any:
        with self._db.read() as conn:
            row = conn.execute(
                select(devices).where(
                    devices.c.uuid == uuid,
                    devices.c.phone_e164 == phone_e164,
                    devices.c.state == "pending",
                    devices.c.revoked_at.is_(None),
                )
            ).first()
        if row is None or aware(row.created_at) + APPROVAL_WINDOW <= utcnow():
            raise DeviceNotFound()
        return row

    def _settle(self, row: Any, status: str, *, by: str, reason: str | None) -> None:
        now = utcnow()
        values: dict[str, Any] = {"decided_at": now}
        if status == "approved":
            values["state"] = "active"
        else:
            values.update(state="denied", revoked_at=now)
        with self._db.write() as conn:
            won = conn.execute(
                update(devices)
                .where(devices.c.id == row.id, devices.c.state == "pending")
                .values(**values)
            ).rowcount
            if not won:
                raise DeviceNotFound()
            self._audit.record(
                f"device.{status}",
                subject=f"device:{row.uuid}",
                data={"by": by, **({"reason": reason} if reason else {})},
                conn=conn,
            )
            if status == "denied":
                forget_device(conn, row.id, now=now)
            notified = queue_device_notice(
                conn,
                event="added" if status == "approved" else "denied",
                device_uuid=row.uuid,
                phone_e164=row.phone_e164,
                now=now,
            )
        if notified:
            self._bus.publish("deliveries", {"type": "enqueued"})
        topic = phone_topic(row.phone_e164)
        self._bus.publish(
            topic, _event("device.ended", row.uuid, now, {"uuid": row.uuid, "status": status})
        )
        if status == "approved":
            self.added(row.phone_e164, row.uuid, row.name)

    def added(self, phone_e164: str, uuid: str, name: str) -> None:
        """Tell every device of the phone, and the phone by SMS, that a device was added."""
        data = {"uuid": uuid, "name": name}
        self._bus.publish(phone_topic(phone_e164), _event("device.added", uuid, utcnow(), data))
        self._sms(
            phone_e164,
            f'twofa: the authenticator device "{name}" was added to your number. If this was '
            "not you, revoke it on another device now.",
        )

    def revoked(self, phone_e164: str, uuid: str, name: str) -> None:
        """Tell every device of the phone, and the phone by SMS, that a device was revoked."""
        data = {"uuid": uuid, "name": name}
        self._bus.publish(phone_topic(phone_e164), _event("device.revoked", uuid, utcnow(), data))
        self._sms(phone_e164, f'twofa: the authenticator device "{name}" was revoked.')

    def _sms(self, phone_e164: str, body: str) -> None:
        """Best effort: a gateway outage must not undo a revocation already made."""
        try:
            self._messaging.send(Message(phone_e164, "sms", body), app_id=None)
        except TwofaError as exc:
            log.warning("device notice to %s not sent: %s", phone_e164[-4:], exc)
