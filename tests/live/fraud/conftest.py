"""A provider per backend for the attack tests: SQLite with in-process limits, and PostgreSQL with
limits in a Redis of its own (never the machine's shared one, whose keys other runs share)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scale.conftest import PrivateRedis
from tests.servers import LiveProvider, postgres_database, start_provider

# Tight enough to attack within a test, loose enough for the legitimate calls around it.
ATTACK_ENV = {
    "TWOFA_LIMIT_VERIFY_FAILURES_PER_USER": "10/600",
    "TWOFA_LIMIT_SMS_PER_PHONE": "3/600",
    "TWOFA_LIMIT_SMS_PER_PHONE_TOTAL": "8/600",
    "TWOFA_LIMIT_PHONE_VERIFICATIONS_PER_NUMBER": "20/600",
    "TWOFA_LIMIT_DEVICE_REGISTRATIONS_PER_NUMBER": "3/600",
    "TWOFA_LIMIT_DEVICE_REGISTRATIONS_PER_IP": "1000/600",
    "TWOFA_FRAUD_MIN_SENDS": "12",
    "TWOFA_FRAUD_MIN_CONVERSION": "0.5",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres+redis"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveProvider]:
    """A provider with the attack settings, per backend (extra env from the module's ``ENV``)."""
    tmp = tmp_path_factory.mktemp("fraud")
    env = {**ATTACK_ENV, **getattr(request.module, "ENV", {})}
    yield from _provider(tmp, request.param, env)


def _provider(tmp: Path, backend: str, env: dict[str, str]) -> Iterator[LiveProvider]:
    if backend == "sqlite":
        live = start_provider(tmp, f"sqlite:///{tmp / 'provider.db'}", **env)
        try:
            yield live
        finally:
            live.stop()
        return
    redis = PrivateRedis(tmp / "redis")
    redis.start()
    try:
        with postgres_database() as url:
            live = start_provider(tmp, url, TWOFA_REDIS_URL=redis.url, **env)
            try:
                yield live
            finally:
                live.stop()
    finally:
        redis.stop()


@dataclass
class Tenant:
    """One application's API, as its server would call it."""

    live: LiveProvider
    app_id: int
    key: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Authy-API-Key": self.key}
        return httpx.request(method, self.live.url + path, headers=headers, timeout=30, **kwargs)

    def new_user(self, national: str | None = None, country_code: int = 1) -> tuple[int, str]:
        """(authy id, E.164) of a fresh user."""
        national = national or self.live.new_phone()
        answer = self.call(
            "POST",
            "/protected/json/users/new",
            json={
                "user": {
                    "email": "u@example.com",
                    "cellphone": national,
                    "country_code": country_code,
                }
            },
        )
        assert answer.status_code == 200, answer.text
        return int(answer.json()["user"]["id"]), f"+{country_code}" + re.sub(r"\D", "", national)

    def sms(self, authy_id: int) -> httpx.Response:
        return self.call("GET", f"/protected/json/sms/{authy_id}", params={"force": "true"})

    def verify(self, authy_id: int, token: str) -> httpx.Response:
        return self.call("GET", f"/protected/json/verify/{token}/{authy_id}")


def tenant(live: LiveProvider) -> Tenant:
    app_id, key = live.new_app("Fraud")
    return Tenant(live, app_id, key)


def wrong(code: str, n: int) -> str:
    """The n-th code of the same length that is not ``code`` (n below 10 ** len(code) - 1)."""
    return f"{(int(code) + 1 + n) % 10 ** len(code):0{len(code)}d}"


def together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run every call at once: threads wait at a barrier and are released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def assert_refused(answer: httpx.Response, code: str = "60003", status: int = 429) -> None:
    """A clean refusal in the Authy envelope (with ``Retry-After`` for a 429)."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False
    assert body["error_code"] == code
    if status == 429:
        assert int(answer.headers["Retry-After"]) >= 1
