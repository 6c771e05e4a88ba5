"""Codes: one SMS per login attempt, visible resend cooldown, voice calls, app codes."""

from __future__ import annotations

from tests.live.site.conftest import Browser, CountingTransport, FakeClock
from twofa.site.store import User


def _pending(site: Browser) -> User:
    """A user without the app, logged in with the password; nothing sent yet for this login."""
    site.sign_up()
    site.post("/logout")
    site.login()
    assert site.outbox() == []
    return site.user()


def test_verify_sends_one_sms_per_login_attempt(site: Browser) -> None:
    _pending(site)
    for _ in range(3):
        assert site.get("/verify").status_code == 200
    assert [m.channel for m in site.outbox()] == ["sms"]


def test_right_code_signs_in_once(site: Browser, other: Browser) -> None:
    _pending(site)
    site.get("/verify")
    code = site.last_code()
    response = site.post("/verify", {"code": code})
    assert response.headers["Location"] == "/account"
    assert "sid" in site.session() and "pending" not in site.session()
    assert site.get("/account").status_code == 200
    # The same code cannot open a second login.
    other.login()
    wrong = other.post("/verify", {"code": code}, csrf_from="/verify")
    assert wrong.status_code == 422
    assert "That code is not valid" in wrong.get_data(as_text=True)


def test_wrong_code_shows_a_message_and_too_many_end_the_attempt(site: Browser) -> None:
    _pending(site)
    site.get("/verify")
    wrong = "0" * 7 if site.last_code() != "0" * 7 else "1" * 7
    for _ in range(4):
        response = site.post("/verify", {"code": wrong})
        assert response.status_code == 422
        assert "That code is not valid" in response.get_data(as_text=True)
    last = site.post("/verify", {"code": wrong})
    assert last.headers["Location"] == "/login"
    assert site.get("/verify").headers["Location"] == "/login"
    # The right code is of no use once the attempt has ended.
    assert site.post("/verify", {"code": site.last_code()}).headers["Location"] == "/login"


def test_malformed_code_is_refused_without_asking_the_provider(
    site: Browser, calls: CountingTransport
) -> None:
    _pending(site)
    site.get("/verify")
    before = len(calls.requests)
    response = site.post("/verify", {"code": "12ab"})
    assert response.status_code == 422
    assert "6 to 12 digits" in response.get_data(as_text=True)
    assert len(calls.requests) == before


def test_resend_has_a_visible_cooldown(site: Browser, clock: FakeClock) -> None:
    _pending(site)
    page = site.get("/verify").get_data(as_text=True)
    assert 'data-cooldown="30"' in page
    assert "You can ask for a new code in <span data-seconds>30</span> seconds." in page
    too_soon = site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert too_soon.headers["Location"] == "/verify"
    assert "Please wait 30 seconds" in site.get("/verify").get_data(as_text=True)
    assert len(site.outbox()) == 1
    clock.advance(31)
    site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert [m.channel for m in site.outbox()] == ["sms", "sms"]
    assert "We sent a new code to" in site.get("/verify").get_data(as_text=True)
    assert site.post("/verify", {"code": site.last_code()}).headers["Location"] == "/account"


def test_voice_call_option(site: Browser, clock: FakeClock) -> None:
    _pending(site)
    site.get("/verify")
    clock.advance(31)
    site.post("/resend", {"via": "call"}, csrf_from="/verify")
    assert [m.channel for m in site.outbox()] == ["sms", "call"]
    page = site.get("/verify").get_data(as_text=True)
    assert "We are calling" in page
    response = site.post("/verify", {"code": site.last_code()})
    assert response.headers["Location"] == "/account"


def test_resend_refuses_unknown_channels(site: Browser, clock: FakeClock) -> None:
    _pending(site)
    site.get("/verify")
    clock.advance(31)
    site.post("/resend", {"via": "carrier-pigeon"}, csrf_from="/verify")
    assert len(site.outbox()) == 1


def test_app_users_are_asked_for_the_app_code_first(site: Browser) -> None:
    user, device = site.app_user()
    site.login()
    page = site.get("/verify").get_data(as_text=True)
    assert "Open your authenticator app" in page
    assert "Text me a code" in page
    sms = [m for m in site.outbox() if m.channel == "sms" and "verification code" in m.body]
    assert sms == [], "the provider skips the SMS of a user with the app"
    # Nothing was sent, so there is nothing to wait for.
    site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert "We sent a new code to" in site.get("/verify").get_data(as_text=True)
    assert "verification code" in site.outbox()[-1].body
    # The app's own code works too.
    response = site.post("/verify", {"code": device.app_code(user.authy_id)})
    assert response.headers["Location"] == "/account"


def test_app_code_signs_in(site: Browser) -> None:
    user, device = site.app_user()
    site.login()
    site.get("/verify")
    response = site.post("/verify", {"code": device.app_code(user.authy_id)})
    assert response.headers["Location"] == "/account"
    assert "App code" in site.get("/account").get_data(as_text=True)
