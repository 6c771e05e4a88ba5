"""The background writer of buffered audit events: woken by each event, one INSERT per batch."""

from __future__ import annotations

import asyncio
import logging
import time

from twofa.provider.audit.service import AuditLog

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
                await asyncio.to_thread(audit.flush_all)
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
