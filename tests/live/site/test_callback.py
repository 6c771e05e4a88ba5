"""``/authy/callback``: signature and nonce age checked; 400, 404 or 200, never 500."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests.live.site.conftest import CALLBACK_PATH, Browser, deliver_callback, signed_callback
from tests.servers import RecordedPath, TestDevice
from twofa import signing


@dataclass
class Waiting:
    """A browser whose login waits for its push, and the site's callback URL and key."""

    browser: Browser
    device: TestDevice
    uuid: str
    authy_id: int
    key: str
    url: str

    def send(self, body: dict[str, object], **kwargs: Any) -> Any:
        """POST ``body`` signed with the application's key for the site's callback URL."""
        args: dict[str, Any] = {"key": self.key, "url": self.url, **kwargs}
        return signed_callback(self.browser, body, **args)


@pytest.fixture
def waiting(site: Browser, api_key: str, relay: RecordedPath) -> Waiting:
    user, device = site.app_user()
    site.login()
    return Waiting(site, device, site.uuid(), user.authy_id, api_key, relay.url + CALLBACK_PATH)


def _body(uuid: str, authy_id: int, status: str = "approved") -> dict[str, object]:
    return {
        "authy_id": authy_id,
        "uuid": uuid,
        "status": status,
        "callback_action": "approval_request_status",
        "approval_request": {"transaction": {"message": "Log in", "details": {}}},
    }


def test_the_providers_own_callback_settles_the_login(
    waiting: Waiting, relay: RecordedPath
) -> None:
    waiting.device.approve(waiting.uuid, waiting.browser.attempt().approval_number)
    courier = Browser(waiting.browser.app, waiting.browser.live)
    response = deliver_callback(courier, relay, waiting.uuid)
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "status": "approved"}
    (received,) = relay.received()
    assert json.loads(received.body)["authy_id"] == waiting.authy_id
    assert waiting.browser.attempt().approval_status == "approved"
    # Replaying the same signed callback changes nothing.
    assert deliver_callback(courier, relay, waiting.uuid).status_code == 200
    assert waiting.browser.post("/login/complete").headers["Location"] == "/account"


def test_good_signature_settles_the_login(waiting: Waiting) -> None:
    response = waiting.send(_body(waiting.uuid, waiting.authy_id))
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "status": "approved"}
    assert waiting.browser.attempt().approval_status == "approved"


def test_missing_signature_is_400(waiting: Waiting) -> None:
    browser = waiting.browser
    response = browser.http.post(CALLBACK_PATH, json=_body(waiting.uuid, waiting.authy_id))
    assert response.status_code == 400
    nonce_only = browser.http.post(
        CALLBACK_PATH,
        json=_body(waiting.uuid, waiting.authy_id),
        headers={"X-Authy-Signature-Nonce": str(time.time())},
    )
    assert nonce_only.status_code == 400
    assert browser.status()["status"] == "pending"


def test_wrong_key_or_tampered_body_is_400(waiting: Waiting) -> None:
    body = _body(waiting.uuid, waiting.authy_id)
    assert waiting.send(body, key="other-key").status_code == 400
    nonce = f"{time.time():.3f}"
    signature = signing.sign(
        key=waiting.key,
        nonce=nonce,
        method="POST",
        url=waiting.url,
        params=_body(waiting.uuid, waiting.authy_id, "denied"),
    )
    tampered = waiting.browser.http.post(
        CALLBACK_PATH,
        json=body,
        headers={"X-Authy-Signature": signature, "X-Authy-Signature-Nonce": nonce},
    )
    assert tampered.status_code == 400
    assert waiting.browser.status()["status"] == "pending"


def test_signature_for_another_url_is_400(waiting: Waiting) -> None:
    body = _body(waiting.uuid, waiting.authy_id)
    response = waiting.send(body, url="http://evil.example/authy/callback")
    assert response.status_code == 400


def test_stale_nonce_is_400(waiting: Waiting) -> None:
    body = _body(waiting.uuid, waiting.authy_id)
    stale = f"{time.time() - 301:.6f}"
    assert waiting.send(body, nonce=stale).status_code == 400
    assert waiting.send(body, nonce="not-a-time").status_code == 400
    assert waiting.browser.attempt().approval_status == "pending"


def test_unknown_uuid_is_404(waiting: Waiting) -> None:
    assert waiting.send(_body("no-such-uuid", waiting.authy_id)).status_code == 404
    # Authy's console test callback uses authy_id 1234 and an unknown uuid.
    assert waiting.send(_body("test-uuid", 1234)).status_code == 404


def test_uuid_of_another_user_is_404(waiting: Waiting) -> None:
    body = _body(waiting.uuid, waiting.authy_id + 1)
    assert waiting.send(body).status_code == 404
    assert waiting.browser.status()["status"] == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {"uuid": "x"},
        {"authy_id": 1, "uuid": 5, "status": "approved"},
        {"authy_id": 1, "uuid": "x", "status": "expired"},
        {"authy_id": [1], "uuid": {"a": 1}, "status": None},
    ],
)
def test_malformed_but_signed_bodies_are_400(
    site: Browser, api_key: str, relay: RecordedPath, body: dict[str, object]
) -> None:
    response = signed_callback(site, body, key=api_key, url=relay.url + CALLBACK_PATH)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"not json", "application/json"), (b"[1, 2]", "application/json"), (b"a=b", "text/plain")],
)
def test_non_object_bodies_are_400(site: Browser, data: bytes, content_type: str) -> None:
    headers = {"X-Authy-Signature": "abc", "X-Authy-Signature-Nonce": str(time.time())}
    response = site.http.post(CALLBACK_PATH, data=data, content_type=content_type, headers=headers)
    assert response.status_code == 400


def test_a_decision_is_applied_once(waiting: Waiting) -> None:
    assert waiting.send(_body(waiting.uuid, waiting.authy_id, "denied")).status_code == 200
    assert waiting.send(_body(waiting.uuid, waiting.authy_id, "approved")).status_code == 200
    assert waiting.browser.status()["status"] == "denied"


def test_get_is_not_allowed(site: Browser) -> None:
    assert site.get(CALLBACK_PATH).status_code == 405


def test_public_url_is_used_to_check_the_signature(
    build_app: Callable[..., Flask], site: Browser, api_key: str
) -> None:
    behind = Browser(build_app(site_public_url="https://demo.example.org/"), site.live)
    body = _body("unknown", 1)
    proxied = signed_callback(
        behind, body, key=api_key, url="https://demo.example.org/authy/callback"
    )
    assert proxied.status_code == 404  # signature accepted, uuid unknown
    direct = signed_callback(behind, body, key=api_key, url="http://localhost/authy/callback")
    assert direct.status_code == 400
