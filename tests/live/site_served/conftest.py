"""Fixtures: the site talking over HTTP to a real provider, in-process or served on a port.

``served_site`` serves the site for real on a loopback port, and its provider application's
callback URL points at it, so the provider's own signed callbacks reach it. ``WebBrowser``
drives it over HTTP with a cookie jar, reading CSRF tokens from pages like a browser.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.live.site.conftest import EMAIL, PASSWORD, Browser, make_settings
from tests.servers import LiveProvider, e164
from twofa.client import Client
from twofa.site.app import create_app
from twofa.site.services import EXTENSION

CALLBACK_PATH = "/authy/callback"
FINAL = {"approved", "denied", "expired"}


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


def close_site(app: Flask) -> None:
    services = app.extensions[EXTENSION]
    services.live.close()
    services.provider.close()
    app.extensions["twofa_site_database"].dispose()


@pytest.fixture
def site_app(tmp_path: Path, live: LiveProvider, api_key: str) -> Iterator[Flask]:
    settings = make_settings(
        tmp_path, site_api_key=api_key, site_provider_url=live.url, site_resend_cooldown=0
    )
    app = create_app(settings)
    yield app
    close_site(app)


@pytest.fixture
def site(site_app: Flask, live: LiveProvider) -> Browser:
    return Browser(site_app, live)


# -- the site served on a port ---------------------------------------------------------------


class WebBrowser:
    """One browser talking HTTP to a served site: cookie jar, CSRF tokens from pages."""

    def __init__(self, url: str, live: LiveProvider, phone: str | None = None) -> None:
        self.url = url
        self.live = live
        self.phone = phone or live.new_phone()
        self.http = httpx.Client(base_url=url, timeout=15, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def csrf(self, path: str = "/") -> str:
        page = self.http.get(path).text
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1)

    def post(self, path: str, data: dict[str, str] | None = None, csrf_from: str = "/") -> Any:
        return self.http.post(path, data={"csrf_token": self.csrf(csrf_from), **(data or {})})

    def sign_up(self, email: str = EMAIL) -> httpx.Response:
        """Register, then log in with the password: the browser holds a pending login."""
        self.register(email)
        return self.login(email)

    def register(self, email: str = EMAIL) -> None:
        """Sign up through the site and confirm the phone; the browser ends signed out."""
        form = {"full_name": "Alice Example", "email": email, "password": PASSWORD}
        started = self.post("/sign-up", {**form, "region": "US", "phone": self.phone})
        assert started.headers["location"] == "/sign-up/confirm"
        code = self.live.last_code(e164(self.phone), 6)
        done = self.post("/sign-up/confirm", {"code": code}, csrf_from="/sign-up/confirm")
        assert done.headers["location"] == "/account"
        assert self.post("/logout").status_code == 302

    def login(self, email: str = EMAIL) -> httpx.Response:
        return self.post("/login", {"email": email, "password": PASSWORD})

    def last_code(self) -> str:
        return self.live.last_code(e164(self.phone), self.live.settings.sms_code_length)

    def status(self) -> dict[str, Any]:
        return dict(self.http.get("/login/status").json())

    def events_until_final(self, on_first: Callable[[str], object] | None = None) -> list[str]:
        """Read ``/login/events`` until a final status; ``on_first`` runs after the first frame.

        The stream is opened before ``on_first`` acts, so whatever it sets off arrives live.
        """
        seen: list[str] = []
        with self.http.stream("GET", "/login/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                seen.append(json.loads(line[len("data: ") :])["status"])
                if len(seen) == 1 and on_first is not None:
                    on_first(seen[0])
                if seen[-1] in FINAL:
                    break
        return seen


@dataclass
class ServedSite:
    """The site served on a loopback port, with its own application at the provider."""

    url: str
    app: Flask
    api_key: str
    live: LiveProvider
    browsers: list[WebBrowser]

    def browser(self, phone: str | None = None) -> WebBrowser:
        browser = WebBrowser(self.url, self.live, phone)
        self.browsers.append(browser)
        return browser

    def uuid_of(self, browser: WebBrowser) -> str:
        """The approval uuid of the login that ``browser``'s cookie holds."""
        serializer = self.app.session_interface.get_signing_serializer(self.app)  # type: ignore[attr-defined]
        assert serializer is not None
        token = serializer.loads(browser.http.cookies["twofa_site"])["pending"]
        attempt = self.app.extensions[EXTENSION].auth.attempts.by_token(token)
        assert attempt is not None and attempt.approval_uuid is not None
        return str(attempt.approval_uuid)

    def attempt_status(self, uuid: str) -> str | None:
        """The approval status the site itself recorded (settled only by a callback here)."""
        attempt = self.app.extensions[EXTENSION].auth.attempts.by_approval(uuid)
        return None if attempt is None else attempt.approval_status


@contextlib.contextmanager
def serve_site(tmp_path: Path, live: LiveProvider, **overrides: Any) -> Iterator[ServedSite]:
    """Serve a new site (threaded WSGI server) whose provider application calls it back."""
    holder: dict[str, Flask] = {}

    def wsgi(environ: Any, start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    _, key = live.new_app("Served site", callback_url=url + CALLBACK_PATH)
    values: dict[str, Any] = {
        "site_api_key": key,
        "site_provider_url": live.url,
        "site_public_url": url,
        "site_stream_max_seconds": 30,
    }
    values.update(overrides)
    app = create_app(make_settings(tmp_path, **values))
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, name="served-site", daemon=True)
    thread.start()
    served = ServedSite(url, app, key, live, [])
    try:
        yield served
    finally:
        for browser in served.browsers:
            browser.close()
        server.shutdown()
        server.server_close()
        thread.join(10)
        close_site(app)


@pytest.fixture
def served(tmp_path: Path, live: LiveProvider) -> Iterator[ServedSite]:
    with serve_site(tmp_path, live) as site:
        yield site
