"""Back-off lockouts, reserve first: the attempt is counted before the code is compared.

The curve for a key (``free`` attempts, first wait ``base`` seconds, ceiling ``cap``): attempts 1
to ``free - 1`` are immediate; attempt ``n >= free`` makes the next one wait
``min(base * 2 ** (n - free), cap)`` seconds. The count is forgotten ``forget`` seconds after the
last attempt (plus the wait it imposed), or at once on success (``reset``). There is no permanent
lockout, so an attacker who knows a user's identifier cannot lock the user out for good; the
ceiling bounds how long a legitimate user waits after an attack stops.

Hand-written because the ``limits`` library has windows only: it has no notion of a wait that
grows with each consecutive failure, nor of a success that resets it. The Redis variant is one
Lua script (one round trip), so two processes cannot both take the last free attempt.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """A back-off policy; see the module docstring for the curve."""

    free: int
    base: int
    cap: int
    forget: int

    def delay(self, count: int) -> float:
        """The wait imposed after the ``count``-th consecutive attempt."""
        if count < self.free:
            return 0.0
        return float(min(self.base * 2 ** min(count - self.free, 40), self.cap))


@dataclass(frozen=True, slots=True)
class Reservation:
    allowed: bool
    retry_after: int  # seconds to wait when refused
    count: int = 0  # attempts counted, this one included, when allowed


class LockoutStore(Protocol):
    def reserve(self, key: str, policy: Backoff) -> Reservation:
        """Count an attempt unless the key must still wait."""
        ...

    def reset(self, key: str) -> None:
        """Forget the key's attempts (after a success)."""
        ...


class MemoryLockouts:
    """Per-process state; correct for a single provider process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._state: dict[str, tuple[int, float, float]] = {}  # count, next allowed, forget at
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    def reserve(self, key: str, policy: Backoff) -> Reservation:
        now = self._clock()
        with self._lock:
            self._sweep(now)
            count, until, forget_at = self._state.get(key, (0, 0.0, math.inf))
            if forget_at <= now:
                count, until = 0, 0.0
            if now < until:
                return Reservation(False, max(1, math.ceil(until - now)))
            count += 1
            delay = policy.delay(count)
            self._state[key] = (count, now + delay if delay else 0.0, now + delay + policy.forget)
        return Reservation(True, 0, count)

    def reset(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for key in [k for k, v in self._state.items() if v[2] <= now]:
            del self._state[key]


# KEYS[1]: the key. ARGV: now, free, base, cap, forget. Returns {allowed, retry_after or count}.
_RESERVE = """
local now = tonumber(ARGV[1])
local free = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local forget = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'n', 'until')
local n = tonumber(state[1]) or 0
local wait_until = tonumber(state[2]) or 0
if now < wait_until then
  return {0, math.ceil(wait_until - now)}
end
n = n + 1
local delay = 0
local next_at = 0  -- no wait: callers whose clocks run a little behind must not be refused
if n >= free then
  delay = math.min(base * 2 ^ math.min(n - free, 40), cap)
  next_at = now + delay
end
redis.call('HSET', KEYS[1], 'n', n, 'until', tostring(next_at))
redis.call('EXPIRE', KEYS[1], math.ceil(delay + forget))
return {1, n}
"""


class RedisLockouts:
    """State in Redis, shared by every provider process; this process's memory while it is down."""

    def __init__(
        self, url: str, *, prefix: str = "twofa:lockout:", clock: Callable[[], float] = time.time
    ) -> None:
        import redis

        # A generous read timeout: a reply that comes late under load must not send the count
        # to this process's memory (which does not know Redis's count); a down server still
        # fails fast on connect.
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_RESERVE)
        self._prefix = prefix
        self._clock = clock
        self._fallback = MemoryLockouts(clock)

    def reserve(self, key: str, policy: Backoff) -> Reservation:
        args = [self._clock(), policy.free, policy.base, policy.cap, policy.forget]
        try:
            allowed, value = self._script(keys=[self._prefix + key], args=args)
        except Exception as exc:
            log.warning("redis lockout store unavailable (%r); counting in this process", exc)
            return self._fallback.reserve(key, policy)
        if not int(allowed):
            return Reservation(False, max(1, int(value)))
        return Reservation(True, 0, int(value))

    def reset(self, key: str) -> None:
        try:
            self._redis.delete(self._prefix + key)
        except Exception:
            log.warning("redis lockout store unavailable; resetting in this process")
        self._fallback.reset(key)


def make_lockouts(redis_url: str | None) -> LockoutStore:
    return RedisLockouts(redis_url) if redis_url else MemoryLockouts()
