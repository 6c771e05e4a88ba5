"""Revoking a device renews the phone's authenticator secrets: what it copied stops working.

The attack: a device registered by whoever read one SMS copied every application's TOTP secret
for that phone; after the owner revoked it, codes computed from the copies were still
accepted. Now revocation gives every affected user a new secret in the same transaction, the
remaining devices are told to fetch it (accounts.changed), and old codes fail from then on.
Generic-authenticator (QR) secrets are a separate factor and stay.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from tests.live.devices.conftest import Account, new_account
from tests.live.devices.test_events import Stream
from tests.servers import LiveProvider
from twofa import otp


def verify(account: Account, code: str) -> int:
    return account.authy(
        "GET", f"/protected/json/verify/{code}/{account.authy_id}?force=true"
    ).status_code


def test_revocation_rotates_secrets_and_old_codes_fail(provider: LiveProvider) -> None:
    account = new_account(provider)
    other_app = new_account(provider, account.national)  # a second application, same phone
    kept = provider.enroll_device("1", account.national, name="kept")
    stolen = provider.enroll_device("1", account.national, name="stolen")
    copied = {a.authy_id: a.secret for a in stolen.accounts()}
    assert set(copied) == {account.authy_id, other_app.authy_id}
    qr = account.authy("POST", f"/protected/json/users/{account.authy_id}/secret", json={})
    assert qr.status_code == 200, qr.text
    generic = parse_qs(urlsplit(qr.json()["uri"]).query)["secret"][0]
    stream = Stream(kept)

    kept.revoke(stolen.device_uuid)

    assert stream.next("accounts.changed").data["reason"]
    renewed = {a.authy_id: a.secret for a in kept.accounts()}
    assert set(renewed) == set(copied)
    assert all(renewed[i] != copied[i] for i in copied)
    for holder in (account, other_app):
        old = otp.totp(copied[holder.authy_id], time.time(), digits=7)
        new = otp.totp(renewed[holder.authy_id], time.time(), digits=7)
        if old != new:
            assert verify(holder, old) == 401
        assert verify(holder, new) == 200
    # The generic (QR) secret is another factor: unchanged, and its codes still work.
    again = account.authy("POST", f"/protected/json/users/{account.authy_id}/secret", json={})
    assert parse_qs(urlsplit(again.json()["uri"]).query)["secret"][0] == generic


def test_denying_a_waiting_device_rotates_nothing(provider: LiveProvider) -> None:
    """A device that never got in never saw a secret: nothing to renew."""
    account = new_account(provider)
    first = provider.enroll_device("1", account.national)
    before = first.accounts()[0].secret
    waiting = provider.enroll_device("1", account.national, approve=False)
    first.decide_device(waiting.device_uuid, approve=False)
    assert first.accounts()[0].secret == before
