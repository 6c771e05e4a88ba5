"""Sign-up: provider first, local account only when the provider accepted the user."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from tests.live.site.conftest import Browser, CountingTransport
from twofa.client import Client
from twofa.site.db import users


def _count_users(browser: Browser) -> int:
    engine = browser.app.extensions["twofa_site_database"].engine
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def test_sign_up_registers_with_provider_and_asks_for_a_code(site: Browser, api_key: str) -> None:
    response = site.sign_up()
    assert response.status_code == 302
    assert response.headers["Location"] == "/verify"
    assert _count_users(site) == 1
    user = site.user()
    assert (user.phone, user.country_code) == (site.phone.replace("-", ""), 1)
    with Client(api_key, site.live.url) as provider:
        status = provider.user_status(user.authy_id)
    assert (status.country_code, status.registered) == (1, False)
    assert status.phone_number.endswith(site.phone[-4:])
    assert site.outbox() == []
    page = site.get("/verify").get_data(as_text=True)
    assert "We sent a code by text message" in page
    assert [m.channel for m in site.outbox()] == ["sms"]


def test_sign_up_with_provider_down_creates_nothing(
    build_app: Callable[..., Flask], site: Browser, closed_url: str
) -> None:
    cut_off = Browser(build_app(provider_url=closed_url), site.live)
    response = cut_off.sign_up()
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "verification service is not reachable" in page
    assert "Your account was not created." in page
    assert _count_users(site) == 0
    assert "pending" not in cut_off.session()
    # Once the provider answers again, the same details sign up.
    assert site.sign_up().headers["Location"] == "/verify"


def test_sign_up_refuses_a_taken_email(site: Browser, other: Browser) -> None:
    site.sign_up()
    response = other.sign_up()
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    assert _count_users(site) == 1


def test_sign_up_checks_the_phone_for_the_country(site: Browser, calls: CountingTransport) -> None:
    response = site.sign_up(phone="12")
    assert response.status_code == 422
    assert "valid mobile number" in response.get_data(as_text=True)
    assert calls.requests == []
    assert _count_users(site) == 0


def test_sign_up_page_lists_countries_with_calling_codes(site: Browser) -> None:
    page = site.get("/sign-up").get_data(as_text=True)
    assert "United Kingdom (+44)" in page
    assert '<option selected value="US">United States (+1)</option>' in page


def test_forms_without_csrf_token_are_refused(site: Browser) -> None:
    response = site.http.post("/sign-up", data={"full_name": "x", "email": "a@example.com"})
    assert response.status_code == 400
    response = site.http.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    site.sign_up()
    for path in ("/verify", "/resend", "/login/complete", "/login/push", "/logout"):
        assert site.http.post(path, data={"code": "1234567"}).status_code == 400, path
