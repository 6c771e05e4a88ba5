"""The site's guards in Chromium: the password hint and the sign-up proof of work.

Both run on the site's own scripts under its strict Content-Security-Policy; a CSP violation
or a script error shows up as a console error and fails the test.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.browser.conftest import LiveSite, shot, start_site
from tests.servers import LiveProvider

pytestmark = pytest.mark.browser

CONFIRM = re.compile(r"/sign-up/confirm$")
ACCOUNT = re.compile(r"/account$")


def _errors(page: Page) -> list[str]:
    """Script errors and CSP violations (a refused form's 422 is expected, not an error)."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "422" not in message.text:
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture(scope="module")
def guarded_site(
    sqlite_provider: LiveProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSite]:
    """A site that asks every sign-up for a proof of work (no free sign-ups)."""
    site = start_site(
        sqlite_provider,
        tmp_path_factory.mktemp("guarded-site"),
        TWOFA_SITE_SIGNUP_LIMIT_IP="0/3600",
        TWOFA_SITE_CHALLENGE_BITS="14",
    )
    yield site
    site.stop()


def _fill(page: Page, email: str, phone: str, password: str) -> None:
    page.goto("/sign-up")
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Mobile phone").fill(phone)


def test_password_hint_on_the_sign_up_form(
    guarded_site: LiveSite, site_context: Callable[[LiveSite], BrowserContext]
) -> None:
    page = site_context(guarded_site).new_page()
    errors = _errors(page)
    page.goto("/sign-up")
    hint = page.locator("#password-strength")
    password = page.get_by_label("Password")
    password.fill("password12")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("This is a very common password.")
    expect(hint).to_have_attribute("data-ok", "false")
    shot(page, "site-20-password-hint-weak")
    password.fill("plum vortex gazebo lantern")
    expect(hint).to_contain_text("Strong password.")
    expect(hint).to_have_attribute("data-ok", "true")
    shot(page, "site-21-password-hint-strong")
    # Submitting a refused password explains why and sends nothing.
    phone = guarded_site.provider.new_phone()
    _fill(page, f"weak-{secrets.token_hex(3)}@example.com", phone, "1234567890")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_contain_text("common password")
    assert guarded_site.provider.outbox("+1" + re.sub(r"\D", "", phone)) == []
    assert errors == []


def test_sign_up_solves_the_proof_of_work(
    guarded_site: LiveSite, site_context: Callable[[LiveSite], BrowserContext], tmp_path: Path
) -> None:
    page = site_context(guarded_site).new_page()
    errors = _errors(page)
    phone = guarded_site.provider.new_phone()
    email = f"grace-{secrets.token_hex(3)}@example.com"
    _fill(page, email, phone, "plum vortex gazebo lantern")
    # The browser starts on the puzzle as the page loads and says so when it is done.
    expect(page.locator("form[data-challenge-form]")).to_have_attribute(
        "data-challenge-solved", "true", timeout=30_000
    )
    expect(page.locator("[data-challenge-status]")).to_have_text(
        "Puzzle solved: you can send the form."
    )
    shot(page, "site-22-sign-up-puzzle")
    page.get_by_role("button", name="Create account").click(timeout=30_000)
    expect(page).to_have_url(CONFIRM, timeout=30_000)
    code = guarded_site.provider.last_code("+1" + re.sub(r"\D", "", phone), digits=6)
    page.get_by_label("Code", exact=True).fill(code)
    shot(page, "site-23-confirm-phone")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(ACCOUNT)
    assert guarded_site.user_count(email) == 1
    assert errors == []
