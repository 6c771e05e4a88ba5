"""Another process holds SQLite's write lock: requests answer 503 within the lock timeout, in the
Authy envelope, while ``/healthz`` keeps answering at once (the event loop never waits)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest
from authy.api import AuthyApiClient

from tests.conftest import _start
from tests.servers import LiveProvider

LOCK_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def locked_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    yield from _start(
        tmp_path_factory.mktemp("sqlite-lock"), "sqlite", TWOFA_DB_LOCK_TIMEOUT=str(LOCK_TIMEOUT)
    )


def database_file(provider: LiveProvider) -> Path:
    return Path(provider.settings.provider_database_url.removeprefix("sqlite:///"))


@contextmanager
def sqlite_lock(provider: LiveProvider) -> Iterator[None]:
    """A foreign connection (a ``sqlite3`` shell, say) inside ``BEGIN IMMEDIATE``."""
    conn = sqlite3.connect(database_file(provider), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@contextmanager
def file_lock(provider: LiveProvider) -> Iterator[None]:
    """Another twofa process in the middle of a long write (it holds the shared lock file)."""
    fd = os.open(f"{database_file(provider)}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@pytest.mark.parametrize("holder", [sqlite_lock, file_lock], ids=["sqlite-lock", "lock-file"])
def test_a_held_write_lock_answers_503_and_health_keeps_answering(
    locked_provider: LiveProvider,
    holder: Callable[[LiveProvider], AbstractContextManager[None]],
) -> None:
    provider = locked_provider
    _, key = provider.new_app("Locked")
    client = AuthyApiClient(key, api_uri=provider.url)
    user_id = client.users.create("lock@example.com", provider.new_phone(), 1).id
    onetouch = f"{provider.url}/onetouch/json/users/{user_id}/approval_requests"
    new_user = f"{provider.url}/protected/json/users/new"
    headers = {"X-Authy-API-Key": key}

    with holder(provider), httpx.Client(timeout=30) as http:
        answers: dict[str, tuple[httpx.Response, float]] = {}

        def call(name: str, url: str, body: dict[str, object]) -> None:
            started = time.monotonic()
            response = http.post(url, json=body, headers=headers)
            answers[name] = (response, time.monotonic() - started)

        threads = [
            threading.Thread(target=call, args=("push", onetouch, {"message": "Log in?"})),
            threading.Thread(
                target=call,
                args=(
                    "user",
                    new_user,
                    {
                        "user": {
                            "email": "b@example.com",
                            "cellphone": "201-555-0188",
                            "country_code": 1,
                        }
                    },
                ),
            ),
        ]
        for thread in threads:
            thread.start()
        health: list[float] = []
        while any(t.is_alive() for t in threads):
            started = time.monotonic()
            assert http.get(provider.url + "/healthz").status_code == 200
            health.append(time.monotonic() - started)
            time.sleep(0.05)
        for thread in threads:
            thread.join()

    for name, (response, took) in answers.items():
        assert response.status_code == 503, (name, response.text)
        body = response.json()
        assert body["success"] is False and body["error_code"] == "60000"
        assert "busy" in body["message"]
        assert LOCK_TIMEOUT * 0.8 <= took < LOCK_TIMEOUT + 3, (name, took)
    assert len(health) >= 5
    assert max(health) < 0.5, health  # the event loop never waited for the lock

    # The lock released, everything works again.
    created = client.one_touch.send_request(user_id, "Log in?")
    assert created.ok(), created.content
