"""The console in-process: the provider's app behind a test client on ``https://testserver``
(the console's cookies are ``Secure``), and operators who sign in to it.

    alice = console.operator("alice", "admin")
    page = alice.sign_in()                    # password, then a TOTP code
    alice.post("/console/apps/new", {"name": "Shop"})  # Origin and CSRF token added

Tests of what a signed-in operator may do start the session without the sign-in pages
(``bob.start_session()``); the sign-in tests go through the pages.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from twofa import otp
from twofa.provider.app import create_app
from twofa.provider.console.auth import SESSION_COOKIE
from twofa.provider.operators.service import OperatorService
from twofa.provider.operators.sessions import ConsoleSessions
from twofa.provider.services import Services
from twofa.settings import Settings

ORIGIN = "https://testserver"
PASSWORD = "quartz-lantern-orbit-57"
CSRF = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


class Clock:
    """Wall time plus an offset the test moves (TOTP steps, re-authentication windows)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)

    def next_step(self) -> None:
        """On to the next TOTP time step."""
        self.offset += 30


@dataclass
class Operator:
    """An operator and their own browser (a test client with its own cookies)."""

    name: str
    role: str
    secret: str
    http: TestClient
    clock: Clock
    password: str = PASSWORD
    csrf: str = field(default="")
    services: Services | None = field(default=None, repr=False)

    def code(self) -> str:
        """A TOTP code for a step not used yet (each sign-in moves the clock a step on)."""
        self.clock.next_step()
        return otp.totp(self.secret, self.clock(), digits=6)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        origin: str | None = ORIGIN,
        **kw: Any,
    ) -> httpx.Response:
        """A form POST as the console's own page sends it: Origin and CSRF token included."""
        headers = {"Origin": origin} if origin else {}
        headers.update(kw.pop("headers", {}))
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.http.post(path, data=body, headers=headers, **kw)

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(
            path,
            json=body or {},
            headers={"Origin": ORIGIN, "X-CSRF-Token": self.csrf, "Accept": "application/json"},
        )

    def sign_in(self) -> httpx.Response:
        """Password, then a TOTP code; the page the operator lands on."""
        self.get("/console/login")
        first = self.post("/console/login", {"name": self.name, "password": self.password})
        assert first.status_code == 303, first.text
        self.get(first.headers["location"])
        second = self.post("/console/login/totp", {"code": self.code(), "next": "/console/"})
        assert second.status_code == 303, second.text
        return self.get("/console/apps")

    def start_session(self) -> httpx.Response:
        """Signed in without the sign-in pages; the page the operator lands on.

        The session is the one a TOTP sign-in ends with (the services the sign-in page calls,
        its cookie in this browser): the pages themselves are tested in ``test_signin.py``,
        and five requests, a password hash and a TOTP check per operator add nothing to a test
        of what the operator may do once signed in.
        """
        assert self.services is not None, "an operator made by Console.operator"
        account = self.services.operators.find(self.name)
        self.services.operators.signed_in(account)
        # The address the test client's requests come from, as the sign-in page records it.
        token = self.services.console_sessions.start(account, factor="totp", address="testclient")
        # A host-only cookie for testserver, as the cookie jar stores the one the page sets.
        self.http.cookies.set(SESSION_COOKIE, token, domain="testserver.local", path="/")
        page = self.get("/console/apps")
        assert page.status_code == 200, "the console did not take the session"
        return page


class Console:
    def __init__(
        self, settings: Settings, services: Services, clock: Clock, app: FastAPI | None = None
    ) -> None:
        self.settings = settings
        self.services = services
        self.clock = clock
        self.app = app or create_app(settings, services, workers=False)
        self._clients: list[TestClient] = []

    def browser(self) -> TestClient:
        client = TestClient(self.app, base_url=ORIGIN, follow_redirects=False)
        client.__enter__()
        self._clients.append(client)
        return client

    def operator(self, name: str, role: str = "admin") -> Operator:
        created = self.services.operators.create(name, role=role, password=PASSWORD, actor="cli")
        return Operator(
            name, role, created.totp_secret, self.browser(), self.clock, services=self.services
        )

    def close(self) -> None:
        for client in self._clients:
            client.__exit__(None, None, None)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console(
    app: FastAPI, settings: Settings, services: Services, clock: Clock
) -> Iterator[Console]:
    """Operators' browsers on the test's provider application (services read at each request,
    so the clocked operator services below apply to it)."""
    services.operators = OperatorService(
        services.db, services.keyring, settings, services.audit, clock=clock
    )
    services.console_sessions = ConsoleSessions(
        services.db, settings, services.audit, clock=clock.now
    )
    built = Console(settings, services, clock, app)
    yield built
    built.close()
