"""Callback URLs may not reach inside (SSRF): refused when set, and again when sent.

Each address class is tried as a literal when the URL is set (the API service and the CLI),
and behind a host name at send time: a resolver seam stands in for DNS (none exists here), and
``localhost`` goes through the system resolver. Nothing is ever sent to a refused address.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import update

from tests.provider.conftest import Authy, Callbacks, provider_settings
from tests.provider.test_callbacks import approved, delivery
from tests.servers import RecordedPath
from twofa.errors import InvalidRequest
from twofa.provider.cli import apps_group
from twofa.provider.deliveries.authy import AuthyCallbackSender
from twofa.provider.deliveries.destination import DestinationRefused, pin, refusal
from twofa.provider.deliveries.dispatcher import DeliveryDispatcher
from twofa.provider.services import Services
from twofa.settings import Settings
from twofa.storage.tables import apps

INSIDE = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("fe80::1", "link-local"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "unique-local"),
    ("fc12:3456::1", "unique-local"),
    ("100.64.0.1", "shared (CGNAT)"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("224.0.0.1", "multicast"),
    ("192.0.2.1", "private"),  # documentation ranges are not routable either
]


def url_for(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:8080/authy/callback"


@pytest.fixture
def guarded(tmp_path: Path, migrated: Path) -> Settings:
    """Production's default: private receivers refused."""
    settings = provider_settings(tmp_path, migrated, callback_allow_private=False)
    assert not settings.allow_private_callbacks
    return settings


@pytest.mark.parametrize(("address", "kind"), INSIDE)
def test_the_address_classes(address: str, kind: str) -> None:
    import ipaddress

    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    import ipaddress

    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("address", "kind"), INSIDE)
def test_refused_when_set(guarded: Settings, address: str, kind: str) -> None:
    from twofa.provider.services import build_services

    services = build_services(guarded)
    try:
        with pytest.raises(InvalidRequest, match=f"is a {kind.split(' ')[0]}"):
            services.apps.create("Inside", callback_url=url_for(address))
        app = services.apps.create("Outside", callback_url="https://93.184.216.34/cb").app
        with pytest.raises(InvalidRequest, match="public address"):
            services.apps.set_callback(app.id, url_for(address))
        assert services.apps.get(app.id).callback_url == "https://93.184.216.34/cb"
    finally:
        services.close()


def test_a_name_that_resolves_inside_is_refused_when_set(guarded: Settings) -> None:
    from twofa.provider.services import build_services

    services = build_services(guarded)
    try:
        with pytest.raises(InvalidRequest, match=r"127\.0\.0\.1 is a loopback address"):
            services.apps.create("Local", callback_url="http://localhost:5000/authy/callback")
    finally:
        services.close()


@pytest.mark.parametrize(
    "args",
    [
        ["apps", "create", "Meta", "--callback-url", "http://169.254.169.254/latest/meta-data/"],
        ["apps", "create", "Ten", "--callback-url", "http://10.1.2.3/cb"],
        ["apps", "create", "Ula", "--callback-url", "http://[fd00::5]/cb"],
        ["apps", "create", "Lo", "--callback-url", "http://127.0.0.1:5000/cb"],
    ],
)
def test_the_cli_refuses_inside_urls(guarded: Settings, args: list[str]) -> None:
    env = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": guarded.key.decode(),
        "TWOFA_DATABASE_URL": guarded.provider_database_url,
        "TWOFA_DATA_DIR": str(guarded.data_dir),
    }
    result = CliRunner().invoke(apps_group, args[1:], env=env)
    assert result.exit_code == 1
    assert "callback URL must reach a public address" in result.output


def test_the_cli_refuses_set_callback_too(guarded: Settings) -> None:
    env = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": guarded.key.decode(),
        "TWOFA_DATABASE_URL": guarded.provider_database_url,
        "TWOFA_DATA_DIR": str(guarded.data_dir),
    }
    made = CliRunner().invoke(apps_group, ["create", "Hook", "--json"], env=env)
    assert made.exit_code == 0, made.output
    refused = CliRunner().invoke(
        apps_group, ["set-callback", "Hook", "http://192.168.0.10/cb"], env=env
    )
    assert refused.exit_code == 1 and "192.168.0.10 is a private address" in refused.output


def dispatcher_resolving(services: Services, settings: Settings, *addresses: str) -> Callbacks:
    """The worker's steps with production's guard and a resolver that answers ``addresses``."""
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    guarded = settings.model_copy(update={"callback_allow_private": False})
    dispatcher = DeliveryDispatcher(
        services.db,
        guarded,
        services.audit,
        {AuthyCallbackSender.kind: AuthyCallbackSender(services.keyring)},
        resolver=resolver,
    )
    return Callbacks(services, dispatcher)


def point_callback_at(authy: Authy, url: str) -> None:
    """The URL as stored before the guard existed (or by a name that resolved outside then)."""
    with authy.services.db.write() as conn:
        conn.execute(update(apps).where(apps.c.id == authy.app_id).values(callback_url=url))


@pytest.mark.parametrize(("address", "kind"), INSIDE)
def test_refused_when_sent_to_a_name_that_resolves_inside(
    authy: Authy, settings: Settings, receiver: RecordedPath, address: str, kind: str
) -> None:
    point_callback_at(authy, "https://callback.example/authy/callback")
    uuid = approved(authy, authy.new_user())
    callbacks = dispatcher_resolving(authy.services, settings, address)
    (error,) = callbacks.deliver_due()
    assert error is not None and error.startswith("destination refused:") and kind in error
    row = delivery(authy, uuid)
    assert row.status == "failed"  # type: ignore[attr-defined]
    assert receiver.received() == []


def test_one_inside_address_among_public_ones_is_refused(authy: Authy, settings: Settings) -> None:
    point_callback_at(authy, "https://callback.example/authy/callback")
    approved(authy, authy.new_user())
    callbacks = dispatcher_resolving(authy.services, settings, "93.184.216.34", "10.0.0.7")
    (error,) = callbacks.deliver_due()
    assert error == "destination refused: 10.0.0.7 is a private address"


def test_localhost_is_refused_when_sent(
    authy: Authy, settings: Settings, receiver: RecordedPath
) -> None:
    """The system resolver, for real: ``localhost`` is loopback whatever the URL says."""
    point_callback_at(authy, receiver.url.replace("127.0.0.1", "localhost") + "/authy/callback")
    approved(authy, authy.new_user())
    guarded = settings.model_copy(update={"callback_allow_private": False})
    dispatcher = DeliveryDispatcher(
        authy.services.db,
        guarded,
        authy.services.audit,
        {AuthyCallbackSender.kind: AuthyCallbackSender(authy.services.keyring)},
    )
    (error,) = Callbacks(authy.services, dispatcher).deliver_due()
    assert error is not None and "loopback" in error
    assert receiver.received() == []


def test_the_request_goes_to_the_address_that_was_checked() -> None:
    """No second lookup between check and connect: the URL carries the checked address."""
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"] if len(calls) == 1 else ["127.0.0.1"]

    pinned = asyncio.run(pin("https://hooks.example.com:8443/cb?x=1", rebinding))
    assert pinned.url == "https://93.184.216.34:8443/cb?x=1"
    assert pinned.headers == {"Host": "hooks.example.com:8443"}
    assert pinned.extensions == {"sni_hostname": "hooks.example.com"}
    assert calls == ["hooks.example.com"]
    v6 = asyncio.run(pin("http://v6.example/cb", _answer("2606:2800:220:1::1")))
    assert v6.url == "http://[2606:2800:220:1::1]/cb"
    with pytest.raises(DestinationRefused):
        asyncio.run(pin("http://[::1]/cb", _answer()))


def _answer(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


def test_redirects_are_not_followed(authy: Authy, settings: Settings) -> None:
    """A receiver answering 30x to an inside address gets a retry, never a request there."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})

    point_callback_at(authy, "http://93.184.216.34/authy/callback")
    approved(authy, authy.new_user())
    callbacks = dispatcher_resolving(authy.services, settings)
    batch = callbacks.dispatcher.claim()

    async def send() -> list[object]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return [await callbacks.dispatcher.attempt(client, d) for d in batch]

    (outcome,) = asyncio.run(send())
    assert seen == ["http://93.184.216.34/authy/callback"]
    assert outcome.result == "retry" and outcome.error == "HTTP 302"  # type: ignore[attr-defined]
