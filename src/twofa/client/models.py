"""Typed, frozen results of provider calls, parsed leniently from the Authy JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string (``...Z``) or unix seconds as an aware UTC datetime; None if absent."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class User:
    """A user registered with the provider; ``authy_id`` is what the application stores."""

    authy_id: int


@dataclass(frozen=True, slots=True)
class Device:
    """One device (authenticator app or phone) enrolled for a user."""

    device_id: int | None
    device_type: str
    os_type: str
    created_at: datetime | None
    last_sync_at: datetime | None
    name: str = ""  # the name the user gave the device (twofa providers only)

    @property
    def label(self) -> str:
        """What to show a person: the device's name, else its kind."""
        kinds = {"web": "Authenticator web app", "cli": "Authenticator CLI"}
        return self.name or kinds.get(self.os_type, self.os_type or self.device_type or "Device")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Device:
        return cls(
            device_id=_int_or_none(data.get("device_id")),
            device_type=str(data.get("device_type") or ""),
            os_type=str(data.get("os_type") or ""),
            created_at=_parse_time(data.get("creation_date") or None),
            last_sync_at=_parse_time(data.get("last_sync_date") or None),
            name=str(data.get("device_name") or "")[:100],
        )


@dataclass(frozen=True, slots=True)
class UserStatus:
    """What the provider knows about a user's factors (``GET .../users/{id}/status``).

    ``registered`` means an authenticator app is enrolled, so pushes and app codes work;
    ``confirmed`` means the user has proved a code at least once.
    """

    authy_id: int
    registered: bool
    confirmed: bool
    country_code: int | None
    phone_number: str
    devices: tuple[str, ...]
    detailed_devices: tuple[Device, ...] = ()
    has_hard_token: bool = False
    account_disabled: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserStatus:
        detailed = data.get("detailed_devices") or []
        return cls(
            authy_id=int(data.get("authy_id") or 0),
            registered=bool(data.get("registered")),
            confirmed=bool(data.get("confirmed")),
            country_code=_int_or_none(data.get("country_code")),
            phone_number=str(data.get("phone_number") or ""),
            devices=tuple(str(d) for d in data.get("devices") or []),
            detailed_devices=tuple(Device.from_json(d) for d in detailed if isinstance(d, dict)),
            has_hard_token=bool(data.get("has_hard_token")),
            account_disabled=bool(data.get("account_disabled")),
        )


@dataclass(frozen=True, slots=True)
class SmsResult:
    """An SMS or voice-call code request; ``ignored``: the user has an app, nothing was sent."""

    ignored: bool
    cellphone: str
    message: str
    device: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SmsResult:
        return cls(
            # The contract sends ``ignored`` only when ignored; its mere presence is the flag.
            ignored="ignored" in data and data["ignored"] not in (False, "false"),
            cellphone=str(data.get("cellphone") or ""),
            message=str(data.get("message") or ""),
            device=data.get("device"),
        )


CallResult = SmsResult


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """A code the provider accepted, with the kind of device that produced it (``sms``, ...)."""

    message: str
    device_type: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A push (OneTouch) approval request.

    ``status`` is ``pending``, ``approved``, ``denied`` or ``expired``. ``number`` is set when the
    request was created with number matching: the user must pick it on the phone.
    """

    uuid: str
    status: str = "pending"
    number: int | None = None
    created_at: datetime | None = None
    processed_at: datetime | None = None
    seconds_to_expire: int | None = None
    authy_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def expires_at(self) -> datetime | None:
        """When a pending request turns ``expired`` (None when it never does or is unknown)."""
        if self.created_at is None or not self.seconds_to_expire:
            return None
        return datetime.fromtimestamp(self.created_at.timestamp() + self.seconds_to_expire, UTC)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApprovalRequest:
        return cls(
            uuid=str(data["uuid"]),
            status=str(data.get("status") or "pending"),
            number=_int_or_none(data.get("number")),
            created_at=_parse_time(data.get("created_at")),
            processed_at=_parse_time(data.get("processed_at")),
            seconds_to_expire=_int_or_none(data.get("seconds_to_expire")),
            authy_id=_int_or_none(data.get("_authy_id")),
            extra=dict(data),
        )


@dataclass(frozen=True, slots=True)
class PhoneVerification:
    """A started phone verification: a code is on its way by SMS or call."""

    uuid: str
    message: str
    seconds_to_expire: int | None
    carrier: str | None = None
    is_cellphone: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhoneVerification:
        return cls(
            uuid=str(data.get("uuid") or ""),
            message=str(data.get("message") or ""),
            seconds_to_expire=_int_or_none(data.get("seconds_to_expire")),
            carrier=data.get("carrier"),
            is_cellphone=data.get("is_cellphone"),
        )


@dataclass(frozen=True, slots=True)
class AppDetails:
    """The application the API key belongs to."""

    app_id: int | str
    name: str
    plan: str
    sms_enabled: bool
    phone_calls_enabled: bool
    onetouch_enabled: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppDetails:
        return cls(
            app_id=data.get("app_id", ""),
            name=str(data.get("name") or ""),
            plan=str(data.get("plan") or ""),
            sms_enabled=bool(data.get("sms_enabled")),
            phone_calls_enabled=bool(data.get("phone_calls_enabled")),
            onetouch_enabled=bool(data.get("onetouch_enabled", True)),
        )
