"""Redis stops: the event bus falls back to polling the database, logins still complete, and
when Redis is back the bus returns to pub/sub by itself."""

from __future__ import annotations

import time

import pytest

from tests.scale.conftest import Pair, Stream, enrol, new_account, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("scale")]

DEGRADED_BOUND = 2.0  # seconds for an event to cross processes while Redis is down


def test_bus_polls_the_database_while_redis_is_down_and_returns_to_redis(pair: Pair) -> None:
    account = new_account(pair.a)
    one, two = enrol(pair.a, account.national, "one"), enrol(pair.b, account.national, "two")
    on_b = Stream(one.on(pair.b)).start()
    on_a = Stream(two.on(pair.a)).start()
    processes = (pair.a, pair.b)

    pair.redis.stop()
    try:
        wait_until(
            lambda: all(pair.bus_state(p) == "degraded" for p in processes),
            what="both buses to notice that Redis is gone",
        )
        for origin, target, stream in ((pair.a, pair.b, on_b), (pair.b, pair.a, on_a)):
            started = time.perf_counter()
            uuid = account.push(origin)
            crossed = stream.wait_for("request", uuid).at - started
            print(
                f"\nwhile Redis is down, a request created on one process reached a stream "
                f"on the other in {crossed * 1000:.0f} ms"
            )
            assert crossed < DEGRADED_BOUND
            # The login completes: the device answers through the other process, the answer
            # reaches the first process's stream, and the status reads approved anywhere.
            started = time.perf_counter()
            assert one.on(target).decide(uuid, approve=True) == "approved"
            other = on_a if stream is on_b else on_b
            assert other.wait_for("request.ended", uuid).at - started < DEGRADED_BOUND
            assert account.status(origin, uuid) == "approved"
            assert account.status(target, uuid) == "approved"
    finally:
        pair.redis.start()

    # Requests keep coming from both sides while each process finds Redis again (at its own
    # moment): none may fall between the database feed and pub/sub.
    sent: list[tuple[str, Stream, float]] = []
    back_at: float | None = None
    for index in range(200):
        origin, stream = (pair.a, on_b) if index % 2 == 0 else (pair.b, on_a)
        started = time.perf_counter()
        sent.append((account.push(origin), stream, started))
        if back_at is None and all(pair.bus_state(p) == "redis" for p in processes):
            back_at = time.perf_counter()
        if back_at is not None and time.perf_counter() - back_at > 1.0:
            break
        time.sleep(0.05)
    assert back_at is not None, "the buses did not return to Redis"
    late = [(uuid, stream.wait_for("request", uuid).at - started) for uuid, stream, started in sent]
    print(
        f"across the recovery: {len(late)} requests, slowest crossing "
        f"{max(t for _, t in late) * 1000:.0f} ms"
    )
    assert all(t < DEGRADED_BOUND for _, t in late), late
    started = time.perf_counter()
    uuid = account.push(pair.a)
    crossed = on_b.wait_for("request", uuid).at - started
    print(f"after Redis came back: {crossed * 1000:.0f} ms")
    assert all(pair.bus_state(p) == "redis" for p in processes)
