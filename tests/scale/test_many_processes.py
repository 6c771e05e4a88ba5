"""Two provider processes on one PostgreSQL database and one Redis behave as one service:
events cross processes quickly, rate limits are shared, each callback is delivered once."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from tests.scale.conftest import (
    CallbackReceiver,
    Pair,
    Stream,
    enrol,
    new_account,
    percentile,
    wait_until,
)
from twofa.storage.tables import deliveries

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("scale")]

ROUNDS = 50
CALLBACKS = 30
P99_BOUND = 0.5  # seconds; the target is 0.1 s, the bound leaves room for a busy machine


def test_both_processes_use_redis(pair: Pair) -> None:
    for provider in (pair.a, pair.b):
        ready = httpx.get(provider.url + "/readyz", timeout=5).json()
        assert ready["checks"] == {"database": "ok", "redis": "ok"}
        assert ready["bus"] == "redis"


def test_events_cross_processes_within_the_latency_budget(pair: Pair) -> None:
    """Latency is measured from the moment the provider stamps the event (the request's
    ``created_at`` on A, the decision's ``processed_at`` on B: the SSE id) to its arrival at
    the client of the other process's stream; the client's round trip is printed too."""
    account = new_account(pair.a)
    phone_one, phone_two = (
        enrol(pair.a, account.national, "one"),
        enrol(pair.b, account.national, "two"),
    )
    on_b = Stream(phone_one.on(pair.b)).start()  # a device connected to process B
    on_a = Stream(phone_two.on(pair.a)).start()  # a second device connected to process A
    deciding = phone_one.on(pair.b)
    created, answered, round_trip = [], [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        uuid = account.push(pair.a)
        arrival = on_b.wait_for("request", uuid)
        created.append(arrival.since_stamped)
        round_trip.append(arrival.at - started)
        started = time.perf_counter()
        assert deciding.decide(uuid, approve=True) == "approved"
        arrival = on_a.wait_for("request.ended", uuid)
        answered.append(arrival.since_stamped)
        round_trip.append(arrival.at - started)
    for name, values in (
        ("created on A -> stream on B", created),
        ("answered on B -> stream on A", answered),
        ("client call -> event at the other process (both)", round_trip),
    ):
        print(
            f"\n{name}: n={len(values)} median={statistics.median(values) * 1000:.1f} ms "
            f"p99={percentile(values, 99) * 1000:.1f} ms max={max(values) * 1000:.1f} ms"
        )
    assert percentile(created, 99) < P99_BOUND
    assert percentile(answered, 99) < P99_BOUND
    assert percentile(round_trip, 99) < 4 * P99_BOUND


@pytest.mark.parametrize("fourth", ["a", "b"])
def test_sms_limit_holds_across_processes(pair: Pair, fourth: str) -> None:
    account = new_account(pair.a)
    order = [pair.b, pair.a, pair.b, pair.a] if fourth == "a" else [pair.a, pair.b, pair.a, pair.b]
    answers = [account.call(p, "GET", f"/protected/json/sms/{account.authy_id}") for p in order]
    assert [r.status_code for r in answers] == [200, 200, 200, 429], [r.text for r in answers]
    assert answers[-1].json()["error_code"] == "60003"
    assert answers[-1].headers.get("Retry-After")
    assert len(pair.a.outbox(account.phone)) == 3


def test_each_callback_is_delivered_once_with_two_dispatchers(
    pair: Pair, callbacks: CallbackReceiver
) -> None:
    account = new_account(pair.a, callback_url=callbacks.url)
    phone = enrol(pair.a, account.national)
    processes = [pair.a, pair.b]
    uuids = [account.push(processes[i % 2], f"login {i}") for i in range(CALLBACKS)]

    def decide(index: int) -> str:
        return phone.on(processes[index % 2]).decide(uuids[index], approve=index % 3 != 0)

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(decide, range(CALLBACKS)))
    assert statuses.count("approved") == CALLBACKS - len(range(0, CALLBACKS, 3))
    wait_until(lambda: len(callbacks.counts()) >= CALLBACKS, what="every callback")
    time.sleep(1.0)  # any duplicate would have been sent by now
    counts = callbacks.counts()
    assert set(counts) == set(uuids)
    assert set(counts.values()) == {1}, {u: n for u, n in counts.items() if n != 1}
    assert not callbacks.abandoned
    with pair.a.services.db.read() as conn:
        rows = conn.execute(
            select(
                deliveries.c.status,
                deliveries.c.attempts,
                deliveries.c.leased_by,
            ).where(deliveries.c.app_id == account.app_id)
        ).all()
    assert len(rows) == CALLBACKS
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
    by_pid = {str(p.proc.pid): 0 for p in processes}
    for row in rows:
        by_pid[row.leased_by.split(":")[1]] += 1
    print(f"\ncallbacks delivered per process (pid: count): {by_pid}")
