"""What an operator sees: health, readiness, Prometheus metrics, request ids in JSON logs."""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
from authy.api import AuthyApiClient

from tests.servers import LiveProvider


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_health_and_readiness(sqlite_provider: LiveProvider) -> None:
    health = httpx.get(sqlite_provider.url + "/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = httpx.get(sqlite_provider.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["bus"] == "memory"


def test_metrics_count_requests_outcomes_and_messages(sqlite_provider: LiveProvider) -> None:
    _, key = sqlite_provider.new_app()
    client = AuthyApiClient(key, api_uri=sqlite_provider.url)
    before = httpx.get(sqlite_provider.url + "/metrics").text
    user = client.users.create("metrics@example.com", sqlite_provider.new_phone(), 1)
    assert client.users.request_sms(user.id).ok()
    assert not client.tokens.verify(user.id, "0000000").ok()
    after = httpx.get(sqlite_provider.url + "/metrics").text

    route = "/protected/json/verify/{token}/{authy_id}"
    for name, labels in [
        ("twofa_http_requests_total", {"route": route, "status": "401"}),
        ("twofa_verifications_total", {"outcome": "invalid"}),
        ("twofa_messages_total", {"gateway": "outbox", "channel": "sms", "result": "sent"}),
    ]:
        assert _metric(after, name, **labels) == _metric(before, name, **labels) + 1, name
    assert _metric(after, "twofa_http_request_seconds_count", route=route) >= 1


def test_open_streams_gauge_follows_device_streams(sqlite_provider: LiveProvider) -> None:
    phone = sqlite_provider.new_phone()
    device = sqlite_provider.enroll_device("1", phone)
    opened = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        for _ in device.events(on_open=opened.set):
            if stop.is_set():
                return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert opened.wait(10)
    gauge = _metric(httpx.get(sqlite_provider.url + "/metrics").text, "twofa_open_streams")
    assert gauge >= 1
    stop.set()
    device.revoke()  # ends the stream from the provider's side
    reader.join(10)
    deadline = time.monotonic() + 15  # a loaded provider notices the end late
    while time.monotonic() < deadline:
        now = _metric(httpx.get(sqlite_provider.url + "/metrics").text, "twofa_open_streams")
        if now <= gauge - 1:  # other streams of this provider may end meanwhile
            break
        time.sleep(0.1)
    assert now <= gauge - 1


def test_request_ids_reach_the_json_log(sqlite_provider: LiveProvider) -> None:
    generated = httpx.get(sqlite_provider.url + "/protected/json/app/details")
    assert re.fullmatch(r"[0-9a-f]+", generated.headers["x-request-id"])
    mine = "check-req-" + str(time.time_ns())
    answer = httpx.get(
        sqlite_provider.url + "/protected/json/app/details", headers={"X-Request-ID": mine}
    )
    assert answer.status_code == 401 and answer.headers["x-request-id"] == mine
    deadline = time.monotonic() + 15  # a loaded machine writes logs late
    while time.monotonic() < deadline:
        lines = [
            json.loads(line)
            for line in sqlite_provider.log_path.read_text().splitlines()
            if line.startswith("{")
        ]
        found = [entry for entry in lines if entry.get("request_id") == mine]
        if found:
            break
        time.sleep(0.1)
    assert found and found[0]["status"] == 401 and found[0]["logger"] == "twofa.access"
    assert found[0]["route"] == "/protected/json/app/details"
