"""Application users (Authy ids) and the devices of their phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from twofa.provider.phone_numbers import Phone

MAX_AUTHY_ID = 2**53


@dataclass(frozen=True, slots=True)
class User:
    id: int
    public_id: str
    app_id: int
    email: str
    phone: Phone
    confirmed: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    uuid: str
    name: str
    os_type: str
    created_at: datetime
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class AppAccount:
    """A user's TOTP account in the authenticator; the secret still encrypted."""

    user_id: int
    app_name: str
    secret_enc: str
    digits: int
    step: int


def parse_authy_id(raw: str | int) -> int | None:
    """A path id as an integer, or None for anything that cannot be one of ours."""
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        return None
    value = int(text)
    return value if 0 < value < MAX_AUTHY_ID else None


@dataclass(frozen=True, slots=True)
class FoundUser:
    """A user as an operator's search finds them, with their application's name."""

    user: User
    app_name: str


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """Any device of a phone, revoked and waiting ones included (the operator's view)."""

    uuid: str
    name: str
    os_type: str
    state: str  # active, pending, denied or revoked
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A code sent to a user: when and how, never the code."""

    channel: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """An approval request made for a user."""

    uuid: str
    message: str
    status: str
    created_at: datetime
