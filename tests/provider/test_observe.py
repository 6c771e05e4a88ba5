"""What every request leaves behind: its id, its access line and its metrics."""

from __future__ import annotations

import logging
import re

import pytest
from prometheus_client import REGISTRY

from tests.provider.conftest import Authy

ROUTE = "/protected/json/verify/{token}/{authy_id}"


def _requests(status: str) -> float:
    labels = {"method": "GET", "route": ROUTE, "status": status}
    return REGISTRY.get_sample_value("twofa_http_requests_total", labels) or 0.0


def test_request_ids_are_made_kept_or_replaced(authy: Authy) -> None:
    made = authy.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]+", made)
    assert authy.get("/healthz").headers["x-request-id"] != made
    kept = authy.get("/healthz", headers={"X-Request-ID": "edge-1234.abc_X"})
    assert kept.headers["x-request-id"] == "edge-1234.abc_X"
    for unsafe in ("short", "has space-in-it", "x" * 65, 'quote"d-id'):
        answer = authy.get("/healthz", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]+", answer.headers["x-request-id"]), unsafe


def test_a_refused_code_is_counted_and_logged_by_route(
    authy: Authy, caplog: pytest.LogCaptureFixture
) -> None:
    user = authy.new_user()
    before = _requests("401")
    caplog.set_level(logging.INFO, logger="twofa.access")
    response = authy.verify(user, "0000000")
    assert response.status_code == 401
    assert _requests("401") == before + 1
    (record,) = [r for r in caplog.records if r.name == "twofa.access"]
    assert record.getMessage() == f"GET {ROUTE} 401"
    assert (record.status, record.route) == (401, ROUTE)  # type: ignore[attr-defined]
    assert "0000000" not in record.getMessage()  # the template, never the code


def test_health_checks_are_counted_but_not_logged(
    authy: Authy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twofa.access")
    assert authy.get("/healthz").status_code == 200
    assert not [r for r in caplog.records if r.name == "twofa.access"]
