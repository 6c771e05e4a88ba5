"""The provider in-process: ``create_app`` behind FastAPI's test client, a SQLite file per test.

No process, port or database service: each test migrates its own SQLite file and drives the
real routes and services. Background workers are off (``workers=False``); a test that needs a
worker's step (a callback delivery, an expiry sweep) calls it through ``services``.

The helpers read like the API they drive::

    user = authy.new_user()
    phone = authy.enrol(user)                  # a registered authenticator device
    uuid = authy.push(user, "Log in?")
    phone.approve(uuid)
    assert authy.status(uuid)["status"] == "approved"
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
import shutil
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.servers import TEST_SECRET, RecordedPath, RecordingServer, e164
from twofa.authenticator import keys
from twofa.authenticator.device import DeviceClient
from twofa.provider.app import create_app
from twofa.provider.deliveries.dispatcher import DeliveryDispatcher
from twofa.provider.deliveries.model import Delivery, Outcome
from twofa.provider.services import Services, build_services
from twofa.settings import Settings, load_settings
from twofa.storage.database import utcnow

BASE_URL = "http://testserver"


def provider_settings(tmp_path: Path, migrated: Path, **overrides: Any) -> Settings:
    """Test settings on a copy of the ``migrated`` SQLite file under ``tmp_path``."""
    database = tmp_path / "provider.db"
    shutil.copyfile(migrated, database)
    url = f"sqlite:///{database}"
    values: dict[str, Any] = {
        "env": "test",
        "secret_key": TEST_SECRET,
        "data_dir": tmp_path,
        "database_url": url,
        "redis_url": None,
        "sms_gateway": "outbox",
        "limit_sms_per_phone": "20/600",
        "limit_phone_verifications_per_number": "20/600",
        "callback_allow_private": True,  # the receivers listen on loopback
        "console_password_memory_kib": 1024,  # Argon2id's cost is not what these tests test
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass(frozen=True)
class User:
    """A user of the test application: Authy id and phone."""

    id: int
    national: str
    country_code: int = 1

    @property
    def phone(self) -> str:
        return e164(self.national, self.country_code)


class Phone(DeviceClient):
    """An enrolled authenticator device whose signed calls go through the test client."""

    __test__ = False

    def __init__(self, http: TestClient, device_uuid: str, key: Any) -> None:
        super().__init__(BASE_URL, device_uuid, key)
        self._test_client = http

    def _client(self) -> httpx.Client:
        return self._test_client

    def close(self) -> None:
        """The test client belongs to the fixture."""

    def approve(self, uuid: str, number: int | None = None) -> str:
        """Approve (picking ``number`` under number matching); the status recorded."""
        return self.decide(uuid, approve=True, number=number)

    def deny(self, uuid: str) -> str:
        return self.decide(uuid, approve=False)


class Authy:
    """One application's view of the provider through its Authy REST API."""

    def __init__(
        self,
        http: TestClient,
        services: Services,
        *,
        callback_url: str | None,
        sandbox: bool = False,
    ) -> None:
        self.http = http
        self.services = services
        created = services.apps.create(
            f"Test App {secrets.token_hex(3)}", callback_url=callback_url, sandbox=sandbox
        )
        self.app_id = created.app.id
        self.key = created.api_key
        self.callback_url = callback_url
        self._numbers = iter(range(10**6))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Authy-API-Key": self.key, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def new_phone(self) -> str:
        """A distinct valid US number in area code 201."""
        n = next(self._numbers)
        return f"201-{200 + n // 10000:03d}-{n % 10000:04d}"

    def new_user(self, email: str = "alice@example.com", national: str | None = None) -> User:
        national = national or self.new_phone()
        response = self.post(
            "/protected/json/users/new",
            json={"user": {"email": email, "cellphone": national, "country_code": 1}},
        )
        assert response.status_code == 200, response.text
        return User(int(response.json()["user"]["id"]), national)

    def push(self, user: User, message: str = "Log in?", **params: Any) -> str:
        """Create an approval request for ``user``; its uuid."""
        return str(self.push_json(user, message, **params)["uuid"])

    def push_json(self, user: User, message: str = "Log in?", **params: Any) -> dict[str, Any]:
        response = self.post(
            f"/onetouch/json/users/{user.id}/approval_requests",
            json={"message": message, **params},
        )
        assert response.status_code == 200, response.text
        return response.json()["approval_request"]  # type: ignore[no-any-return]

    def status(self, uuid: str) -> dict[str, Any]:
        response = self.get(f"/onetouch/json/approval_requests/{uuid}")
        assert response.status_code == 200, response.text
        return response.json()["approval_request"]  # type: ignore[no-any-return]

    def sms(self, user: User, **params: Any) -> httpx.Response:
        return self.get(f"/protected/json/sms/{user.id}", params=params)

    def verify(self, user: User, token: str) -> httpx.Response:
        return self.get(f"/protected/json/verify/{token}/{user.id}")

    def last_code(self, phone: str, digits: int = 7) -> str:
        """The newest code the outbox holds for ``phone`` (E.164)."""
        messages = self.services.messaging.list(to=phone)
        assert messages, f"no message to {phone}"
        found = re.findall(rf"\b(\d{{{digits}}})\b", messages[-1].body)
        assert found, messages[-1].body
        return str(found[-1])

    def enrol(self, user: User, name: str = "Test phone") -> Phone:
        """Register an authenticator device on ``user``'s phone, with the code it was sent."""
        started = self.http.post(
            "/device/v1/registrations",
            json={"country_code": str(user.country_code), "phone_number": user.national},
        )
        assert started.status_code == 200, started.text
        key = keys.generate()
        confirmed = self.http.post(
            f"/device/v1/registrations/{started.json()['registration_id']}/confirm",
            json={
                "code": self.last_code(user.phone, 6),
                "name": name,
                "os_type": "cli",
                "public_key": keys.public_jwk(key),
            },
        )
        assert confirmed.status_code == 200, confirmed.text
        device = confirmed.json()["device"]
        if device["state"] == "pending":  # a further device: the operator lets it in
            self.services.devices.approvals.operator_approve(device["uuid"])
        return Phone(self.http, device["uuid"], key)


@functools.cache
def trust_store() -> ssl.SSLContext:
    """The usual CAs, as a client trusts them by default: loaded once, not per test (loading
    them is most of what making a client costs)."""
    return httpx.create_ssl_context()


class Callbacks:
    """The delivery worker's steps, run on demand: claim what is due, send, record.

    One event loop and one HTTP client serve the test, as they serve the worker.
    """

    def __init__(self, services: Services, dispatcher: DeliveryDispatcher | None = None) -> None:
        self.services = services
        self.dispatcher = dispatcher or services.deliveries
        self._runner = asyncio.Runner()
        self._client = self._runner.run(self._open())

    @staticmethod
    async def _open() -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=5, follow_redirects=False, verify=trust_store())

    def deliver_due(self) -> list[str | None]:
        """One round of the worker; the error of each attempt (None once delivered)."""
        dispatcher = self.dispatcher
        batch = dispatcher.claim()
        sent_at = utcnow()

        async def send() -> list[Outcome]:
            return list(await asyncio.gather(*(dispatcher.attempt(self._client, d) for d in batch)))

        outcomes = self._runner.run(send()) if batch else []
        for delivery, outcome in zip(batch, outcomes, strict=True):
            dispatcher.record(delivery, outcome, sent_at=sent_at)
        return [outcome.error for outcome in outcomes]

    def attempt(self, delivery: Delivery) -> Outcome:
        """Send one claimed delivery once, without recording it (a test orders the records)."""
        return self._runner.run(self.dispatcher.attempt(self._client, delivery))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


@pytest.fixture
def settings(tmp_path: Path, migrated: Path) -> Settings:
    return provider_settings(tmp_path, migrated)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def app(settings: Settings, services: Services) -> FastAPI:
    """The provider application without background workers: one per test, whatever clients
    the test opens on it (the API's, the console's operators')."""
    return create_app(settings, services, workers=False)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    """A client of the provider application, its lifespan running."""
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture(scope="session")
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture
def receiver(recording_server: RecordingServer) -> RecordedPath:
    """The application's callback endpoint: this test's path on a loopback recorder.

    ``receiver.server.status`` sets the answer (200 unless a test says otherwise).
    """
    recording_server.status, recording_server.body = 200, b""
    return RecordedPath(recording_server)


@pytest.fixture
def authy(http: TestClient, services: Services, receiver: RecordedPath) -> Authy:
    """A fresh application whose callbacks go to ``receiver``."""
    return Authy(http, services, callback_url=receiver.url + "/authy/callback")


@pytest.fixture
def callbacks(services: Services) -> Iterator[Callbacks]:
    worker = Callbacks(services)
    yield worker
    worker.close()
