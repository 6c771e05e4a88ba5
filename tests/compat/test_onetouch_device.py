"""Contract section 8 item 8: OneTouch with the official ``authy`` client and a real device.

The application's callback lands on a loopback HTTP server started here and must validate
with the official client's own ``validate_one_touch_signature``.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from authy.api import AuthyApiClient

from tests.live.devices.conftest import enrol
from tests.servers import LiveProvider
from twofa.authenticator.device import DeviceClient

Received = tuple[dict[str, str], dict[str, Any]]


class CallbackServer:
    """Records every POST it receives; answers 200 with an empty body like the tutorial."""

    def __init__(self) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                received.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/authy/callback"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callbacks() -> Iterator[CallbackServer]:
    server = CallbackServer()
    yield server
    server.close()


@pytest.fixture
def setup(
    provider: LiveProvider, callbacks: CallbackServer
) -> tuple[AuthyApiClient, int, DeviceClient]:
    """An application with a callback URL, a user, and a device for the user's phone."""
    _, key = provider.new_app("OneTouch", callback_url=callbacks.url)
    client = AuthyApiClient(key, api_uri=provider.url)
    national = provider.new_phone()
    user = client.users.create("alice@example.com", national, 1)
    assert user.ok(), user.content
    device = enrol(provider, national)
    status = client.users.status(user.id)
    assert status.content["status"]["registered"] is True
    return client, user.id, device


def status_of(client: AuthyApiClient, uuid: str) -> str:
    response = client.one_touch.get_approval_status(uuid)
    assert response.ok(), response.content
    return str(response.content["approval_request"]["status"])


@pytest.mark.parametrize("approve", [True, False], ids=["approve", "deny"])
def test_decision_and_signed_callback(
    setup: tuple[AuthyApiClient, int, DeviceClient], callbacks: CallbackServer, approve: bool
) -> None:
    client, authy_id, device = setup
    sent = client.one_touch.send_request(
        authy_id, "Request to log in to Twilio demo app", details={"Email": "alice@example.com"}
    )
    assert sent.ok(), sent.content
    uuid = sent.get_uuid()
    assert status_of(client, uuid) == "pending"
    expected = "approved" if approve else "denied"
    assert device.decide(uuid, approve=approve) == expected
    assert status_of(client, uuid) == expected

    headers, body = callbacks.received.get(timeout=10)
    assert headers["content-type"].startswith("application/json")
    assert client.one_touch.validate_one_touch_signature(
        headers["x-authy-signature"],
        headers["x-authy-signature-nonce"],
        "POST",
        callbacks.url,
        body,
    )
    assert body["authy_id"] == authy_id and body["status"] == expected
    assert body["uuid"] == uuid and body["device_uuid"] == device.device_uuid
    assert body["callback_action"] == "approval_request_status"
    assert body["device"]["id"] == device.device_uuid and body["device"]["os_type"] == "cli"
    assert body["signature"]
    assert body["approval_request"]["transaction"]["details"] == {"Email": "alice@example.com"}


def test_expired_request_sends_no_callback(
    setup: tuple[AuthyApiClient, int, DeviceClient], callbacks: CallbackServer
) -> None:
    client, authy_id, device = setup
    sent = client.one_touch.send_request(authy_id, "Login requested", seconds_to_expire=1)
    assert sent.ok(), sent.content
    time.sleep(2)
    assert status_of(client, sent.get_uuid()) == "expired"
    assert device.pending() == []
    with pytest.raises(queue.Empty):
        callbacks.received.get(timeout=1)


def test_unknown_uuid_and_user(provider: LiveProvider) -> None:
    _, key = provider.new_app()
    client = AuthyApiClient(key, api_uri=provider.url)
    missing = client.one_touch.get_approval_status("no-such-uuid")
    assert missing.response.status_code == 404
    assert missing.content["error_code"] == "60049"
    nobody = client.one_touch.send_request(999999999, "x")
    assert nobody.response.status_code == 404
    assert nobody.content["error_code"] == "60026"
