"""Property-based requests against the Verify v2 routes, from the provider's OpenAPI document.

Whatever schemathesis generates (conforming data and, in negative mode, data that breaks the
schema), every answer is below 500, and every failure is Twilio's four-field error body. Cases
run with valid Basic credentials and, for half the operations, with a real Service SID, so the
generated data reaches the services rather than stopping at a 404.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.compat.verify_helpers import new_account
from tests.servers import LiveProvider

EXAMPLES = 10


@pytest.fixture(scope="module")
def operations(sqlite_provider: LiveProvider) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{sqlite_provider.url}/openapi.json")
    found = [r.ok() for r in schema.get_all_operations()]
    verify = [op for op in found if op.path.startswith("/v2/")]
    assert len(verify) >= 18
    return verify


def check(case: schemathesis.Case, auth: tuple[str, str], base_url: str) -> int:
    response = case.call(base_url=base_url, auth=auth, timeout=10)
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, (where, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "more_info", "status"}, (where, body)
        assert body["status"] == response.status_code, (where, body)
    else:
        assert response.status_code in (200, 201, 204), (where, response.status_code)
    return response.status_code


# About 40 operations, each with its own examples: longer than the default per-test timeout.
@pytest.mark.timeout(400)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_verify_routes_never_fail_with_500(
    sqlite_provider: LiveProvider, operations: list[Any], mode: GenerationMode
) -> None:
    account = new_account(sqlite_provider)
    auth = (account.account_sid, account.auth_token)
    made = httpx.post(
        f"{sqlite_provider.url}/v2/Services", data={"FriendlyName": "Fuzz"}, auth=auth
    )
    service_sid = made.json()["sid"]
    tried = 0
    statuses: set[int] = set()
    for index, operation in enumerate(operations):
        try:
            strategy = operation.as_strategy(generation_mode=mode)
        except Exception:  # noqa: S112 - an operation with nothing to break in negative mode
            continue
        if index % 2 == 0 and "{service_sid}" in operation.path:
            strategy = strategy.map(lambda case: _with_service(case, service_sid))

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            statuses.add(check(case, auth, sqlite_provider.url))

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        tried += 1
    assert tried >= (18 if mode is GenerationMode.POSITIVE else 8)
    assert 401 not in statuses  # the credentials held: the cases reached the routes
    if mode is GenerationMode.POSITIVE:
        assert statuses & {200, 201, 204}, statuses


def _with_service(case: schemathesis.Case, service_sid: str) -> schemathesis.Case:
    if case.path_parameters is not None:
        case.path_parameters["service_sid"] = service_sid
    return case
