"""Property-based requests generated from the provider's own OpenAPI document.

Whatever schemathesis generates for an operation (conforming data and, in negative mode, data
that breaks the schema), the provider must answer below 500, and every failure must be the
Authy envelope. Examples per operation are bounded so the run stays well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.servers import LiveProvider

EXAMPLES = 12


@pytest.fixture(scope="module")
def operations(sqlite_provider: LiveProvider) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{sqlite_provider.url}/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 15
    return found


def check(case: schemathesis.Case, key: str, base_url: str) -> None:
    response = case.call(base_url=base_url, headers={"X-Authy-API-Key": key}, timeout=10)
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, (where, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False, (where, body)
        assert isinstance(body["error_code"], str), (where, body)
        assert isinstance(body["errors"]["message"], str), (where, body)
    else:
        assert response.status_code == 200, (where, response.status_code)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_envelope_on_failure(
    sqlite_provider: LiveProvider, operations: list[Any], mode: GenerationMode
) -> None:
    key = sqlite_provider.new_app("Fuzz")[1]
    tried = 0
    for operation in operations:
        if operation.path.startswith(("/device/", "/qr/")) or operation.path == "/healthz":
            continue  # the device API has its own signed-request tests
        try:
            strategy = operation.as_strategy(generation_mode=mode)
        except Exception:  # noqa: S112 - an operation with nothing to break in negative mode
            continue

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            check(case, key, sqlite_provider.url)

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue  # nothing in this operation's schema can be broken
        tried += 1
    assert tried >= (10 if mode is GenerationMode.POSITIVE else 5)
