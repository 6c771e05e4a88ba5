"""Verify's second scope with the official ``twilio`` package: entities, TOTP factors and
challenges (contract §7: 33-36 and 40)."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pyotp
import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.compat.test_verify_client import raises
from tests.compat.verify_helpers import Account, RecordingHttpClient, new_account
from tests.servers import LiveProvider, RecordingServer

IDENTITY = "ff483d1ff591898a9942916050d2ca3f"


@pytest.fixture
def account(provider: LiveProvider) -> Account:
    return new_account(provider)


@pytest.fixture
def client(account: Account) -> Client:
    return account.client()


@pytest.fixture
def service_sid(client: Client) -> str:
    return str(client.verify.v2.services.create(friendly_name="Factors", totp_issuer="twofa").sid)


def code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


def verified_factor(client: Client, service_sid: str) -> tuple[str, str]:
    entity = client.verify.v2.services(service_sid).entities(IDENTITY)
    made = entity.new_factors.create(friendly_name="Alice", factor_type="totp")
    entity.factors(made.sid).update(auth_payload=code(made.binding["secret"]))
    return made.sid, made.binding["secret"]


def test_33_entities(provider: LiveProvider, client: Client, service_sid: str) -> None:
    entities = client.verify.v2.services(service_sid).entities
    made = entities.create(identity=IDENTITY)
    assert made.sid.startswith("YE") and made.identity == IDENTITY
    assert made.links["factors"].startswith(provider.url)
    assert entities(IDENTITY).fetch().sid == made.sid
    assert [e.identity for e in entities.list()] == [IDENTITY]
    with raises(400, 60200):
        entities.create(identity="short")
    assert entities(IDENTITY).delete() is True
    with raises(404, 20404):
        entities(IDENTITY).fetch()


def test_34_totp_factor_binding_shown_once(client: Client, service_sid: str) -> None:
    entity = client.verify.v2.services(service_sid).entities(IDENTITY)
    made = entity.new_factors.create(friendly_name="Alice", factor_type="totp")
    secret = made.binding["secret"]
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) >= 10
    assert made.binding["uri"].startswith("otpauth://totp/")
    query = parse_qs(urlsplit(made.binding["uri"]).query)
    assert query["secret"] == [secret] and query["issuer"] == ["twofa"]
    assert (made.status, made.factor_type) == ("unverified", "totp")
    assert made.config == {"alg": "sha1", "skew": 1, "code_length": 6, "time_step": 30}
    fetched = entity.factors(made.sid).fetch()
    assert not hasattr(fetched, "binding") or getattr(fetched, "binding", None) is None
    assert [f.sid for f in entity.factors.list()] == [made.sid]


def test_35_verify_factor(client: Client, service_sid: str) -> None:
    entity = client.verify.v2.services(service_sid).entities(IDENTITY)
    made = entity.new_factors.create(friendly_name="Alice", factor_type="totp")
    secret = made.binding["secret"]
    wrong = f"{(int(code(secret)) + 1) % 10**6:06d}"
    assert entity.factors(made.sid).update(auth_payload=wrong).status == "unverified"
    assert entity.factors(made.sid).update(auth_payload=code(secret)).status == "verified"
    other = entity.new_factors.create(friendly_name="Bob", factor_type="totp")
    for _ in range(5):
        assert entity.factors(other.sid).update(auth_payload=wrong).status == "unverified"
    with raises(429, 60310):
        entity.factors(other.sid).update(auth_payload=code(other.binding["secret"]))


def test_36_challenges(client: Client, service_sid: str) -> None:
    factor_sid, secret = verified_factor(client, service_sid)
    challenges = client.verify.v2.services(service_sid).entities(IDENTITY).challenges
    # The verification spent the current step; the next step's code is a fresh one.
    approved = challenges.create(factor_sid=factor_sid, auth_payload=code(secret, 30))
    assert (approved.status, approved.factor_type) == ("approved", "totp")
    assert approved.date_responded is not None
    pending = challenges.create(factor_sid=factor_sid, details_message="Login?")
    wrong = "000000" if code(secret) != "000000" else "111111"
    for _ in range(5):
        assert challenges(pending.sid).update(auth_payload=wrong).status == "pending"
    with raises(429, 60308):
        challenges(pending.sid).update(auth_payload=wrong)
    assert challenges(pending.sid).fetch().status == "pending"
    with raises(400, 60200):
        challenges.create(factor_sid="YF" + "0" * 32)


def test_40_challenge_list_paging_keeps_filters(
    provider: LiveProvider, account: Account, service_sid: str
) -> None:
    http = RecordingHttpClient()
    client = account.client(http)
    factor_sid, _ = verified_factor(client, service_sid)
    challenges = client.verify.v2.services(service_sid).entities(IDENTITY).challenges
    made = [challenges.create(factor_sid=factor_sid, details_message=f"m{i}").sid for i in range(3)]
    http.calls.clear()
    listed = challenges.list(factor_sid=factor_sid, status="pending", page_size=1)
    assert [c.sid for c in listed] == made
    gets = [url for method, url, _, _ in http.calls if method == "GET"]
    assert len(gets) == 3 and all(u.startswith(provider.url) for u in gets)
    assert "Status=pending" in gets[2] and f"FactorSid={factor_sid}" in gets[2]
    newest_first = challenges.list(order="desc", status="pending")
    assert [c.sid for c in newest_first] == made[::-1]
    assert challenges.list(status="approved") == []


def test_webhooks_resource(provider: LiveProvider, client: Client, service_sid: str) -> None:
    hooks = client.verify.v2.services(service_sid).webhooks
    made = hooks.create(
        friendly_name="hook",
        event_types=["factor.verified", "challenge.approved"],
        webhook_url="https://hooks.example.com/verify",
        resource_version="v2",
    )
    assert made.sid.startswith("YW") and made.webhook_method == "POST"
    assert made.event_types == ["challenge.approved", "factor.verified"]
    assert (made.status, made.version) == ("enabled", "v2")
    assert made.url.startswith(provider.url)
    assert [h.sid for h in hooks.list()] == [made.sid]
    updated = hooks(made.sid).update(status="disabled", event_types=["*"])
    assert (updated.status, updated.event_types) == ("disabled", ["*"])
    with raises(400, 60200):
        hooks.create(friendly_name="bad", event_types=["nope"], webhook_url="https://x.example")
    with raises(400, 60200):
        hooks.create(friendly_name="bad", event_types=["*"], webhook_url="ftp://x.example")
    assert hooks(made.sid).delete() is True
    with raises(404, 20404):
        hooks(made.sid).fetch()


def test_39_webhook_signed_for_the_official_validator(
    provider: LiveProvider, account: Account, client: Client, service_sid: str
) -> None:
    receiver = RecordingServer()
    try:
        url = receiver.url + "/twilio/verify-events?tenant=7"
        client.verify.v2.services(service_sid).webhooks.create(
            friendly_name="events",
            event_types=["challenge.approved", "factor.verified"],
            webhook_url=url,
            resource_version="v2",
        )
        factor_sid, secret = verified_factor(client, service_sid)
        challenges = client.verify.v2.services(service_sid).entities(IDENTITY).challenges
        challenge = challenges.create(
            factor_sid=factor_sid, auth_payload=code(secret, 30), hidden_details={"ip": "1.2.3.4"}
        )
        assert challenge.status == "approved"
        received = receiver.wait_for(2)
    finally:
        receiver.close()
    validator = RequestValidator(account.auth_token)
    events = []
    for request in received:
        assert request.method == "POST" and request.path == "/twilio/verify-events?tenant=7"
        params = dict(parse_qsl(request.body.decode()))
        assert validator.validate(url, params, request.headers["X-Twilio-Signature"])
        assert not RequestValidator("0" * 32).validate(
            url, params, request.headers["X-Twilio-Signature"]
        )
        assert params["account_sid"] == account.account_sid
        assert params["service_sid"] == service_sid and params["entity_identity"] == IDENTITY
        events.append(params)
    by_type = {e["type"]: e for e in events}
    assert set(by_type) == {"factor.verified", "challenge.approved"}
    approved = by_type["challenge.approved"]
    assert approved["challenge_sid"] == challenge.sid and approved["status"] == "approved"
    assert json.loads(approved["challenge_hidden_details"]) == {"ip": "1.2.3.4"}
    assert by_type["factor.verified"]["factor_sid"] == factor_sid
