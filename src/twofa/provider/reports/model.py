"""What the console's read-only pages show: small frozen records, already masked where they
carry personal data or secrets (the store masks before anything leaves it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from twofa.provider.audit.service import Verification

PAGE = 50
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Series:
    """One line or stack layer of an hourly chart: a value per hour, oldest first."""

    name: str
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True, slots=True)
class Hourly:
    """Counts per hour over a window that starts at ``start`` (an hour boundary, UTC)."""

    start: datetime
    hours: int
    series: tuple[Series, ...]

    def hour(self, index: int) -> datetime:
        return self.start + timedelta(hours=index)

    def get(self, name: str) -> Series:
        for series in self.series:
            if series.name == name:
                return series
        return Series(name, (0,) * self.hours)


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """Verifications that passed and failed on one channel (``sms``, ``app``, ``verify:sms``)."""

    channel: str
    ok: int
    failed: int


@dataclass(frozen=True, slots=True)
class CountryTraffic:
    """SMS sent to one country, and how many codes sent there were verified."""

    country: str  # ISO 3166-1 alpha-2; "001" for non-geographic numbers
    sent: int  # text messages the gateway accepted
    failed: int  # text messages the gateway refused
    codes: int  # codes sent by SMS (Authy tokens, phone verifications, Verify v2)
    verified: int  # of those codes, how many were verified

    @property
    def conversion(self) -> float | None:
        return self.verified / self.codes if self.codes else None


@dataclass(frozen=True, slots=True)
class ReceiverHealth:
    """One receiver of signed calls (an application's callbacks, a push service) lately."""

    target: str  # the circuit breaker's key: app:12, verify:…, webpush:host
    app_id: int | None
    app_name: str | None
    delivered: int
    pending: int
    failed: int
    state: str  # ok, failing or paused
    failures: int = 0
    paused_at: datetime | None = None
    probe_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the console's home shows, for the ``hours`` before ``now``."""

    now: datetime
    hours: int
    verifications: Hourly  # series "ok" and "failed"
    channels: tuple[ChannelOutcome, ...]
    push: Hourly  # series approved, denied, expired, pending
    countries: tuple[CountryTraffic, ...]
    receivers: tuple[ReceiverHealth, ...]
    chain: Verification


@dataclass(frozen=True, slots=True)
class AppName:
    id: int
    name: str


# Requests ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestFilter:
    app_id: int | None = None
    status: str | None = None  # pending, approved, denied, expired
    user_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # the next page: requests older than this one
    limit: int = PAGE


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    uuid: str
    app_id: int
    app_name: str
    user_id: int
    status: str  # as stored, with a pending request past its deadline shown as expired
    message: str
    created_at: datetime
    expires_at: datetime | None
    processed_at: datetime | None
    device: str | None  # the name of the device that answered


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One queued signed call and where it stands; the store keeps one row per delivery, so
    every attempt is counted but only the last failure's error (which names its HTTP status)
    is kept."""

    id: int
    kind: str  # authy_callback, verify_webhook, webpush, webpush_ended, webpush_device
    target: str
    url: str  # without query or (for push endpoints) the capability path
    status: str  # pending, delivered, failed
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    what: str  # a short heading
    detail: str = ""
    tone: str = "info"  # info, ok, warn, bad


@dataclass(frozen=True, slots=True)
class Timeline:
    request: RequestRow
    events: tuple[TimelineEvent, ...]
    deliveries: tuple[DeliveryRow, ...]


# Messages and the audit log ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageFilter:
    app_id: int | None = None
    channel: str | None = None
    status: str | None = None
    to: str | None = None  # an exact E.164 number or address; never shown back unmasked
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = PAGE


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    created_at: datetime
    app_name: str | None
    to: str  # masked
    country: str | None
    channel: str
    gateway: str
    status: str
    body: str  # every code masked
    error: str | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    event: str | None = None  # an exact name, or a prefix ending in "." or "*" ("verify.")
    subject: str | None = None  # what the entry is about: user:12, device:… (``*`` ends a prefix)
    actor: str | None = None  # who made the change by hand: operator:<name>, cli
    app_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = PAGE


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    seq: int | None
    created_at: datetime
    event: str
    app_id: int | None
    subject: str
    actor: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    hash: str | None = None
    prev_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    next_before: int | None  # pass as ``before_id`` for the next page; None on the last


@dataclass(frozen=True, slots=True)
class SettingRow:
    name: str
    env: str  # the environment variable that sets it
    value: str  # masked when secret
    secret: bool
    default: bool  # the value is the built-in default
