"""The delivery worker sends each delivery on its own: a callback queued while a slow receiver
holds an earlier one is sent at once, not after that receiver answers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.provider.conftest import Authy, provider_settings
from tests.provider.test_callbacks import approved, delivery
from tests.servers import RecordedPath, RecordingServer
from twofa.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, migrated: Path) -> Settings:
    # The held receiver answers only when released: no timeout may end its attempt first.
    return provider_settings(tmp_path, migrated, delivery_timeout=60, delivery_lease_seconds=120)


@pytest.fixture
def held() -> Iterator[RecordingServer]:
    """A callback endpoint that answers only when the test sets ``held.hold``."""
    server = RecordingServer()
    server.hold = threading.Event()
    yield server
    server.hold.set()
    server.close()


async def until(check: Callable[[], bool], timeout: float = 10) -> bool:
    """Let the worker run until ``check()`` is true; False if it never was."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return False


def test_a_slow_receiver_does_not_hold_back_another_callback(
    authy: Authy, receiver: RecordedPath, held: RecordingServer
) -> None:
    slow = Authy(authy.http, authy.services, callback_url=held.url + "/callback")
    assert held.hold is not None
    slow_uuid = approved(slow, slow.new_user())
    dispatcher = authy.services.deliveries

    async def scenario() -> None:
        wake = asyncio.Event()
        worker = asyncio.create_task(dispatcher.run(wake))
        try:
            assert await until(lambda: bool(held.received())), "the slow receiver was never called"
            fast_uuid = approved(authy, authy.new_user())  # queued while the slow one is out
            wake.set()
            arrived = await until(lambda: bool(receiver.received()))
            assert arrived, "the second callback waited for the slow receiver"
            assert await until(lambda: delivery(authy, fast_uuid).status == "delivered")
            assert delivery(slow, slow_uuid).status == "pending"  # still waiting for its answer
            held.hold.set()
            assert await until(lambda: delivery(slow, slow_uuid).status == "delivered")
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    asyncio.run(scenario())
