"""Web Push in Chromium: the Notifications switch, a wake-up while the app is closed, the click.

Headless Chromium cannot subscribe at Google's push service (and the network is loopback only),
so ``pushManager.subscribe`` is stubbed to return a subscription of the fake push service
(tests/fakepush.py). The provider then really encrypts and sends the wake-up to that service,
which decrypts it with the subscription's key; the test hands the decrypted message to the
service worker through the DevTools protocol (``ServiceWorker.deliverPushMessage``), exactly
where the browser would after decrypting it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from authy.api import AuthyApiClient
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Worker, expect
from sqlalchemy import select

from tests.browser.conftest import PHONE_VIEWPORT, PhoneUser, register_device, shot
from tests.fakepush import FakePushService, Subscription
from tests.live.devices.test_device_approval import ask_to_join
from tests.live.webpush.conftest import webpush_env
from tests.servers import LiveProvider, start_provider
from twofa.storage.tables import devices, webpush_subscriptions

pytestmark = pytest.mark.browser

# Replaces the Push API's subscribe/getSubscription with the fake service's subscription, and
# records the applicationServerKey the app subscribed with.
STUB = """
(() => {
  const state = { json: null, key: null };
  window.__push = state;
  const make = () => ({
    endpoint: state.json.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: state.key },
    toJSON: () => state.json,
    unsubscribe: async () => { state.active = false; return true; },
    getKey: () => null,
  });
  PushManager.prototype.subscribe = async function (options) {
    state.key = new Uint8Array(options.applicationServerKey).buffer;
    state.active = true;
    return make();
  };
  PushManager.prototype.getSubscription = async function () {
    return state.active ? make() : null;
  };
})();
"""


@pytest.fixture(scope="module")
def push_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakePushService]:
    service = FakePushService(tmp_path_factory.mktemp("fakepush-browser"))
    yield service
    service.stop()


@pytest.fixture(scope="module")
def push_provider(
    push_service: FakePushService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveProvider]:
    tmp = tmp_path_factory.mktemp("provider-webpush-browser")
    live = start_provider(tmp, f"sqlite:///{tmp / 'provider.db'}", **webpush_env(push_service))
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def phone_user(push_provider: LiveProvider) -> PhoneUser:
    _, api_key = push_provider.new_app("Acme Cloud")
    client = AuthyApiClient(api_key, api_uri=push_provider.url)
    phone = push_provider.new_phone()
    user = client.users.create("user@example.com", phone, 1)
    assert user.ok(), user.errors()
    return PhoneUser(push_provider, api_key, client, int(user.id), phone)


@pytest.fixture
def context(browser: Browser, push_provider: LiveProvider) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=push_provider.url,
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        locale="en-US",
        color_scheme="light",
    )
    context.set_default_timeout(10_000)
    context.grant_permissions(["notifications"], origin=push_provider.url)
    context.add_init_script(STUB)
    yield context
    context.close()


def worker_of(context: BrowserContext, page: Page) -> Worker:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    deadline = time.monotonic() + 10
    while not context.service_workers:
        assert time.monotonic() < deadline, "no service worker"
        time.sleep(0.05)
    return context.service_workers[0]


def registration_id(page: Page, cdp: CDPSession, scope: str) -> str:
    """The service worker registration's id, from the DevTools ServiceWorker domain."""
    found: dict[str, str] = {}

    def seen(event: dict[str, Any]) -> None:
        for registration in event.get("registrations", []):
            if registration["scopeURL"] == scope and not registration.get("isDeleted"):
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found:
        assert time.monotonic() < deadline, "registration not reported"
        page.wait_for_timeout(50)  # lets Playwright dispatch the DevTools events
    return found["id"]


def notifications(worker: Worker) -> list[dict[str, Any]]:
    return worker.evaluate(  # type: ignore[no-any-return]
        """() => self.registration.getNotifications().then((list) => list.map((n) => ({
             title: n.title, body: n.body, tag: n.tag,
             requireInteraction: n.requireInteraction, data: n.data })))"""
    )


def wait_notifications(
    worker: Worker, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = notifications(worker)
        if check(found):
            return found
        assert time.monotonic() < deadline, f"notifications now: {found}"
        time.sleep(0.1)


def subscription_of(provider: LiveProvider, device_uuid: str) -> str | None:
    with provider.services.db.read() as conn:
        return conn.execute(
            select(webpush_subscriptions.c.endpoint)
            .join(devices, devices.c.id == webpush_subscriptions.c.device_id)
            .where(devices.c.uuid == device_uuid)
        ).scalar()


def wait_payload(
    push_service: FakePushService, sub: Subscription, payload: dict[str, Any]
) -> dict[str, Any]:
    """Wait until ``sub`` received this wake-up (device notices may arrive in between)."""
    deadline = time.monotonic() + 15
    while payload not in [push.payload for push in push_service.received(sub)]:
        assert time.monotonic() < deadline, f"no {payload} in {push_service.received(sub)}"
        time.sleep(0.05)
    return payload


def deliverer(
    push_provider: LiveProvider, cdp: CDPSession, registration: str
) -> Callable[[dict[str, Any]], None]:
    """What the browser does with a decrypted message: the worker's push event."""

    def deliver(payload: dict[str, Any]) -> None:
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": push_provider.url,
                "registrationId": registration,
                "data": json.dumps(payload),
            },
        )

    return deliver


def enable_notifications(page: Page, sub: Subscription) -> None:
    page.evaluate("json => { window.__push.json = json; }", sub.json())
    page.get_by_role("button", name="Devices").click()
    switch = page.get_by_role("switch", name="Notifications")
    expect(switch).not_to_be_checked()
    switch.click()
    expect(page.locator("#notify-help")).to_contain_text("On:")
    expect(switch).to_be_checked()


def test_wake_up_becomes_a_notification_that_opens_the_card(
    context: BrowserContext,
    push_provider: LiveProvider,
    push_service: FakePushService,
    phone_user: PhoneUser,
) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    register_device(page, phone_user, name="Phone")
    device_uuid = page.evaluate(
        """async () => (await (await import("./db.js")).get("device")).uuid"""
    )
    sub = push_service.subscribe()
    enable_notifications(page, sub)
    shot(page, "11-notifications-on")
    assert subscription_of(push_provider, device_uuid) == sub.endpoint
    server_key = page.evaluate(
        "() => btoa(String.fromCharCode(...new Uint8Array(window.__push.key)))"
    )
    public_key = push_provider.services.webpush.public_key()
    assert server_key.rstrip("=") == public_key.replace("-", "+").replace("_", "/").rstrip("=")
    worker = worker_of(context, page)
    scope = f"{push_provider.url}/authenticator/"

    # The app is closed; only an unrelated tab remains to talk to DevTools through.
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    registration = registration_id(blank, cdp, scope)
    page.close()

    sent = phone_user.authy.one_touch.send_request(
        phone_user.authy_id, "Log in to Acme Cloud?", details={"Email": "user@example.com"}
    )
    uuid = sent.get_uuid()
    [push] = push_service.wait_for(sub)
    assert push.payload == {"t": "request", "uuid": uuid}
    assert push_service.errors == []

    deliver = deliverer(push_provider, cdp, registration)
    deliver(push.payload)
    [shown] = wait_notifications(worker, lambda found: len(found) == 1)
    assert shown["title"].startswith("Acme Cloud")
    assert shown["body"] == "Log in to Acme Cloud?"
    assert shown["tag"] == uuid and shown["requireInteraction"] is True
    assert shown["data"]["url"] == f"./?request={uuid}"

    # Clicking opens the app at the notification's URL (``clients.openWindow``, which only a
    # real click may call: the test opens that URL itself), on the request's card.
    app = context.new_page()
    app.goto(f"/authenticator/{shown['data']['url'][2:]}")
    request = app.locator(f'article.request[data-uuid="{uuid}"]')
    expect(request).to_have_class("request card revealed")
    shot(app, "12-opened-from-notification")

    # With the app open, a click is handed to it: the card is brought forward, the
    # notification closed.
    app.goto("/authenticator/")
    expect(request).to_be_visible()
    expect(request).not_to_have_class("request card revealed")
    worker.evaluate(
        """async () => {
             const [notification] = await self.registration.getNotifications();
             self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
           }"""
    )
    expect(request).to_have_class("request card revealed")
    wait_notifications(worker, lambda found: found == [])
    request.get_by_role("button", name="Approve").click()
    expect(request).to_have_count(0)
    status = phone_user.authy.one_touch.get_approval_status(uuid)
    assert status.content["approval_request"]["status"] == "approved"
    wait_notifications(worker, lambda found: found == [])
    app.close()

    # A request answered on another device closes its notification here.
    other = push_provider.enroll_device("1", phone_user.phone, name="Laptop")
    second = phone_user.authy.one_touch.send_request(phone_user.authy_id, "Confirm transfer?")
    uuid = second.get_uuid()
    deliver(wait_payload(push_service, sub, {"t": "request", "uuid": uuid}))
    wait_notifications(worker, lambda found: [n["tag"] for n in found] == [uuid])
    other.deny(uuid)
    deliver(wait_payload(push_service, sub, {"t": "ended", "uuid": uuid}))
    wait_notifications(worker, lambda found: found == [])
    assert push_service.errors == []
    assert errors == []


def test_device_notices_open_the_join_card_and_the_devices_list(
    context: BrowserContext,
    push_provider: LiveProvider,
    push_service: FakePushService,
    phone_user: PhoneUser,
) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    register_device(page, phone_user, name="Phone")
    sub = push_service.subscribe()
    enable_notifications(page, sub)
    worker = worker_of(context, page)
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    deliver = deliverer(
        push_provider, cdp, registration_id(blank, cdp, f"{push_provider.url}/authenticator/")
    )
    page.close()

    # A new device asks to join while the app is closed.
    newcomer, answer = ask_to_join(push_provider, phone_user.phone, name="Laptop")
    uuid = newcomer.device_uuid
    deliver(wait_payload(push_service, sub, {"t": "device", "event": "pending", "uuid": uuid}))
    [asked] = wait_notifications(worker, lambda found: len(found) == 1)
    assert asked["title"] == "A new device asks to join"
    assert asked["body"] == "“Laptop” (web) asks to join your phone. Open twofa to answer."
    assert asked["tag"] == f"device-pending:{uuid}" and asked["requireInteraction"] is True
    assert asked["data"]["url"] == f"./?device={uuid}"

    # Its URL opens the app on the join card, where the number is typed.
    app = context.new_page()
    app.on("pageerror", lambda error: errors.append(str(error)))
    app.goto(f"/authenticator/{asked['data']['url'][2:]}")
    card = app.locator(f'[data-device-request="{uuid}"]')
    expect(card).to_have_class("card request joining revealed")
    expect(card.get_by_label("Number shown on the new device")).to_be_focused()
    shot(app, "13-opened-join-card-from-notification")
    number = answer["approval"]["number"]  # type: ignore[index]
    card.get_by_label("Number shown on the new device").fill(str(number))
    card.get_by_role("button", name="Approve").click()
    expect(card).to_have_count(0)
    wait_notifications(worker, lambda found: found == [])  # the answered card's notice closed

    deliver(wait_payload(push_service, sub, {"t": "device", "event": "added", "uuid": uuid}))
    [added] = wait_notifications(worker, lambda found: len(found) == 1)
    assert added["title"] == "Device added" and added["body"].startswith("“Laptop” was added")
    assert added["tag"] == f"device-added:{uuid}" and added["requireInteraction"] is False

    # Revoked: the provider no longer lists it, so the notice says only that.
    newcomer.revoke()
    deliver(wait_payload(push_service, sub, {"t": "device", "event": "revoked", "uuid": uuid}))
    found = wait_notifications(worker, lambda found: len(found) == 2)
    revoked = next(n for n in found if n["tag"] == f"device-revoked:{uuid}")
    assert revoked["body"] == "A device was removed from your phone."
    assert revoked["data"]["url"] == "./?view=devices"

    # A click with the app open shows its devices list.
    expect(app.locator("#panel-devices")).to_be_hidden()
    worker.evaluate(
        """async (tag) => {
             const [notification] = await self.registration.getNotifications({ tag });
             self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
           }""",
        f"device-revoked:{uuid}",
    )
    expect(app.locator("#panel-devices")).to_be_visible()
    assert push_service.errors == []
    assert errors == []


def test_generic_notification_when_offline_and_turning_off(
    context: BrowserContext,
    push_provider: LiveProvider,
    push_service: FakePushService,
    phone_user: PhoneUser,
) -> None:
    page = context.new_page()
    register_device(page, phone_user)
    device_uuid = page.evaluate(
        """async () => (await (await import("./db.js")).get("device")).uuid"""
    )
    enable_notifications(page, push_service.subscribe())
    worker = worker_of(context, page)
    blank = context.new_page()
    cdp = context.new_cdp_session(blank)
    registration = registration_id(blank, cdp, f"{push_provider.url}/authenticator/")

    # The wake-up arrives but the provider cannot be reached: a generic notification.
    context.set_offline(True)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": push_provider.url,
            "registrationId": registration,
            "data": json.dumps({"t": "request", "uuid": "0f2c3b7e-uuid"}),
        },
    )
    [shown] = wait_notifications(worker, lambda found: len(found) == 1)
    assert shown["body"] == "You have a sign-in request"
    assert shown["tag"] == "0f2c3b7e-uuid"
    context.set_offline(False)

    # Turning notifications off forgets the subscription at the provider and in the browser.
    switch = page.get_by_role("switch", name="Notifications")
    switch.click()
    expect(page.locator("#toast")).to_contain_text("Notifications are off.")
    expect(switch).not_to_be_checked()
    assert subscription_of(push_provider, device_uuid) is None
    assert page.evaluate("window.__push.active") is False
    wait_notifications(worker, lambda found: found == [])
    page.reload()
    page.get_by_role("button", name="Devices").click()
    expect(page.get_by_role("switch", name="Notifications")).not_to_be_checked()


def test_worker_and_page_sign_the_same_text(
    context: BrowserContext, push_provider: LiveProvider
) -> None:
    """The worker repeats the page's request signing (it cannot import ES modules)."""
    page = context.new_page()
    page.goto("/authenticator/")
    worker = worker_of(context, page)
    args = ["GET", "/device/v1/requests", "0f2c3b7e-d1", "1764150000", "n" * 24]
    body_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    in_worker = worker.evaluate(
        "([m, p, d, t, n, h]) => pushCanonical(m, p, d, t, n, h)", [*args, body_hash]
    )
    in_page = page.evaluate(
        """async ([m, p, d, t, n]) => {
             const keys = await import("./keys.js");
             const signed = keys.canonicalRequest.length > 5
               ? keys.canonicalRequest(m, location.hostname, p, d, t, n, "")
               : keys.canonicalRequest(m, p, t, n, "");
             return await signed;
           }""",
        args,
    )
    assert in_worker == in_page
