"""The Verify resources as twofa holds them: small frozen records read from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class VerifyService:
    """A Verify Service: the settings every verification started under it follows."""

    id: int
    sid: str
    app_id: int
    account_sid: str
    friendly_name: str
    code_length: int
    config: dict[str, Any]  # the other settings, snake_case and nested as on the wire
    created_at: datetime
    updated_at: datetime

    def enabled(self, name: str) -> bool:
        return bool(self.config.get(name))


@dataclass(frozen=True, slots=True)
class SendAttempt:
    time: datetime
    channel: str
    attempt_sid: str


@dataclass(frozen=True, slots=True)
class Verification:
    """One verification: a code sent to ``to``; it exists while it is pending."""

    id: int
    sid: str
    service: VerifyService
    to: str
    channel: str
    status: str
    amount: str | None
    payee: str | None
    lookup: dict[str, Any]
    send_attempts: tuple[SendAttempt, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def valid(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True, slots=True)
class RateLimit:
    id: int
    sid: str
    service: VerifyService
    unique_name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    sid: str
    rate_limit: RateLimit
    max: int
    interval: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and the id to continue after (None on the last page)."""

    items: list[T]
    next_after: int | None
