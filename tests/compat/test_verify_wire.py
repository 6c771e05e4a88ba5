"""Verify v2 wire details with the official ``twilio`` package: rate limits and buckets, raw
error bodies, unknown parameters, the async client, expiry (contract §7: 16, 23-25, 28-31)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tests.compat.test_verify_client import raises
from tests.compat.verify_helpers import (
    Account,
    RecordingHttpClient,
    new_account,
    new_number,
    sent_code,
)
from tests.servers import LiveProvider, start_provider

CODE_TTL = 2


@pytest.fixture
def account(provider: LiveProvider) -> Account:
    return new_account(provider)


@pytest.fixture
def client(account: Account) -> Client:
    return account.client()


@pytest.fixture
def service_sid(client: Client) -> str:
    return str(client.verify.v2.services.create(friendly_name="Wire").sid)


def test_23_programmable_buckets(provider: LiveProvider, client: Client, service_sid: str) -> None:
    service = client.verify.v2.services(service_sid)
    limit = service.rate_limits.create(unique_name="end_user_ip_address", description="per IP")
    bucket = service.rate_limits(limit.sid).buckets.create(max=2, interval=60)
    assert (bucket.max, bucket.interval, bucket.rate_limit_sid) == (2, 60, limit.sid)
    ip = {"end_user_ip_address": "1.2.3.4"}
    for _ in range(2):
        service.verifications.create(to=new_number(provider), channel="sms", rate_limits=ip)
    with raises(429, 20429):
        service.verifications.create(to=new_number(provider), channel="sms", rate_limits=ip)
    other = {"end_user_ip_address": "5.6.7.8", "unknown_limit": "ignored"}
    assert (
        service.verifications.create(to=new_number(provider), channel="sms", rate_limits=other)
    ).status == "pending"


def test_24_duplicates(client: Client, service_sid: str) -> None:
    limits = client.verify.v2.services(service_sid).rate_limits
    limit = limits.create(unique_name="user.id")
    with raises(400, 60208):
        limits.create(unique_name="user.id")
    with raises(400, 60209):
        limits.create(unique_name="has spaces")
    limits(limit.sid).buckets.create(max=5, interval=60)
    with raises(400, 60211):
        limits(limit.sid).buckets.create(max=9, interval=60)


def test_25_list_update_delete(client: Client, service_sid: str) -> None:
    limits = client.verify.v2.services(service_sid).rate_limits
    limit = limits.create(unique_name="phone")
    buckets = limits(limit.sid).buckets
    bucket = buckets.create(max=3, interval=30)
    assert [r.sid for r in limits.list()] == [limit.sid]
    assert [b.sid for b in buckets.list()] == [bucket.sid]
    updated = buckets(bucket.sid).update(max=10)
    assert updated.max == 10 and isinstance(updated.max, int) and updated.interval == 30
    assert limits(limit.sid).update(description="d").description == "d"
    assert limits(limit.sid).fetch().unique_name == "phone"
    assert buckets(bucket.sid).delete() is True
    assert buckets.list() == []
    assert limits(limit.sid).delete() is True
    with raises(404, 20404):
        limits(limit.sid).fetch()


def test_28_every_date_is_a_datetime(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    service = client.verify.v2.services(service_sid)
    limit = service.rate_limits.create(unique_name="dates")
    records = [
        service.fetch(),
        service.verifications.create(to=new_number(provider), channel="sms"),
        limit,
        service.rate_limits(limit.sid).buckets.create(max=1, interval=1),
    ]
    for record in records:
        for name in ("date_created", "date_updated"):
            assert not isinstance(getattr(record, name), str), (record, name)


def test_29_raw_error_bodies(provider: LiveProvider, account: Account, service_sid: str) -> None:
    http = RecordingHttpClient()
    client = account.client(http)
    service = client.verify.v2.services(service_sid)
    attempts = [
        lambda: service.verification_checks.create(to="+15017122661", code="123456"),
        lambda: service.verifications.create(to="bad", channel="sms"),
        lambda: client.verify.v2.services("VA" + "0" * 32).fetch(),
    ]
    for attempt in attempts:
        with pytest.raises(TwilioRestException):
            attempt()
        body = json.loads(http.calls[-1][3].text)
        assert set(body) == {"code", "message", "more_info", "status"}
        assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}"
        assert body["status"] == http.calls[-1][3].status_code
    bad_auth = httpx.get(f"{provider.url}/v2/Services", auth=("AC" + "2" * 32, "x"))
    assert bad_auth.status_code == 401 and "www-authenticate" not in bad_auth.headers
    assert bad_auth.json()["code"] == 20003
    unknown = httpx.get(f"{provider.url}/v2/Nothing", auth=(account.account_sid, "x"))
    assert unknown.status_code in (401, 404) and "type" not in unknown.json()


def test_30_unknown_parameters_are_ignored(
    provider: LiveProvider, account: Account, client: Client, service_sid: str
) -> None:
    to = new_number(provider)
    service = client.verify.v2.services(service_sid)
    started = service.verifications.create(
        to=to, channel="sms", templates="[]", channel_configuration={"substitutions": {"x": "y"}}
    )
    assert started.status == "pending"
    raw = httpx.post(
        f"{provider.url}/v2/Services/{service_sid}/VerificationCheck",
        data={"To": to, "Code": sent_code(provider, to), "Foo": "bar"},
        auth=(account.account_sid, account.auth_token),
    )
    assert raw.status_code == 200 and raw.json()["status"] == "approved"


# twilio's async client still passes aiohttp a BasicAuth, which newer aiohttp deprecates.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
def test_31_async_client(provider: LiveProvider, account: Account, service_sid: str) -> None:
    to = new_number(provider)

    async def run() -> tuple[str, str]:
        http = AsyncTwilioHttpClient()
        client = Client(account.account_sid, account.auth_token, http_client=http)
        client.verify.base_url = provider.url
        try:
            service = client.verify.v2.services(service_sid)
            started = await service.verifications.create_async(to=to, channel="sms")
            checked = await service.verification_checks.create_async(
                to=to, code=sent_code(provider, to)
            )
        finally:
            await http.close()
        return started.status, checked.status

    assert asyncio.run(run()) == ("pending", "approved")


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """A provider whose verifications live two seconds (TWOFA_VERIFY_CODE_TTL)."""
    folder: Path = tmp_path_factory.mktemp("verify-ttl")
    live = start_provider(
        folder, f"sqlite:///{folder / 'provider.db'}", TWOFA_VERIFY_CODE_TTL=str(CODE_TTL)
    )
    try:
        yield live
    finally:
        live.stop()


def test_16_expired_code(short_lived: LiveProvider) -> None:
    account = new_account(short_lived)
    client = account.client()
    service = client.verify.v2.services(client.verify.v2.services.create(friendly_name="T").sid)
    to = new_number(short_lived)
    started = service.verifications.create(to=to, channel="sms")
    code = sent_code(short_lived, to)
    deadline = time.monotonic() + CODE_TTL + 10
    while True:  # poll until the lifetime has passed on the server's clock
        try:
            service.verifications(started.sid).fetch()
        except TwilioRestException as exc:
            assert (exc.status, exc.code) == (404, 20404)
            break
        assert time.monotonic() < deadline, "the verification did not expire"
        time.sleep(0.2)
    with raises(404, 20404):
        service.verification_checks.create(to=to, code=code)
    restarted = service.verifications.create(to=to, channel="sms")
    assert restarted.sid != started.sid


def test_status_polling_is_limited(
    provider: LiveProvider, client: Client, service_sid: str
) -> None:
    started = client.verify.v2.services(service_sid).verifications.create(
        to=new_number(provider), channel="sms"
    )
    fetch = client.verify.v2.services(service_sid).verifications(started.sid).fetch
    answered = 0
    with raises(429, 20429):
        # 60 a minute pass; a minute boundary crossed on the way allows at most 60 more.
        while answered <= 121:
            assert fetch().status == "pending"
            answered += 1
    assert answered >= 60


def test_32_messaging_configurations(client: Client, service_sid: str) -> None:
    configs = client.verify.v2.services(service_sid).messaging_configurations
    mg = "MG" + "a" * 32
    made = configs.create(country="CA", messaging_service_sid=mg)
    assert (made.country, made.messaging_service_sid) == ("CA", mg)
    assert made.url.endswith(f"/v2/Services/{service_sid}/MessagingConfigurations/CA")
    assert configs("CA").fetch().messaging_service_sid == mg
    with raises(409, 60213):
        configs.create(country="CA", messaging_service_sid=mg)
    other = "MG" + "b" * 32
    assert configs("CA").update(messaging_service_sid=other).messaging_service_sid == other
    assert [c.country for c in configs.list()] == ["CA"]
    assert configs("CA").delete() is True
    with raises(404, 20404):
        configs("CA").fetch()
    with raises(400, 60200):
        configs.create(country="Canada", messaging_service_sid=mg)


def test_concurrent_starts_make_one_verification(
    provider: LiveProvider, account: Account, service_sid: str
) -> None:
    """Eight starts for one number at once: one pending verification, never two (R9, R5)."""
    to = new_number(provider)
    url = f"{provider.url}/v2/Services/{service_sid}/Verifications"
    barrier = threading.Barrier(8)

    def start(_: int) -> httpx.Response:
        with httpx.Client(auth=(account.account_sid, account.auth_token), timeout=30) as http:
            barrier.wait()
            return http.post(url, data={"To": to, "Channel": "sms"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(start, range(8)))
    started = [a.json() for a in answers if a.status_code == 201]
    refused = [a.json()["code"] for a in answers if a.status_code == 429]
    assert len(started) + len(refused) == 8, [a.text for a in answers]
    assert set(refused) <= {60203, 60212}
    assert 1 <= len(started) <= 5
    assert len({s["sid"] for s in started}) == 1
    assert len(provider.outbox(to)) == len(started)
