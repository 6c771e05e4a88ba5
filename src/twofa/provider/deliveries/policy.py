"""When to try again and when to pause a receiver: pure functions of the settings.

Retries back off exponentially with jitter (so a receiver coming back is not met by every
delivery at once) up to a ceiling, for a retry window of days. The breaker pauses a receiver
only when it has failed every attempt for a while *and* many times: one slow minute or a
handful of failures during a restart never pause it.
"""

from __future__ import annotations

import email.utils
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from twofa.provider.deliveries.model import Outcome
from twofa.provider.deliveries.store import Circuit
from twofa.settings import Settings

_random = secrets.SystemRandom()
MAX_RETRY_AFTER = 3600.0


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: base * 2^(n-1), jittered.

    "Equal jitter": half the delay is kept, the other half drawn at random.
    """
    exponent = min(max(attempts - 1, 0), 40)
    delay = min(settings.delivery_retry_base * 2**exponent, settings.delivery_retry_max_delay)
    return delay / 2 + _random.uniform(0, delay / 2)


def retry_at(
    settings: Settings, *, attempts: int, window_start: datetime, now: datetime, outcome: Outcome
) -> datetime | None:
    """When to try again after ``attempts`` failures, or None once the retry window is over."""
    if now >= window_start + timedelta(seconds=settings.delivery_retry_window):
        return None
    delay = backoff(settings, attempts)
    if outcome.retry_after is not None:
        delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
    return now + timedelta(seconds=delay)


def should_pause(settings: Settings, circuit: Circuit, now: datetime) -> bool:
    """Failing for long enough and often enough: pause and probe instead of retrying each."""
    if circuit.state != "closed" or circuit.failing_since is None:
        return False
    failing_for = (now - circuit.failing_since).total_seconds()
    return (
        circuit.failures >= settings.delivery_pause_after_attempts
        and failing_for >= settings.delivery_pause_after_seconds
    )


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The ``Retry-After`` header in seconds (delta or HTTP date), if the receiver sent one."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def judge_http(response: httpx.Response | None, error: str | None) -> Outcome:
    """The usual reading of an answer: 2xx done; 408, 429, 3xx and 5xx again; other 4xx final.

    A receiver that refuses (a 4xx other than timeout or rate limit) will refuse again, so that
    attempt is not retried; it did answer, so it counts as healthy for the breaker.
    """
    if response is None:
        return Outcome("retry", error=error or "no answer", reached=False)
    status = response.status_code
    if response.is_success:
        return Outcome("delivered")
    text = f"HTTP {status}"
    if status in (408, 429):
        return Outcome("retry", error=text, retry_after=retry_after(response), reached=False)
    if 400 <= status < 500:
        return Outcome("refused", error=text)
    return Outcome("retry", error=text, retry_after=retry_after(response), reached=status < 500)
