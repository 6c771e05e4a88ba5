"""Fixtures for the site's unit tests: the Flask app through its test client, the real provider.

Each test gets a fresh application at the session's provider (so tests share no users, limits
or callbacks) and its own site database. The provider's callbacks go to a loopback recorder;
``deliver_callback`` hands a recorded one, byte for byte, to the site under test.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.servers import (
    LiveProvider,
    RecordedPath,
    RecordingServer,
    TestDevice,
    e164,
    start_provider,
)
from twofa import signing
from twofa.client import Client
from twofa.settings import Settings, load_settings
from twofa.site.app import create_app
from twofa.site.services import EXTENSION
from twofa.site.store import LoginAttempt, User

PASSWORD = "correct horse battery"
EMAIL = "alice@example.com"
CALLBACK_PATH = "/authy/callback"


class FakeClock:
    """The site's clock, frozen at the real time and moved on by hand (expiry, cooldowns).

    Only the site's own deadlines follow it; the provider keeps the wall clock.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CountingTransport(httpx.HTTPTransport):
    """The real HTTP transport, remembering what the site asked the provider."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "secret_key": "unit-test-secret-" + "k" * 40,
        "data_dir": tmp_path,
        "redis_url": None,
        "site_database_url": f"sqlite:///{tmp_path / 'site.db'}",
        "site_public_url": "",
        "site_password_memory_kib": 1024,
        "site_stream_max_seconds": 10,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def limited_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """A provider with tiny rate limits, so that its real 429 answers reach the site."""
    data_dir = tmp_path_factory.mktemp("provider-limited")
    live = start_provider(
        data_dir,
        f"sqlite:///{data_dir / 'provider.db'}",
        TWOFA_LIMIT_VERIFY_FAILURES_PER_USER="3/600",
        TWOFA_LIMIT_SMS_PER_PHONE="1/600",
        TWOFA_LIMIT_PUSH_PER_USER="1/600",
    )
    yield live
    live.stop()


@pytest.fixture
def live(sqlite_provider: LiveProvider) -> LiveProvider:
    """The provider the site talks to (tests that need small limits override this)."""
    return sqlite_provider


@pytest.fixture(scope="session")
def callback_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture
def relay(callback_server: RecordingServer) -> RecordedPath:
    """Receives the provider's signed callbacks for this test's application.

    Its ``url`` is the site's public root as the provider knows it, so a recorded callback
    is signed for exactly the URL the site checks.
    """
    return RecordedPath(callback_server)


@pytest.fixture
def api_key(live: LiveProvider, relay: RecordedPath) -> str:
    _, key = live.new_app("Site", callback_url=relay.url + CALLBACK_PATH)
    return key


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def calls() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A loopback address where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: the port stays ours and closed
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def build_app(
    tmp_path: Path,
    live: LiveProvider,
    api_key: str,
    relay: RecordedPath,
    clock: FakeClock,
    calls: CountingTransport,
) -> Iterator[Callable[..., Flask]]:
    """A factory of site apps on this test's site database and application.

    Keyword arguments override settings; ``provider_url`` points the app's client elsewhere
    (a second site process that cannot reach the provider shares the same database).
    """
    apps: list[Flask] = []

    def build(provider_url: str | None = None, **overrides: Any) -> Flask:
        values: dict[str, Any] = {
            "site_api_key": api_key,
            "site_provider_url": provider_url or live.url,
            "site_public_url": relay.url,
            "site_provider_timeout": 5,
        }
        values.update(overrides)
        settings = make_settings(tmp_path, **values)
        transport = calls if provider_url is None else None
        client = Client(api_key, settings.site_provider_url, timeout=5, transport=transport)
        app = create_app(settings, provider=client, clock=clock)
        apps.append(app)
        return app

    yield build
    for app in apps:
        services = app.extensions[EXTENSION]
        services.live.close()
        services.provider.close()
        app.extensions["twofa_site_database"].dispose()


@pytest.fixture
def app(build_app: Callable[..., Flask]) -> Flask:
    return build_app()


@pytest.fixture
def site(app: Flask, live: LiveProvider) -> Browser:
    return Browser(app, live)


@pytest.fixture
def other(app: Flask, live: LiveProvider) -> Browser:
    """A second, independent browser on the same site."""
    return Browser(app, live)


class Browser:
    """A test client that submits CSRF tokens from pages like a browser, plus site look-ups."""

    def __init__(self, app: Flask, live: LiveProvider, phone: str | None = None) -> None:
        self.app = app
        self.live = live
        self.phone = phone or live.new_phone()
        self.http: FlaskClient = app.test_client()
        self.baseline = 0  # messages to the phone before the account existed (sign-up code)

    # -- HTTP --------------------------------------------------------------------------------

    def csrf(self, path: str = "/") -> str:
        page = self.http.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        form = {"csrf_token": self.csrf(kwargs.pop("csrf_from", "/")), **(data or {})}
        return self.http.post(path, data=form, **kwargs)

    def sign_up_form(
        self, email: str = EMAIL, phone: str | None = None, password: str = PASSWORD, **extra: Any
    ) -> Any:
        """Submit the sign-up form only (a code goes to the phone; no account yet)."""
        return self.post(
            "/sign-up",
            {
                "full_name": "Alice Example",
                "email": email,
                "password": password,
                "region": "US",
                "phone": phone or self.phone,
                **extra,
            },
        )

    def register(self, email: str = EMAIL, phone: str | None = None) -> None:
        """Sign up and confirm the phone with its code; the browser ends signed out.

        :meth:`outbox` counts messages from here on, so tests of the login see only theirs.
        """
        response = self.sign_up_form(email, phone)
        assert response.headers.get("Location") == "/sign-up/confirm", response.get_data()[:800]
        code = self.live.last_code(e164(phone or self.phone), 6)
        confirmed = self.post("/sign-up/confirm", {"code": code}, csrf_from="/sign-up/confirm")
        assert confirmed.headers["Location"] == "/account"
        self.post("/logout")
        self.baseline = len(self.live.outbox(e164(phone or self.phone)))

    def sign_up(self, email: str = EMAIL, phone: str | None = None) -> Any:
        """Register, then log in with the password: the browser holds a pending login."""
        self.register(email, phone)
        return self.login(email)

    def login(self, email: str = EMAIL, password: str = PASSWORD, **kw: Any) -> Any:
        return self.post("/login", {"email": email, "password": password, **kw})

    def status(self) -> dict[str, Any]:
        """``/login/status`` as JSON."""
        return dict(self.get("/login/status").get_json())

    # -- cookie ------------------------------------------------------------------------------

    def session(self) -> dict[str, Any]:
        with self.http.session_transaction() as sess:
            return dict(sess)

    def cookie(self) -> str | None:
        found = self.http.get_cookie("twofa_site")
        return found.value if found else None

    def set_cookie(self, value: str) -> None:
        self.http.set_cookie("twofa_site", value)

    def on(self, app: Flask) -> Browser:
        """The same browser (same cookie) talking to another site process."""
        twin = Browser(app, self.live, self.phone)
        cookie = self.cookie()
        if cookie:
            twin.set_cookie(cookie)
        return twin

    # -- what the site and the provider hold -------------------------------------------------

    @property
    def e164(self) -> str:
        return e164(self.phone)

    def outbox(self) -> list[Any]:
        """Messages to this browser's phone since its account was created."""
        return self.live.outbox(self.e164)[self.baseline :]

    def last_code(self) -> str:
        return self.live.last_code(self.e164, self.live.settings.sms_code_length)

    def user(self, email: str = EMAIL) -> User:
        found = self.app.extensions[EXTENSION].auth.users.by_email(email)
        assert found is not None, email
        return found

    def attempt(self) -> LoginAttempt:
        """This browser's pending login attempt, as the site stores it."""
        attempt = self.app.extensions[EXTENSION].auth.attempts.by_token(self.session()["pending"])
        assert attempt is not None
        return attempt

    def uuid(self) -> str:
        """The approval request uuid of this browser's own login attempt."""
        uuid = self.attempt().approval_uuid
        assert uuid is not None
        return uuid

    def signed_in_with_sms(self) -> User:
        """Sign up, log in and finish with the SMS code: the browser ends on a live session."""
        assert self.sign_up().headers["Location"] == "/verify"
        self.get("/verify")
        assert self.post("/verify", {"code": self.last_code()}).headers["Location"] == "/account"
        return self.user()

    def app_user(self) -> tuple[User, TestDevice]:
        """Sign up, leave, and register an authenticator device for the phone."""
        self.register()
        device = self.live.enroll_device("1", self.phone)
        return self.user(), device


def signed_callback(
    browser: Browser,
    body: dict[str, Any],
    *,
    key: str,
    url: str,
    nonce: str | None = None,
) -> Any:
    """POST a callback signed as the provider signs it (to test the site's checks)."""
    nonce = nonce or f"{time.time():.6f}"
    signature = signing.sign(key=key, nonce=nonce, method="POST", url=url, params=body)
    headers = {"X-Authy-Signature": signature, "X-Authy-Signature-Nonce": nonce}
    return browser.http.post(CALLBACK_PATH, json=body, headers=headers)


def deliver_callback(
    browser: Browser, relay: RecordedPath, uuid: str, timeout: float = 10.0
) -> Any:
    """Wait for the provider's callback about ``uuid`` and hand it, unchanged, to the site."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for received in relay.received():
            if json.loads(received.body or b"{}").get("uuid") == uuid:
                headers = {
                    name: value
                    for name, value in received.headers.items()
                    if name.lower().startswith("x-authy-")
                }
                return browser.http.post(
                    received.path,
                    data=received.body,
                    content_type=received.headers.get("Content-Type", "application/json"),
                    headers=headers,
                )
        time.sleep(0.05)
    raise AssertionError(f"the provider sent no callback about {uuid}")
