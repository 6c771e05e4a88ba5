"""A day's traffic made through the real API: the console's pages are checked against it.

Everything goes through the routes and services a deployment runs (codes texted and checked,
pushes answered by an enrolled device, callbacks delivered to a recording receiver, Verify v2
over its own API); nothing is inserted by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.provider.conftest import Authy, Callbacks, Phone, User
from tests.servers import RecordedPath
from twofa.otp import totp

UK_NATIONAL = "7700 900123"


@dataclass
class Day:
    alice: User  # texted a code, typed a wrong one, then the right one
    bob: User  # has the authenticator; pushes and an app token
    uk_user_id: int  # two codes texted to the UK, never typed
    phone: Phone
    approved: str
    denied: str
    pending: str
    short: str  # a request that expires after a second
    verify_to: str
    alice_code: str


@dataclass(frozen=True)
class Seeded:
    """A seeded day as the reports' tests read it: the day, its application, and the URL the
    application's callbacks went to."""

    day: Day
    app_id: int
    callback_url: str


def wrong(code: str) -> str:
    return "".join(str((int(c) + 1) % 10) for c in code)


def seed_day(authy: Authy, callbacks: Callbacks, receiver: RecordedPath) -> Day:
    alice = authy.new_user("alice@example.com")
    assert authy.sms(alice, force=True).status_code == 200
    code = authy.last_code(alice.phone)
    assert authy.verify(alice, wrong(code)).status_code == 401  # failed: sms
    assert authy.verify(alice, code).status_code == 200  # ok: sms

    created = authy.post(
        "/protected/json/users/new",
        json={"user": {"email": "uk@example.com", "cellphone": UK_NATIONAL, "country_code": 44}},
    )
    assert created.status_code == 200, created.text
    uk_id = int(created.json()["user"]["id"])
    for _ in range(2):
        assert (
            authy.get(f"/protected/json/sms/{uk_id}", params={"force": "true"}).status_code == 200
        )

    bob = authy.new_user("bob@example.com")
    phone = authy.enrol(bob, name="Bob's phone")
    account = next(a for a in phone.accounts() if a.authy_id == bob.id)
    token = totp(account.secret, time.time(), digits=account.digits, step=account.period)
    assert authy.verify(bob, token).status_code == 200  # ok: app

    approved = authy.push(bob, "Log in to the shop?")
    phone.approve(approved)
    assert callbacks.deliver_due() == [None]  # the receiver answered 200
    receiver.server.status = 500
    denied = authy.push(bob, "Transfer 500 EUR?")
    phone.deny(denied)
    assert callbacks.deliver_due() == ["HTTP 500"]
    receiver.server.status = 200
    pending = authy.push(bob, "Still waiting")
    short = authy.push(bob, "Too late", seconds_to_expire=1)

    verify_to = "+12015550987"
    issued = authy.services.verify.accounts.issue_account(authy.app_id)
    auth = (issued.sid, issued.secret)
    service = authy.http.post("/v2/Services", data={"FriendlyName": "Shop"}, auth=auth).json()[
        "sid"
    ]
    started = authy.http.post(
        f"/v2/Services/{service}/Verifications",
        data={"To": verify_to, "Channel": "sms"},
        auth=auth,
    )
    assert started.status_code == 201, started.text
    verify_code = authy.last_code(verify_to, 6)
    for attempt, expected in ((wrong(verify_code), "pending"), (verify_code, "approved")):
        checked = authy.http.post(
            f"/v2/Services/{service}/VerificationCheck",
            data={"To": verify_to, "Code": attempt},
            auth=auth,
        )
        assert checked.status_code == 200 and checked.json()["status"] == expected, checked.text
    authy.services.audit.flush_all()  # verification outcomes are buffered events
    authy.services.audit.chain_all()
    return Day(alice, bob, uk_id, phone, approved, denied, pending, short, verify_to, code)
