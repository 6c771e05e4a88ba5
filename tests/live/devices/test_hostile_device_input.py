"""Hostile input on ``/device/v1``: every body, header and parameter gets a clean 4xx envelope.

Each case here was a 500 with a logged traceback: Python's JSON parser recurses per nesting
level, ``int`` accepts any number of digits and float arithmetic on a huge one overflows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.live.devices.conftest import Account, new_account
from tests.servers import LiveProvider
from twofa.authenticator.device import DeviceClient


def envelope(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False, body
    assert isinstance(body["error_code"], str), body
    if code is not None:
        assert body["error_code"] == code, body
    return dict(body)


def latin1(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Headers as raw bytes, so non-ASCII values reach the provider as sent."""
    return [(k.encode(), v.encode("latin-1", "replace")) for k, v in headers.items()]


@pytest.fixture(autouse=True)
def no_tracebacks(sqlite_provider: LiveProvider) -> Iterator[None]:
    """Fail the test if the provider logged a traceback while it ran."""
    start = sqlite_provider.log_path.stat().st_size
    yield
    with sqlite_provider.log_path.open("rb") as log:
        log.seek(start)
        assert b"Traceback" not in log.read()


@pytest.fixture
def account(sqlite_provider: LiveProvider) -> Account:
    return new_account(sqlite_provider)


@pytest.fixture
def device(sqlite_provider: LiveProvider, account: Account) -> DeviceClient:
    return sqlite_provider.enroll_device("1", account.national)


JSON = "application/json"
NESTED = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["array", "object"])
def test_deeply_nested_json_is_refused(sqlite_provider: LiveProvider, body: bytes) -> None:
    for path in ("/device/v1/registrations", "/device/v1/registrations/x/confirm"):
        response = httpx.post(
            sqlite_provider.url + path,
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code in (400, 413), response.text
        envelope(response, response.status_code)


@pytest.mark.parametrize(
    "timestamp",
    ["9" * 400, "-" + "9" * 400, "1" * 20, "1e400", "inf", "nan", "1 2", "\u00b2", "+5", "0x10"],
)
def test_hostile_timestamps(
    sqlite_provider: LiveProvider, device: DeviceClient, timestamp: str
) -> None:
    headers = {**device.signed_headers("GET", "/device/v1/me", b""), "X-Twofa-Timestamp": timestamp}
    response = httpx.get(sqlite_provider.url + "/device/v1/me", headers=latin1(headers), timeout=10)
    envelope(response, 401, "60087")


@pytest.mark.parametrize(
    "signing_time", [10**400, -(10**400), 10**20, 2**63, -(2**63) - 1, 1.5, "1", True]
)
def test_hostile_signing_time(
    sqlite_provider: LiveProvider, account: Account, device: DeviceClient, signing_time: Any
) -> None:
    uuid = account.push()["uuid"]
    path = f"/device/v1/requests/{uuid}/decision"
    raw = json.dumps(
        {"decision": "approve", "signing_time": signing_time, "signature": "AAAA"}
    ).encode()
    response = httpx.post(
        sqlite_provider.url + path,
        content=raw,
        headers={**device.signed_headers("POST", path, raw), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    envelope(response, 400)
    assert account.status(uuid) == "pending"


@pytest.mark.parametrize("number", [10**400, -(10**400), 10**20, 1.5, "42", [42]])
def test_hostile_numbers(
    sqlite_provider: LiveProvider, account: Account, device: DeviceClient, number: Any
) -> None:
    uuid = account.push()["uuid"]
    path = f"/device/v1/requests/{uuid}/decision"
    raw = json.dumps(
        {"decision": "approve", "signing_time": 1, "number": number, "signature": "AAAA"}
    ).encode()
    response = httpx.post(
        sqlite_provider.url + path,
        content=raw,
        headers={**device.signed_headers("POST", path, raw), "Content-Type": "application/json"},
        timeout=10,
    )
    envelope(response, 400)


@pytest.mark.parametrize(
    "last_event_id", ["9" * 16, "9" * 400, "-1", "99999999999999", "1e30", "\u00b2\u00b3"]
)
def test_hostile_last_event_id_opens_the_stream(
    sqlite_provider: LiveProvider, device: DeviceClient, last_event_id: str
) -> None:
    path = "/device/v1/events"
    headers = {**device.signed_headers("GET", path, b""), "Last-Event-ID": last_event_id}
    with httpx.stream(
        "GET", sqlite_provider.url + path, headers=latin1(headers), timeout=10
    ) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert first.startswith("retry:")


@pytest.mark.parametrize(
    "header,value",
    [
        ("X-Twofa-Device", "x" * 10_000),
        ("X-Twofa-Device", "\u00e9\u00e9"),
        ("X-Twofa-Nonce", "n" * 10_000),
        ("X-Twofa-Signature", "A" * 8_000),
        ("X-Twofa-Signature", "!!!"),
        ("X-Twofa-Signature", "\u00ff" * 10),
    ],
)
def test_hostile_signature_headers(
    sqlite_provider: LiveProvider, device: DeviceClient, header: str, value: str
) -> None:
    headers = {**device.signed_headers("GET", "/device/v1/me", b""), header: value}
    response = httpx.get(sqlite_provider.url + "/device/v1/me", headers=latin1(headers), timeout=10)
    envelope(response, 401, "60087")


@pytest.mark.parametrize(
    "path",
    [
        "/device/v1/requests/" + "a" * 5000,
        "/device/v1/requests/%00%ff%fe",
        "/device/v1/requests/..%2F..%2Fetc",
        "/device/v1/devices/" + "b" * 5000,
    ],
)
def test_hostile_path_parameters(
    sqlite_provider: LiveProvider, device: DeviceClient, path: str
) -> None:
    method = "DELETE" if "/devices/" in path else "GET"
    response = httpx.request(
        method,
        sqlite_provider.url + path,
        headers=device.signed_headers(method, path, b""),
        timeout=10,
    )
    envelope(response, 404)


def test_nul_in_uuids_on_every_backend(provider: LiveProvider) -> None:
    device = provider.enroll_device("1", new_account(provider).national)
    for method, path in (
        ("GET", "/device/v1/requests/%00abc"),
        ("POST", "/device/v1/requests/%00abc/decision"),
        ("DELETE", "/device/v1/devices/%00abc"),
    ):
        body = b'{"decision":"deny","signing_time":1,"signature":"AA"}' if method == "POST" else b""
        response = httpx.request(
            method,
            provider.url + path,
            content=body,
            headers={**device.signed_headers(method, path, body), "Content-Type": JSON},
            timeout=10,
        )
        envelope(response, 404)


@pytest.mark.parametrize(
    "body",
    [
        {"code": 10**400, "name": "x", "os_type": "cli", "public_key": {}},
        {"code": "1" * 10_000, "name": "x" * 10_000, "os_type": "cli", "public_key": {}},
        {"code": "123456", "name": "x", "os_type": "cli", "public_key": {"x": [1] * 1000}},
        {"code": "123456", "name": "x", "os_type": ["cli"], "public_key": "k"},
        {"code": None, "name": None, "os_type": None, "public_key": None},
    ],
)
def test_hostile_registration_bodies(sqlite_provider: LiveProvider, body: dict[str, Any]) -> None:
    started = httpx.post(
        sqlite_provider.url + "/device/v1/registrations",
        json={"country_code": "1", "phone_number": sqlite_provider.new_phone()},
        timeout=10,
    ).json()
    response = httpx.post(
        f"{sqlite_provider.url}/device/v1/registrations/{started['registration_id']}/confirm",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert 400 <= response.status_code < 500, response.text
    envelope(response, response.status_code)
