"""Rate limits answer 429 / 60003 (contract section 7.6), and a lockout holds for right codes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from authy.api import AuthyApiClient

from tests.servers import LiveProvider, start_provider


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    tmp = tmp_path_factory.mktemp("limited")
    live = start_provider(
        tmp,
        f"sqlite:///{tmp / 'p.db'}",
        TWOFA_LIMIT_VERIFY_FAILURES_PER_USER="3/600",
        TWOFA_LIMIT_SMS_PER_PHONE="2/600",
        TWOFA_LIMIT_SMS_PER_PHONE_TOTAL="3/600",
        TWOFA_LIMIT_PUSH_PER_USER="2/600",
        TWOFA_LIMIT_PHONE_VERIFICATIONS_PER_NUMBER="2/600",
    )
    yield live
    live.stop()


@pytest.fixture
def client(limited: LiveProvider) -> AuthyApiClient:
    return AuthyApiClient(limited.new_app()[1], api_uri=limited.url)


def e164(national: str) -> str:
    return "+1" + re.sub(r"\D", "", national)


def assert_limited(response: object) -> None:
    raw = response.response  # type: ignore[attr-defined]
    assert raw.status_code == 429, raw.text
    body = raw.json()
    assert body["error_code"] == "60003"
    assert body["success"] is False
    assert body["errors"]["message"] == "DoS protection"
    assert 1 <= int(raw.headers["Retry-After"]) <= 600


def test_failed_verifications_lock_the_user_out(
    limited: LiveProvider, client: AuthyApiClient
) -> None:
    phone = limited.new_phone()
    user = client.users.create("l@example.com", phone, 1)
    assert client.users.request_sms(user.id).ok()
    code = limited.last_code(e164(phone))
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    for _ in range(3):
        refused = client.tokens.verify(user.id, wrong)
        assert refused.content["error_code"] == "60020"
    assert_limited(client.tokens.verify(user.id, wrong))
    assert_limited(client.tokens.verify(user.id, code))  # even the right code, while locked out
    other = client.users.create("o@example.com", limited.new_phone(), 1)
    assert client.tokens.verify(other.id, wrong).content["error_code"] == "60020"


def test_a_success_resets_the_failure_count(limited: LiveProvider, client: AuthyApiClient) -> None:
    phone = limited.new_phone()
    user = client.users.create("r@example.com", phone, 1)
    client.users.request_sms(user.id)
    code = limited.last_code(e164(phone))
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    for _ in range(2):
        assert client.tokens.verify(user.id, wrong).content["error_code"] == "60020"
    assert client.tokens.verify(user.id, code).ok()
    for _ in range(3):
        assert client.tokens.verify(user.id, wrong).content["error_code"] == "60020"
    assert_limited(client.tokens.verify(user.id, wrong))


def test_sms_per_phone(limited: LiveProvider, client: AuthyApiClient) -> None:
    phone = limited.new_phone()
    user = client.users.create("s@example.com", phone, 1)
    assert client.users.request_sms(user.id).ok()
    assert client.users.request_call(user.id).ok()
    assert_limited(client.users.request_sms(user.id))
    assert len(limited.outbox(e164(phone))) == 2
    # The budget is per (application, phone): another application's user with the same phone
    # still gets codes, up to the deployment-wide backstop per phone.
    other_app = AuthyApiClient(limited.new_app()[1], api_uri=limited.url)
    same_phone = other_app.users.create("s2@example.com", phone, 1)
    assert other_app.users.request_sms(same_phone.id).ok()
    third_app = AuthyApiClient(limited.new_app()[1], api_uri=limited.url)
    third = third_app.users.create("s3@example.com", phone, 1)
    assert_limited(third_app.users.request_sms(third.id))  # the backstop: 3 per phone
    assert len(limited.outbox(e164(phone))) == 3


def test_approval_requests_per_user(limited: LiveProvider, client: AuthyApiClient) -> None:
    user = client.users.create("p@example.com", limited.new_phone(), 1)
    assert client.one_touch.send_request(user.id, "one").ok()
    assert client.one_touch.send_request(user.id, "two").ok()
    assert_limited(client.one_touch.send_request(user.id, "three"))
    other = client.users.create("p2@example.com", limited.new_phone(), 1)
    assert client.one_touch.send_request(other.id, "one").ok()


def test_phone_verifications_per_number(limited: LiveProvider, client: AuthyApiClient) -> None:
    phone = limited.new_phone()
    assert client.phones.verification_start(phone, "1").ok()
    assert client.phones.verification_start(phone, "1", via="call").ok()
    assert_limited(client.phones.verification_start(phone, "1"))
    assert len(limited.outbox(e164(phone))) == 2
    assert client.phones.verification_start(limited.new_phone(), "1").ok()


def test_phone_verification_check_failures(limited: LiveProvider, client: AuthyApiClient) -> None:
    phone = limited.new_phone()
    assert client.phones.verification_start(phone, "1", code_length=6).ok()
    code = limited.last_code(e164(phone), digits=6)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    for _ in range(3):
        assert client.phones.verification_check(phone, "1", wrong).content["error_code"] == (
            "60022"
        )
    assert_limited(client.phones.verification_check(phone, "1", code))
