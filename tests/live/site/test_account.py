"""The account page: profile, factors from the provider, recent sign-ins."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.live.site.conftest import Browser


def test_account_shows_user_factors_and_sign_ins(site: Browser) -> None:
    site.signed_in_with_sms()
    before = site.get("/account").get_data(as_text=True)
    assert "Install the authenticator app" in before
    site.live.enroll_device("1", site.phone, os_type="web")
    page = site.get("/account").get_data(as_text=True)
    assert "Hello, Alice Example" in page
    assert "alice@example.com" in page
    assert f"+1 ••••••••{site.phone[-2:]}" in page
    assert "Push approvals and app codes." in page
    assert "<li>Test phone" in page  # the name the device was registered with
    assert "Text message code" in page and "Signed in" in page


def test_account_survives_a_provider_outage(
    build_app: Callable[..., Flask], site: Browser, closed_url: str
) -> None:
    site.signed_in_with_sms()
    cut_off = site.on(build_app(provider_url=closed_url))
    response = cut_off.get("/account")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "not reachable" in page and "Hello, Alice Example" in page


def test_pages_send_security_headers(site: Browser) -> None:
    response = site.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_static_assets_and_error_pages(site: Browser) -> None:
    assert site.get("/static/site.css").status_code == 200
    assert site.get("/static/wait.js").status_code == 200
    missing = site.get("/nope")
    assert missing.status_code == 404
    assert "This page does not exist." in missing.get_data(as_text=True)
