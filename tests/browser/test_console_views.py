"""The console's read-only pages in Chromium: an operator signs in (password, then a TOTP
code), opens each page, sees the seeded day in its charts and tables, downloads the audit log,
and a screenshot of each page is kept under ``tests/browser/artifacts/console/``.

The provider runs in this process (uvicorn on a thread, background workers off) so the day is
seeded through the same API helpers as the in-process tests, callbacks delivered step by step.
It listens on ``localhost``, a secure context for Chromium, so the console's ``Secure``
cookies are kept over plain HTTP as they are over HTTPS in production.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.provider.conftest import Authy, Callbacks, provider_settings
from tests.provider.reports.seeding import Day, seed_day
from tests.servers import RecordedPath, RecordingServer
from twofa import otp
from twofa.process import free_port
from twofa.provider.app import create_app
from twofa.provider.services import Services, build_services
from twofa.storage.engine import upgrade

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "console"
PASSWORD = "quartz-lantern-orbit-57"


@dataclass
class Served:
    url: str
    services: Services
    authy: Authy
    day: Day


# Asked for before ``browser`` by every test: the seeding runs the delivery worker's steps on an
# event loop of its own, which cannot start once Playwright's loop runs in this thread.
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("console-views")
    upgrade(f"sqlite:///{tmp / 'migrated.db'}")
    port = free_port()
    url = f"http://localhost:{port}"
    settings = provider_settings(tmp, tmp / "migrated.db", public_url=url)
    services = build_services(settings)
    app = create_app(settings, services, workers=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the provider did not start"
        time.sleep(0.05)
    recorder = RecordingServer()
    callbacks = Callbacks(services)
    try:
        with TestClient(app, base_url="http://testserver") as http:
            receiver = RecordedPath(recorder)
            authy = Authy(http, services, callback_url=receiver.url + "/authy/callback")
            day = seed_day(authy, callbacks, receiver)
            yield Served(url, services, authy, day)
    finally:
        callbacks.close()
        recorder.close()
        server.should_exit = True
        thread.join(timeout=30)
        services.close()


def signed_in(browser: Browser, served: Served, name: str, role: str) -> Page:
    created = served.services.operators.create(name, role=role, password=PASSWORD, actor="cli")
    context = browser.new_context(
        base_url=served.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.goto("/console/login")
    page.get_by_label("Operator name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Authenticator code").fill(
        otp.totp(created.totp_secret, time.time(), digits=6)
    )
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{served.url}/console/dashboard")
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_dashboard(served: Served, browser: Browser) -> None:
    page = signed_in(browser, served, "dash", "read-only")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    pushes = page.locator("svg.chart").nth(2)
    expect(pushes).to_be_visible()
    for state in ("approved", "denied", "pending"):
        expect(pushes.locator(f'rect[data-series="{state}"][data-value="1"]')).to_have_count(1)
    channels = page.locator("svg.chart").nth(1)
    expect(channels.locator("desc")).to_contain_text("verify:sms: ok 1, failed 1")
    expect(page.get_by_role("row", name="GB")).to_contain_text("0 %")
    expect(page.locator(".chain")).to_contain_text("intact")
    shot(page, "dashboard")
    page.context.close()


def test_requests_and_timeline(served: Served, browser: Browser) -> None:
    page = signed_in(browser, served, "desk", "helpdesk")
    page.goto("/console/requests")
    expect(page.locator("tbody tr")).to_have_count(4)
    page.get_by_label("Status").select_option("denied")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    shot(page, "requests")
    page.locator("tbody tr a").first.click()
    expect(page.get_by_role("heading", name="Transfer 500 EUR?")).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("Callback retrying")
    expect(page.locator("table.list")).to_contain_text("HTTP 500")
    expect(page.get_by_role("button", name="Retry now")).to_be_visible()
    shot(page, "request-timeline")
    page.context.close()


def test_messages_are_masked(served: Served, browser: Browser) -> None:
    page = signed_in(browser, served, "msgs", "read-only")
    page.goto("/console/messages")
    body = page.locator("main").inner_text()
    assert served.day.alice_code not in body and served.day.alice.phone not in body
    assert "+44 ••••••••23" in body
    expect(page.locator("tbody")).to_contain_text("verification code is: •••••••")
    shot(page, "messages")
    page.context.close()


def test_audit_log_export_and_chain(served: Served, browser: Browser) -> None:
    page = signed_in(browser, served, "auditor", "admin")
    page.goto("/console/audit")
    page.get_by_label("Event").fill("request.")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody")).to_contain_text("request.answered")
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator(".chain")).to_contain_text("chain intact")
    shot(page, "audit")
    page.goto("/console/audit?event=request.")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    saved = Path(download.path())
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert rows[0][2] == "event" and {r[2] for r in rows[1:]} == {
        "request.created",
        "request.answered",
    }
    page.context.close()


def test_settings_masked(served: Served, browser: Browser) -> None:
    page = signed_in(browser, served, "conf", "read-only")
    page.goto("/console/settings")
    row = page.get_by_role("row", name="TWOFA_SECRET_KEY")
    expect(row).to_contain_text("••••••••")
    assert served.services.settings.key.decode() not in page.content()
    shot(page, "settings")
    page.context.close()
