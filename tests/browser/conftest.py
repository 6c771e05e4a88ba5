"""Browser fixtures: Debian's Chromium through Playwright, and a phone driven in the web app."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from authy.api import AuthyApiClient
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.servers import START_TIMEOUT, TEST_SECRET, LiveProvider
from twofa import process
from twofa.process import clean_env, free_port, twofa_command

# Playwright gives an assertion 5 s to come true. A sign-up hashes a password (Argon2) and
# calls the provider before the next page: on two cores shared by two test workers, their
# servers and browsers, that once took longer. Waiting longer costs only a failing test.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).with_name("artifacts")
PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}


# Module scope, not session: Playwright's sync API keeps an event loop running in the test
# thread while it is open, and a test that follows in the same worker process (an in-process
# provider test calling asyncio.run) would find it there.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium from the system; in CI a missing browser is a failure, never a skip."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(
    browser: Browser, sqlite_provider: LiveProvider
) -> Iterator[Callable[[], BrowserContext]]:
    """A factory of phone-sized browser contexts (each one is a separate device)."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            base_url=sqlite_provider.url,
            viewport=PHONE_VIEWPORT,
            device_scale_factor=2,
            locale="en-US",
            color_scheme="light",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[[], BrowserContext]) -> Page:
    return new_context().new_page()


@dataclass
class PhoneUser:
    """An application user whose phone the web app registers."""

    provider: LiveProvider
    api_key: str
    authy: AuthyApiClient
    authy_id: int
    phone: str

    @property
    def e164(self) -> str:
        return "+1" + re.sub(r"\D", "", self.phone)


@pytest.fixture
def phone_user(sqlite_provider: LiveProvider) -> PhoneUser:
    """A fresh application with one user on a fresh phone number."""
    _, api_key = sqlite_provider.new_app("Acme Cloud")
    client = AuthyApiClient(api_key, api_uri=sqlite_provider.url)
    phone = sqlite_provider.new_phone()
    user = client.users.create("user@example.com", phone, 1)
    assert user.ok(), user.errors()
    return PhoneUser(sqlite_provider, api_key, client, int(user.id), phone)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def register_device(
    page: Page,
    user: PhoneUser,
    *,
    name: str | None = None,
    screenshots: bool = False,
    approve_on: Page | None = None,
) -> None:
    """Walk the registration screens with the code from the outbox.

    A further device of the phone waits for approval: ``approve_on`` (a page of an existing
    device) types the number it shows; without one, the operator approves it.
    """
    page.goto("/authenticator/")
    phone_step = page.locator("#step-phone")
    expect(phone_step).to_be_visible()
    page.get_by_label("Country code").fill("1")
    page.get_by_label("Phone number").fill(user.phone)
    if screenshots:
        shot(page, "01-register-phone")
    before = len(user.provider.outbox(user.e164))
    page.get_by_role("button", name="Send code").click()
    expect(page.locator("#step-code")).to_be_visible()
    assert len(user.provider.outbox(user.e164)) == before + 1
    page.get_by_label("6-digit code").fill(user.provider.last_code(user.e164, digits=6))
    if screenshots:
        shot(page, "02-register-code")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#step-name")).to_be_visible()
    if name:
        page.get_by_label("Device name").fill(name)
    if screenshots:
        shot(page, "03-register-name")
    page.get_by_role("button", name="Finish").click()
    expect(page.locator("#app:visible, #step-approval:visible")).to_have_count(1)
    if page.locator("#step-approval").is_visible():
        number = page.locator("[data-approval-number]").inner_text()
        if approve_on is None:
            approvals = user.provider.services.devices.approvals
            asking = approvals.pending(user.e164)[-1]
            approvals.operator_approve(asking["uuid"])
        else:
            joining = approve_on.locator("[data-device-request]")
            expect(joining).to_be_visible()
            joining.get_by_label("Number shown on the new device").fill(number)
            joining.get_by_role("button", name="Approve").click()
            expect(joining).to_have_count(0)
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator(".status")).to_have_attribute("data-status", "live")


# The site ------------------------------------------------------------------------------------


@dataclass
class LiveSite:
    """``twofa site`` (waitress) on a loopback port, wired to a provider application."""

    url: str
    provider: LiveProvider
    api_key: str
    database: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    def authy_id(self, email: str) -> int:
        """The provider user id the site stored for ``email``."""
        rows = self._query("SELECT authy_id FROM site_users WHERE email = ?", email)
        assert rows, f"no site user {email}"
        return int(rows[0][0])

    def user_count(self, email: str) -> int:
        return int(self._query("SELECT count(*) FROM site_users WHERE email = ?", email)[0][0])

    def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            return conn.execute(sql, params).fetchall()

    def phone_user(self, email: str, phone: str) -> PhoneUser:
        """The site user as a :class:`PhoneUser`, for ``register_device``."""
        client = AuthyApiClient(self.api_key, api_uri=self.provider.url)
        return PhoneUser(self.provider, self.api_key, client, self.authy_id(email), phone)

    def stop(self) -> None:
        process.stop(self.proc)


def start_site(
    provider: LiveProvider, data_dir: Path, *, provider_url: str | None = None, **extra: str
) -> LiveSite:
    """Start ``twofa site`` for a fresh application of ``provider`` whose callback is the site.

    ``provider_url`` overrides where the site looks for the provider (to simulate an outage).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    _, api_key = provider.new_app("Demo Site", callback_url=f"{url}/authy/callback")
    database = data_dir / "site.db"
    defaults = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": TEST_SECRET,
        "TWOFA_DATA_DIR": str(data_dir),
        "TWOFA_SITE_PROVIDER_URL": provider_url or provider.url,
        "TWOFA_SITE_API_KEY": api_key,
        "TWOFA_SITE_PUBLIC_URL": url,
        "TWOFA_SITE_DATABASE_URL": f"sqlite:///{database}",
        "TWOFA_SITE_APP_NAME": "Acme Demo",
        "TWOFA_SITE_PROVIDER_TIMEOUT": "3",
        # Every test browser signs up from 127.0.0.1: no puzzle unless a test asks for one.
        "TWOFA_SITE_SIGNUP_LIMIT_IP": "1000/3600",
    }
    env = clean_env(**{**defaults, **extra})
    log_path = data_dir / f"site-{port}.log"
    proc = process.start(
        twofa_command("site", "--port", str(port)),
        url + "/",
        env=env,
        log_path=log_path,
        cwd=data_dir,  # no stray .env file is read
        timeout=START_TIMEOUT,
    )
    return LiveSite(url, provider, api_key, database, proc, log_path)


@pytest.fixture(scope="module")
def live_site(
    sqlite_provider: LiveProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSite]:
    """One site process for a test module (tests use their own users and phone numbers)."""
    site = start_site(sqlite_provider, tmp_path_factory.mktemp("site"))
    yield site
    site.stop()


@pytest.fixture
def site_context(browser: Browser) -> Iterator[Callable[[LiveSite], BrowserContext]]:
    """A factory of desktop-sized browser contexts on a site (each one a separate browser)."""
    contexts: list[BrowserContext] = []

    def make(site: LiveSite) -> BrowserContext:
        context = browser.new_context(
            base_url=site.url,
            viewport={"width": 1100, "height": 800},
            locale="en-US",
            color_scheme="light",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
