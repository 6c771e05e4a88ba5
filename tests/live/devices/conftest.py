"""Helpers for device API tests: enrol devices through the real API, push through the Authy API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.servers import LiveProvider, TestDevice, e164
from twofa.authenticator.device import DeviceClient

__all__ = ["Account", "e164", "enrol", "new_account"]


def enrol(
    provider: LiveProvider, national: str, *, name: str = "Test phone", os_type: str = "cli"
) -> TestDevice:
    """Register a new device for ``national`` (country code 1) with the code from the outbox."""
    return provider.enroll_device("1", national, name=name, os_type=os_type)


@dataclass
class Account:
    """An application with one user on a phone, driven through the Authy API over HTTP."""

    provider: LiveProvider
    api_key: str
    authy_id: int
    national: str

    @property
    def phone(self) -> str:
        return e164(self.national)

    def authy(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            self.provider.url + path,
            headers={"X-Authy-API-Key": self.api_key},
            timeout=10,
            **kwargs,
        )

    def push(self, message: str = "Login requested", **extra: Any) -> dict[str, Any]:
        """Create an approval request; returns the ``approval_request`` object."""
        response = self.authy(
            "POST",
            f"/onetouch/json/users/{self.authy_id}/approval_requests",
            json={
                "message": message,
                "details": {"Email": "a@example.com"},
                "hidden_details": {"ip": "10.0.0.1"},
                **extra,
            },
        )
        assert response.status_code == 200, response.text
        return response.json()["approval_request"]  # type: ignore[no-any-return]

    def status(self, uuid: str) -> str:
        response = self.authy("GET", f"/onetouch/json/approval_requests/{uuid}")
        assert response.status_code == 200, response.text
        return str(response.json()["approval_request"]["status"])


def new_account(
    provider: LiveProvider, national: str | None = None, callback_url: str | None = None
) -> Account:
    national = national or provider.new_phone()
    _, api_key = provider.new_app("Devices", callback_url=callback_url)
    response = httpx.post(
        provider.url + "/protected/json/users/new",
        headers={"X-Authy-API-Key": api_key},
        json={"user": {"email": "alice@example.com", "cellphone": national, "country_code": 1}},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return Account(provider, api_key, response.json()["user"]["id"], national)


@pytest.fixture
def account(provider: LiveProvider) -> Account:
    return new_account(provider)


@pytest.fixture
def device(provider: LiveProvider, account: Account) -> DeviceClient:
    return enrol(provider, account.national)
