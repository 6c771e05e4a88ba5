"""Device trust in Chromium: a second device asks and the first approves it by typing the number
it shows, or denies it; a revoked device loses its stream and starts over."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import PhoneUser, register_device, shot

pytestmark = pytest.mark.browser


def ask_to_join(page: Page, user: PhoneUser, name: str) -> str:
    """Register ``page`` as a further device; returns the number it shows."""
    page.goto("/authenticator/")
    page.get_by_label("Country code").fill("1")
    page.get_by_label("Phone number").fill(user.phone)
    page.get_by_role("button", name="Send code").click()
    expect(page.locator("#step-code")).to_be_visible()
    page.get_by_label("6-digit code").fill(user.provider.last_code(user.e164, digits=6))
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Device name").fill(name)
    page.get_by_role("button", name="Finish").click()
    waiting = page.locator("#step-approval")
    expect(waiting).to_be_visible()
    number = page.locator("[data-approval-number]").inner_text()
    assert number.isdigit() and len(number) == 2
    return number


def test_second_device_asks_and_the_first_approves_by_typing_the_number(
    new_context: Callable[[], BrowserContext], phone_user: PhoneUser
) -> None:
    first = new_context().new_page()
    second = new_context().new_page()
    register_device(first, phone_user, name="Phone")
    number = ask_to_join(second, phone_user, "New laptop")
    shot(second, "10-new-device-waits")
    joining = first.locator("[data-device-request]")
    expect(joining).to_contain_text("New laptop")
    expect(joining).to_contain_text("127.0.0.1")
    expect(joining).not_to_contain_text(number)  # only the new device shows it
    shot(first, "11-approve-new-device")
    joining.get_by_role("button", name="Approve").click()
    expect(joining).to_contain_text("Type the two-digit number")  # approving needs the number
    joining.get_by_label("Number shown on the new device").fill(number)
    joining.get_by_role("button", name="Approve").click()
    expect(joining).to_have_count(0)
    expect(second.locator("#app")).to_be_visible()
    expect(second.locator(".status")).to_have_attribute("data-status", "live")
    expect(
        second.locator(f'li.account[data-authy-id="{phone_user.authy_id}"] .code')
    ).to_have_attribute("data-code", re.compile(r"^\d{7}$"))
    assert "New laptop" in phone_user.provider.outbox(phone_user.e164)[-1].body


def test_the_first_device_denies(
    new_context: Callable[[], BrowserContext], phone_user: PhoneUser
) -> None:
    first = new_context().new_page()
    second = new_context().new_page()
    register_device(first, phone_user, name="Phone")
    ask_to_join(second, phone_user, "Not mine")
    joining = first.locator("[data-device-request]")
    expect(joining).to_contain_text("Not mine")
    joining.get_by_role("button", name="Deny").click()
    expect(joining).to_have_count(0)
    expect(second.locator("#step-phone")).to_be_visible()
    expect(second.locator("#step-phone [data-error]")).to_contain_text("did not approve")
    expect(second.locator("#app")).to_be_hidden()


def test_a_wrong_number_denies(
    new_context: Callable[[], BrowserContext], phone_user: PhoneUser
) -> None:
    first = new_context().new_page()
    second = new_context().new_page()
    register_device(first, phone_user, name="Phone")
    number = ask_to_join(second, phone_user, "Guess")
    joining = first.locator("[data-device-request]")
    joining.get_by_label("Number shown on the new device").fill(str(10 + (int(number) - 9) % 90))
    joining.get_by_role("button", name="Approve").click()
    expect(first.locator("#toast")).to_contain_text("did not match")
    expect(second.locator("#step-phone [data-error]")).to_contain_text("did not approve")


def test_revocation_ends_the_other_devices_codes_and_stream(
    new_context: Callable[[], BrowserContext], phone_user: PhoneUser
) -> None:
    first = new_context().new_page()
    second = new_context().new_page()
    register_device(first, phone_user, name="Phone")
    register_device(second, phone_user, name="Lost tablet", approve_on=first)
    code_of = f'li.account[data-authy-id="{phone_user.authy_id}"] .code'
    expect(second.locator(code_of)).to_have_attribute("data-code", re.compile(r"^\d{7}$"))
    stolen_code = second.locator(code_of).get_attribute("data-code")
    before = first.locator(code_of).get_attribute("data-code")

    first.get_by_role("button", name="Devices").click()
    first.get_by_role("button", name="Revoke Lost tablet").click()
    first.locator("#confirm").get_by_role("button", name="Revoke").click()
    expect(second.locator("#step-phone")).to_be_visible()  # its stream ended: it starts over
    # The first device fetched the renewed secret live; the copied one no longer verifies.
    first.get_by_role("button", name="Codes").click()
    expect(first.locator(code_of)).not_to_have_attribute("data-code", before or "")
    fresh = first.locator(code_of).get_attribute("data-code")
    tokens = phone_user.authy.tokens
    assert tokens.verify(phone_user.authy_id, fresh).ok()
    assert not tokens.verify(phone_user.authy_id, stolen_code, {"force": True}).ok()
