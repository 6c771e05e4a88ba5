"""One of two provider processes is killed (SIGKILL) under load: no decision and no callback
is lost, and a device stream that was on it resumes on the survivor with ``Last-Event-ID``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.scale.conftest import (
    Account,
    CallbackReceiver,
    Device,
    Pair,
    Stream,
    enrol,
    kill,
    new_account,
    provider_pair,
    wait_until,
)
from twofa.storage.tables import deliveries

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("scale")]


@pytest.fixture
def doomed_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with provider_pair(tmp_path_factory.mktemp("kill-pair")) as started:
        yield started


class Load:
    """Requests created and approved through the survivor, one after another, until stopped."""

    def __init__(self, pair: Pair, account: Account, device: Device) -> None:
        self.approved: list[str] = []
        self.errors: list[Exception] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(pair, account, device), daemon=True)
        self._thread.start()

    def _run(self, pair: Pair, account: Account, device: Device) -> None:
        client = device.on(pair.b)
        while not self._stop.is_set():
            try:
                uuid = account.push(pair.b)
                assert client.decide(uuid, approve=True) == "approved"
                self.approved.append(uuid)
            except Exception as exc:
                self.errors.append(exc)
                return
            time.sleep(0.02)

    def stop(self) -> list[str]:
        self._stop.set()
        self._thread.join(30)
        assert not self.errors, self.errors
        return list(self.approved)


def test_kill_one_process_under_load(doomed_pair: Pair, callbacks: CallbackReceiver) -> None:
    pair = doomed_pair
    account = new_account(pair.a, callback_url=callbacks.url)
    watcher, approver = enrol(pair.a, account.national, "watcher"), enrol(pair.b, account.national)
    on_a = Stream(watcher.on(pair.a)).start()
    load = Load(pair, account, approver)
    wait_until(lambda: len(callbacks.counts()) >= 5, what="callbacks under load")

    # Hold the receiver's answers until A has claimed deliveries it is waiting on: A dies
    # holding leases, and every one of its sends is unanswered (never half-acknowledged).
    callbacks.hold()
    a_worker = f":{pair.a.proc.pid}:"

    def a_holds_only_unanswered_leases() -> bool:
        with pair.a.services.db.read() as conn:
            leased = (
                conn.execute(
                    select(deliveries.c.subject).where(
                        deliveries.c.status == "pending",
                        deliveries.c.leased_by.contains(a_worker),
                    )
                )
                .scalars()
                .all()
            )
        return bool(leased) and set(leased) <= callbacks.holding()

    wait_until(a_holds_only_unanswered_leases, what="process A to hold leased callbacks")
    kill(pair.a)
    callbacks.release()
    killed_at = time.monotonic()
    assert on_a.done.wait(10), "the stream on the killed process did not end"
    # The load goes on through B; the stream misses what happens meanwhile.
    after_kill = len(load.approved)
    wait_until(lambda: len(load.approved) >= after_kill + 3, what="approvals after the kill")
    resumed = Stream(watcher.on(pair.b), last_event_id=on_a.last_event_id).start()
    approved = load.stop()

    # The stream resumed on B replays every end it missed, then goes on live.
    missed = [u for u in approved if on_a.find("request.ended", u) is None]
    assert missed, "the load did not go on while the stream was away"
    for uuid in missed:
        resumed.wait_for("request.ended", uuid)
    last = account.push(pair.b)
    resumed.wait_for("request", last)

    # Every approval reached the relying party exactly once: the deliveries A was sending when
    # it died were sent again by B when their lease ran out.
    wait_until(
        lambda: set(approved) <= set(callbacks.counts()),
        timeout=15,
        what="a callback for every approval",
    )
    recovered_after = time.monotonic() - killed_at
    time.sleep(0.5)
    counts = callbacks.counts()
    assert {counts[u] for u in approved} == {1}, {u: counts[u] for u in approved}
    assert set(counts) == set(approved)
    assert callbacks.abandoned, "A died without a callback in flight"
    assert set(callbacks.abandoned) <= set(approved)
    with pair.b.services.db.read() as conn:
        statuses = dict(
            conn.execute(
                select(deliveries.c.subject, deliveries.c.status).where(
                    deliveries.c.app_id == account.app_id
                )
            ).all()
        )
    assert set(statuses) == set(approved) and set(statuses.values()) == {"delivered"}
    assert {account.status(pair.b, u) for u in approved} == {"approved"}
    print(
        f"\n{len(approved)} approvals under load; {len(missed)} ends replayed on resume; "
        f"{len(set(callbacks.abandoned))} callbacks abandoned by the killed process were "
        f"delivered by the survivor; all delivered {recovered_after:.1f} s after the kill"
    )
