"""Rate limiting, reserve first: every attempt is counted atomically *before* the work it guards.

Two kinds of limit, one place for all of them:

* **Windows** (SMS per phone, per application, push requests, ...): moving windows from the
  ``limits`` library, so there is no clock-aligned boundary to burst across. In Redis one
  ``acquire`` is one Lua script (one round trip) that counts only when the limit allows.
* **Back-offs** (wrong codes per user, registrations per number and per client address): see
  :mod:`twofa.provider.lockout`. The first few attempts are free, then each one makes the next
  wait twice as long, up to a ceiling; a success resets the count.

A Redis outage must not stop logins, so both fall back to per-process counters until Redis
answers again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from twofa.errors import RateLimited
from twofa.provider.lockout import Backoff, LockoutStore, make_lockouts
from twofa.provider.observability import metrics
from twofa.settings import Limit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the next event would be allowed (0 when allowed)


def _item(limit: Limit) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(limit.count, limit.seconds, namespace="twofa")


class WindowLimiter:
    """Moving-window counters: Redis when configured (shared by processes), else this process."""

    def __init__(self, redis_url: str | None = None, *, prefix: str = "twofa:rl") -> None:
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: MovingWindowRateLimiter | None = None
        if redis_url:
            storage = RedisStorage(
                redis_url, key_prefix=prefix, socket_timeout=2.0, socket_connect_timeout=0.5
            )
            self._redis = MovingWindowRateLimiter(storage)

    def hit(self, key: str, limit: Limit) -> Decision:
        """Count one event if the window has room; refuse (counting nothing) otherwise."""
        item = _item(limit)
        if self._redis is not None:
            try:
                return self._decide(self._redis, item, key)
            except Exception:
                log.warning("redis rate limiter unavailable; counting in this process")
        return self._decide(self._memory, item, key)

    @staticmethod
    def _decide(
        limiter: MovingWindowRateLimiter, item: RateLimitItemPerSecond, key: str
    ) -> Decision:
        if limiter.hit(item, key):
            return Decision(True, 0)
        reset = limiter.get_window_stats(item, key).reset_time
        return Decision(False, max(1, math.ceil(reset - time.time())))

    def clear(self, key: str, limit: Limit) -> None:
        item = _item(limit)
        if self._redis is not None:
            try:
                self._redis.clear(item, key)
            except Exception:
                log.warning("redis rate limiter unavailable; clearing in this process")
        self._memory.clear(item, key)


class Limits:
    """The provider's named limits: windows by ``hit``, back-offs by ``reserve`` / ``reset``."""

    def __init__(
        self,
        windows: WindowLimiter,
        limits: dict[str, Limit],
        lockouts: LockoutStore | None = None,
        backoffs: dict[str, Backoff] | None = None,
        on_limited: Callable[[str, str], None] | None = None,
    ) -> None:
        self.windows = windows
        self.limits = limits
        self.lockouts = lockouts
        self.backoffs = backoffs or {}
        self._on_limited = on_limited

    def _refuse(self, name: str, subject: str, retry_after: int) -> None:
        metrics.RATE_LIMITED.labels(name).inc()
        if self._on_limited is not None:
            try:
                self._on_limited(name, subject)
            except Exception:
                log.exception("recording a rate-limit event failed")
        raise RateLimited(retry_after=retry_after)

    def hit(self, name: str, subject: str) -> None:
        """Count one event of kind ``name`` for ``subject``; raise 429/60003 when over."""
        decision = self.windows.hit(f"{name}:{subject}", self.limits[name])
        if not decision.allowed:
            self._refuse(name, subject, decision.retry_after)

    def clear(self, name: str, subject: str) -> None:
        """Forget the window of ``name`` for ``subject`` (tests and operators)."""
        self.windows.clear(f"{name}:{subject}", self.limits[name])

    def reserve(self, name: str, subject: str) -> int:
        """Count one attempt of back-off ``name`` before doing it; 429/60003 while waiting.

        Returns how many attempts are now counted (this one included)."""
        assert self.lockouts is not None, "no lockout store configured"
        decision = self.lockouts.reserve(f"{name}:{subject}", self.backoffs[name])
        if not decision.allowed:
            self._refuse(name, subject, decision.retry_after)
        return decision.count

    def reset(self, name: str, subject: str) -> None:
        """A success: forget the attempts counted by ``reserve``."""
        assert self.lockouts is not None, "no lockout store configured"
        self.lockouts.reset(f"{name}:{subject}")


WINDOW_NAMES = (
    "sms_per_phone",
    "sms_per_phone_total",
    "sms_per_app",
    "push_per_user",
    "phone_verifications_per_number",
    "device_registrations_total",
)
BACKOFF_NAMES = (
    "verify_failures_per_user",
    "device_registrations_per_number",
    "device_registrations_per_ip",
)


def make_limits(settings: object, on_limited: Callable[[str, str], None] | None = None) -> Limits:
    """The limiters the settings ask for (Redis when ``TWOFA_REDIS_URL`` is set)."""
    redis_url = getattr(settings, "redis_url", None)
    limit = settings.limit  # type: ignore[attr-defined]
    max_delay = int(getattr(settings, "lockout_max_delay", 3600))
    forget = int(getattr(settings, "lockout_forget", 86400))
    backoffs = {
        name: Backoff(
            free=limit(name).count, base=limit(name).seconds, cap=max_delay, forget=forget
        )
        for name in BACKOFF_NAMES
    }
    return Limits(
        WindowLimiter(redis_url),
        {name: limit(name) for name in WINDOW_NAMES},
        make_lockouts(redis_url),
        backoffs,
        on_limited,
    )
