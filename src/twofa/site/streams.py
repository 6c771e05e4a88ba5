"""The budget of open ``/login/events`` streams in one site process.

waitress serves each open stream with one of its ``TWOFA_SITE_THREADS`` threads for up to
``TWOFA_SITE_STREAM_MAX_SECONDS``. Without a bound, one login's cookie could open streams until
no thread is left for anyone's pages. So a process holds at most ``TWOFA_SITE_MAX_STREAMS``
streams, and at most one per login attempt; a browser that is refused one polls
``/login/status`` instead (``wait.js``), which costs a thread for milliseconds, not a minute.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Refusal = Literal["attempt", "budget"]


@dataclass(frozen=True, slots=True)
class StreamSlot:
    """A held stream; ``release`` gives it back (idempotent)."""

    release: Callable[[], None]


class StreamBudget:
    """Count open streams per process and per login attempt (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._by_attempt: dict[int, int] = {}
        self._open = 0

    @property
    def open(self) -> int:
        return self._open

    def acquire(self, attempt_id: int) -> StreamSlot | Refusal:
        """A slot for one more stream of ``attempt_id``, or why there is none."""
        with self._lock:
            if self._by_attempt.get(attempt_id):
                return "attempt"
            if self._open >= self.limit:
                return "budget"
            self._by_attempt[attempt_id] = 1
            self._open += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._by_attempt.pop(attempt_id, None)
                self._open -= 1

        return StreamSlot(release)
