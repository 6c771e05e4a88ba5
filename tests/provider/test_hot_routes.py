"""The verification route, served in front of the framework, answers as the framework would.

``HotRoutes`` skips FastAPI's per-request layers for the busiest route. Nothing else may change:
the provider's middleware still sees it, its errors are rendered by the same handlers, and any
request it does not take (another method, another path) reaches the framework unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from tests.provider.conftest import BASE_URL, Authy
from twofa.errors import InvalidApiKey, RateLimited, TokenInvalid, TwofaError
from twofa.provider import errors_http
from twofa.provider.apps.service import AppService
from twofa.provider.codes.service import CodeService

ROUTE = "/protected/json/verify/{token}/{authy_id}"


def _break_verify(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def verify(self: CodeService, *args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(CodeService, "verify", verify)


def test_the_route_is_served_in_front_and_still_observed(authy: Authy) -> None:
    user = authy.new_user()
    labels = {"method": "GET", "route": ROUTE, "status": "401"}
    before = REGISTRY.get_sample_value("twofa_http_requests_total", labels) or 0.0
    response = authy.verify(user, "0000000")
    assert response.status_code == 401
    assert response.json()["error_code"] == "60020"
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-request-id"]
    assert REGISTRY.get_sample_value("twofa_http_requests_total", labels) == before + 1


def test_an_unexpected_error_is_a_logged_500_envelope(
    authy: Authy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = authy.new_user()
    _break_verify(monkeypatch, RuntimeError("boom"))
    caplog.set_level(logging.ERROR, logger="twofa.provider.errors_http")
    response = authy.verify(user, "0000000")
    assert response.status_code == 500
    assert response.json() == {
        "message": TwofaError.default_message,
        "success": False,
        "errors": {"message": TwofaError.default_message},
        "error_code": "60000",
    }
    assert "boom" not in response.text
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_a_database_outage_is_a_503(authy: Authy, monkeypatch: pytest.MonkeyPatch) -> None:
    user = authy.new_user()
    _break_verify(monkeypatch, OperationalError("SELECT 1", {}, Exception("disk I/O error")))
    response = authy.verify(user, "0000000")
    assert response.status_code == 503
    assert response.json()["success"] is False


def test_a_limit_carries_retry_after(authy: Authy, monkeypatch: pytest.MonkeyPatch) -> None:
    user = authy.new_user()
    _break_verify(monkeypatch, RateLimited(retry_after=42))
    response = authy.verify(user, "0000000")
    assert (response.status_code, response.headers["retry-after"]) == (429, "42")
    assert response.json()["error_code"] == "60003"


def test_other_methods_and_paths_reach_the_framework(authy: Authy) -> None:
    post = authy.post("/protected/json/verify/0000000/1")
    assert post.status_code == 405
    assert post.json()["success"] is False
    assert authy.get("/protected/json/verify/0000000").status_code == 404
    assert authy.get("/protected/json/verify/0000000/1/extra").status_code == 404


def test_a_body_over_the_limit_is_refused_before_the_route(authy: Authy) -> None:
    user = authy.new_user()
    response = authy.request(
        "GET", f"/protected/json/verify/0000000/{user.id}", content=b"x" * (2 * 1024 * 1024)
    )
    assert response.status_code == 413


def test_under_a_root_path_the_route_still_matches(app: FastAPI, authy: Authy) -> None:
    user = authy.new_user()
    with TestClient(app, base_url=BASE_URL, root_path="/twofa") as client:
        response = client.get(
            f"/twofa/protected/json/verify/0000000/{user.id}",
            headers={"X-Authy-API-Key": authy.key},
        )
    assert response.status_code == 401
    assert response.json()["error_code"] == "60020"


@pytest.mark.parametrize(
    "error",
    [
        TokenInvalid(),
        InvalidApiKey(),
        RateLimited(retry_after=3),
        HTTPException(status_code=404),
        OperationalError("SELECT 1", {}, Exception("locked")),
        KeyError("x"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_respond_picks_the_handler_the_framework_would(app: FastAPI, error: Exception) -> None:
    """The framework looks a handler up along the exception's MRO; so does ``respond``."""
    registered = app.exception_handlers
    expected = next(registered[k] for k in type(error).__mro__ if k in registered)
    chosen = next(errors_http.HANDLERS[k] for k in type(error).__mro__ if k in errors_http.HANDLERS)
    assert chosen is expected


def test_a_framework_route_failing_unexpectedly_is_observed_too(
    app: FastAPI, authy: Authy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider's middleware stands in front of the framework's error middleware, so an
    unexpected failure anywhere is counted, logged and answered with its request id."""

    def broken(self: AppService, api_key: str | None) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(AppService, "authenticate", broken)
    labels = {"method": "GET", "route": "/protected/json/app/details", "status": "500"}
    before = REGISTRY.get_sample_value("twofa_http_requests_total", labels) or 0.0
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        response = client.get("/protected/json/app/details", headers={"X-Authy-API-Key": "k"})
    assert response.status_code == 500
    assert response.json()["success"] is False
    assert "boom" not in response.text
    assert response.headers["x-request-id"]
    assert REGISTRY.get_sample_value("twofa_http_requests_total", labels) == before + 1


def test_a_chunked_body_over_the_limit_is_a_413_envelope(authy: Authy) -> None:
    """Without a length the limit trips while the route reads: its own handlers answer."""
    user = authy.new_user()

    def chunks() -> Iterator[bytes]:
        for _ in range(300):
            yield b"x" * 8192

    response = authy.request("GET", f"/protected/json/verify/0000000/{user.id}", content=chunks())
    assert response.status_code == 413
    assert response.json()["error_code"] == "60002"
