"""Event streams cannot starve the site: one per login attempt, a budget per process.

The site runs under waitress with few threads, as ``twofa site`` runs it, so a stream that was
let through would really hold one of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from waitress.server import create_server
from waitress.wasyncore import close_all

from tests.live.site.conftest import make_settings
from tests.live.site_served.conftest import CALLBACK_PATH, WebBrowser, close_site
from tests.servers import LiveProvider, TestDevice
from twofa.site.app import create_app
from twofa.site.services import EXTENSION

THREADS = 8
STREAMS = 3
KEEPALIVE_SECONDS = 1.0  # waitress learns that a client left at the next keep-alive write


class Waitress:
    """The site under waitress on a loopback port."""

    def __init__(self, tmp_path: Path, live: LiveProvider) -> None:
        self.live = live
        self.server = create_server(
            self._wsgi, host="127.0.0.1", port=0, threads=THREADS, ident="twofa-site"
        )
        self.url = f"http://127.0.0.1:{self.server.effective_port}"  # type: ignore[union-attr]
        _, key = live.new_app("Stream budget", callback_url=self.url + CALLBACK_PATH)
        settings = make_settings(
            tmp_path,
            site_api_key=key,
            site_provider_url=live.url,
            site_public_url=self.url,
            site_threads=THREADS,
            site_max_streams=STREAMS,
            site_stream_max_seconds=60,
            site_stream_keepalive_seconds=KEEPALIVE_SECONDS,
            site_signup_limit_ip="100/3600",  # every member signs up from 127.0.0.1
        )
        self.app = create_app(settings)
        self.thread = threading.Thread(target=self.server.run, name="waitress", daemon=True)
        self.thread.start()
        self.browsers: list[WebBrowser] = []

    def _wsgi(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)

    def member(self) -> tuple[WebBrowser, TestDevice]:
        """A user with the app whose browser waits on ``/login/wait``."""
        browser = WebBrowser(self.url, self.live)
        self.browsers.append(browser)
        email = f"member{len(self.browsers)}@example.com"
        browser.register(email)
        device = self.live.enroll_device("1", browser.phone)
        assert browser.login(email).headers["location"] == "/login/wait"
        return browser, device

    @property
    def open_streams(self) -> int:
        return int(self.app.extensions[EXTENSION].streams.open)

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()
        # Streams end at their next keep-alive once their client has gone; closing the site's
        # provider client under a live stream would fail that stream's thread after the test.
        deadline = time.monotonic() + KEEPALIVE_SECONDS + 30
        while self.open_streams and time.monotonic() < deadline:
            time.sleep(0.1)
        # The single-socket server's close() stops only its listener; end its channels and
        # threads as waitress's multi-socket server does, so the loop returns.
        self.server.task_dispatcher.shutdown()
        close_all(self.server._map)  # type: ignore[union-attr]
        self.thread.join(10)
        assert not self.thread.is_alive()
        close_site(self.app)


@pytest.fixture
def site(tmp_path: Path, live: LiveProvider) -> Iterator[Waitress]:
    served = Waitress(tmp_path, live)
    yield served
    served.close()


def _timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = httpx.get(url, timeout=30).status_code
    return status, time.monotonic() - started


def test_one_logins_cookie_cannot_hold_the_threads(site: Waitress) -> None:
    browser, _ = site.member()
    cookies = dict(browser.http.cookies)
    held = httpx.Client(base_url=site.url, cookies=cookies, timeout=30)
    first = held.send(held.build_request("GET", "/login/events"), stream=True)
    assert first.status_code == 200
    try:
        # 100 more streams with the same cookie, all at once.
        def open_stream(_: int) -> int:
            with httpx.Client(base_url=site.url, cookies=cookies, timeout=30) as client:
                response = client.get("/login/events")
                return response.status_code

        with ThreadPoolExecutor(max_workers=25) as pool:
            statuses = list(pool.map(open_stream, range(100)))
        assert statuses == [429] * 100
        assert site.open_streams == 1
        # Other visitors are served at once, over and over.
        for _ in range(20):
            status, took = _timed_get(site.url + "/")
            assert status == 200
            assert took < 2.0, f"GET / took {took:.2f} s"
        # The refused browser falls back to polling, which still works.
        assert held.get("/login/status").json()["status"] == "pending"
    finally:
        first.close()
        held.close()
    # waitress learns that the client left at the stream's next keep-alive write.
    deadline = time.monotonic() + KEEPALIVE_SECONDS + 30
    while site.open_streams and time.monotonic() < deadline:
        time.sleep(0.1)
    assert site.open_streams == 0


def test_the_process_budget_sends_extra_browsers_to_polling(site: Waitress) -> None:
    members = [site.member() for _ in range(STREAMS + 1)]
    streams = []
    try:
        for browser, _ in members[:STREAMS]:
            response = browser.http.send(
                browser.http.build_request("GET", "/login/events"), stream=True
            )
            assert response.status_code == 200
            streams.append(response)
        late, device = members[STREAMS]
        refused = late.get("/login/events")
        assert refused.status_code == 503
        assert refused.json() == {"status": "poll", "reason": "budget", "poll": "/login/status"}
        # The late browser still completes its login by polling.
        (request,) = device.wait_pending()
        device.approve(request.uuid, late.status()["number"])
        deadline = time.monotonic() + 10
        while late.status()["status"] != "approved" and time.monotonic() < deadline:
            time.sleep(0.1)
        done = late.post("/login/complete", csrf_from="/login/wait")
        assert done.headers["location"] == "/account"
        assert _timed_get(site.url + "/")[0] == 200
    finally:
        for response in streams:
            response.close()
