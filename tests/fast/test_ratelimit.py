"""Rate limiting: moving windows and back-off lockouts, in memory and in the real Redis.

Both count before the guarded work (reserve first), so concurrent callers cannot all pass.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator

import pytest
import redis

from twofa.errors import RateLimited
from twofa.provider.lockout import Backoff, MemoryLockouts, RedisLockouts
from twofa.provider.ratelimit import Limits, WindowLimiter
from twofa.settings import Limit

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Windows -------------------------------------------------------------------------------------


def test_window_allows_up_to_the_count_then_refuses() -> None:
    windows = WindowLimiter()
    limit = Limit(3, 60)
    assert [windows.hit("k", limit).allowed for _ in range(5)] == [True] * 3 + [False] * 2
    assert windows.hit("other", limit).allowed


def test_window_moves_with_the_first_hit_not_the_clock() -> None:
    """A fixed window would reopen at the next clock minute (a burst across the boundary); a
    moving window reopens only 60 s after the oldest counted hit."""
    windows = WindowLimiter()
    limit = Limit(2, 60)
    windows.hit("k", limit)
    windows.hit("k", limit)
    refused = windows.hit("k", limit)
    assert not refused.allowed
    assert 55 <= refused.retry_after <= 60


def test_zero_count_refuses_everything() -> None:
    assert not WindowLimiter().hit("k", Limit(0, 60)).allowed


def test_window_clear_forgets() -> None:
    windows = WindowLimiter()
    limit = Limit(1, 60)
    windows.hit("k", limit)
    windows.clear("k", limit)
    assert windows.hit("k", limit).allowed


def test_limits_raise_60003_with_retry_after() -> None:
    limits = Limits(WindowLimiter(), {"sms_per_phone": Limit(1, 600)})
    limits.hit("sms_per_phone", "1:+12015550123")
    with pytest.raises(RateLimited) as caught:
        limits.hit("sms_per_phone", "1:+12015550123")
    assert (caught.value.code, caught.value.status) == ("60003", 429)
    assert 590 <= caught.value.retry_after <= 600
    limits.hit("sms_per_phone", "2:+12015550123")  # another application's budget


def test_concurrent_hits_never_pass_the_count() -> None:
    windows = WindowLimiter()
    assert _concurrently(lambda: windows.hit("k", Limit(10, 600)).allowed) == 10


# Back-off ------------------------------------------------------------------------------------


def test_backoff_curve() -> None:
    """Three free, then 10 s, 20 s, 40 s, 40 s (the ceiling): documented in docs/operations.md."""
    clock = Clock()
    lockouts = MemoryLockouts(clock)
    policy = Backoff(free=3, base=10, cap=40, forget=3600)
    assert [lockouts.reserve("k", policy).allowed for _ in range(3)] == [True] * 3
    for wait in (10, 20, 40, 40):
        refused = lockouts.reserve("k", policy)
        assert (refused.allowed, refused.retry_after) == (False, wait)
        clock.now += wait - 1
        assert not lockouts.reserve("k", policy).allowed
        clock.now += 1
        assert lockouts.reserve("k", policy).allowed


def test_backoff_reset_and_forget() -> None:
    clock = Clock()
    lockouts = MemoryLockouts(clock)
    policy = Backoff(free=2, base=10, cap=40, forget=100)
    lockouts.reserve("k", policy)
    lockouts.reserve("k", policy)
    assert not lockouts.reserve("k", policy).allowed
    lockouts.reset("k")  # a success
    assert lockouts.reserve("k", policy).count == 1
    lockouts.reserve("k", policy)
    clock.now += 10 + 100  # the wait, then the forget period
    assert lockouts.reserve("k", policy).count == 1


def test_limits_reserve_raises_with_the_wait() -> None:
    limits = Limits(
        WindowLimiter(), {}, MemoryLockouts(), {"verify_failures_per_user": Backoff(2, 60, 600, 60)}
    )
    assert limits.reserve("verify_failures_per_user", "1:1") == 1
    assert limits.reserve("verify_failures_per_user", "1:1") == 2
    with pytest.raises(RateLimited) as caught:
        limits.reserve("verify_failures_per_user", "1:1")
    assert 59 <= caught.value.retry_after <= 60
    limits.reset("verify_failures_per_user", "1:1")
    assert limits.reserve("verify_failures_per_user", "1:1") == 1


def test_concurrent_reservations_in_memory_never_pass_the_free_count() -> None:
    lockouts = MemoryLockouts()
    policy = Backoff(free=10, base=600, cap=3600, forget=86400)
    assert _concurrently(lambda: lockouts.reserve("k", policy).allowed) == 10


# Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def prefix() -> str:
    return f"twofa-test:{secrets.token_hex(6)}:"


@pytest.fixture
def redis_client(prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # fails, never skips, when Redis is down
    yield client
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.mark.redis
def test_redis_windows_are_shared_between_instances(prefix: str, redis_client: redis.Redis) -> None:
    one, two = WindowLimiter(REDIS_URL, prefix=prefix), WindowLimiter(REDIS_URL, prefix=prefix)
    limit = Limit(3, 600)
    assert one.hit("user:1", limit).allowed
    assert two.hit("user:1", limit).allowed
    assert one.hit("user:1", limit).allowed
    refused = two.hit("user:1", limit)
    assert not refused.allowed and 590 <= refused.retry_after <= 600
    assert two.hit("user:2", limit).allowed
    assert list(redis_client.scan_iter(f"{prefix}*user:1*"))


@pytest.mark.redis
def test_redis_windows_hold_under_concurrency(prefix: str, redis_client: redis.Redis) -> None:
    windows = [WindowLimiter(REDIS_URL, prefix=prefix) for _ in range(4)]
    count = _concurrently(lambda i: windows[i % 4].hit("k", Limit(10, 600)).allowed)
    assert count == 10


@pytest.mark.redis
def test_redis_lockouts_are_shared_and_atomic(prefix: str, redis_client: redis.Redis) -> None:
    stores = [RedisLockouts(REDIS_URL, prefix=prefix) for _ in range(4)]
    policy = Backoff(free=10, base=600, cap=3600, forget=86400)
    assert _concurrently(lambda i: stores[i % 4].reserve("k", policy).allowed) == 10
    refused = stores[0].reserve("k", policy)
    assert not refused.allowed and 590 <= refused.retry_after <= 600
    assert 86400 < redis_client.ttl(f"{prefix}k") <= 86400 + 600
    stores[1].reset("k")
    assert stores[2].reserve("k", policy).count == 1


@pytest.mark.redis
def test_redis_lockout_curve_matches_memory(prefix: str, redis_client: redis.Redis) -> None:
    clock = Clock()
    store = RedisLockouts(REDIS_URL, prefix=prefix, clock=clock)
    policy = Backoff(free=3, base=10, cap=40, forget=3600)
    assert [store.reserve("k", policy).allowed for _ in range(3)] == [True] * 3
    for wait in (10, 20, 40, 40):
        refused = store.reserve("k", policy)
        assert (refused.allowed, refused.retry_after) == (False, wait)
        clock.now += wait
        assert store.reserve("k", policy).allowed


def test_redis_outage_falls_back_to_process_counters() -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    windows = WindowLimiter(url)
    assert [windows.hit("k", Limit(2, 600)).allowed for _ in range(3)] == [True, True, False]
    lockouts = RedisLockouts(url)
    policy = Backoff(free=2, base=60, cap=600, forget=600)
    assert [lockouts.reserve("k", policy).allowed for _ in range(3)] == [True, True, False]
    lockouts.reset("k")
    assert lockouts.reserve("k", policy).allowed


def _concurrently(call, threads: int = 40) -> int:  # type: ignore[no-untyped-def]
    """How many of ``threads`` calls released together returned true."""
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            value = call(index)
        except TypeError:
            value = call()
        with lock:
            results.append(bool(value))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(results)
