"""Cross-site requests, stolen tokens and hostile input against the console: each is refused
with a 4xx page, and the headers keep the pages from being framed, sniffed or cached."""

from __future__ import annotations

import pytest

from tests.provider.console.conftest import Console


def _signed_in_count(console: Console) -> int:
    console.services.audit.flush_all()
    return len(console.services.audit.entries(limit=1000, event="operator.signed_out"))


@pytest.mark.parametrize(
    "origin", [None, "https://evil.example", "null", "http://testserver", "https://testserver:8443"]
)
def test_a_change_from_another_origin_is_refused(console: Console, origin: str | None) -> None:
    alice = console.operator("alice")
    alice.start_session()
    refused = alice.post("/console/logout", origin=origin)
    assert refused.status_code == 403
    assert "did not come from the console" in refused.text
    assert alice.get("/console/apps").status_code == 200  # still signed in: nothing happened
    assert _signed_in_count(console) == 0


def test_a_cross_site_fetch_is_refused_by_its_fetch_metadata(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    refused = alice.post("/console/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403


@pytest.mark.parametrize("token", ["", "0" * 64, "not-hex", "a" * 5000])
def test_a_change_without_this_sessions_csrf_token_is_refused(console: Console, token: str) -> None:
    alice = console.operator("alice")
    alice.start_session()
    alice.csrf = token
    refused = alice.post("/console/logout")
    assert refused.status_code == 403
    assert alice.get("/console/apps").status_code == 200


def test_another_sessions_csrf_token_is_refused(console: Console) -> None:
    alice = console.operator("alice")
    bob = console.operator("bob")
    alice.start_session()
    bob.start_session()
    alice.csrf = bob.csrf
    assert alice.post("/console/logout").status_code == 403


def test_sign_in_itself_needs_the_origin_and_the_token(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    form = {"name": "alice", "password": alice.password}
    assert alice.post("/console/login", form, origin="https://evil.example").status_code == 403
    token = alice.csrf
    alice.csrf = ""
    assert alice.post("/console/login", form).status_code == 403
    alice.csrf = token
    assert alice.post("/console/login", form).status_code == 303


def test_pages_carry_the_security_headers(console: Console) -> None:
    alice = console.operator("alice")
    for response in (alice.get("/console/login"), alice.sign_in()):
        headers = response.headers
        csp = headers["content-security-policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
        assert "<script>" not in response.text  # scripts are files: the CSP allows no other


def test_static_files_come_from_the_package(console: Console) -> None:
    browser = console.browser()
    for name in ("console.css", "webauthn.js"):
        response = browser.get(f"/console/static/{name}")
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
    assert browser.get("/console/static/../auth.py").status_code == 404


def test_the_console_is_not_in_the_api_document(console: Console) -> None:
    document = console.browser().get("/openapi.json").json()
    assert not [path for path in document["paths"] if path.startswith("/console")]


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"name": "alice"},
        {"name": "a" * 100_000, "password": "x"},
        {"name": "\x00\u202e\U0001f600", "password": "\x7f" * 300},
        {"name": ["a", "b"], "password": "x"},
    ],
)
def test_hostile_sign_in_forms_get_a_4xx(console: Console, form: dict[str, object]) -> None:
    browser = console.operator("alice")
    browser.get("/console/login")
    response = browser.post("/console/login", form)  # type: ignore[arg-type]
    assert 400 <= response.status_code < 500


def test_undecodable_form_bytes_get_a_4xx(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    response = alice.http.post(
        "/console/login",
        content=f"csrf_token={alice.csrf}&name=%ff%fe&password=%c0%80".encode(),
        headers={
            "Origin": "https://testserver",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"credential": "x"},
        {"credential": {"id": "AAAA", "response": {"clientDataJSON": "!!"}}},
        {"credential": {"id": 1, "response": None}},
        [],
    ],
)
def test_hostile_webauthn_answers_get_a_4xx(console: Console, body: object) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    alice.post("/console/login", {"name": "alice", "password": alice.password})
    alice.get("/console/login/second-factor")
    response = alice.http.post(
        "/console/login/webauthn",
        json=body,
        headers={"Origin": "https://testserver", "X-CSRF-Token": alice.csrf},
    )
    assert 400 <= response.status_code < 500


def test_adding_a_security_key_asks_for_a_recent_second_factor(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    alice.get("/console/account/keys")
    assert alice.post_json("/console/account/keys/options").status_code == 200
    console.clock.offset += console.settings.console_reauth_seconds + 1
    alice.get("/console/account/keys")
    stale = alice.post_json("/console/account/keys/options")
    assert stale.status_code == 401
    assert stale.json()["redirect"] == "/console/reauth?next=/console/account/keys/options"
    alice.get("/console/reauth")
    back = alice.post(
        "/console/reauth/totp", {"code": alice.code(), "next": "/console/account/keys"}
    )
    assert back.headers["location"] == "/console/account/keys"
    assert alice.post_json("/console/account/keys/options").status_code == 200
