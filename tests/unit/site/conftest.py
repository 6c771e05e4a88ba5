"""Fixtures for the site's unit tests: an app on a temporary SQLite file and a fake provider."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.unit.site.fake_provider import FakeProvider
from twofa import signing
from twofa.settings import Settings, load_settings
from twofa.site.app import create_app

API_KEY = "test-api-key"
CALLBACK_URL = "http://localhost/authy/callback"
PASSWORD = "correct horse battery"


class FakeClock:
    """A settable clock for expiry and cooldown tests."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "secret_key": "unit-test-secret-" + "k" * 40,
        "data_dir": tmp_path,
        "redis_url": None,
        "site_database_url": f"sqlite:///{tmp_path / 'site.db'}",
        "site_api_key": API_KEY,
        "site_public_url": "",
        "site_password_memory_kib": 1024,
        "site_stream_max_seconds": 5,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings, fake: FakeProvider, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(settings, provider=fake.client(), clock=clock)
    yield app
    from twofa.site.services import EXTENSION

    app.extensions[EXTENSION].live.close()
    app.extensions["twofa_site_database"].dispose()


@pytest.fixture
def site(app: Flask) -> Browser:
    return Browser(app)


@pytest.fixture
def other(app: Flask) -> Browser:
    """A second, independent browser on the same site."""
    return Browser(app)


class Browser:
    """A test client that reads CSRF tokens from pages like a browser would submit them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()

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

    def sign_up(self, email: str = "alice@example.com", phone: str = "201-555-0123") -> Any:
        return self.post(
            "/sign-up",
            {
                "full_name": "Alice Example",
                "email": email,
                "password": PASSWORD,
                "region": "US",
                "phone": phone,
            },
        )

    def login(self, email: str = "alice@example.com", password: str = PASSWORD, **kw: Any) -> Any:
        return self.post("/login", {"email": email, "password": password, **kw})

    def session(self) -> dict[str, Any]:
        with self.http.session_transaction() as sess:
            return dict(sess)

    def cookie(self) -> str | None:
        found = self.http.get_cookie("twofa_site")
        return found.value if found else None

    def set_cookie(self, value: str) -> None:
        self.http.set_cookie("twofa_site", value)


def signed_callback(
    browser: Browser,
    body: dict[str, Any],
    *,
    key: str = API_KEY,
    nonce: str | None = None,
    url: str = CALLBACK_URL,
) -> Any:
    """POST a callback signed like the provider signs it."""
    nonce = nonce or f"{time.time():.6f}"
    signature = signing.sign(key=key, nonce=nonce, method="POST", url=url, params=body)
    headers = {"X-Authy-Signature": signature, "X-Authy-Signature-Nonce": nonce}
    return browser.http.post("/authy/callback", json=body, headers=headers)


def approve(browser: Browser, fake: FakeProvider, uuid: str, status: str = "approved") -> Any:
    approval = fake.approvals[uuid]
    approval.status = status
    return signed_callback(browser, {"authy_id": approval.authy_id, "uuid": uuid, "status": status})
