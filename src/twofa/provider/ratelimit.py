"""Rate limiting: fixed-window counters in memory, or in Redis to hold across processes.

One place for every limit (failed verifications per user, SMS per phone and per application,
push requests per user, phone verifications per number). A Redis outage must not stop logins, so
the Redis limiter falls back to per-process counters until Redis answers again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from twofa.errors import RateLimited
from twofa.provider.observability import metrics
from twofa.settings import Limit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int
    count: int = 0  # events counted in the current window


class RateLimiter(Protocol):
    """Count events under a key and say whether the limit still allows them."""

    def hit(self, key: str, limit: Limit) -> Decision:
        """Count one event; ``allowed`` is false when this event is over the limit."""
        ...

    def exceeded(self, key: str, limit: Limit) -> Decision:
        """Whether the limit is already used up, without counting anything."""
        ...

    def reset(self, key: str, limit: Limit) -> None:
        """Forget the current window (after a success, for failure counters)."""
        ...


def _window(limit: Limit, now: float) -> tuple[int, int]:
    start = int(now // limit.seconds) * limit.seconds
    return start, max(1, math.ceil(start + limit.seconds - now))


class MemoryRateLimiter:
    """Per-process counters; correct for a single provider process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        # Windows are at most a day long in practice; drop anything older.
        stale = [k for k in self._counts if k[1] < now - 86400]
        for key in stale:
            del self._counts[key]

    def hit(self, key: str, limit: Limit) -> Decision:
        now = self._clock()
        start, retry = _window(limit, now)
        with self._lock:
            self._sweep(now)
            count = self._counts.get((key, start), 0) + 1
            self._counts[(key, start)] = count
        return Decision(count <= limit.count, retry)

    def exceeded(self, key: str, limit: Limit) -> Decision:
        now = self._clock()
        start, retry = _window(limit, now)
        with self._lock:
            count = self._counts.get((key, start), 0)
        return Decision(count < limit.count, retry, count)

    def reset(self, key: str, limit: Limit) -> None:
        start, _ = _window(limit, self._clock())
        with self._lock:
            self._counts.pop((key, start), None)


class RedisRateLimiter:
    """Counters in Redis (``INCR`` + ``EXPIRE``), shared by every provider process."""

    def __init__(self, url: str, *, prefix: str = "twofa:rl:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix
        self._fallback = MemoryRateLimiter()

    def _key(self, key: str, start: int) -> str:
        return f"{self._prefix}{key}:{start}"

    def hit(self, key: str, limit: Limit) -> Decision:
        start, retry = _window(limit, time.time())
        try:
            pipe = self._redis.pipeline()
            pipe.incr(self._key(key, start))
            pipe.expire(self._key(key, start), limit.seconds + 1)
            count = int(pipe.execute()[0])
        except Exception:
            log.warning("redis rate limiter unavailable; counting in this process")
            return self._fallback.hit(key, limit)
        return Decision(count <= limit.count, retry)

    def exceeded(self, key: str, limit: Limit) -> Decision:
        start, retry = _window(limit, time.time())
        try:
            raw = self._redis.get(self._key(key, start))
        except Exception:
            return self._fallback.exceeded(key, limit)
        count = int(raw) if raw else 0
        return Decision(count < limit.count, retry, count)

    def reset(self, key: str, limit: Limit) -> None:
        start, _ = _window(limit, time.time())
        try:
            self._redis.delete(self._key(key, start))
        except Exception:
            self._fallback.reset(key, limit)


class Limits:
    """The provider's named limits, applied to one limiter."""

    def __init__(
        self,
        limiter: RateLimiter,
        limits: dict[str, Limit],
        on_limited: Callable[[str, str], None] | None = None,
    ) -> None:
        self.limiter = limiter
        self.limits = limits
        self._on_limited = on_limited

    def _refuse(self, name: str, subject: str, decision: Decision) -> None:
        metrics.RATE_LIMITED.labels(name).inc()
        if self._on_limited is not None:
            try:
                self._on_limited(name, subject)
            except Exception:
                log.exception("recording a rate-limit event failed")
        raise RateLimited(retry_after=decision.retry_after)

    def hit(self, name: str, subject: str) -> None:
        """Count one event of kind ``name`` for ``subject``; raise 429/60003 when over."""
        limit = self.limits[name]
        decision = self.limiter.hit(f"{name}:{subject}", limit)
        if not decision.allowed:
            self._refuse(name, subject, decision)

    def check(self, name: str, subject: str) -> int:
        """Raise 429/60003 if ``subject`` has used up ``name`` already (counts nothing);
        otherwise the number of events counted so far in this window."""
        limit = self.limits[name]
        decision = self.limiter.exceeded(f"{name}:{subject}", limit)
        if not decision.allowed:
            self._refuse(name, subject, decision)
        return decision.count

    def reset(self, name: str, subject: str) -> None:
        self.limiter.reset(f"{name}:{subject}", self.limits[name])


LIMIT_NAMES = (
    "verify_failures_per_user",
    "sms_per_phone",
    "sms_per_app",
    "push_per_user",
    "phone_verifications_per_number",
    "device_registrations_per_number",
)


def make_limits(settings: object, on_limited: Callable[[str, str], None] | None = None) -> Limits:
    """The limiter the settings ask for (Redis when ``TWOFA_REDIS_URL`` is set)."""
    redis_url = getattr(settings, "redis_url", None)
    limiter: RateLimiter = RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
    limit = settings.limit  # type: ignore[attr-defined]
    return Limits(limiter, {name: limit(name) for name in LIMIT_NAMES}, on_limited)
