"""Device streams across two provider processes: a revoked device stops listening everywhere,
Redis up or down, and no device holds more than three streams.

The attack this stops: with two processes and Redis down, a revoked device kept its stream on
the other process and kept receiving every new login request (message, e-mail, IP), and still
did after Redis came back; and one device opened 150 streams.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.scale.conftest import (
    Pair,
    Stream,
    enrol,
    new_account,
    provider_pair,
    wait_until,
)
from tests.servers import LiveProvider, start_provider
from twofa.authenticator.device import DeviceApiError
from twofa.storage.database import utcnow
from twofa.storage.tables import devices

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("scale")]

HEARTBEAT = 1.0
SLACK = 2.0  # the machine is loaded: a check may start late


@pytest.fixture(scope="module")
def beating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two processes whose streams beat every second."""
    with provider_pair(
        tmp_path_factory.mktemp("streams"), TWOFA_STREAM_HEARTBEAT=str(HEARTBEAT)
    ) as started:
        yield started


def ended_with(stream: Stream, name: str, within: float) -> float:
    """Seconds until ``stream`` ended; its last event must be ``name``."""
    started = time.monotonic()
    assert stream.done.wait(within), f"the stream did not end within {within} s"
    assert stream.arrivals and stream.arrivals[-1].event.event == name, stream.arrivals[-3:]
    return time.monotonic() - started


@pytest.mark.parametrize("redis_up", [False, True], ids=["redis-down", "redis-up"])
def test_revocation_ends_the_stream_on_the_other_process(beating: Pair, redis_up: bool) -> None:
    account = new_account(beating.a)
    kept = enrol(beating.a, account.national, "kept")
    lost = enrol(beating.a, account.national, "lost")
    listening = Stream(lost.on(beating.b)).start()
    if not redis_up:
        beating.redis.stop()
    try:
        if not redis_up:
            wait_until(
                lambda: all(beating.bus_state(p) == "degraded" for p in (beating.a, beating.b)),
                what="both buses to notice that Redis is gone",
            )
        kept.on(beating.a).revoke(lost.enrolled.device_uuid)
        took = ended_with(listening, "revoked", HEARTBEAT + SLACK)
        print(f"\nrevoked on a, the stream on b ended after {took * 1000:.0f} ms")
        uuid = account.push(beating.a, "after revocation")
        assert uuid not in listening.seen("request")
        with pytest.raises(DeviceApiError) as refused:
            next(iter(lost.on(beating.b).events()))
        assert refused.value.status == 401
    finally:
        if not redis_up:
            beating.redis.start()
            wait_until(
                lambda: all(beating.bus_state(p) == "redis" for p in (beating.a, beating.b)),
                what="both buses to find Redis again",
            )
    # Redis back: still nothing reaches the revoked device.
    uuid = account.push(beating.b, "after redis came back")
    assert kept.on(beating.b).wait_pending(1)[-1].uuid == uuid
    assert uuid not in listening.seen("request")


def test_a_fourth_stream_closes_the_oldest(beating: Pair) -> None:
    account = new_account(beating.a)
    device = enrol(beating.a, account.national)
    opened = [Stream(device.on(process)).start() for process in (beating.a, beating.b, beating.a)]
    time.sleep(0.2)  # opened in order (opened_at is the order of eviction)
    fourth = Stream(device.on(beating.b)).start()
    ended_with(opened[0], "closed", HEARTBEAT + SLACK)
    assert "more than 3 streams" in opened[0].arrivals[-1].event.data["reason"]
    uuid = account.push(beating.a)
    for stream in (*opened[1:], fourth):
        stream.wait_for("request", uuid)
    assert not any(s.done.is_set() for s in (*opened[1:], fourth))


def test_thirty_streams_leave_three(beating: Pair) -> None:
    account = new_account(beating.b)
    device = enrol(beating.b, account.national)
    streams = [Stream(device.on(beating.a if i % 2 else beating.b)).start() for i in range(30)]
    wait_until(
        lambda: sum(not s.done.is_set() for s in streams) == 3,
        timeout=HEARTBEAT + SLACK + 10,
        what="all but three streams to close",
    )
    assert all(s.done.is_set() for s in streams[:-3])
    count = beating.a.services.devices.streams.count
    wait_until(lambda: count(device_id(beating.a, device.enrolled.device_uuid)) == 3)


def device_id(provider: LiveProvider, uuid: str) -> int:
    with provider.services.db.read() as conn:
        return int(conn.execute(devices.select().where(devices.c.uuid == uuid)).one().id)


def test_heartbeat_ends_a_stream_no_event_told(tmp_path: Path) -> None:
    """A revocation written straight to the database (no bus event at all) still ends the
    stream at its next heartbeat: the check, not the message, is what holds the line."""
    provider = start_provider(
        tmp_path, f"sqlite:///{tmp_path / 'p.db'}", TWOFA_STREAM_HEARTBEAT=str(HEARTBEAT)
    )
    try:
        account = new_account(provider)
        device = enrol(provider, account.national)
        stream = Stream(device.enrolled).start()
        with provider.services.db.write() as conn:
            conn.execute(
                update(devices)
                .where(devices.c.uuid == device.enrolled.device_uuid)
                .values(revoked_at=utcnow())
            )
        ended_with(stream, "revoked", HEARTBEAT + SLACK)
    finally:
        provider.stop()
