"""The live event stream: new requests arrive, ends reach every device, resume, revoke."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import pytest

from tests.live.devices.conftest import Account, enrol
from tests.servers import LiveProvider
from twofa.authenticator.device import DeviceApiError, DeviceClient, Event

WAIT = 10.0


class Stream:
    """Read a device's stream in a thread; the test takes events from a queue."""

    def __init__(self, device: DeviceClient, last_event_id: str | None = None) -> None:
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.opened = threading.Event()
        self.error: DeviceApiError | None = None
        self._thread = threading.Thread(target=self._run, args=(device, last_event_id), daemon=True)
        self._thread.start()
        assert self.opened.wait(WAIT), "the stream did not open"

    def _run(self, device: DeviceClient, last_event_id: str | None) -> None:
        try:
            for event in device.events(last_event_id, on_open=self.opened.set):
                self.events.put(event)
        except DeviceApiError as exc:
            self.error = exc
            self.opened.set()
        self.events.put(None)  # the stream ended

    def next(self, name: str | None = None) -> Event:
        while True:
            event = self.events.get(timeout=WAIT)
            assert event is not None, "the stream ended"
            if name is None or event.event == name:
                return event

    def ended(self) -> bool:
        self._thread.join(WAIT)
        return not self._thread.is_alive()


@pytest.fixture
def devices(provider: LiveProvider, account: Account) -> Iterator[tuple[DeviceClient, ...]]:
    pair = (
        enrol(provider, account.national, name="one"),
        enrol(provider, account.national, name="two"),
    )
    yield pair
    for device in pair:  # revoking closes any stream still open
        with contextlib.suppress(DeviceApiError):
            device.revoke()


def test_new_request_arrives_and_its_end_reaches_the_other_device(
    account: Account, devices: tuple[DeviceClient, DeviceClient]
) -> None:
    one, two = devices
    first, second = Stream(one), Stream(two)
    created = account.push("Log in", number_matching=True)
    event = first.next("request")
    assert event.data["uuid"] == created["uuid"]
    assert event.data["message"] == "Log in" and event.data["number_matching"] is True
    # The number the user must type is never sent to the phone (an authy_id may
    # happen to equal it, so identifiers are left out of the comparison).
    shown = {k: v for k, v in event.data.items() if k != "authy_id"}
    assert "numbers" not in event.data and created["number"] not in shown.values()
    assert "hidden_details" not in event.data
    assert event.id is not None and int(event.id) >= event.data["created_at"] * 1000
    assert second.next("request").data["uuid"] == created["uuid"]
    assert one.decide(created["uuid"], approve=True, number=created["number"]) == "approved"
    ended = second.next("request.ended")
    assert ended.data == {"uuid": created["uuid"], "status": "approved"}


def test_pending_first_then_replay_since_last_event_id(
    account: Account, devices: tuple[DeviceClient, DeviceClient]
) -> None:
    one, two = devices
    early = account.push("early")["uuid"]
    stream = Stream(one)
    opening = stream.next("request")
    assert opening.data["uuid"] == early
    resume_from = opening.id
    answered = account.push("answered")["uuid"]
    stream.next("request")
    two.decide(early, approve=False)
    two.decide(answered, approve=True)
    pending = account.push("still pending")["uuid"]
    one.revoke(two.device_uuid)
    resumed = Stream(one, last_event_id=resume_from)
    seen = [resumed.next() for _ in range(3)]
    assert [(e.event, e.data["uuid"]) for e in seen] == [
        ("request.ended", early),
        ("request.ended", answered),
        ("request", pending),
    ]
    assert [e.data.get("status") for e in seen[:2]] == ["denied", "approved"]
    ids = [int(e.id or 0) for e in seen]
    assert ids == sorted(ids)


def test_revoke_ends_the_stream(
    account: Account, devices: tuple[DeviceClient, DeviceClient]
) -> None:
    one, two = devices
    stream = Stream(one)
    two.revoke(one.device_uuid)
    assert stream.next("revoked").data == {"uuid": one.device_uuid}
    assert stream.ended()
    with pytest.raises(DeviceApiError) as refused:
        list(one.events())
    assert refused.value.code == "60087"


def test_expiry_reaches_the_stream(
    account: Account, devices: tuple[DeviceClient, DeviceClient]
) -> None:
    one, _ = devices
    stream = Stream(one)
    uuid = account.push(seconds_to_expire=1)["uuid"]
    assert stream.next("request").data["uuid"] == uuid
    assert stream.next("request.ended").data == {"uuid": uuid, "status": "expired"}
