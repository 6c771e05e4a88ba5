"""A callback receiver goes down: retries carry a short outage, the breaker a long one.

The provider runs with short delivery settings so the outages take seconds, not hours. The
receiver is really stopped (connections refused) or answers 503, and comes back on its port.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, _start
from tests.live.test_callbacks import Setup, decide
from tests.servers import LiveProvider, run_cli

pytestmark = [pytest.mark.xdist_group("delivery-outage")]

SHORT = {
    "TWOFA_DELIVERY_RETRY_BASE": "0.5",
    "TWOFA_DELIVERY_RETRY_MAX_DELAY": "2",
    "TWOFA_DELIVERY_PAUSE_AFTER_SECONDS": "3",
    "TWOFA_DELIVERY_PAUSE_AFTER_ATTEMPTS": "6",
    "TWOFA_DELIVERY_PROBE_INTERVAL": "1",
    "TWOFA_WORKER_POLL_INTERVAL": "0.1",
    "TWOFA_LIMIT_PUSH_PER_USER": "100/600",  # these tests push more often than a person would
}


class Receiver:
    """A relying party's callback endpoint that can be stopped and started on its port."""

    def __init__(self) -> None:
        self.status = 200
        self.answered: list[tuple[str, int]] = []  # (approval request uuid, status answered)
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self.port = 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver.status
                    receiver.answered.append((json.loads(body)["uuid"], status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def delivered(self) -> Counter[str]:
        """How many times each uuid was answered with 2xx."""
        with self._lock:
            return Counter(uuid for uuid, status in self.answered if status < 300)

    def attempts(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self.answered)


@pytest.fixture(scope="module", params=BACKENDS)
def short(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveProvider]:
    yield from _start(tmp_path_factory.mktemp(f"short-{request.param}"), request.param, **SHORT)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def callback_state(provider: LiveProvider, app_id: int) -> dict[str, object]:
    listed = run_cli("apps", "list", "--json", env=provider.env)
    assert listed.returncode == 0, listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r["app_id"] == app_id]
    return dict(row["callback"])


def audit_events(provider: LiveProvider, app_id: int) -> list[str]:
    entries = provider.services.audit.entries(limit=1000)
    return [e.event for e in entries if e.app_id == app_id and e.event.startswith("delivery.")]


# One backend is enough for a 30 s outage; the breaker test below runs on both.
@pytest.mark.parametrize("short", ["sqlite"], indirect=True)
def test_a_30_second_outage_loses_nothing_and_sends_each_callback_once(
    short: LiveProvider, receiver: Receiver, tmp_path: Path
) -> None:
    s = Setup(short, receiver)  # type: ignore[arg-type]
    receiver.stop()
    approved = []
    stopped = time.monotonic()
    for _ in range(10):
        uuid = s.request()
        decide(short, uuid, s.phone, s.device)
        approved.append(uuid)
    time.sleep(max(0.0, 30 - (time.monotonic() - stopped)))
    # Long enough and often enough to pause: the breaker holds the backlog and probes.
    receiver.start()
    wait_until(lambda: set(receiver.delivered()) >= set(approved), 30, "every callback")
    time.sleep(3)  # a duplicate would come within the longest retry delay
    assert receiver.delivered() == Counter({uuid: 1 for uuid in approved})
    state = callback_state(short, s.app_id)
    assert state["state"] == "ok" and state["pending"] == 0
    assert short.services.apps.get(s.app_id).callback_url == s.callback_url


def test_the_breaker_pauses_probes_and_resumes(short: LiveProvider, receiver: Receiver) -> None:
    receiver.status = 503
    s = Setup(short, receiver)  # type: ignore[arg-type]
    approved = []
    for _ in range(5):
        uuid = s.request()
        decide(short, uuid, s.phone, s.device)
        approved.append(uuid)

    wait_until(lambda: callback_state(short, s.app_id)["state"] == "paused", 30, "a pause")
    state = callback_state(short, s.app_id)
    assert state["pending"] == 5
    assert int(str(state["failures"])) >= 6
    assert state["last_error"] == "HTTP 503"
    assert "delivery.paused" in audit_events(short, s.app_id)
    metrics = httpx.get(short.url + "/metrics").text
    paused = [line for line in metrics.splitlines() if line.startswith("twofa_delivery_receivers")]
    assert paused and float(paused[0].split()[-1]) >= 1, paused
    assert "twofa_delivery_pauses_total" in metrics

    # Paused: one probe a second, always the oldest delivery, and nothing is given up.
    seen = len(receiver.attempts())
    started = time.monotonic()
    # A starved provider may probe late: wait for the first probe, then watch a while.
    wait_until(lambda: len(receiver.attempts()) > seen, 15, "a probe")
    time.sleep(max(0.0, 3.5 - (time.monotonic() - started)))
    probes = receiver.attempts()[seen:]
    assert 1 <= len(probes) <= time.monotonic() - started + 2, probes
    assert {uuid for uuid, _ in probes} == {approved[0]}
    assert callback_state(short, s.app_id)["pending"] == 5

    receiver.status = 200
    wait_until(lambda: set(receiver.delivered()) >= set(approved), 30, "the backlog")
    time.sleep(1.5)
    assert receiver.delivered() == Counter({uuid: 1 for uuid in approved})
    assert callback_state(short, s.app_id) | {"last_error": None} == {
        "state": "ok",
        "pending": 0,
        "failures": 0,
        "failing_since": None,
        "paused_at": None,
        "next_probe_at": None,
        "last_error": None,
    }
    assert audit_events(short, s.app_id)[-2:] == ["delivery.paused", "delivery.resumed"]


def test_retry_callbacks_sends_failed_callbacks_again(
    short: LiveProvider, receiver: Receiver
) -> None:
    receiver.status = 410  # the receiver refuses: given up after one attempt
    s = Setup(short, receiver)  # type: ignore[arg-type]
    uuid = s.request()
    decide(short, uuid, s.phone, s.device)
    wait_until(lambda: len(receiver.attempts()) == 1, 10, "the refused attempt")
    receiver.status = 200
    done = run_cli("apps", "retry-callbacks", str(s.app_id), env=short.env)
    assert done.returncode == 0, done.stderr
    assert "1 callback(s)" in done.stdout
    wait_until(lambda: receiver.delivered() == Counter({uuid: 1}), 10, "the callback again")
    assert "delivery.requeued" in audit_events(short, s.app_id)
