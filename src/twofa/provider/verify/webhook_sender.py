"""Verify webhooks on the delivery queue: form-encoded, signed with ``X-Twilio-Signature``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Connection

from twofa.provider.deliveries import store
from twofa.provider.deliveries.model import Delivery, Outcome, Outgoing
from twofa.provider.deliveries.policy import judge_http
from twofa.provider.verify.accounts import VerifyAccounts
from twofa.provider.verify.signature import twilio_signature
from twofa.storage.database import utcnow

KIND = "verify_webhook"


def webhook_target(webhook_sid: str) -> str:
    """The breaker key of one webhook's receiver."""
    return f"verify-webhook:{webhook_sid}"


def enqueue_webhook(
    conn: Connection, *, app_id: int, url: str, body: dict[str, Any], subject: str
) -> None:
    """Queue one event for a webhook in ``conn``'s transaction (the change's own)."""
    store.enqueue(
        conn,
        kind=KIND,
        app_id=app_id,
        target=webhook_target(subject),
        subject=subject,
        url=url,
        body=body,
        now=utcnow(),
    )


class VerifyWebhookSender:
    """Signs each attempt with the account's current auth token, as Twilio signs webhooks."""

    kind = KIND

    def __init__(self, accounts: VerifyAccounts) -> None:
        self._accounts = accounts

    def prepare(self, delivery: Delivery) -> Outgoing:
        params = {str(k): str(v) for k, v in delivery.body.items()}
        token = self._accounts.auth_token(params["account_sid"])
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(delivery.url, params, token),
            "I-Twilio-Idempotency-Token": params.get("uuid", ""),
            "User-Agent": "twofa-verify-webhooks/1",
        }
        return Outgoing("POST", urlencode(params).encode(), headers)

    def judge(self, response: httpx.Response | None, error: str | None) -> Outcome:
        return judge_http(response, error)
