"""Delete what the provider no longer needs, on a schedule (data minimisation).

Secrets that expired (codes, device registrations, phone verifications) go a day after their
expiry: the day leaves room to answer "why was my code refused?". Records of what happened
(messages sent, approval requests with their hidden details such as client IPs, finished
deliveries) go after 30 days. Both are settings. Pending approval requests and deliveries still
waiting for their receiver are kept whatever their age; the audit log is kept (it is a hash
chain: deleting from it would break its verification).

Rows go in batches, each its own short transaction, so a large backlog never holds SQLite's
write lock for long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, select

from twofa.settings import Settings
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import (
    approval_requests,
    deliveries,
    device_registrations,
    messages,
    phone_verifications,
    sent_codes,
)

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass(frozen=True, slots=True)
class Rule:
    """Rows of ``table`` that ``expired(cutoff)`` selects, for a cutoff ``age`` seconds ago."""

    table: Table
    age: Callable[[Settings], float]
    expired: Callable[[datetime], ColumnElement[bool]]


def _after_expiry(s: Settings) -> float:
    return s.retention_expired_after


def _history(s: Settings) -> float:
    return s.retention_history_after


RULES = (
    Rule(sent_codes, _after_expiry, lambda cut: sent_codes.c.expires_at < cut),
    Rule(device_registrations, _after_expiry, lambda cut: device_registrations.c.expires_at < cut),
    Rule(phone_verifications, _after_expiry, lambda cut: phone_verifications.c.expires_at < cut),
    Rule(messages, _history, lambda cut: messages.c.created_at < cut),
    Rule(
        approval_requests,
        _history,
        lambda cut: (
            (approval_requests.c.created_at < cut) & (approval_requests.c.status != "pending")
        ),
    ),
    Rule(
        deliveries,
        _history,
        lambda cut: (deliveries.c.created_at < cut) & (deliveries.c.status != "pending"),
    ),
)


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows each table lost."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Retention:
    """The periodic purge."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def purge(self, now: datetime | None = None) -> Purged:
        """Delete every expired row now; returns the counts."""
        now = now or utcnow()
        counts: dict[str, int] = {}
        for rule in RULES:
            cutoff = now - timedelta(seconds=rule.age(self._settings))
            counts[rule.table.name] = self._purge(rule.table, rule.expired(cutoff))
        purged = Purged(counts)
        if purged.total:
            log.info("retention purge removed %s rows: %s", purged.total, counts)
        return purged

    def _purge(self, table: Table, condition: ColumnElement[bool]) -> int:
        removed = 0
        while True:
            with self._db.write() as conn:
                ids = select(table.c.id).where(condition).limit(BATCH).scalar_subquery()
                done = conn.execute(delete(table).where(table.c.id.in_(ids))).rowcount
            removed += done
            if done < BATCH:
                return removed
