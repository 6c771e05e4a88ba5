"""Codes: one SMS per login attempt, visible resend cooldown, voice calls, clear limits."""

from __future__ import annotations

from tests.unit.site.conftest import Browser, FakeClock
from tests.unit.site.fake_provider import FakeProvider


def _pending(site: Browser, fake: FakeProvider) -> int:
    site.sign_up()
    site.post("/logout")
    site.login()
    (user,) = fake.users.values()
    fake.sent.clear()
    return user.authy_id


def test_verify_sends_one_sms_per_login_attempt(site: Browser, fake: FakeProvider) -> None:
    authy_id = _pending(site, fake)
    for _ in range(3):
        assert site.get("/verify").status_code == 200
    assert fake.sent == [("sms", authy_id, False)]


def test_right_code_signs_in(site: Browser, fake: FakeProvider) -> None:
    authy_id = _pending(site, fake)
    site.get("/verify")
    response = site.post("/verify", {"code": fake.last_code(authy_id)})
    assert response.headers["Location"] == "/account"
    assert "sid" in site.session() and "pending" not in site.session()
    assert site.get("/account").status_code == 200


def test_wrong_code_shows_a_message_and_too_many_end_the_attempt(
    site: Browser, fake: FakeProvider
) -> None:
    _pending(site, fake)
    site.get("/verify")
    for _ in range(4):
        response = site.post("/verify", {"code": "0000000"})
        assert response.status_code == 422
        assert "That code is not valid" in response.get_data(as_text=True)
    last = site.post("/verify", {"code": "0000000"})
    assert last.headers["Location"] == "/login"
    assert site.get("/verify").headers["Location"] == "/login"


def test_malformed_code_is_refused_without_asking_the_provider(
    site: Browser, fake: FakeProvider
) -> None:
    _pending(site, fake)
    site.get("/verify")
    before = len(fake.requests)
    response = site.post("/verify", {"code": "12ab"})
    assert response.status_code == 422
    assert "6 to 12 digits" in response.get_data(as_text=True)
    assert len(fake.requests) == before


def test_resend_has_a_visible_cooldown(site: Browser, fake: FakeProvider, clock: FakeClock) -> None:
    authy_id = _pending(site, fake)
    page = site.get("/verify").get_data(as_text=True)
    assert 'data-cooldown="30"' in page
    assert "You can ask for a new code in <span data-seconds>30</span> seconds." in page
    too_soon = site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert too_soon.headers["Location"] == "/verify"
    assert "Please wait 30 seconds" in site.get("/verify").get_data(as_text=True)
    assert len(fake.sent) == 1
    clock.advance(31)
    site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert fake.sent[-1] == ("sms", authy_id, True)
    assert "We sent a new code to" in site.get("/verify").get_data(as_text=True)


def test_voice_call_option(site: Browser, fake: FakeProvider, clock: FakeClock) -> None:
    authy_id = _pending(site, fake)
    site.get("/verify")
    clock.advance(31)
    site.post("/resend", {"via": "call"}, csrf_from="/verify")
    assert fake.sent[-1] == ("call", authy_id, True)
    page = site.get("/verify").get_data(as_text=True)
    assert "We are calling" in page
    response = site.post("/verify", {"code": fake.last_code(authy_id)})
    assert response.headers["Location"] == "/account"


def test_resend_refuses_unknown_channels(
    site: Browser, fake: FakeProvider, clock: FakeClock
) -> None:
    _pending(site, fake)
    site.get("/verify")
    clock.advance(31)
    site.post("/resend", {"via": "carrier-pigeon"}, csrf_from="/verify")
    assert len(fake.sent) == 1


def test_provider_rate_limit_is_shown(site: Browser, fake: FakeProvider, clock: FakeClock) -> None:
    _pending(site, fake)
    fake.rate_limited.add("sms")
    page = site.get("/verify").get_data(as_text=True)
    assert "Too many attempts. Please wait a few minutes" in page
    fake.rate_limited = {"verify"}
    response = site.post("/verify", {"code": "1234567"})
    assert "Too many attempts" in response.get_data(as_text=True)


def test_app_users_are_asked_for_the_app_code_first(
    site: Browser, fake: FakeProvider, clock: FakeClock
) -> None:
    site.sign_up()
    (user,) = fake.users.values()
    site.post("/logout")
    fake.register_app(user.authy_id)
    site.login()
    page = site.get("/verify").get_data(as_text=True)
    assert "Open your authenticator app" in page
    assert "Text me a code" in page
    assert fake.sent == [("sms", user.authy_id, False)]
    # Nothing was sent, so there is nothing to wait for.
    site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert fake.sent[-1] == ("sms", user.authy_id, True)
