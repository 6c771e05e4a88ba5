"""Rate limiting: fixed windows in memory and in the real Redis, shared across instances."""

from __future__ import annotations

import secrets

import pytest
import redis

from twofa.errors import RateLimited
from twofa.provider.ratelimit import Limits, MemoryRateLimiter, RedisRateLimiter
from twofa.settings import Limit

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_memory_allows_up_to_the_count_then_refuses() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    limit = Limit(3, 60)
    assert [limiter.hit("k", limit).allowed for _ in range(5)] == [True, True, True, False, False]
    assert limiter.hit("other", limit).allowed


def test_memory_window_rolls_over() -> None:
    clock = Clock(1_000_020.0)  # 20 s into a 60 s window starting at 1_000_020 // 60 * 60
    limiter = MemoryRateLimiter(clock)
    limit = Limit(1, 60)
    assert limiter.hit("k", limit).allowed
    decision = limiter.hit("k", limit)
    assert not decision.allowed
    assert 1 <= decision.retry_after <= 60
    clock.now += decision.retry_after
    assert limiter.hit("k", limit).allowed


def test_memory_exceeded_counts_nothing() -> None:
    limiter = MemoryRateLimiter(Clock())
    limit = Limit(2, 60)
    for _ in range(5):
        assert limiter.exceeded("k", limit).allowed
    limiter.hit("k", limit)
    assert limiter.exceeded("k", limit).allowed
    limiter.hit("k", limit)
    assert not limiter.exceeded("k", limit).allowed


def test_memory_reset_forgets_the_window() -> None:
    limiter = MemoryRateLimiter(Clock())
    limit = Limit(1, 60)
    limiter.hit("k", limit)
    assert not limiter.hit("k", limit).allowed
    limiter.reset("k", limit)
    assert limiter.hit("k", limit).allowed


def test_zero_count_refuses_everything() -> None:
    limiter = MemoryRateLimiter(Clock())
    assert not limiter.hit("k", Limit(0, 60)).allowed
    assert not limiter.exceeded("k2", Limit(0, 60)).allowed


def test_memory_sweeps_old_windows() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    limiter.hit("old", Limit(5, 60))
    clock.now += 2 * 86400
    limiter.hit("new", Limit(5, 60))
    assert all(key != "old" for key, _ in limiter._counts)


def test_limits_raise_60003_with_retry_after() -> None:
    limits = Limits(MemoryRateLimiter(Clock()), {"sms_per_phone": Limit(1, 600)})
    limits.check("sms_per_phone", "+12015550123")
    limits.hit("sms_per_phone", "+12015550123")
    with pytest.raises(RateLimited) as caught:
        limits.hit("sms_per_phone", "+12015550123")
    assert caught.value.code == "60003"
    assert caught.value.status == 429
    assert 1 <= caught.value.retry_after <= 600
    with pytest.raises(RateLimited):
        limits.check("sms_per_phone", "+12015550123")
    limits.reset("sms_per_phone", "+12015550123")
    limits.check("sms_per_phone", "+12015550123")


def test_limits_keep_kinds_apart() -> None:
    limits = Limits(MemoryRateLimiter(Clock()), {"a": Limit(1, 60), "b": Limit(1, 60)})
    limits.hit("a", "s")
    limits.hit("b", "s")
    with pytest.raises(RateLimited):
        limits.hit("a", "s")


@pytest.fixture
def prefix() -> str:
    return f"twofa-test:{secrets.token_hex(6)}:"


@pytest.fixture
def redis_client(prefix: str):  # type: ignore[no-untyped-def]
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # fails, never skips, when Redis is down
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.mark.redis
def test_redis_counts_are_shared_between_instances(prefix: str, redis_client: redis.Redis) -> None:
    one = RedisRateLimiter(REDIS_URL, prefix=prefix)
    two = RedisRateLimiter(REDIS_URL, prefix=prefix)
    limit = Limit(3, 600)
    assert one.hit("user:1", limit).allowed
    assert two.hit("user:1", limit).allowed
    assert one.hit("user:1", limit).allowed
    assert not two.hit("user:1", limit).allowed
    assert not one.exceeded("user:1", limit).allowed
    assert two.hit("user:2", limit).allowed
    keys = list(redis_client.scan_iter(f"{prefix}user:1:*"))
    assert len(keys) == 1
    assert int(redis_client.get(keys[0])) == 4  # type: ignore[arg-type]
    assert 0 < redis_client.ttl(keys[0]) <= 601


@pytest.mark.redis
def test_redis_exceeded_and_reset(prefix: str, redis_client: redis.Redis) -> None:
    one = RedisRateLimiter(REDIS_URL, prefix=prefix)
    two = RedisRateLimiter(REDIS_URL, prefix=prefix)
    limit = Limit(1, 600)
    assert one.exceeded("k", limit).allowed
    one.hit("k", limit)
    assert not two.exceeded("k", limit).allowed
    two.reset("k", limit)
    assert one.exceeded("k", limit).allowed
    assert one.hit("k", limit).allowed


@pytest.mark.redis
def test_redis_limits_through_limits(prefix: str, redis_client: redis.Redis) -> None:
    limit = {"push_per_user": Limit(2, 600)}
    a = Limits(RedisRateLimiter(REDIS_URL, prefix=prefix), limit)
    b = Limits(RedisRateLimiter(REDIS_URL, prefix=prefix), limit)
    a.hit("push_per_user", "1:1")
    b.hit("push_per_user", "1:1")
    with pytest.raises(RateLimited):
        a.hit("push_per_user", "1:1")


def test_redis_outage_falls_back_to_process_counters() -> None:
    port = _closed_port()
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0", prefix="x:")
    limit = Limit(2, 600)
    assert limiter.hit("k", limit).allowed
    assert limiter.hit("k", limit).allowed
    assert not limiter.hit("k", limit).allowed
    assert not limiter.exceeded("k", limit).allowed
    limiter.reset("k", limit)
    assert limiter.hit("k", limit).allowed


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
