"""Authy OneTouch callbacks on the delivery queue: their kind, receiver key and signature."""

from __future__ import annotations

import json
import time

import httpx

from twofa import signing
from twofa.crypto import Keyring
from twofa.provider.deliveries.model import Delivery, Outcome, Outgoing
from twofa.provider.deliveries.policy import judge_http

KIND = "authy_callback"


def app_target(app_id: int) -> str:
    """The breaker key of an application's callback receiver."""
    return f"app:{app_id}"


class AuthyCallbackSender:
    """Signs a callback as Authy did: JSON body, ``X-Authy-Signature`` HMAC with the API key."""

    kind = KIND

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def prepare(self, delivery: Delivery) -> Outgoing:
        """The body bytes and headers of one attempt; the nonce is the send time."""
        if delivery.app_key_salt is None:
            raise ValueError("an Authy callback needs its application's key")
        nonce = f"{time.time():.6f}"
        key = self._keyring.api_key(delivery.app_key_salt)
        signature = signing.sign(
            key=key, nonce=nonce, method="POST", url=delivery.url, params=delivery.body
        )
        headers = {
            "Content-Type": "application/json",
            "X-Authy-Signature": signature,
            "X-Authy-Signature-Nonce": nonce,
            "User-Agent": "twofa-callbacks/1",
        }
        return Outgoing("POST", json.dumps(delivery.body, separators=(",", ":")).encode(), headers)

    def judge(self, response: httpx.Response | None, error: str | None) -> Outcome:
        return judge_http(response, error)
