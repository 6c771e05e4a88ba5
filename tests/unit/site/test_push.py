"""Push approval: bound to the browser's own login attempt, live over SSE, rotated at the end."""

from __future__ import annotations

import threading
import time

from tests.unit.site.conftest import Browser, FakeClock, approve
from tests.unit.site.fake_provider import FakeProvider


def _app_user(site: Browser, fake: FakeProvider) -> int:
    """Sign up, finish with an SMS code, log out, then give the user an authenticator app."""
    site.sign_up()
    (user,) = fake.users.values()
    site.get("/verify")
    site.post("/verify", {"code": fake.last_code(user.authy_id)})
    site.post("/logout")
    fake.register_app(user.authy_id)
    return user.authy_id


def _uuid(browser: Browser, fake: FakeProvider) -> str:
    """The approval uuid of the browser's own login attempt, as stored by the site."""
    from twofa.site.services import EXTENSION

    auth = browser.app.extensions[EXTENSION].auth
    attempt = auth.attempts.by_token(browser.session()["pending"])
    assert attempt is not None and attempt.approval_uuid in fake.approvals
    return attempt.approval_uuid


def test_password_ok_sends_a_push_and_shows_the_number(site: Browser, fake: FakeProvider) -> None:
    _app_user(site, fake)
    response = site.login()
    assert response.headers["Location"] == "/login/wait"
    approval = fake.last_approval()
    assert approval.number is not None
    assert approval.details["Email"] == "alice@example.com"
    page = site.get("/login/wait").get_data(as_text=True)
    assert f'class="match-number" aria-label="Number to choose: {approval.number}"' in page
    assert site.get("/login/status").get_json() == {"status": "pending", "number": approval.number}


def test_approving_one_login_lets_only_that_browser_in(
    site: Browser, other: Browser, fake: FakeProvider
) -> None:
    _app_user(site, fake)
    site.login()
    other.login()
    mine, theirs = _uuid(site, fake), _uuid(other, fake)
    assert mine != theirs

    assert approve(site, fake, mine).status_code == 200

    assert site.get("/login/status").get_json()["status"] == "approved"
    assert other.get("/login/status").get_json()["status"] == "pending"
    refused = other.post("/login/complete")
    assert refused.headers["Location"] == "/login/wait"
    assert other.get("/account").status_code == 302

    done = site.post("/login/complete")
    assert done.headers["Location"] == "/account"
    assert site.get("/account").status_code == 200


def test_session_is_rotated_and_old_cookie_is_useless(site: Browser, fake: FakeProvider) -> None:
    _app_user(site, fake)
    site.login()
    before = site.cookie()
    pending = site.session()["pending"]
    approve(site, fake, _uuid(site, fake))
    site.post("/login/complete")
    after = site.cookie()
    assert before and after and before != after
    session = site.session()
    assert "pending" not in session and session["sid"] != pending

    thief = Browser(site.app)
    thief.set_cookie(before)
    assert thief.get("/account").status_code == 302
    assert thief.post("/login/complete", csrf_from="/").status_code == 302
    assert thief.get("/account").status_code == 302


def test_logout_revokes_the_server_side_session(site: Browser, fake: FakeProvider) -> None:
    _app_user(site, fake)
    site.login()
    approve(site, fake, _uuid(site, fake))
    site.post("/login/complete")
    copy = site.cookie()
    assert copy
    site.post("/logout")
    thief = Browser(site.app)
    thief.set_cookie(copy)
    assert thief.get("/account").status_code == 302


def test_denied_push_leads_to_the_code_form_with_a_message(
    site: Browser, fake: FakeProvider
) -> None:
    _app_user(site, fake)
    site.login()
    approve(site, fake, _uuid(site, fake), status="denied")
    assert site.get("/login/status").get_json()["status"] == "denied"
    assert site.post("/login/complete").headers["Location"] == "/login/wait"
    assert site.get("/login/wait").headers["Location"] == "/verify"
    page = site.get("/verify").get_data(as_text=True)
    assert "denied on your phone" in page
    assert "Open your authenticator app" in page


def test_expired_push_offers_a_new_request(
    site: Browser, fake: FakeProvider, clock: FakeClock
) -> None:
    _app_user(site, fake)
    site.login()
    first = _uuid(site, fake)
    clock.advance(121)
    assert site.get("/login/status").get_json()["status"] == "expired"
    page = site.get("/login/wait").get_data(as_text=True)
    assert "The request expired" in page and "Send a new request" in page
    assert "Use a code instead" in page
    assert site.post("/login/push", csrf_from="/login/wait").headers["Location"] == "/login/wait"
    second = _uuid(site, fake)
    assert second != first
    assert site.get("/login/status").get_json()["status"] == "pending"
    # A late answer to the old request changes nothing.
    assert approve(site, fake, first).status_code == 404
    assert site.get("/login/status").get_json()["status"] == "pending"


def test_status_polling_falls_back_to_the_provider(site: Browser, fake: FakeProvider) -> None:
    """A lost callback only delays the login: polling asks the provider."""
    _app_user(site, fake)
    site.login()
    fake.approvals[_uuid(site, fake)].status = "approved"
    assert site.get("/login/status").get_json()["status"] == "approved"
    assert site.post("/login/complete").headers["Location"] == "/account"


def test_event_stream_delivers_the_callback(site: Browser, fake: FakeProvider) -> None:
    _app_user(site, fake)
    site.login()
    uuid = _uuid(site, fake)
    caller = Browser(site.app)

    def answer_later() -> None:
        time.sleep(0.5)
        approve(caller, fake, uuid)

    thread = threading.Thread(target=answer_later)
    started = time.monotonic()
    thread.start()
    response = site.get("/login/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    body = b"".join(response.response).decode()
    response.close()
    thread.join()
    assert time.monotonic() - started < 4
    assert body.startswith("retry: 2000")
    assert body.count("event: status") == 2
    assert body.rstrip().endswith('data: {"status": "approved"}')


def test_event_stream_closes_after_its_time_limit(site: Browser, fake: FakeProvider) -> None:
    _app_user(site, fake)
    site.login()
    started = time.monotonic()
    response = site.get("/login/events", buffered=False)
    body = b"".join(response.response).decode()
    response.close()
    assert 4 <= time.monotonic() - started < 8
    assert 'data: {"status": "pending"}' in body


def test_user_without_app_goes_straight_to_codes(site: Browser, fake: FakeProvider) -> None:
    site.sign_up()
    site.post("/logout")
    assert site.login().headers["Location"] == "/verify"
    assert fake.approvals == {}
    assert site.get("/login/status").get_json()["status"] == "none"


def test_push_rate_limit_is_explained_and_codes_still_work(
    site: Browser, fake: FakeProvider
) -> None:
    _app_user(site, fake)
    fake.rate_limited.add("push")
    assert site.login().headers["Location"] == "/verify"
    page = site.get("/verify").get_data(as_text=True)
    assert "Too many attempts" in page
