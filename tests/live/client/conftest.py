"""Fixtures for the client SDK: a fresh application at the real provider per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import LiveProvider, RecordedPath, RecordingServer
from twofa.client import Client


@pytest.fixture
def live(sqlite_provider: LiveProvider) -> LiveProvider:
    return sqlite_provider


@pytest.fixture(scope="session")
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture
def relay(recording_server: RecordingServer) -> RecordedPath:
    """A loopback recorder: the application's callback receiver, or a stand-in provider."""
    recording_server.status, recording_server.body = 200, b'{"ok":true}'
    return RecordedPath(recording_server)


@pytest.fixture
def app_key(live: LiveProvider, relay: RecordedPath) -> str:
    _, key = live.new_app("SDK", callback_url=relay.url + "/authy/callback")
    return key


@pytest.fixture
def provider(live: LiveProvider, app_key: str) -> Iterator[Client]:
    with Client(app_key, live.url, timeout=10) as client:
        yield client
