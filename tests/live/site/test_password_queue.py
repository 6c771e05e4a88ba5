"""A burst of logins cannot hold every thread: the password-check queue is bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask

from tests.live.site.conftest import Browser
from twofa.site.passwords import Passwords, PasswordsBusy
from twofa.site.services import EXTENSION


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_past_the_bound_a_check_is_refused_at_once() -> None:
    passwords = Passwords(memory_kib=1024, time_cost=1, concurrency=1, max_waiting=2)
    stored = passwords.hash("plum vortex gazebo")
    results: list[bool] = []
    with passwords._slots:  # the one hashing slot is busy
        waiter = threading.Thread(target=lambda: results.append(passwords.verify(stored, "x")))
        waiter.start()
        _wait_for(lambda: passwords.waiting == 1)
        second = threading.Thread(target=lambda: results.append(passwords.verify(stored, "y")))
        second.start()
        _wait_for(lambda: passwords.waiting == 2)
        started = time.monotonic()
        with pytest.raises(PasswordsBusy):
            passwords.verify(stored, "plum vortex gazebo")
        assert time.monotonic() - started < 0.5  # refused without waiting
    waiter.join(10)
    second.join(10)
    assert results == [False, False]
    assert passwords.waiting == 0
    assert passwords.verify(stored, "plum vortex gazebo")  # and it recovers


@pytest.fixture
def app(build_app: Callable[..., Flask]) -> Flask:
    return build_app(site_threads=8, site_max_streams=4)  # at most 2 password checks queued


def test_the_login_page_answers_503_when_the_queue_is_full(app: Flask, site: Browser) -> None:
    site.register()
    passwords = app.extensions[EXTENSION].auth.passwords
    with passwords._slots:
        holders = [threading.Thread(target=site.login) for _ in range(2)]
        for thread in holders:
            thread.start()
        _wait_for(lambda: passwords.waiting == 2)
        other = Browser(app, site.live, site.phone)
        busy = other.login()
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "2"
        assert "Please try again in a few seconds" in busy.get_data(as_text=True)
        assert other.get("/").status_code == 200  # pages need no password check
    for thread in holders:
        thread.join(10)
    assert Browser(app, site.live, site.phone).login().headers["Location"] == "/verify"
