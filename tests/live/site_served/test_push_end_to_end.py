"""Push end to end: a served site, the real provider, a device, the provider's signed callback.

The site's recorded approval status changes only through its callback here (no test polls
``/login/status`` before the event stream reports the decision), so a decision seen on the
stream proves that the provider's signed callback reached the site over HTTP.
"""

from __future__ import annotations

from tests.live.site_served.conftest import ServedSite, WebBrowser
from tests.servers import TestDevice


def _member(served: ServedSite) -> tuple[WebBrowser, TestDevice]:
    """A user who signed up through the site (phone code), logged out, then enrolled a device."""
    browser = served.browser()
    browser.register()
    return browser, served.live.enroll_device("1", browser.phone, name="Alice's phone")


def _number(browser: WebBrowser) -> int:
    page = browser.get("/login/wait")
    assert page.status_code == 200
    number = browser.status()["number"]
    assert f"Number to type: {number}" in page.text
    return int(number)


def test_approved_push_reaches_the_account(served: ServedSite) -> None:
    browser, device = _member(served)
    assert browser.login().headers["location"] == "/login/wait"
    number = _number(browser)
    (request,) = device.wait_pending()
    assert request.number_matching and request.numbers is None
    assert request.details["Email"] == "alice@example.com"

    seen = browser.events_until_final(lambda _: device.approve(request.uuid, number))
    assert seen == ["pending", "approved"]
    assert served.attempt_status(request.uuid) == "approved"
    assert browser.status() == {"status": "approved", "number": number}

    done = browser.post("/login/complete", csrf_from="/login/wait")
    assert done.headers["location"] == "/account"
    account = browser.get("/account")
    assert account.status_code == 200
    assert "Push approval" in account.text and "Hello, Alice Example" in account.text
    # The decision was applied once; the finished login answers like a signed-in browser.
    assert browser.get("/login/status").json()["status"] == "signed_in"


def test_denied_push_leads_to_the_code_form(served: ServedSite) -> None:
    browser, device = _member(served)
    browser.login()
    _number(browser)
    (request,) = device.wait_pending()

    seen = browser.events_until_final(lambda _: device.deny(request.uuid))
    assert seen == ["pending", "denied"]
    assert served.attempt_status(request.uuid) == "denied"
    assert browser.get("/login/wait").headers["location"] == "/verify"
    page = browser.get("/verify").text
    assert "denied on your phone" in page
    assert browser.get("/account").status_code == 302

    authy_id = device.accounts()[0].authy_id
    done = browser.post("/verify", {"code": device.app_code(authy_id)}, csrf_from="/verify")
    assert done.headers["location"] == "/account"


def test_one_approval_lets_in_only_its_own_browser(served: ServedSite) -> None:
    alice, device = _member(served)
    mallory = served.browser(phone=alice.phone)
    alice.login()
    mallory.login()
    alice_number = _number(alice)
    _number(mallory)
    assert len(device.wait_pending(2)) == 2
    alice_uuid, mallory_uuid = served.uuid_of(alice), served.uuid_of(mallory)
    assert alice_uuid != mallory_uuid

    seen = alice.events_until_final(lambda _: device.approve(alice_uuid, alice_number))
    assert seen == ["pending", "approved"]
    assert served.attempt_status(mallory_uuid) == "pending"
    assert mallory.status()["status"] == "pending"
    assert mallory.post("/login/complete", csrf_from="/login/wait").headers["location"] == (
        "/login/wait"
    )
    assert mallory.get("/account").status_code == 302

    assert alice.post("/login/complete", csrf_from="/login/wait").headers["location"] == "/account"
    assert alice.get("/account").status_code == 200

    seen = mallory.events_until_final(lambda _: device.deny(mallory_uuid))
    assert seen == ["pending", "denied"]
    assert mallory.get("/account").status_code == 302
