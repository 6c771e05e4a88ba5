"""The password step: one message for every failure, no user id before the second factor."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest
from flask import Flask

from tests.live.site.conftest import Browser, FakeClock

SECOND_FACTOR_PAGES = ["/verify", "/login/wait"]
SIGNED_IN_PAGES = ["/account"]


def _page_text(response: object) -> str:
    import re

    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return re.sub(r'(name="csrf[-_]token"[^>]*(?:content|value)=")[^"]+', r"\1", text)


def test_unknown_email_and_wrong_password_look_the_same(site: Browser, other: Browser) -> None:
    site.sign_up()
    unknown = other.login(email="nobody@example.com")
    wrong = other.login(password="not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Incorrect e-mail or password." in _page_text(unknown)
    assert _page_text(unknown).replace("nobody@example.com", "alice@example.com") == _page_text(
        wrong
    )


def test_unknown_email_costs_a_password_hash(
    build_app: Callable[..., Flask], site: Browser
) -> None:
    """Timing must not reveal registered addresses: unknown e-mails hash a dummy password."""
    app = build_app(site_password_memory_kib=65536)
    Browser(app, site.live).sign_up()
    browser = Browser(app, site.live)

    def timed(email: str, password: str) -> float:
        started = time.perf_counter()
        browser.login(email=email, password=password)
        return time.perf_counter() - started

    unknown = statistics.median(timed("nobody@example.com", "whatever") for _ in range(3))
    wrong = statistics.median(timed("alice@example.com", "whatever") for _ in range(3))
    assert unknown > wrong * 0.5, (unknown, wrong)


def test_half_logged_in_session_holds_a_pending_login_not_a_user(
    site: Browser, other: Browser
) -> None:
    site.sign_up()
    response = other.login()
    assert response.status_code == 302
    session = other.session()
    assert "user_id" not in session and "sid" not in session
    assert isinstance(session.get("pending"), str) and len(session["pending"]) >= 40
    for path in SIGNED_IN_PAGES:
        denied = other.get(path)
        assert denied.status_code == 302
        assert denied.headers["Location"].startswith("/login")
    for path in SECOND_FACTOR_PAGES:
        assert other.get(path).status_code in (200, 302)


def test_a_pending_login_expires(site: Browser, clock: FakeClock) -> None:
    site.sign_up()
    assert site.get("/verify").status_code == 200
    clock.advance(601)
    response = site.get("/verify")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "expired" in site.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("given", "followed"),
    [
        ("/account", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
    ],
)
def test_next_is_followed_only_when_relative(
    site: Browser, other: Browser, given: str, followed: bool
) -> None:
    site.sign_up()
    other.login(next=given)
    other.get("/verify")
    response = other.post("/verify", {"code": site.last_code()})
    assert response.status_code == 302
    assert response.headers["Location"] == (given if followed else "/account")


def test_login_redirect_carries_next_from_a_protected_page(site: Browser) -> None:
    response = site.get("/account")
    assert response.headers["Location"] == "/login?next=/account"
    page = site.get("/login?next=/account").get_data(as_text=True)
    assert 'value="/account"' in page


def test_logout_and_status_without_a_session_answer_cleanly(site: Browser) -> None:
    assert site.get("/logout").status_code == 302
    assert site.post("/logout").status_code == 302
    status = site.get("/login/status")
    assert status.status_code == 401
    assert status.get_json() == {"status": "signed_out", "next": "/login"}
    assert site.get("/login/events").status_code == 401
    assert site.get("/verify").status_code == 302


def test_provider_down_at_login_leaves_no_pending_state(
    build_app: Callable[..., Flask], site: Browser, closed_url: str
) -> None:
    site.sign_up()
    other = Browser(build_app(provider_url=closed_url), site.live)
    response = other.login()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "pending" not in other.session()
    assert "not reachable" in other.get("/login").get_data(as_text=True)
