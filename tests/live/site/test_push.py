"""Push approval: bound to the browser's own login attempt, live over SSE, rotated at the end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Flask

from tests.live.site.conftest import EMAIL, Browser, FakeClock, deliver_callback
from tests.servers import RecordedPath


def test_password_ok_sends_a_push_and_shows_the_number(site: Browser) -> None:
    _, device = site.app_user()
    response = site.login()
    assert response.headers["Location"] == "/login/wait"
    (request,) = device.pending()
    assert request.uuid == site.uuid()
    assert request.details["Email"] == EMAIL
    number = site.attempt().approval_number
    assert number is not None and request.number_matching and request.numbers is None
    page = site.get("/login/wait").get_data(as_text=True)
    assert f'class="match-number" aria-label="Number to type: {number}"' in page
    assert site.status() == {"status": "pending", "number": number}


def test_approving_one_login_lets_only_that_browser_in(
    site: Browser, other: Browser, relay: RecordedPath
) -> None:
    _, device = site.app_user()
    site.login()
    other.login()
    mine, theirs = site.uuid(), other.uuid()
    assert mine != theirs
    assert {r.uuid for r in device.pending()} == {mine, theirs}

    assert device.approve(mine, site.status()["number"]) == "approved"
    assert deliver_callback(site, relay, mine).status_code == 200

    assert site.status()["status"] == "approved"
    assert other.status()["status"] == "pending"
    refused = other.post("/login/complete")
    assert refused.headers["Location"] == "/login/wait"
    assert other.get("/account").status_code == 302

    done = site.post("/login/complete")
    assert done.headers["Location"] == "/account"
    assert site.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_session_is_rotated_and_old_cookie_is_useless(site: Browser) -> None:
    _, device = site.app_user()
    site.login()
    before = site.cookie()
    pending = site.session()["pending"]
    device.approve(site.uuid(), site.status()["number"])
    assert site.status()["status"] == "approved"
    site.post("/login/complete")
    after = site.cookie()
    assert before and after and before != after
    session = site.session()
    assert "pending" not in session and session["sid"] != pending

    thief = Browser(site.app, site.live)
    thief.set_cookie(before)
    assert thief.get("/account").status_code == 302
    assert thief.post("/login/complete", csrf_from="/").status_code == 302
    assert thief.get("/account").status_code == 302


def test_logout_revokes_the_server_side_session(site: Browser) -> None:
    _, device = site.app_user()
    site.login()
    device.approve(site.uuid(), site.status()["number"])
    site.status()
    site.post("/login/complete")
    copy = site.cookie()
    assert copy
    site.post("/logout")
    thief = Browser(site.app, site.live)
    thief.set_cookie(copy)
    assert thief.get("/account").status_code == 302


def test_denied_push_leads_to_the_code_form_with_a_message(
    site: Browser, relay: RecordedPath
) -> None:
    _, device = site.app_user()
    site.login()
    assert device.deny(site.uuid()) == "denied"
    assert deliver_callback(site, relay, site.uuid()).status_code == 200
    assert site.status()["status"] == "denied"
    assert site.post("/login/complete").headers["Location"] == "/login/wait"
    assert site.get("/login/wait").headers["Location"] == "/verify"
    page = site.get("/verify").get_data(as_text=True)
    assert "denied on your phone" in page
    assert "Open your authenticator app" in page


def test_a_wrong_number_is_a_denial(site: Browser) -> None:
    _, device = site.app_user()
    site.login()
    (request,) = device.pending()
    number = site.status()["number"]
    assert request.number_matching
    wrong = 10 + (int(number) - 9) % 90
    assert device.approve(site.uuid(), wrong) == "denied"
    assert site.status()["status"] == "denied"
    assert site.post("/login/complete").headers["Location"] == "/login/wait"
    assert site.get("/account").status_code == 302


def test_expired_push_offers_a_new_request(
    site: Browser, clock: FakeClock, relay: RecordedPath
) -> None:
    _, device = site.app_user()
    site.login()
    first = site.uuid()
    clock.advance(121)
    assert site.status()["status"] == "expired"
    page = site.get("/login/wait").get_data(as_text=True)
    assert "The request expired" in page and "Send a new request" in page
    assert "Use a code instead" in page
    assert site.post("/login/push", csrf_from="/login/wait").headers["Location"] == "/login/wait"
    second = site.uuid()
    assert second != first
    assert site.status()["status"] == "pending"
    # A late answer to the old request (still open at the provider) changes nothing.
    (old,) = [r for r in device.pending() if r.uuid == first]
    assert old.number_matching
    device.approve(first, 10)
    assert deliver_callback(site, relay, first).status_code == 404
    assert site.status()["status"] == "pending"


def test_status_polling_falls_back_to_the_provider(site: Browser) -> None:
    """A lost callback only delays the login: polling asks the provider."""
    _, device = site.app_user()
    site.login()
    device.approve(site.uuid(), site.status()["number"])
    assert site.status()["status"] == "approved"
    assert site.post("/login/complete").headers["Location"] == "/account"


def test_event_stream_delivers_the_callback(site: Browser, relay: RecordedPath) -> None:
    _, device = site.app_user()
    site.login()
    uuid, number = site.uuid(), site.status()["number"]
    caller = Browser(site.app, site.live)
    delivered: list[int] = []

    def answer_later() -> None:
        time.sleep(0.3)
        device.approve(uuid, number)
        delivered.append(deliver_callback(caller, relay, uuid).status_code)

    thread = threading.Thread(target=answer_later)
    started = time.monotonic()
    thread.start()
    response = site.get("/login/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    body = b"".join(response.response).decode()
    response.close()
    thread.join()
    assert delivered == [200]
    assert time.monotonic() - started < 8
    assert body.startswith("retry: 2000")
    assert body.count("event: status") == 2
    assert body.rstrip().endswith('data: {"status": "approved"}')


def test_event_stream_closes_after_its_time_limit(
    build_app: Callable[..., Flask], site: Browser
) -> None:
    _, _ = site.app_user()
    site.login()
    quick = site.on(build_app(site_stream_max_seconds=1))
    started = time.monotonic()
    response = quick.get("/login/events", buffered=False)
    body = b"".join(response.response).decode()
    response.close()
    assert 1 <= time.monotonic() - started < 4
    assert 'data: {"status": "pending"}' in body


def test_user_without_app_goes_straight_to_codes(site: Browser) -> None:
    site.sign_up()
    site.post("/logout")
    assert site.login().headers["Location"] == "/verify"
    assert site.attempt().approval_uuid is None
    assert site.status()["status"] == "none"
