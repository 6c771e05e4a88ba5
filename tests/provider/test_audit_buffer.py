"""Audit events without a transaction of their own: written within milliseconds by the
background writer, kept in order while the database is down, dropped and late ones counted."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from twofa.errors import ServiceUnavailable
from twofa.provider.audit.service import AuditLog
from twofa.provider.audit.writer import write_buffered
from twofa.provider.services import Services
from twofa.storage.database import Database


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def stored(services: Services, event: str) -> int:
    return len(services.audit.entries(limit=1000, event=event))


def test_a_buffered_event_is_written_at_once_not_after_a_second(services: Services) -> None:
    """Recording wakes the writer: it drains within a few turns of the event loop, with no
    time passing for a timer (the old writer flushed once a second)."""
    drains: list[int] = []
    real = services.audit.drain

    async def counting() -> int:
        drains.append(services.audit.buffered)
        return await real()

    services.audit.drain = counting  # type: ignore[method-assign]

    async def scenario() -> int:
        writer = asyncio.create_task(write_buffered(services.audit))
        while services.audit.wake is None:  # the writer is installed and waiting
            await asyncio.sleep(0)
        services.audit.record("verification.passed", app_id=1, subject="user:1")
        turns = 0
        while not drains and turns < 50:
            await asyncio.sleep(0)  # one turn of the loop; no timer can fire in these
            turns += 1
        deadline = time.monotonic() + 10
        while not await asyncio.to_thread(stored, services, "verification.passed"):
            assert time.monotonic() < deadline, "the event was never written"
            await asyncio.sleep(0.005)
        writer.cancel()
        return turns

    turns = asyncio.run(scenario())
    assert drains and turns < 50, "recording did not wake the writer"


def test_a_flood_is_written_in_batches(services: Services) -> None:
    inserts: list[int] = []
    real = services.audit.flush

    def counting() -> int:
        done = real()
        if done:
            inserts.append(done)
        return done

    services.audit.flush = counting  # type: ignore[method-assign]

    async def scenario() -> None:
        writer = asyncio.create_task(write_buffered(services.audit))
        for n in range(2000):
            services.audit.record("verification.failed", subject=f"user:{n}")
            if n % 100 == 0:
                await asyncio.sleep(0.01)
        while services.audit.buffered:
            await asyncio.sleep(0.01)
        writer.cancel()

    asyncio.run(scenario())
    assert sum(inserts) == 2000
    assert len(inserts) < 100  # not one write per event


class Outage:
    """The real database behind a switch: while ``down``, every transaction fails as it does
    when the server is unreachable."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.down = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    @contextmanager
    def cursor(self, *, write: bool = False) -> Iterator[Any]:
        if self.down:
            raise ServiceUnavailable()
        with self.db.cursor(write=write) as cursor:
            yield cursor


def test_events_wait_in_order_while_the_database_is_down(services: Services) -> None:
    outage = Outage(services.db)
    audit = AuditLog(outage, buffer=10)  # type: ignore[arg-type]
    for n in range(4):
        audit.record("code.failed", subject=f"user:{n}")
    with pytest.raises(ServiceUnavailable):
        audit.flush()
    assert [e["subject"] for e in audit._buffer] == [f"user:{n}" for n in range(4)]
    outage.down = False
    assert audit.flush_all() == 4
    assert [e.subject for e in services.audit.entries(event="code.failed")] == [
        f"user:{n}" for n in range(4)
    ]


def test_a_full_buffer_counts_and_logs_what_it_drops(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    audit = AuditLog(Outage(services.db), buffer=3)  # type: ignore[arg-type]
    before = metric("twofa_audit_events_dropped_total")
    with caplog.at_level(logging.ERROR):
        for n in range(5):
            audit.record("code.failed", subject=f"user:{n}")
    assert audit.dropped == 2
    assert metric("twofa_audit_events_dropped_total") - before == 2
    assert [e["subject"] for e in audit._buffer] == ["user:2", "user:3", "user:4"]
    assert "dropped" in caplog.text


def test_late_events_are_counted_and_logged(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    before = metric("twofa_audit_events_late_total")
    services.audit.record("code.failed", subject="user:old")
    services.audit.record("code.failed", subject="user:new")
    services.audit._buffer[0]["created_at"] -= timedelta(seconds=30)
    with caplog.at_level(logging.WARNING):
        assert services.audit.flush() == 2
    assert metric("twofa_audit_events_late_total") - before == 1
    assert "written late" in caplog.text
