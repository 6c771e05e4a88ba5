"""Fixtures: the site in-process, talking over HTTP to a real provider on a loopback port."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from flask import Flask

from tests.live import LiveProvider
from tests.unit.site.conftest import API_KEY, Browser, make_settings
from twofa.client import Client
from twofa.site.app import create_app
from twofa.site.services import EXTENSION


@pytest.fixture
def live(sqlite_provider: LiveProvider) -> LiveProvider:
    return sqlite_provider


def valid_phone() -> str:
    """A random US number that phonenumbers accepts (exchange codes never start with 0 or 1)."""
    while True:
        candidate = f"201-{secrets.randbelow(800) + 200:03d}-{secrets.randbelow(10000):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate, "US")):
            return candidate


@pytest.fixture
def phone() -> str:
    return valid_phone()


@pytest.fixture
def api_key(live: LiveProvider) -> str:
    """A fresh application per test, so tests share no users or limits."""
    _, key = live.new_app("Site", callback_url="http://127.0.0.1:9/authy/callback")
    return key


@pytest.fixture
def provider_client(live: LiveProvider, api_key: str) -> Iterator[Client]:
    with Client(api_key, live.url, timeout=10) as client:
        yield client


@pytest.fixture
def site_app(tmp_path: Path, live: LiveProvider, api_key: str) -> Iterator[Flask]:
    settings = make_settings(
        tmp_path, site_api_key=api_key, site_provider_url=live.url, site_resend_cooldown=0
    )
    app = create_app(settings)
    yield app
    services = app.extensions[EXTENSION]
    services.live.close()
    services.provider.close()
    app.extensions["twofa_site_database"].dispose()


@pytest.fixture
def site(site_app: Flask) -> Browser:
    return Browser(site_app)


__all__ = ["API_KEY"]
