"""A provider whose wake-ups go to the fake push service on loopback (tests/fakepush.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.fakepush import FakePushService, Subscription, b64d
from tests.live.devices.conftest import Account, enrol, new_account
from tests.servers import LiveProvider, TestDevice, postgres_database, start_provider


def webpush_env(push: FakePushService) -> dict[str, str]:
    """Settings that let a provider reach the fake service: loopback, and its certificate."""
    return {
        "TWOFA_WEBPUSH_ALLOW_LOOPBACK": "true",
        "TWOFA_WEBPUSH_CA_FILE": str(push.cert),
        "TWOFA_WEBPUSH_SUBJECT": "mailto:ops@example.org",
    }


@pytest.fixture(scope="module")
def push_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakePushService]:
    service = FakePushService(tmp_path_factory.mktemp("fakepush"))
    yield service
    service.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def push_provider(
    request: pytest.FixtureRequest,
    push_service: FakePushService,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveProvider]:
    """A provider (SQLite, PostgreSQL) that trusts the fake push service, whose VAPID key is
    told to the service."""
    tmp = tmp_path_factory.mktemp(f"webpush-provider-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp / 'provider.db'}"
        live = start_provider(tmp, url, **webpush_env(push_service))
        stack.callback(live.stop)
        key = httpx.get(live.url + "/device/v1/webpush/key").json()["public_key"]
        push_service.vapid_key = b64d(key)
        yield live


@pytest.fixture
def account(push_provider: LiveProvider) -> Account:
    return new_account(push_provider)


@pytest.fixture
def device(push_provider: LiveProvider, account: Account) -> TestDevice:
    return enrol(push_provider, account.national, os_type="web")


def subscribe(device: TestDevice, push: FakePushService) -> Subscription:
    """What the web app does on enabling notifications: subscribe, then tell the provider."""
    sub = push.subscribe()
    device.call("PUT", "/device/v1/webpush/subscription", sub.json())
    return sub
