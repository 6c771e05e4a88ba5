"""``/authy/callback``: signature and nonce age checked; 400, 404 or 200, never 500."""

from __future__ import annotations

import time

import pytest

from tests.unit.site.conftest import Browser, signed_callback
from tests.unit.site.fake_provider import FakeProvider
from tests.unit.site.test_push import _app_user, _uuid
from twofa import signing


@pytest.fixture
def waiting(site: Browser, fake: FakeProvider) -> tuple[Browser, str, int]:
    authy_id = _app_user(site, fake)
    site.login()
    return site, _uuid(site, fake), authy_id


def _body(uuid: str, authy_id: int, status: str = "approved") -> dict[str, object]:
    return {
        "authy_id": authy_id,
        "uuid": uuid,
        "status": status,
        "callback_action": "approval_request_status",
        "approval_request": {"transaction": {"message": "Log in", "details": {}}},
    }


def test_good_signature_settles_the_login(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    response = signed_callback(Browser(browser.app), _body(uuid, authy_id))
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "status": "approved"}
    assert browser.get("/login/status").get_json()["status"] == "approved"


def test_missing_signature_is_400(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    response = browser.http.post("/authy/callback", json=_body(uuid, authy_id))
    assert response.status_code == 400
    nonce_only = browser.http.post(
        "/authy/callback",
        json=_body(uuid, authy_id),
        headers={"X-Authy-Signature-Nonce": str(time.time())},
    )
    assert nonce_only.status_code == 400
    assert browser.get("/login/status").get_json()["status"] == "pending"


def test_wrong_key_or_tampered_body_is_400(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    assert signed_callback(browser, _body(uuid, authy_id), key="other-key").status_code == 400
    nonce = f"{time.time():.3f}"
    signature = signing.sign(
        key="test-api-key",
        nonce=nonce,
        method="POST",
        url="http://localhost/authy/callback",
        params=_body(uuid, authy_id, "denied"),
    )
    tampered = browser.http.post(
        "/authy/callback",
        json=_body(uuid, authy_id, "approved"),
        headers={"X-Authy-Signature": signature, "X-Authy-Signature-Nonce": nonce},
    )
    assert tampered.status_code == 400
    assert browser.get("/login/status").get_json()["status"] == "pending"


def test_signature_for_another_url_is_400(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    response = signed_callback(
        browser, _body(uuid, authy_id), url="http://evil.example/authy/callback"
    )
    assert response.status_code == 400


def test_stale_nonce_is_400(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    stale = f"{time.time() - 301:.6f}"
    assert signed_callback(browser, _body(uuid, authy_id), nonce=stale).status_code == 400
    assert signed_callback(browser, _body(uuid, authy_id), nonce="not-a-time").status_code == 400


def test_unknown_uuid_is_404(waiting: tuple[Browser, str, int]) -> None:
    browser, _, authy_id = waiting
    assert signed_callback(browser, _body("no-such-uuid", authy_id)).status_code == 404
    # Authy's console test callback uses authy_id 1234 and an unknown uuid.
    assert signed_callback(browser, _body("test-uuid", 1234)).status_code == 404


def test_uuid_of_another_user_is_404(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    assert signed_callback(browser, _body(uuid, authy_id + 1)).status_code == 404
    assert browser.get("/login/status").get_json()["status"] == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {"uuid": "x"},
        {"authy_id": 1, "uuid": 5, "status": "approved"},
        {"authy_id": 1, "uuid": "x", "status": "expired"},
        {"authy_id": [1], "uuid": {"a": 1}, "status": None},
    ],
)
def test_malformed_but_signed_bodies_are_400(site: Browser, body: dict[str, object]) -> None:
    assert signed_callback(site, body).status_code == 400


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"not json", "application/json"), (b"[1, 2]", "application/json"), (b"a=b", "text/plain")],
)
def test_non_object_bodies_are_400(site: Browser, data: bytes, content_type: str) -> None:
    headers = {"X-Authy-Signature": "abc", "X-Authy-Signature-Nonce": str(time.time())}
    response = site.http.post(
        "/authy/callback", data=data, content_type=content_type, headers=headers
    )
    assert response.status_code == 400


def test_a_decision_is_applied_once(waiting: tuple[Browser, str, int]) -> None:
    browser, uuid, authy_id = waiting
    assert signed_callback(browser, _body(uuid, authy_id, "denied")).status_code == 200
    assert signed_callback(browser, _body(uuid, authy_id, "approved")).status_code == 200
    assert browser.get("/login/status").get_json()["status"] == "denied"


def test_get_is_not_allowed(site: Browser) -> None:
    assert site.get("/authy/callback").status_code == 405


def test_public_url_is_used_to_check_the_signature(tmp_path: object, fake: FakeProvider) -> None:
    from pathlib import Path

    from tests.unit.site.conftest import FakeClock, make_settings
    from twofa.site.app import create_app

    settings = make_settings(Path(str(tmp_path)), site_public_url="https://demo.example.org/")
    app = create_app(settings, provider=fake.client(), clock=FakeClock())
    browser = Browser(app)
    body = _body("unknown", 1)
    behind_proxy = signed_callback(browser, body, url="https://demo.example.org/authy/callback")
    assert behind_proxy.status_code == 404  # signature accepted, uuid unknown
    assert signed_callback(browser, body).status_code == 400
    app.extensions["twofa_site_database"].dispose()
