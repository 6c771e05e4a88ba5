"""Shared set-up for the Verify v2 compatibility tests: accounts, clients, outbox codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from tests.servers import LiveProvider, e164


class RecordingHttpClient(TwilioHttpClient):
    """The official HTTP client, keeping every request URL, auth user and raw response."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, str | None, Response]] = []

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().request(method, url, *args, **kwargs)
        auth = kwargs.get("auth")
        self.calls.append((method, url, auth[0] if auth else None, response))
        return response


@dataclass
class Account:
    app_id: int
    account_sid: str
    auth_token: str
    provider: LiveProvider

    def client(self, http: TwilioHttpClient | None = None, **kwargs: Any) -> Client:
        client = Client(self.account_sid, self.auth_token, http_client=http, **kwargs)
        client.verify.base_url = self.provider.url
        return client


def new_account(provider: LiveProvider) -> Account:
    app_id, _ = provider.new_app("Verify")
    issued = provider.services.verify.accounts.issue_account(app_id)
    return Account(app_id, issued.sid, issued.secret, provider)


def new_number(provider: LiveProvider) -> str:
    return e164(provider.new_phone())


def sent_code(provider: LiveProvider, to: str, digits: int = 6) -> str:
    """The code in the last message the outbox holds for ``to``."""
    messages = provider.outbox(to)
    assert messages, f"no message to {to}"
    body = messages[-1].body
    # A voice call reads the code digit by digit: "4 3 0 7 1 7".
    spoken = re.findall(rf"\b((?:\d ){{{digits - 1}}}\d)\b", body)
    found = [s.replace(" ", "") for s in spoken] or re.findall(rf"\b(\d{{{digits}}})\b", body)
    assert found, body
    return str(found[-1])
