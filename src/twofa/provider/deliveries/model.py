"""The queue's types: a claimed delivery, the request a sender builds, the outcome it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from sqlalchemy import Connection

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
CLOSED, PAUSED = "closed", "paused"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One leased delivery, as a worker sends it."""

    id: int
    kind: str
    app_id: int | None
    target: str  # what the circuit breaker counts failures against, e.g. ``app:12``
    subject: str  # what the delivery is about, e.g. an approval request uuid
    url: str
    body: dict[str, Any]
    attempts: int
    created_at: datetime
    window_start: datetime  # retries stop a retry window after this
    app_key_salt: str | None  # the application's key derivation salt, for kinds that sign with it
    probe: bool = False  # sent to test a paused receiver


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The bytes and headers of one attempt, built by the kind's sender at send time."""

    method: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went, as the kind's sender reads the answer.

    ``delivered``: done. ``retry``: try again later (``retry_after`` is the receiver's wish, in
    seconds). ``refused``: the receiver answered and will answer the same again; not retried.
    ``reached`` says whether the receiver itself answered: only unanswered attempts (and
    answers that say it is unwell) count towards pausing it.
    """

    result: Literal["delivered", "retry", "refused"]
    error: str | None = None
    retry_after: float | None = None
    reached: bool = True


class Sender(Protocol):
    """Signs and reads the answers of one kind of delivery."""

    kind: str

    def prepare(self, delivery: Delivery) -> Outgoing | None:
        """The request of one attempt (signatures are made now, with a fresh nonce); None when
        the delivery is no longer worth sending (a wake-up for an expired request)."""
        ...

    def judge(self, response: httpx.Response | None, error: str | None) -> Outcome:
        """Read the receiver's answer (``response``), or the transport ``error`` if none came."""
        ...


@runtime_checkable
class Settling(Protocol):
    """A sender that acts on an attempt's outcome in the attempt's own transaction (a Web Push
    sender forgets a subscription the push service says is gone)."""

    def settle(self, conn: Connection, delivery: Delivery, outcome: Outcome) -> None: ...
