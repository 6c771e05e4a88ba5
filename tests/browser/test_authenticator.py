"""The authenticator web app in Chromium against a live provider and the official Authy client."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import PhoneUser, register_device, shot
from tests.servers import LiveProvider

pytestmark = pytest.mark.browser
SEVEN_DIGITS = re.compile(r"^\d{7}$")

# RFC 6238 appendix B: (time, SHA1, SHA256, SHA512), 8 digits.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"12345678901234567890" * 3 + b"1234",
}


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def card(page: Page, uuid: str) -> Locator:
    return page.locator(f'article.request[data-uuid="{uuid}"]')


def test_served_as_installable_app(sqlite_provider: LiveProvider) -> None:
    base = sqlite_provider.url
    redirect = httpx.get(base + "/authenticator")
    assert redirect.status_code in (307, 308)
    assert redirect.headers["location"].endswith("/authenticator/")
    index = httpx.get(base + "/authenticator/")
    assert index.status_code == 200
    assert "script-src 'self'" in index.headers["content-security-policy"]
    manifest = httpx.get(base + "/authenticator/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["display"] == "standalone"
    worker = httpx.get(base + "/authenticator/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/authenticator/"
    for icon in manifest.json()["icons"]:
        assert httpx.get(f"{base}/authenticator/{icon['src']}").status_code == 200


def test_totp_and_signatures_in_the_browser(page: Page) -> None:
    page.goto("/authenticator/")
    vectors = page.evaluate(
        """async ([vectors, seeds]) => {
          const { totp } = await import("./totp.js");
          const out = [];
          for (const [time] of vectors) {
            const row = [];
            for (const algorithm of ["SHA1", "SHA256", "SHA512"]) {
              const key = new TextEncoder().encode(seeds[algorithm]);
              row.push(await totp(key, { timeMs: time * 1000, digits: 8, algorithm }));
            }
            out.push(row);
          }
          out.push([await totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", { timeMs: 59000, digits: 8 })]);
          return out;
        }""",
        [RFC6238, {k: v.decode() for k, v in SEEDS.items()}],
    )
    assert vectors[:-1] == [[sha1, sha256, sha512] for _, sha1, sha256, sha512 in RFC6238]
    assert vectors[-1] == ["94287082"]  # the same SHA1 seed, as base32

    signed = page.evaluate(
        """async () => {
          const keys = await import("./keys.js");
          const pair = await keys.generateKeyPair();
          const text = await keys.canonicalRequest("GET", "Auth.Example.com", "/device/v1/me",
                                                   "dev-1", 1764150000, keys.newNonce(), "");
          let exported = true;
          try { await crypto.subtle.exportKey("jwk", pair.privateKey); } catch { exported = false; }
          return { text, signature: await keys.sign(pair.privateKey, text),
                   jwk: await keys.publicJwk(pair.publicKey), exported,
                   nonce: keys.newNonce() };
        }"""
    )
    assert not signed["exported"]
    assert signed["text"].split("\n")[:4] == ["GET", "auth.example.com", "/device/v1/me", "dev-1"]
    assert signed["text"].split("\n")[-1] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    raw = b64url_decode(signed["signature"])
    assert len(raw) == 64
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(signed["jwk"]["x"]), "big"),
        int.from_bytes(b64url_decode(signed["jwk"]["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, signed["text"].encode(), ec.ECDSA(hashes.SHA256()))
    assert 16 <= len(signed["nonce"]) <= 64


def test_register_code_and_approve(page: Page, phone_user: PhoneUser) -> None:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    register_device(page, phone_user, name="Test phone", screenshots=True)
    account = page.locator(f'li.account[data-authy-id="{phone_user.authy_id}"]')
    expect(account).to_contain_text("Acme Cloud")
    code = account.locator(".code")
    expect(code).to_have_attribute("data-code", SEVEN_DIGITS)
    shot(page, "04-codes")
    verified = phone_user.authy.tokens.verify(phone_user.authy_id, code.get_attribute("data-code"))
    assert verified.ok(), verified.errors()

    page.evaluate("window.notReloaded = true")
    logo = f"{phone_user.provider.url}/authenticator/icons/icon-192.png"
    sent = phone_user.authy.one_touch.send_request(
        phone_user.authy_id,
        "Log in to Acme Cloud?",
        seconds_to_expire=120,
        details={"Email": "user@example.com", "Location": "Berlin, DE"},
        logos=[{"res": "default", "url": logo}],
    )
    assert sent.ok(), sent.errors()
    uuid = sent.get_uuid()
    request = card(page, uuid)
    expect(request).to_be_visible()
    expect(request).to_contain_text("Log in to Acme Cloud?")
    expect(request).to_contain_text("Berlin, DE")
    expect(request.locator(".time-left")).to_contain_text("Expires in")
    expect(page.locator("#announcer")).to_contain_text("New request from")
    assert page.evaluate("window.notReloaded") is True
    shot(page, "05-request")

    request.get_by_role("button", name="Approve").click()
    expect(request).to_have_count(0)
    status = phone_user.authy.one_touch.get_approval_status(uuid)
    assert status.content["approval_request"]["status"] == "approved"

    page.get_by_role("button", name="History").click()
    entry = page.locator(f'#history li[data-uuid="{uuid}"]')
    expect(entry).to_contain_text("Approved")
    shot(page, "06-history")
    assert errors == []  # no CSP violation, no uncaught exception


def test_second_device_sees_answer_deny_and_revoke(
    new_context: Callable[[], BrowserContext], phone_user: PhoneUser
) -> None:
    first = new_context().new_page()
    second = new_context().new_page()
    register_device(first, phone_user, name="Work laptop")
    register_device(second, phone_user, name="Phone", approve_on=first)

    sent = phone_user.authy.one_touch.send_request(phone_user.authy_id, "Confirm the transfer?")
    uuid = sent.get_uuid()
    expect(card(first, uuid)).to_be_visible()
    expect(card(second, uuid)).to_be_visible()

    card(first, uuid).get_by_role("button", name="Deny").click()
    expect(card(second, uuid)).to_have_count(0)
    expect(card(first, uuid)).to_have_count(0)
    status = phone_user.authy.one_touch.get_approval_status(uuid)
    assert status.content["approval_request"]["status"] == "denied"
    expect(second.locator("#toast")).to_contain_text("denied on another device")

    first.get_by_role("button", name="Devices").click()
    rows = first.locator("#devices li.item")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("This device")
    shot(first, "07-devices")
    first.get_by_role("button", name="Revoke Phone").click()
    expect(first.locator("#confirm")).to_be_visible()
    shot(first, "08-revoke-dialog")
    first.locator("#confirm").get_by_role("button", name="Revoke").click()
    expect(rows).to_have_count(1)
    expect(second.locator("#step-phone")).to_be_visible()  # the revoked browser starts over


def test_number_matching(page: Page, phone_user: PhoneUser) -> None:
    register_device(page, phone_user)

    def push() -> tuple[str, int]:
        answer = httpx.post(
            f"{phone_user.provider.url}/onetouch/json/users/{phone_user.authy_id}/approval_requests",
            headers={"X-Authy-API-Key": phone_user.api_key},
            json={
                "message": "Sign in from a new browser",
                "number_matching": True,
                "details": {"Browser": "Firefox on Windows"},
            },
        )
        body = answer.json()["approval_request"]
        return body["uuid"], int(body["number"])

    uuid, number = push()
    request = card(page, uuid)
    typed = request.get_by_label("Number shown on the login screen")
    expect(typed).to_be_visible()
    expect(request.locator(".numbers button")).to_have_count(0)  # nothing to tap at random
    shot(page, "09-number-matching")
    request.get_by_role("button", name="Approve").click()
    expect(request.locator(".request-status")).to_contain_text("Type the two-digit number")
    typed.fill(str(number))
    request.get_by_role("button", name="Approve").click()
    expect(request).to_have_count(0)
    assert (
        phone_user.authy.one_touch.get_approval_status(uuid).content["approval_request"]["status"]
        == "approved"
    )

    uuid, number = push()
    request = card(page, uuid)
    request.get_by_label("Number shown on the login screen").fill(str(10 + (number - 9) % 90))
    request.get_by_role("button", name="Approve").click()
    expect(request.locator(".request-status")).to_contain_text("not the number")
    assert (
        phone_user.authy.one_touch.get_approval_status(uuid).content["approval_request"]["status"]
        == "denied"
    )


def test_codes_work_offline(
    new_context: Callable[[], BrowserContext], phone_user: PhoneUser
) -> None:
    context = new_context()
    page = context.new_page()
    register_device(page, phone_user)
    code = page.locator(f'li.account[data-authy-id="{phone_user.authy_id}"] .code')
    expect(code).to_have_attribute("data-code", SEVEN_DIGITS)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker
    expect(page.locator(".status")).to_have_attribute("data-status", "live")
    context.set_offline(True)
    page.reload()
    expect(code).to_have_attribute("data-code", SEVEN_DIGITS)
    expect(page.locator(".status")).not_to_have_attribute("data-status", "live")
    shot(page, "10-offline")

    sent = phone_user.authy.one_touch.send_request(phone_user.authy_id, "Sent while offline")
    context.set_offline(False)  # the "online" event reconnects at once, no backoff wait
    expect(page.locator(".status")).to_have_attribute("data-status", "live")
    expect(card(page, sent.get_uuid())).to_be_visible()
