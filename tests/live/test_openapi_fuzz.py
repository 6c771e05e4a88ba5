"""Property-based requests generated from the provider's own OpenAPI document.

Whatever schemathesis generates for an operation (conforming data and, in negative mode, data
that breaks the schema), the provider must answer below 500, and every failure must be the
Authy envelope. Examples per operation are bounded so the run stays well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.servers import LiveProvider, TestDevice

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
        if operation.path.startswith("/qr/") or operation.path == "/healthz":
            continue
        if operation.path.startswith("/device/v1/") and "registrations" not in operation.path:
            continue  # signed operations: fuzzed with real signatures below
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


def signed_call(case: schemathesis.Case, device: TestDevice, base_url: str) -> requests.Response:
    """Send ``case`` signed by ``device``, over exactly the bytes that go on the wire."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = requests.Request(**kwargs).prepare()
    body = prepared.body or b""
    raw = body.encode() if isinstance(body, str) else body
    prepared.headers.update(device.signed_headers(case.method, prepared.path_url, raw))
    with requests.Session() as session:
        response = session.send(prepared, timeout=10, stream=True)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            response.raw.read(9)  # the stream opened ("retry: …"); nothing more to check
            response.close()
        return response


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_signed_device_api(
    sqlite_provider: LiveProvider, operations: list[Any], mode: GenerationMode
) -> None:
    """Every device operation, fuzzed with valid signatures: below 500, the envelope on failure."""
    national = sqlite_provider.new_phone()
    device = sqlite_provider.enroll_device("1", national)
    tried = 0
    statuses: set[int] = set()
    for operation in operations:
        if not operation.path.startswith("/device/v1/") or "registrations" in operation.path:
            continue
        try:
            strategy = operation.as_strategy(generation_mode=mode)
        except Exception:  # noqa: S112 - nothing to break in negative mode
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
            response = signed_call(case, device, sqlite_provider.url)
            where = f"{case.method} {case.formatted_path}"
            statuses.add(response.status_code)
            assert response.status_code < 500, (where, response.text)
            if response.status_code >= 400:
                body = response.json()
                assert body["success"] is False, (where, body)
                assert isinstance(body["error_code"], str), (where, body)

        try:
            run()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        tried += 1
    assert tried >= (8 if mode is GenerationMode.POSITIVE else 3)
    assert 200 in statuses, statuses  # the signatures were good: the provider answered
    assert device.me()["device"]["uuid"] == device.device_uuid  # fuzzing never revoked it
