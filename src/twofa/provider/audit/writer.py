"""The background writer of buffered audit events: woken by each event, one INSERT per batch.

Each batch is written from the event loop (``AuditLog.drain``): on SQLite a short transaction
there costs less than a thread hop, and, more to the point, it cannot hold the write lock while
a verification on the loop wants it (which sent that verification to a worker thread).
"""

from __future__ import annotations

import asyncio
import logging
import time

from twofa.provider.audit.service import FLUSH_BATCH, AuditLog

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


async def write_buffered(audit: AuditLog) -> None:
    """Write events as soon as they are buffered, until cancelled.

    ``AuditLog.record`` may run on the event loop or in a worker thread; either way it only
    sets an ``asyncio.Event`` (thread-safely), so recording never waits for the database.
    """
    loop = asyncio.get_running_loop()
    pending = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(pending.set)

    audit.wake = wake
    failing = False
    try:
        while True:
            if not audit.buffered:
                await pending.wait()
            pending.clear()
            started = time.monotonic()
            try:
                while await audit.drain() == FLUSH_BATCH:
                    await asyncio.sleep(0)  # a backlog: let requests run between batches
            except Exception as exc:
                if not failing:
                    log.warning("audit events wait in memory: %s", type(exc).__name__)
                failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if failing:
                log.warning("audit events written again")
            failing = False
            await asyncio.sleep(AuditLog.pause_between_flushes(started))
    finally:
        audit.wake = None
