"""The official ``twilio`` Python package against the provider's Verify v2 routes.

Only ``client.verify.base_url`` changes (contract §1.1). The numbers refer to the contract's
§7 checklist; every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.compat.verify_helpers import (
    Account,
    RecordingHttpClient,
    new_account,
    new_number,
    sent_code,
)
from tests.servers import LiveProvider


@pytest.fixture
def account(provider: LiveProvider) -> Account:
    return new_account(provider)


@pytest.fixture
def client(account: Account) -> Client:
    return account.client()


@pytest.fixture
def service_sid(client: Client) -> str:
    return str(client.verify.v2.services.create(friendly_name="Compat").sid)


def raises(status: int, code: int) -> pytest.RaisesContext[TwilioRestException]:
    return pytest.raises(TwilioRestException, check=lambda e: (e.status, e.code) == (status, code))


def is_utc_datetime(value: object) -> bool:
    return (
        isinstance(value, datetime)
        and value.tzinfo is not None
        and value.utcoffset() == (UTC.utcoffset(None))
    )


# Services (1-5) ------------------------------------------------------------------------------


def test_1_create_service(provider: LiveProvider, client: Client) -> None:
    service = client.verify.v2.services.create(friendly_name="My App")
    assert re.fullmatch(r"VA[0-9a-f]{32}", service.sid)
    assert service.code_length == 6
    assert service.friendly_name == "My App"
    assert is_utc_datetime(service.date_created) and is_utc_datetime(service.date_updated)
    assert service.url.startswith(provider.url + "/v2/Services/")
    assert service.links["verification_checks"].startswith(provider.url)
    assert service.account_sid.startswith("AC")
    assert service.custom_code_enabled is False


def test_2_service_settings_out_of_range(client: Client) -> None:
    services = client.verify.v2.services
    with raises(400, 60200):
        services.create(friendly_name="x" * 31)
    for length in (3, 11):
        with raises(400, 60200):
            services.create(friendly_name="App", code_length=length)


def test_3_fetch_and_update(client: Client, service_sid: str) -> None:
    fetched = client.verify.v2.services(service_sid).fetch()
    assert fetched.friendly_name == "Compat"
    updated = client.verify.v2.services(service_sid).update(
        friendly_name="B", code_length=8, do_not_share_warning_enabled=True, totp_skew=2
    )
    assert (updated.friendly_name, updated.code_length) == ("B", 8)
    assert updated.do_not_share_warning_enabled is True
    assert updated.totp["skew"] == 2
    assert updated.date_updated >= updated.date_created
    assert client.verify.v2.services(service_sid).fetch().code_length == 8


def test_4_list_follows_next_page_url_on_our_host(provider: LiveProvider, account: Account) -> None:
    http = RecordingHttpClient()
    client = account.client(http)
    made = [client.verify.v2.services.create(friendly_name=f"S{i}").sid for i in range(3)]
    http.calls.clear()
    listed = [s.sid for s in client.verify.v2.services.list(page_size=2)]
    assert listed == made
    gets = [url for method, url, _, _ in http.calls if method == "GET"]
    assert len(gets) == 2
    assert gets[1].startswith(provider.url + "/v2/Services?") and "PageToken=" in gets[1]


def test_5_delete_then_fetch(client: Client, service_sid: str) -> None:
    assert client.verify.v2.services(service_sid).delete() is True
    with raises(404, 20404):
        client.verify.v2.services(service_sid).fetch()


# Credentials (6-7) ---------------------------------------------------------------------------


def test_6_wrong_auth_token(account: Account, service_sid: str) -> None:
    wrong = Account(account.app_id, account.account_sid, "0" * 32, account.provider).client()
    with raises(401, 20003):
        wrong.verify.v2.services(service_sid).fetch()
    stranger = Client("AC" + "1" * 32, account.auth_token)
    stranger.verify.base_url = account.provider.url
    with raises(401, 20003):
        stranger.verify.v2.services.create(friendly_name="x")


def test_7_api_key(provider: LiveProvider, account: Account, service_sid: str) -> None:
    key = provider.services.verify.accounts.create_key(account.app_id, "compat")
    http = RecordingHttpClient()
    client = Client(key.sid, key.secret, account.account_sid, http_client=http)
    client.verify.base_url = provider.url
    started = client.verify.v2.services(service_sid).verifications.create(
        to=new_number(provider), channel="sms"
    )
    assert started.status == "pending"
    assert started.account_sid == account.account_sid
    assert http.calls[-1][2] == key.sid
    # A revoked key is refused (one the server has not cached: its cache lives 5 s).
    revoked = provider.services.verify.accounts.create_key(account.app_id, "revoked")
    provider.services.verify.accounts.revoke_key(account.app_id, revoked.sid)
    fresh = Client(revoked.sid, revoked.secret, account.account_sid)
    fresh.verify.base_url = provider.url
    with raises(401, 20003):
        fresh.verify.v2.services(service_sid).fetch()


# Verifications and checks (8-17) --------------------------------------------------------------


def test_8_start(provider: LiveProvider, client: Client, service_sid: str) -> None:
    to = new_number(provider)
    started = client.verify.v2.services(service_sid).verifications.create(to=to, channel="sms")
    assert started.status == "pending" and started.valid is False
    assert re.fullmatch(r"VE[0-9a-f]{32}", started.sid)
    assert len(started.send_code_attempts) == 1
    assert started.send_code_attempts[0]["channel"] == "SMS"
    assert is_utc_datetime(started.date_created)
    assert started.url == f"{provider.url}/v2/Services/{service_sid}/Verifications/{started.sid}"
    assert len(sent_code(provider, to)) == 6


def test_9_bad_to_or_channel(provider: LiveProvider, client: Client, service_sid: str) -> None:
    verifications = client.verify.v2.services(service_sid).verifications
    with raises(400, 60200):
        verifications.create(to="15017122661", channel="sms")
    with raises(400, 60200):
        verifications.create(to=new_number(provider), channel="pigeon")
    with raises(400, 60200):
        verifications.create(to="not-an-address", channel="email")


def test_10_to_12_check_then_gone(provider: LiveProvider, client: Client, service_sid: str) -> None:
    to = new_number(provider)
    service = client.verify.v2.services(service_sid)
    started = service.verifications.create(to=to, channel="sms")
    checked = service.verification_checks.create(to=to, code=sent_code(provider, to))
    assert (checked.status, checked.valid, checked.sid) == ("approved", True, started.sid)
    assert is_utc_datetime(checked.date_created)
    with raises(404, 20404) as again:
        service.verification_checks.create(to=to, code=sent_code(provider, to))
    assert f"/Services/{service_sid}/VerificationCheck" in again.value.msg
    with raises(404, 20404):
        service.verifications(started.sid).fetch()


def test_11_check_by_verification_sid(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    to = new_number(provider)
    service = client.verify.v2.services(service_sid)
    started = service.verifications.create(to=to, channel="call")
    assert started.channel == "call"
    code = sent_code(provider, to)
    checked = service.verification_checks.create(verification_sid=started.sid, code=code)
    assert checked.status == "approved"


def test_13_five_wrong_then_the_sixth_is_refused(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    to = new_number(provider)
    service = client.verify.v2.services(service_sid)
    started = service.verifications.create(to=to, channel="sms")
    right = sent_code(provider, to)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        checked = service.verification_checks.create(to=to, code=wrong)
        assert (checked.status, checked.valid) == ("pending", False)
    with raises(429, 60202):
        service.verification_checks.create(to=to, code=right)
    with raises(404, 20404):
        service.verifications(started.sid).fetch()


def test_14_restart_resends_the_same_code(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    to = new_number(provider)
    verifications = client.verify.v2.services(service_sid).verifications
    first = verifications.create(to=to, channel="sms")
    code = sent_code(provider, to)
    second = verifications.create(to=to, channel="call")
    assert second.sid == first.sid
    assert len(second.send_code_attempts) == 2 and second.channel == "call"
    assert sent_code(provider, to) == code
    assert [m.channel for m in provider.outbox(to)] == ["sms", "call"]


def test_15_sixth_start_then_cancel(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    to = new_number(provider)
    verifications = client.verify.v2.services(service_sid).verifications
    for _ in range(5):
        started = verifications.create(to=to, channel="sms")
    with raises(429, 60203):
        verifications.create(to=to, channel="sms")
    assert verifications(started.sid).update(status="canceled").status == "canceled"
    again = verifications.create(to=to, channel="sms")
    assert again.sid != started.sid and len(again.send_code_attempts) == 1


def test_17_cancel(provider: LiveProvider, client: Client, service_sid: str) -> None:
    to = new_number(provider)
    service = client.verify.v2.services(service_sid)
    started = service.verifications.create(to=to, channel="sms")
    canceled = service.verifications(started.sid).update(status="canceled")
    assert (canceled.status, canceled.valid) == ("canceled", False)
    with raises(404, 20404):
        service.verifications(started.sid).fetch()
    with raises(404, 20404):
        service.verification_checks.create(to=to, code=sent_code(provider, to))
    with raises(400, 60200):
        service.verifications(started.sid).update(status="pending")


# Custom codes, code format, PSD2, locale (18-22) -----------------------------------------------


def test_18_custom_code_needs_the_setting(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    with raises(403, 60204):
        client.verify.v2.services(service_sid).verifications.create(
            to=new_number(provider), channel="sms", custom_code="867530"
        )


def test_19_custom_code(provider: LiveProvider, client: Client) -> None:
    service = client.verify.v2.services.create(friendly_name="Custom", custom_code_enabled=True)
    verify = client.verify.v2.services(service.sid)
    to = new_number(provider)
    verify.verifications.create(to=to, channel="sms", custom_code="867530")
    assert "867530" in provider.outbox(to)[-1].body
    assert verify.verification_checks.create(to=to, code="867530").status == "approved"
    other = verify.verifications.create(to=new_number(provider), channel="sms", custom_code="1234")
    assert verify.verifications(other.sid).update(status="approved").valid is True


def test_20_code_length_on_check(client: Client, service_sid: str) -> None:
    checks = client.verify.v2.services(service_sid).verification_checks
    for code in ("12", "12345678901"):
        with raises(400, 60200):
            checks.create(to="+15017122661", code=code)
    with raises(400, 60200):
        checks.create(code="123456")


def test_21_psd2(provider: LiveProvider, client: Client) -> None:
    service = client.verify.v2.services.create(friendly_name="Bank", psd2_enabled=True)
    verify = client.verify.v2.services(service.sid)
    to = new_number(provider)
    with raises(400, 60206):
        verify.verifications.create(to=to, channel="sms")
    started = verify.verifications.create(to=to, channel="sms", amount="€39.99", payee="Acme")
    assert (started.amount, started.payee) == ("€39.99", "Acme")
    body = provider.outbox(to)[-1].body
    assert "€39.99" in body and "Acme" in body
    code = sent_code(provider, to)
    wrong_payee = verify.verification_checks.create(
        to=to, code=code, amount="€39.99", payee="Mallory"
    )
    assert wrong_payee.status == "pending"
    right = verify.verification_checks.create(to=to, code=code, amount="€39.99", payee="Acme")
    assert right.status == "approved" and right.payee == "Acme"


def test_22_locale(provider: LiveProvider, client: Client, service_sid: str) -> None:
    to = new_number(provider)
    verifications = client.verify.v2.services(service_sid).verifications
    verifications.create(to=to, channel="sms", locale="fr")
    assert provider.outbox(to)[-1].body.startswith("Votre code de vérification Compat")
    with raises(400, 60200):
        verifications.create(to=new_number(provider), channel="sms", locale="tlh")


def test_email_channel(provider: LiveProvider, client: Client, service_sid: str) -> None:
    to = f"alice.{new_number(provider)[2:]}@example.com"
    verify = client.verify.v2.services(service_sid)
    started = verify.verifications.create(to=to, channel="email")
    assert started.channel == "email" and started.send_code_attempts[0]["channel"] == "EMAIL"
    message = provider.outbox(to)[-1]
    assert message.channel == "email" and "verification code" in message.body
    checked = verify.verification_checks.create(to=to, code=sent_code(provider, to))
    assert checked.status == "approved"


def test_whatsapp_without_a_gateway(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    with raises(400, 60223):
        client.verify.v2.services(service_sid).verifications.create(
            to=new_number(provider), channel="whatsapp"
        )


def test_other_accounts_services_are_not_found(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    other = new_account(provider).client()
    with raises(404, 20404):
        other.verify.v2.services(service_sid).fetch()
    with raises(404, 20404):
        other.verify.v2.services(service_sid).verifications.create(
            to=new_number(provider), channel="sms"
        )
