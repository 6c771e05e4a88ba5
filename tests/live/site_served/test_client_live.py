"""The client SDK against the real provider over HTTP."""

from __future__ import annotations

import pytest

from tests.live.site_served.conftest import valid_phone
from tests.servers import LiveProvider
from twofa import client as sdk
from twofa.client import Client


def _e164(phone: str) -> str:
    return "+1" + phone.replace("-", "")


def test_user_lifecycle(live: LiveProvider, provider_client: Client) -> None:
    phone = valid_phone()
    user = provider_client.create_user(email="a@example.com", cellphone=phone, country_code=1)
    again = provider_client.create_user(email="a@example.com", cellphone=phone, country_code="1")
    assert user == again and user.authy_id > 0
    status = provider_client.user_status(user.authy_id)
    assert status.authy_id == user.authy_id
    assert (status.registered, status.country_code) == (False, 1)
    assert status.phone_number.endswith(phone[-4:])
    provider_client.delete_user(user.authy_id)
    with pytest.raises(sdk.UserNotFound):
        provider_client.user_status(user.authy_id)


def test_invalid_user_and_wrong_key(live: LiveProvider, provider_client: Client) -> None:
    with pytest.raises(sdk.InvalidUser) as caught:
        provider_client.create_user(email="bad", cellphone="abc", country_code=1)
    assert caught.value.status == 400 and caught.value.error_code == "60027"
    with Client("wrong-key", live.url) as wrong, pytest.raises(sdk.InvalidApiKey):
        wrong.app_details()


def test_sms_code_verifies_once(live: LiveProvider, provider_client: Client) -> None:
    phone = valid_phone()
    user = provider_client.create_user(email="b@example.com", cellphone=phone, country_code=1)
    sent = provider_client.request_sms(user.authy_id, force=True)
    assert sent.ignored is False and sent.cellphone
    code = live.last_code(_e164(phone), digits=live.settings.sms_code_length)
    with pytest.raises(sdk.InvalidToken):
        provider_client.verify_token(
            user.authy_id, "0" * len(code) if code != "0" * len(code) else "1" * len(code)
        )
    assert provider_client.verify_token(user.authy_id, code).message == "Token is valid."
    with pytest.raises(sdk.InvalidToken):
        provider_client.verify_token(user.authy_id, code)


def test_voice_call(live: LiveProvider, provider_client: Client) -> None:
    phone = valid_phone()
    user = provider_client.create_user(email="c@example.com", cellphone=phone, country_code=1)
    assert provider_client.request_call(user.authy_id, force=True).ignored is False


def test_approval_requests(provider_client: Client, live: LiveProvider) -> None:
    phone = valid_phone()
    user = provider_client.create_user(email="d@example.com", cellphone=phone, country_code=1)
    created = provider_client.create_approval_request(
        user.authy_id, message="Log in", seconds_to_expire=120, number_matching=True
    )
    assert created.number is not None and 10 <= created.number <= 99
    fetched = provider_client.get_approval_request(created.uuid)
    assert (fetched.uuid, fetched.status, fetched.seconds_to_expire) == (
        created.uuid,
        "pending",
        120,
    )
    with pytest.raises(sdk.ApprovalRequestNotFound):
        provider_client.get_approval_request("no-such-uuid")


def test_phone_verification_and_app_details(live: LiveProvider, provider_client: Client) -> None:
    phone = valid_phone()
    started = provider_client.start_phone_verification(
        phone_number=phone, country_code=1, code_length=6
    )
    assert started.uuid and started.seconds_to_expire
    with pytest.raises(sdk.VerificationFailed):
        provider_client.check_phone_verification(
            phone_number=phone, country_code=1, verification_code="000000"
        )
    code = live.last_code(_e164(phone), digits=6)
    provider_client.check_phone_verification(
        phone_number=phone, country_code=1, verification_code=code
    )
    details = provider_client.app_details()
    assert details.name.startswith("Site") and details.sms_enabled is True
