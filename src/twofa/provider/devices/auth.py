"""Authenticating signed device requests: key, clock, nonce.

A request is accepted only when its signature verifies under an active device's key, its
timestamp is within ``SKEW`` seconds of our clock, and its nonce has not been seen from that
device. The nonce is remembered (in ``device_nonces``) for as long as its timestamp would still
be accepted, so a captured request cannot be replayed while it is fresh, and cannot be replayed
at all once it is stale. Every refusal is the same 401/60087, apart from the message.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from twofa.errors import DeviceNotApproved, InvalidSignature
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.signature import InvalidKey, public_key_from_jwk, request_text, verify
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import device_nonces, devices

SKEW = 60
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Unix seconds as ASCII digits, bounded before any arithmetic: ``int`` accepts any number of
# digits (and non-ASCII ones), and a 400-digit value overflows the float clock comparison.
TIMESTAMP = re.compile(r"^[0-9]{1,12}$", re.ASCII)
TOUCH_EVERY = timedelta(seconds=60)
APPROVAL_WINDOW = timedelta(minutes=10)  # a further device must be approved within this
SWEEP_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parts of an HTTP request that the signature covers, plus its four headers."""

    method: str
    host: str  # the Host header
    target: str  # PATH?QUERY exactly as sent
    body: bytes
    device: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None


def load_device(db: Database, uuid: str) -> EnrolledDevice | None:
    """The device ``uuid`` with its key, or None (unknown, revoked, denied, a pending one whose
    approval ran out, or an unusable key)."""
    with db.read() as conn:
        row = conn.execute(
            select(devices).where(devices.c.uuid == uuid, devices.c.revoked_at.is_(None))
        ).first()
    if row is None or row.state not in ("active", "pending"):
        return None
    if row.state == "pending" and aware(row.created_at) + APPROVAL_WINDOW <= utcnow():
        return None
    try:
        return EnrolledDevice.from_row(row, public_key_from_jwk(row.public_key))
    except InvalidKey:
        return None


class RequestAuthenticator:
    """Checks signed requests and remembers their nonces."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._last_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def authenticate(self, request: SignedRequest, *, pending: bool = False) -> EnrolledDevice:
        """The device that signed ``request``; 401/60087 for any failure.

        A device still waiting for approval is refused (403) unless ``pending`` allows it: it
        may only ask about itself.
        """
        if not (request.device and request.timestamp and request.nonce and request.signature):
            raise InvalidSignature("This request must be signed by a registered device")
        if not NONCE.match(request.nonce) or len(request.device) > 64:
            raise InvalidSignature()
        if not TIMESTAMP.match(request.timestamp):
            raise InvalidSignature("Request timestamp must be unix seconds")
        timestamp = int(request.timestamp)
        now = time.time()
        if abs(now - timestamp) > SKEW:
            raise InvalidSignature("Request timestamp is too far from the server's clock")
        device = load_device(self._db, request.device)
        if device is None:
            raise InvalidSignature()
        text = request_text(
            request.method,
            request.host,
            request.target,
            device.uuid,
            request.timestamp,
            request.nonce,
            request.body,
        )
        if not verify(device.public_key, request.signature, text):
            raise InvalidSignature()
        self._spend_nonce(device, request.nonce, timestamp)
        if not device.active and not pending:
            raise DeviceNotApproved()
        return device

    def _spend_nonce(self, device: EnrolledDevice, nonce: str, timestamp: int) -> None:
        """Remember the nonce until its timestamp goes stale; refuse one seen before."""
        now = utcnow()
        expires = datetime.fromtimestamp(timestamp + SKEW + 1, UTC)
        try:
            with self._db.write() as conn:
                conn.execute(
                    insert(device_nonces).values(
                        device_id=device.id, nonce=nonce, expires_at=expires
                    )
                )
                if device.last_seen_at is None or now - device.last_seen_at >= TOUCH_EVERY:
                    conn.execute(
                        update(devices).where(devices.c.id == device.id).values(last_seen_at=now)
                    )
        except IntegrityError as exc:
            raise InvalidSignature("Nonce already used") from exc
        self._maybe_sweep()

    def _maybe_sweep(self) -> None:
        """Delete stale nonces at most once a minute per process (they can never match again)."""
        now = time.monotonic()
        if now - self._last_sweep < SWEEP_EVERY or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._last_sweep = now
            self.sweep()
        finally:
            self._sweep_lock.release()

    def sweep(self) -> int:
        """Delete every nonce whose request could no longer be accepted anyway."""
        with self._db.write() as conn:
            return int(
                conn.execute(
                    delete(device_nonces).where(device_nonces.c.expires_at < utcnow())
                ).rowcount
            )
