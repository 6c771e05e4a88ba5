"""Enrolling a device: prove the phone with a code, then record the device's public key.

The start answer never depends on whether any application knows the number, so registration
cannot be used to discover who uses which service. Codes are 6 random digits, stored only as
keyed hashes, valid ``phone_verification_ttl`` seconds; each check is counted before the code is
compared and the fifth wrong one ends the registration. Codes go only to numbers some
application knows, within budgets with back-off (SMS pumping).
"""

from __future__ import annotations

import hmac
import uuid as uuidlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from twofa.crypto import Keyring, random_digits
from twofa.errors import (
    MissingParameter,
    RegistrationNotFound,
    VerificationIncorrect,
)
from twofa.provider.audit.service import AuditLog
from twofa.provider.devices.approvals import initial_state
from twofa.provider.devices.auth import APPROVAL_WINDOW
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.signature import (
    InvalidKey,
    key_thumbprint,
    normalized_jwk,
    public_key_from_jwk,
)
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.messaging import Message, MessagingService
from twofa.provider.phone_numbers import Phone
from twofa.provider.phones.service import phone_param
from twofa.provider.ratelimit import Limits
from twofa.provider.webpush.queue import queue_device_notice
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import device_registrations, devices

CODE_LENGTH = 6
MAX_ATTEMPTS = 5
OS_TYPES = {"web", "cli"}
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class StartedRegistration:
    registration_id: str
    seconds_to_expire: int


@dataclass(frozen=True, slots=True)
class NewRegistration:
    """The phone to prove and how to send it the code, already validated."""

    phone: Phone
    via: Literal["sms", "call"]


def parse_new_registration(params: dict[str, Any]) -> NewRegistration:
    """Validate phone_number, country_code and via; 400/60004 or 60033 naming the bad field."""
    phone = phone_param(params)
    via = params.get("via")
    if via not in (None, "", "sms", "call"):
        raise MissingParameter("via", "must be sms or call")
    return NewRegistration(phone, "call" if via == "call" else "sms")


@dataclass(frozen=True, slots=True)
class NewDevice:
    """What a device sends to finish its registration, already validated."""

    name: str
    os_type: str
    public_jwk: dict[str, str]
    public_key: ec.EllipticCurvePublicKey
    thumbprint: str


def parse_new_device(params: dict[str, Any]) -> NewDevice:
    """Validate name, os_type and public_key; 400/60004 naming the bad field."""
    name = params.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MissingParameter("name")
    name = name.strip()
    if len(name) > MAX_NAME or not name.isprintable():
        raise MissingParameter("name", f"must be 1 to {MAX_NAME} printable characters")
    os_type = params.get("os_type")
    if not isinstance(os_type, str) or os_type not in OS_TYPES:
        raise MissingParameter("os_type", "must be web or cli")
    try:
        jwk = normalized_jwk(params.get("public_key"))
    except InvalidKey as exc:
        raise MissingParameter("public_key", str(exc)) from exc
    return NewDevice(name, os_type, jwk, public_key_from_jwk(jwk), key_thumbprint(jwk))


def _insert_once(conn: Connection, statement: Any) -> Any:
    """Run the device INSERT; the same key confirmed twice at once: one wins, one is refused."""
    try:
        return conn.execute(statement).one()
    except IntegrityError as exc:  # the transaction is rolled back: the code stays unused
        raise KeyAlreadyEnrolled() from exc


class KeyAlreadyEnrolled(MissingParameter):
    """One key, one device: a second enrolment of a key would let either device's captured
    requests pass as the other's."""

    def __init__(self) -> None:
        super().__init__("public_key", "is already enrolled; generate a new key")


class RegistrationService:
    """Start and confirm device registrations."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        messaging: MessagingService,
        limits: Limits,
        audit: AuditLog,
        *,
        guard: FraudGuard | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._keyring = keyring
        self._settings = settings
        self._messaging = messaging
        self._limits = limits
        self._guard = guard or FraudGuard(db, settings, audit)

    def start(self, new: NewRegistration, *, client_ip: str | None = None) -> StartedRegistration:
        """Open a registration and send its code by SMS or voice, if the number may get one.

        Nobody is authenticated here, so a code goes only to a number that is a user of some
        application (and passes the fraud guard); for any other number the registration is
        opened and answered the same way, but nothing is sent. Budgets: per client address and
        per number (back-offs), then deployment-wide."""
        phone, via = new.phone, new.via
        if client_ip:
            self._limits.reserve("device_registrations_per_ip", client_ip)
        self._limits.reserve("device_registrations_per_number", phone.e164)
        # Last, so requests refused above cannot spend everyone's budget.
        self._limits.hit("device_registrations_total", "all")
        code = random_digits(CODE_LENGTH)
        registration_id = str(uuidlib.uuid4())
        ttl = self._settings.phone_verification_ttl
        body = (
            f"Your twofa authenticator code is: {code}. It expires in {ttl // 60} minutes. "
            "Do not share it."
        )
        if self._guard.may_send_unsolicited(phone):
            self._limits.hit("sms_per_phone_total", phone.e164)
            self._messaging.send(Message(phone.e164, via, body, secret=code), app_id=None)
        now = utcnow()
        with self._db.write() as conn:
            conn.execute(
                insert(device_registrations).values(
                    uuid=registration_id,
                    phone_e164=phone.e164,
                    code_hash=self._code_hash(registration_id, code),
                    attempts=0,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
            )
        return StartedRegistration(registration_id, ttl)

    def _code_hash(self, registration_id: str, code: str) -> str:
        return self._keyring.code_hash(f"device-registration:{registration_id}", code)

    def confirm(
        self, registration_id: str, code: str | None, new: NewDevice, *, ip: str | None = None
    ) -> EnrolledDevice:
        """Check the code once; on success record the device and close the registration.

        A phone's first device is active at once; a further one is ``pending`` until an
        existing device approves it (devices/approvals.py), and the phone's other devices get
        a Web Push notice of it in the same transaction.
        """
        if not isinstance(registration_id, str) or len(registration_id) > 64:
            raise RegistrationNotFound()
        now = utcnow()
        with self._db.read() as conn:
            row = conn.execute(
                select(device_registrations).where(device_registrations.c.uuid == registration_id)
            ).first()
        if row is None or not self._take_attempt(row.id, now):
            raise RegistrationNotFound()
        given = self._code_hash(registration_id, code) if code is not None else ""
        if not hmac.compare_digest(given, row.code_hash):
            raise VerificationIncorrect()
        with self._db.write() as conn:
            if conn.execute(
                select(devices.c.id).where(devices.c.key_thumbprint == new.thumbprint)
            ).first():
                raise KeyAlreadyEnrolled()
            state, number = initial_state(conn, row.phone_e164)
            won = conn.execute(
                update(device_registrations)
                .where(
                    device_registrations.c.id == row.id,
                    device_registrations.c.used_at.is_(None),
                )
                .values(used_at=now)
            ).rowcount
            if not won:
                raise RegistrationNotFound()
            created = _insert_once(
                conn,
                insert(devices)
                .values(
                    uuid=str(uuidlib.uuid4()),
                    phone_e164=row.phone_e164,
                    name=new.name,
                    os_type=new.os_type,
                    public_key=new.public_jwk,
                    key_thumbprint=new.thumbprint,
                    state=state,
                    approval_number=number,
                    registered_ip=ip[:64] if ip else None,
                    created_at=now,
                    last_seen_at=now,
                )
                .returning(*devices.c),
            )
            if state == "pending":
                # The phone's devices hear of it even while their app is closed.
                queue_device_notice(
                    conn,
                    event="pending",
                    device_uuid=created.uuid,
                    phone_e164=row.phone_e164,
                    now=now,
                    expires_at=now + APPROVAL_WINDOW,
                )
            self._limits.reset("device_registrations_per_number", row.phone_e164)
            self._audit.record(
                "device.registered",
                subject=f"device:{created.uuid}",
                data={"os_type": new.os_type, "state": state},
                conn=conn,
            )
        return EnrolledDevice.from_row(created, new.public_key)

    def _take_attempt(self, registration_id: int, now: Any) -> bool:
        """Count one check before comparing (a conditional UPDATE: concurrent confirms cannot
        exceed ``MAX_ATTEMPTS``); False when the registration is over, expired or used."""
        with self._db.write() as conn:
            return bool(
                conn.execute(
                    update(device_registrations)
                    .where(
                        device_registrations.c.id == registration_id,
                        device_registrations.c.used_at.is_(None),
                        device_registrations.c.expires_at > now,
                        device_registrations.c.attempts < MAX_ATTEMPTS,
                    )
                    .values(attempts=device_registrations.c.attempts + 1)
                ).rowcount
            )
