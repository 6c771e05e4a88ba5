"""The site in Chromium: sign-up, push / app code / SMS logins, limits, logout, provider outage.

The site runs as ``twofa site`` (waitress) on a loopback port against a live provider; the
phone is the authenticator web app in a second browser context, and SMS codes come from the
provider's outbox.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import LiveSite, register_device, shot, start_site
from tests.servers import START_TIMEOUT, LiveProvider, start_provider
from twofa import process
from twofa.process import twofa_command

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
ACCOUNT = re.compile(r"/account$")
VERIFY = re.compile(r"/verify$")
WAIT = re.compile(r"/login/wait$")
CONFIRM = re.compile(r"/sign-up/confirm$")
LOGIN = re.compile(r"/login(\?.*)?$")

SiteContext = Callable[[LiveSite], BrowserContext]
PhoneContext = Callable[[], BrowserContext]


# Helpers -------------------------------------------------------------------------------------


def new_identity(site: LiveSite) -> tuple[str, str]:
    """A fresh e-mail address and phone number."""
    return f"ada-{secrets.token_hex(4)}@example.com", site.provider.new_phone()


def e164(phone: str) -> str:
    return "+1" + re.sub(r"\D", "", phone)


def sms_code(provider: LiveProvider, phone: str) -> str:
    return provider.last_code(e164(phone), digits=provider.settings.sms_code_length)


def signup_code(provider: LiveProvider, phone: str) -> str:
    """The code of the phone check at sign-up (six digits)."""
    return provider.last_code(e164(phone), digits=6)


def watch_errors(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of ``page`` (CSP violations show up here)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors


def flash(page: Page) -> Locator:
    return page.locator(".flash")


def fill_sign_up(page: Page, email: str, phone: str, name: str = "Ada Lovelace") -> None:
    page.goto("/sign-up")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Mobile phone").fill(phone)


def enter_code(page: Page, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Verify").click()


def sign_up(page: Page, site: LiveSite, email: str, phone: str, prefix: str | None = None) -> None:
    """Create the account and confirm the phone with the SMS code: ends on ``/account``."""
    fill_sign_up(page, email, phone)
    if prefix:
        shot(page, f"{prefix}-sign-up")
    page.get_by_role("button", name="Create account").click()
    confirm_phone(page, site, phone, prefix)
    expect(page).to_have_url(ACCOUNT)


def confirm_phone(page: Page, site: LiveSite, phone: str, prefix: str | None = None) -> None:
    expect(page).to_have_url(CONFIRM)
    expect(page.locator(".lead")).to_contain_text("We sent a code by text message")
    if prefix:
        shot(page, f"{prefix}-confirm-phone")
    page.get_by_label("Code", exact=True).fill(signup_code(site.provider, phone))
    page.get_by_role("button", name="Confirm").click()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def log_out(page: Page) -> None:
    page.locator("header").get_by_role("button", name="Log out").click()
    expect(flash(page)).to_contain_text("You are signed out.")


def with_phone_app(
    site: LiveSite, site_page: Page, new_context: PhoneContext, prefix: str | None = None
) -> tuple[str, Page]:
    """A signed-up user with the authenticator web app registered; the site page is logged out."""
    email, phone = new_identity(site)
    sign_up(site_page, site, email, phone, prefix=prefix)
    phone_page = new_context().new_page()
    register_device(phone_page, site.phone_user(email, phone), name="Ada's phone")
    log_out(site_page)
    return email, phone_page


def open_attempts(site: LiveSite, email: str) -> list[tuple[str, int | None]]:
    """(approval uuid, number) of the user's open logins, oldest first."""
    rows = site._query(
        "SELECT a.approval_uuid, a.approval_number FROM site_login_attempts a "
        "JOIN site_users u ON u.id = a.user_id WHERE u.email = ? AND a.state = 'open' "
        "ORDER BY a.id",
        email,
    )
    return [(str(uuid), None if number is None else int(number)) for uuid, number in rows]


def number_shown(page: Page) -> int:
    """The number the wait page asks the user to pick (number matching is on by default)."""
    text = page.locator(".match-number").inner_text()
    assert re.fullmatch(r"\d+", text.strip()), text
    return int(text)


def request_card(phone_page: Page, uuid: str) -> Locator:
    return phone_page.locator(f'article.request[data-uuid="{uuid}"]')


def approve_with_number(card: Locator, number: int) -> None:
    card.get_by_label("Number shown on the login screen").fill(str(number))
    card.get_by_role("button", name="Approve").click()


# Scenarios -----------------------------------------------------------------------------------


def test_push_approved_moves_the_page_to_the_account(
    live_site: LiveSite, site_context: SiteContext, new_context: PhoneContext
) -> None:
    page = site_context(live_site).new_page()
    errors = watch_errors(page)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot(page, "site-01-home")
    email, phone = new_identity(live_site)
    sign_up(page, live_site, email, phone, prefix="site-02")
    expect(page.locator(".factors")).to_contain_text("Off")
    shot(page, "site-03-account-without-app")

    phone_page = new_context().new_page()
    register_device(phone_page, live_site.phone_user(email, phone), name="Ada's phone")
    log_out(page)
    shot(page, "site-04-signed-out")

    log_in(page, email)
    expect(page).to_have_url(WAIT)
    expect(page.get_by_role("heading", name="Approve the sign-in on your phone")).to_be_visible()
    number = number_shown(page)
    shot(page, "site-05-wait")
    [(uuid, stored)] = open_attempts(live_site, email)
    assert stored == number
    card = request_card(phone_page, uuid)
    expect(card).to_contain_text("Log in to Acme Demo")
    expect(card).to_contain_text(email)
    shot(phone_page, "site-06-phone-request")
    approve_with_number(card, number)

    # No click on the site page: the event stream moves it on.
    expect(page).to_have_url(ACCOUNT)
    expect(flash(page)).to_contain_text("You are signed in.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Ada Lovelace")
    factors = page.locator("section[aria-labelledby=factors-h]")
    expect(factors.locator(".factors li").first).to_contain_text("On")
    expect(factors.locator(".devices li")).to_have_count(1)
    expect(page.locator("table")).to_contain_text("Push approval")
    shot(page, "site-07-account-push")
    assert errors == []


def test_denied_push_then_app_code(
    live_site: LiveSite, site_context: SiteContext, new_context: PhoneContext
) -> None:
    page = site_context(live_site).new_page()
    email, phone_page = with_phone_app(live_site, page, new_context)
    log_in(page, email)
    expect(page).to_have_url(WAIT)
    [(uuid, _)] = open_attempts(live_site, email)
    card = request_card(phone_page, uuid)
    card.get_by_role("button", name="Deny").click()
    expect(card).to_have_count(0)

    expect(page).to_have_url(VERIFY)
    expect(page.get_by_role("alert")).to_contain_text("denied on your phone")
    expect(page.locator(".lead")).to_contain_text("Open your authenticator app")
    shot(page, "site-08-denied-verify")
    code = phone_page.locator("li.account .code").first
    expect(code).to_have_attribute("data-code", re.compile(r"^\d{6,8}$"))
    enter_code(page, code.get_attribute("data-code") or "")
    expect(page).to_have_url(ACCOUNT)
    expect(page.locator("table")).to_contain_text("App code")


def test_user_without_the_app_gets_an_sms_code(
    live_site: LiveSite, site_context: SiteContext
) -> None:
    page = site_context(live_site).new_page()
    errors = watch_errors(page)
    email, phone = new_identity(live_site)
    sign_up(page, live_site, email, phone)
    log_out(page)
    before = len(live_site.provider.outbox(e164(phone)))

    log_in(page, email)
    expect(page).to_have_url(VERIFY)
    expect(page.locator(".lead")).to_contain_text("We sent a code by text message")
    expect(page.locator("[data-cooldown-text]")).to_be_visible()
    shot(page, "site-09-verify-sms-login")
    page.reload()
    assert len(live_site.provider.outbox(e164(phone))) == before + 1  # reload sends nothing
    enter_code(page, sms_code(live_site.provider, phone))
    expect(page).to_have_url(ACCOUNT)
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody tr").first).to_contain_text("Text message code")
    shot(page, "site-10-account-sms")
    assert errors == []


def test_wrong_codes_until_rate_limited(live_site: LiveSite, site_context: SiteContext) -> None:
    page = site_context(live_site).new_page()
    email, phone = new_identity(live_site)
    sign_up(page, live_site, email, phone)
    log_out(page)
    log_in(page, email)
    expect(page).to_have_url(VERIFY)
    right = sms_code(live_site.provider, phone)
    wrong = "1234567" if right != "1234567" else "7654321"

    # The site ends a login after five wrong codes ...
    for _ in range(4):
        enter_code(page, wrong)
        expect(page.locator(".field .error")).to_have_text(
            "That code is not valid. Check it and try again."
        )
    shot(page, "site-11-wrong-code")
    enter_code(page, wrong)
    expect(page).to_have_url(LOGIN)
    expect(flash(page)).to_have_text("Too many wrong codes. Please log in again.")
    shot(page, "site-12-too-many-wrong-codes")

    # ... and the provider stops checking codes for the user after ten in ten minutes.
    message = ""
    for _ in range(4):
        log_in(page, email)
        expect(page).to_have_url(VERIFY)
        for _ in range(5):
            enter_code(page, wrong)
            if not VERIFY.search(page.url):
                break
            message = page.locator(".field .error").inner_text()
            if "Too many attempts" in message:
                break
        if "Too many attempts" in message:
            break
    assert re.fullmatch(
        r"Too many attempts\. Please wait \d+ minutes? before trying again\.", message
    )
    shot(page, "site-13-rate-limited")
    enter_code(page, sms_code(live_site.provider, phone))  # even the right code, for now
    expect(page.locator(".field .error, .flash-error").first).to_contain_text("Too many")
    expect(page).not_to_have_url(ACCOUNT)


def test_one_approval_lets_in_only_its_own_browser(
    live_site: LiveSite, site_context: SiteContext, new_context: PhoneContext
) -> None:
    first = site_context(live_site).new_page()
    email, phone_page = with_phone_app(live_site, first, new_context)
    second = site_context(live_site).new_page()

    log_in(first, email)
    expect(first).to_have_url(WAIT)
    log_in(second, email)
    expect(second).to_have_url(WAIT)
    (first_uuid, first_number), (second_uuid, _) = open_attempts(live_site, email)
    assert number_shown(first) == first_number
    expect(request_card(phone_page, second_uuid)).to_be_visible()
    approve_with_number(request_card(phone_page, first_uuid), number_shown(first))

    expect(first).to_have_url(ACCOUNT)
    time.sleep(2.5)  # longer than the page's polling fallback interval
    expect(second).to_have_url(WAIT)
    expect(second.locator('[data-state="pending"]')).to_be_visible()
    shot(second, "site-14-other-browser-still-waiting")
    status = second.context.request.get("/login/status").json()
    assert status["status"] == "pending"
    account = second.context.request.get("/account", max_redirects=0)
    assert account.status == 302 and "/login" in account.headers["location"]
    expect(request_card(phone_page, second_uuid)).to_be_visible()  # its own push still waits

    request_card(phone_page, second_uuid).get_by_role("button", name="Deny").click()
    expect(second).to_have_url(VERIFY)


def test_logout_ends_the_session(live_site: LiveSite, site_context: SiteContext) -> None:
    context = site_context(live_site)
    page = context.new_page()
    email, phone = new_identity(live_site)
    sign_up(page, live_site, email, phone)
    cookies = context.cookies()
    page.goto("/logout")
    expect(page.get_by_role("heading", name="Log out?")).to_be_visible()
    shot(page, "site-15-logout-confirm")
    page.locator("main").get_by_role("button", name="Log out").click()
    expect(flash(page)).to_contain_text("You are signed out.")
    expect(page.locator("header")).to_contain_text("Sign up")
    shot(page, "site-16-logged-out")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount$|/login\?next=/account$"))

    # A copy of the signed-in cookie is useless after logout.
    copy = site_context(live_site)
    copy.add_cookies(
        [{"name": c["name"], "value": c["value"], "url": live_site.url} for c in cookies]
    )
    stale = copy.request.get("/account", max_redirects=0)
    assert stale.status == 302 and "/login" in stale.headers["location"]


def test_provider_down_at_sign_up(site_context: SiteContext, tmp_path: Path) -> None:
    provider = start_provider(tmp_path / "provider", f"sqlite:///{tmp_path / 'provider.db'}")
    site = start_site(provider, tmp_path / "site")
    try:
        provider.proc.terminate()
        provider.proc.wait(10)
        page = site_context(site).new_page()
        email, phone = new_identity(site)
        fill_sign_up(page, email, phone)
        page.get_by_role("button", name="Create account").click()
        expect(page).to_have_url(re.compile(r"/sign-up$"))
        expect(page.get_by_role("alert")).to_have_text(
            "The verification service is not reachable right now. Please try again in a few "
            "minutes. Your account was not created."
        )
        expect(page.get_by_label("E-mail")).to_have_value(email)  # the form keeps what was typed
        shot(page, "site-17-provider-down")
        assert site.user_count(email) == 0

        restart(provider)
        fill_sign_up(page, email, phone)
        page.get_by_role("button", name="Create account").click()
        expect(page).to_have_url(CONFIRM)
        assert site.user_count(email) == 0  # nothing exists until the phone is confirmed
        confirm_phone(page, site, phone)
        expect(page).to_have_url(ACCOUNT)
        assert site.user_count(email) == 1
    finally:
        site.stop()
        provider.stop()


def restart(provider: LiveProvider) -> None:
    """Start the stopped provider again on the same port with the same database."""
    port = provider.url.rsplit(":", 1)[1]
    provider.proc = process.spawn(
        twofa_command("provider", "--port", port, "--no-migrate"),
        env=provider.env,
        log_path=provider.log_path,
        append=True,
    )
    process.wait_until_up(
        provider.url + "/healthz",
        provider.proc,
        timeout=START_TIMEOUT,
        log_path=provider.log_path,
    )
