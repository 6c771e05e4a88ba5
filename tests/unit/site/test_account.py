"""The account page: profile, factors from the provider, recent sign-ins."""

from __future__ import annotations

from tests.unit.site.conftest import Browser
from tests.unit.site.fake_provider import FakeProvider


def _signed_in(site: Browser, fake: FakeProvider) -> int:
    site.sign_up()
    (user,) = fake.users.values()
    site.get("/verify")
    site.post("/verify", {"code": fake.last_code(user.authy_id)})
    return user.authy_id


def test_account_shows_user_factors_and_sign_ins(site: Browser, fake: FakeProvider) -> None:
    authy_id = _signed_in(site, fake)
    fake.register_app(authy_id)
    page = site.get("/account").get_data(as_text=True)
    assert "Hello, Alice Example" in page
    assert "alice@example.com" in page
    assert "+1 ••••••••23" in page
    assert "Push approvals and app codes." in page
    assert "android" in page
    assert "Text message code" in page and "Signed in" in page


def test_account_survives_a_provider_outage(site: Browser, fake: FakeProvider) -> None:
    _signed_in(site, fake)
    fake.down = True
    response = site.get("/account")
    assert response.status_code == 200
    assert "not reachable" in response.get_data(as_text=True)


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
