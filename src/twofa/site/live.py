"""Live login status: the callback publishes on the event bus, event streams wait on it.

Flask views are synchronous and run in server threads, while the event bus is asyncio-based. This
module runs one event loop in a daemon thread that owns every subscription of this process; a
view thread subscribes and waits through it. With Redis configured, a callback received by one
site process reaches a browser streaming from another.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from twofa.events import EventBus, Subscription

TOPIC_PREFIX = "site.approval."


def approval_topic(uuid: str) -> str:
    """The bus topic carrying status changes of one approval request."""
    return TOPIC_PREFIX + uuid


class LiveStatus:
    """Publish approval status changes and wait for them from synchronous code."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def publish(self, uuid: str, status: str) -> None:
        """Tell every waiting stream that approval ``uuid`` is now ``status`` (thread-safe)."""
        self.bus.publish(approval_topic(uuid), {"uuid": uuid, "status": status})

    @contextlib.contextmanager
    def watch(self, uuid: str) -> Iterator[_Watch]:
        """Subscribe to one approval's changes for the duration of the ``with`` block."""
        loop = self._ensure_loop()
        sub = self.bus.subscribe(approval_topic(uuid))
        asyncio.run_coroutine_threadsafe(sub.__aenter__(), loop).result(timeout=10)
        try:
            yield _Watch(sub, loop)
        finally:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(sub.__aexit__(None, None, None), loop).result(
                    timeout=10
                )

    def close(self) -> None:
        """Stop the loop thread (used when an app is torn down in tests)."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.bus.close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        self._loop = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_run_forever, args=(loop,), name="site-live-status", daemon=True
                )
                thread.start()
                asyncio.run_coroutine_threadsafe(self.bus.start(), loop).result(timeout=10)
                self._loop = loop
            return self._loop


class _Watch:
    """A subscription seen from a synchronous thread."""

    def __init__(self, sub: Subscription, loop: asyncio.AbstractEventLoop) -> None:
        self._sub = sub
        self._loop = loop

    def status(self, timeout: float) -> str | None:
        """The status the next event carries, or None when ``timeout`` seconds pass first."""
        event = self.next(timeout)
        return None if event is None else str(event.get("status"))

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or None when ``timeout`` seconds pass without one."""
        future = asyncio.run_coroutine_threadsafe(self._sub.get(timeout), self._loop)
        try:
            return future.result(timeout=timeout + 5)
        except FutureTimeout:
            future.cancel()
            return None


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
