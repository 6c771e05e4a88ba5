"""The delivery worker sends each delivery on its own: a callback queued while a slow receiver
holds an earlier one is sent at once, not after that receiver answers."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.provider.conftest import Authy, provider_settings
from tests.provider.test_callbacks import approved, delivery
from tests.servers import RecordedPath
from twofa.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, migrated: Path) -> Settings:
    # The held receiver answers only when released: no timeout may end its attempt first.
    return provider_settings(tmp_path, migrated, delivery_timeout=60, delivery_lease_seconds=120)


class HeldReceiver:
    """A callback endpoint that answers only when the test lets it."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        held = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                held.arrived.set()
                held.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/callback"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def held() -> Iterator[HeldReceiver]:
    receiver = HeldReceiver()
    yield receiver
    receiver.close()


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
    authy: Authy, receiver: RecordedPath, held: HeldReceiver
) -> None:
    slow = Authy(authy.http, authy.services, callback_url=held.url)
    slow_uuid = approved(slow, slow.new_user())
    dispatcher = authy.services.deliveries

    async def scenario() -> None:
        wake = asyncio.Event()
        worker = asyncio.create_task(dispatcher.run(wake))
        try:
            assert await until(held.arrived.is_set), "the slow receiver was never called"
            fast_uuid = approved(authy, authy.new_user())  # queued while the slow one is out
            wake.set()
            arrived = await until(lambda: bool(receiver.received()))
            assert arrived, "the second callback waited for the slow receiver"
            assert await until(lambda: delivery(authy, fast_uuid).status == "delivered")
            assert delivery(slow, slow_uuid).status == "pending"  # still waiting for its answer
            held.release.set()
            assert await until(lambda: delivery(slow, slow_uuid).status == "delivered")
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    asyncio.run(scenario())
