"""Per-address budgets for device registration, trusting ``X-Forwarded-For`` only from the
configured proxy (here 127.0.0.2; tests reach the provider from 127.0.0.1 directly)."""

from __future__ import annotations

import httpx

from tests.live.fraud.conftest import assert_refused
from tests.servers import LiveProvider

ENV = {
    "TWOFA_LIMIT_DEVICE_REGISTRATIONS_PER_IP": "4/600",
    "TWOFA_LIMIT_DEVICE_REGISTRATIONS_TOTAL": "12/3600",
    "TWOFA_TRUSTED_PROXY": "127.0.0.2",
}


def _client(source: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30)


def _register(client: httpx.Client, live: LiveProvider, forwarded: str) -> httpx.Response:
    return client.post(
        live.url + "/device/v1/registrations",
        json={"country_code": "1", "phone_number": live.new_phone()},
        headers={"X-Forwarded-For": forwarded},
    )


def test_budgets_per_address_global_and_trusted_proxy_only(guarded: LiveProvider) -> None:
    with _client("127.0.0.1") as direct, _client("127.0.0.2") as proxy:
        # A direct client cannot escape its budget by writing X-Forwarded-For.
        for n in range(4):
            assert _register(direct, guarded, f"198.51.100.{n}").status_code == 200
        refused = _register(direct, guarded, "198.51.100.99")
        assert_refused(refused)
        assert 500 <= int(refused.headers["Retry-After"]) <= 600
        # Behind the trusted proxy, each client address has its own budget.
        for _ in range(4):
            assert _register(proxy, guarded, "203.0.113.7").status_code == 200
        assert_refused(_register(proxy, guarded, "203.0.113.7"))
        for n in range(4):
            assert _register(proxy, guarded, f"203.0.113.{20 + n}").status_code == 200
        # The deployment-wide budget (12 per hour) holds whatever the addresses.
        assert_refused(_register(proxy, guarded, "203.0.113.50"))
