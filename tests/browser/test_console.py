"""The operator console in Chromium: an operator signs in with a password and a TOTP code,
registers a security key (a virtual WebAuthn authenticator), signs in with it, creates an
application, rotates its key (asked to re-authenticate first), finds a user and revokes their
device, imports users from an Authy export (a dry run, then the import); a help-desk operator
is refused a key rotation; a cross-origin POST is refused; and the audit chain verifies after
all of it. Screenshots of each page go to ``test-artifacts/console/``.

WebAuthn needs the ``localhost`` host name (a secure context over plain HTTP, and a valid
relying party id), so the browser uses ``http://localhost:PORT`` for the provider that listens
on 127.0.0.1.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from tests.servers import LiveProvider, e164, wait_until
from twofa import otp
from twofa.process import twofa_command
from twofa.storage.database import utcnow
from twofa.storage.tables import operator_sessions

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "saffron-glacier-compass-83"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def create_operator(provider: LiveProvider, name: str, role: str) -> str:
    """``twofa operators create`` as an operator of the deployment runs it; the TOTP secret."""
    done = subprocess.run(
        twofa_command("operators", "create", name, "--role", role, "--json"),
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=provider.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["totp_secret"])


class Codes:
    """TOTP codes, each from a time step not used before (the console refuses a replay)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.last = 0

    def next(self) -> str:
        step = wait_until(
            lambda: (s := otp.time_step(time.time())) > self.last and s,
            timeout=40,
            interval=0.5,
            what="a fresh TOTP step",
        )
        self.last = step
        return otp.hotp(self.secret, step, digits=6)


@pytest.fixture
def console_url(sqlite_provider: LiveProvider) -> str:
    return sqlite_provider.url.replace("127.0.0.1", "localhost") + "/console"


@pytest.fixture
def desk(browser: Browser) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            viewport={"width": 1280, "height": 860}, locale="en-US", color_scheme="light"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def virtual_authenticator(context: BrowserContext, page: Page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def password_step(page: Page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Operator name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()


def test_an_operators_day(
    sqlite_provider: LiveProvider, console_url: str, desk: Any, tmp_path: Path
) -> None:
    provider = sqlite_provider
    name = f"ops{secrets.token_hex(3)}"
    codes = Codes(create_operator(provider, name, "admin"))
    context = desk()
    page = context.new_page()
    virtual_authenticator(context, page)

    # Password, then a code from the authenticator app.
    page.goto(console_url + "/apps")
    expect(page).to_have_url(f"{console_url}/login?next=/console/apps")
    page.get_by_label("Operator name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "01-sign-in")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.get_by_label("Authenticator code").fill(codes.next())
    shot(page, "02-second-factor-code")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()

    # A security key, registered from the console.
    page.get_by_role("link", name="Security keys").click()
    page.get_by_label("Name").fill("Desk key")
    page.get_by_role("button", name="Add security key").click()
    expect(page.get_by_role("cell", name="Desk key")).to_be_visible()
    shot(page, "03-security-keys")

    # Sign out; sign in again with the key.
    page.get_by_role("button", name="Sign out").click()
    password_step(page, console_url, name)
    shot(page, "04-second-factor-key")
    page.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Applications").click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()
    shot(page, "05-applications")

    # A new application: its key is shown once and works.
    page.get_by_role("link", name="New application").click()
    app_name = f"Console Shop {secrets.token_hex(3)}"
    page.get_by_label("Name").fill(app_name)
    shot(page, "06-new-application")
    page.get_by_role("button", name="Create application").click()
    first_key = page.locator("[data-api-key]").inner_text()
    shot(page, "07-key-shown-once")
    details = httpx.get(
        f"{provider.url}/protected/json/app/details", headers={"X-Authy-API-Key": first_key}
    )
    assert details.status_code == 200
    page.get_by_role("link", name="I have stored it").click()
    expect(page.get_by_role("heading", name=app_name)).to_be_visible()
    shot(page, "08-application")
    app_id = int(page.url.rsplit("/", 1)[1])

    # Rotating the key asks for the second factor again once the last one is old (this
    # operator's last one is made an hour old rather than the test waiting five minutes).
    operator_id = provider.services.operators.find(name).id
    with provider.services.db.write() as conn:
        conn.execute(
            update(operator_sessions)
            .where(operator_sessions.c.operator_id == operator_id)
            .values(verified_at=utcnow() - timedelta(hours=1))
        )
    page.get_by_role("link", name="Rotate key").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert "/console/reauth?next=" in page.url
    shot(page, "09-re-authenticate")
    page.get_by_role("button", name="Use security key").click()
    expect(page.get_by_role("heading", name=f"Rotate the API key of {app_name}?")).to_be_visible()
    shot(page, "10-rotate-confirm")
    page.get_by_role("button", name="Rotate key").click()
    new_key = page.locator("[data-api-key]").inner_text()
    assert new_key != first_key
    shot(page, "11-rotated-key")
    old = httpx.get(
        f"{provider.url}/protected/json/app/details", headers={"X-Authy-API-Key": first_key}
    )
    assert old.status_code == 401

    # A user with a device on their phone: found by phone number, the device revoked.
    phone = provider.new_phone()
    created = httpx.post(
        f"{provider.url}/protected/json/users/new",
        headers={"X-Authy-API-Key": new_key},
        json={"user": {"email": "erin@example.com", "cellphone": phone, "country_code": 1}},
    )
    assert created.status_code == 200, created.text
    device = provider.enroll_device(1, phone, name="Erin's phone")
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Authy id, phone number or e-mail").fill(e164(phone))
    page.get_by_role("button", name="Search").click()
    shot(page, "12-user-search")
    page.get_by_role("link", name=str(created.json()["user"]["id"])).click()
    row = page.locator(f"[data-device='{device.device_uuid}']")
    expect(row).to_contain_text("active")
    shot(page, "13-user")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("The device was revoked.")
    expect(row).to_contain_text("revoked")
    shot(page, "14-device-revoked")

    # Users moved in from Authy: a dry run's report first, then the same file imported.
    first_id = 700_000_000 + secrets.randbelow(10**8)
    export = tmp_path / "authy-users.csv"
    rows = ["authy_id,email,country_code,phone,name"] + [
        f"{first_id + n},moved{n}@example.com,1,{provider.new_phone()}," for n in range(3)
    ]
    export.write_text("\n".join(rows) + "\n")
    page.goto(f"{console_url}/apps/{app_id}")
    page.get_by_role("link", name="Import users from Authy").click()
    page.get_by_label("Export file").set_input_files(str(export))
    shot(page, "15-import-upload")
    page.get_by_role("button", name="Check (dry run)").click()
    report = page.locator("[data-import-report]")
    expect(report).to_contain_text("Dry run: nothing was written")
    expect(report.locator("[data-created]")).to_have_text("3")
    shot(page, "16-import-dry-run")
    page.get_by_label("The same file again").set_input_files(str(export))
    page.get_by_role("button", name="Import 3 user(s)").click()
    expect(report).to_contain_text("Imported")
    shot(page, "17-imported")
    moved = httpx.get(
        f"{provider.url}/protected/json/users/{first_id + 2}/status",
        headers={"X-Authy-API-Key": new_key},
    )
    assert moved.status_code == 200, moved.text

    # A help-desk operator may look, but not rotate a key.
    helper = f"help{secrets.token_hex(3)}"
    helper_codes = Codes(create_operator(provider, helper, "helpdesk"))
    other = desk().new_page()
    password_step(other, console_url, helper)
    other.get_by_label("Authenticator code").fill(helper_codes.next())
    other.get_by_role("button", name="Verify").click()
    expect(other.get_by_role("heading", name="Dashboard")).to_be_visible()
    refused = other.goto(f"{console_url}/apps/{app_id}/rotate")
    assert refused is not None and refused.status == 403
    expect(other.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(other, "18-helpdesk-refused")

    # A page of another origin posts to the console: refused, and nothing changes.
    page.goto(provider.url + "/healthz")  # 127.0.0.1: another origin than localhost
    page.evaluate(
        """url => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = url;
            document.body.appendChild(form);
            form.submit();
        }""",
        f"{console_url}/apps/{app_id}/delete",
    )
    expect(page.get_by_text("did not come from the console")).to_be_visible()
    shot(page, "19-cross-origin-refused")
    assert provider.services.apps.get(app_id).name == app_name

    # The audit log holds every change under the operator's name, and its chain verifies.
    audit = provider.services.audit
    wait_until(lambda: audit.chain_all() == 0, timeout=30, what="the audit chain")
    actor = f"operator:{name}"
    changes = {(e.event, e.actor) for e in audit.entries(limit=5000) if e.actor == actor}
    assert {
        ("operator.key_added", actor),
        ("app.created", actor),
        ("app.key_rotated", actor),
        ("device.revoked", actor),
        ("users.imported", actor),
    } <= changes
    verified = subprocess.run(
        twofa_command("audit", "verify", "--json"),
        env=provider.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True
