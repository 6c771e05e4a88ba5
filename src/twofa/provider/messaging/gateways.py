"""The gateways: outbox (stored only), console, HTTP webhook and Twilio."""

from __future__ import annotations

import contextlib
import logging
import sys
from dataclasses import dataclass
from typing import Literal, Protocol
from xml.sax.saxutils import escape

import httpx

from twofa.provider.apps.sandbox import SANDBOX_GATEWAY
from twofa.settings import Settings

log = logging.getLogger(__name__)

Channel = Literal["sms", "call"]


@dataclass(frozen=True, slots=True)
class Message:
    """A text to send to a phone, as an SMS or read out in a voice call."""

    to: str  # E.164
    channel: Channel
    body: str
    secret: str | None = None  # the code inside ``body``; never stored outside the outbox

    def redacted(self) -> str:
        """The body with its code masked, for records kept after delivery."""
        if not self.secret:
            return self.body
        return self.body.replace(self.secret, "\u2022" * len(self.secret))


class GatewayError(Exception):
    """The gateway could not deliver the message."""


class Gateway(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise ``GatewayError``."""
        ...


class OutboxGateway:
    """Delivers nowhere: the stored message is the delivery (read with ``twofa outbox``)."""

    name = "outbox"

    def send(self, message: Message) -> None:
        return None


class SandboxGateway(OutboxGateway):
    """A sandbox application's messages: stored only, whatever gateway the deployment uses."""

    name = SANDBOX_GATEWAY


class ConsoleGateway:
    """Prints each message to standard error, for a developer at a terminal."""

    name = "console"

    def send(self, message: Message) -> None:
        print(f"[{message.channel} to {message.to}] {message.body}", file=sys.stderr, flush=True)


class HttpGateway:
    """POSTs ``{"to", "channel", "body"}`` as JSON to a URL; any 2xx counts as sent."""

    name = "http"

    def __init__(self, url: str, timeout: float) -> None:
        if not url:
            raise ValueError("TWOFA_SMS_HTTP_URL is required for the http gateway")
        self._url = url
        self._client = httpx.Client(timeout=timeout)

    def send(self, message: Message) -> None:
        payload = {"to": message.to, "channel": message.channel, "body": message.body}
        try:
            response = self._client.post(self._url, json=payload)
        except httpx.HTTPError as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise GatewayError(f"gateway answered HTTP {response.status_code}")


class TwilioGateway:
    """Twilio's Programmable Messaging and Voice REST APIs."""

    name = "twilio"

    def __init__(
        self, *, account_sid: str, auth_token: str, sender: str, base_url: str, timeout: float
    ) -> None:
        if not (account_sid and auth_token and sender):
            raise ValueError(
                "the twilio gateway needs TWOFA_TWILIO_ACCOUNT_SID, TWOFA_TWILIO_AUTH_TOKEN "
                "and TWOFA_TWILIO_FROM"
            )
        self._sender = sender
        self._base = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}"
        self._client = httpx.Client(auth=(account_sid, auth_token), timeout=timeout)

    def send(self, message: Message) -> None:
        if message.channel == "sms":
            url = f"{self._base}/Messages.json"
            form = {"To": message.to, "From": self._sender, "Body": message.body}
        else:
            url = f"{self._base}/Calls.json"
            twiml = f"<Response><Say>{escape(message.body)}</Say></Response>"
            form = {"To": message.to, "From": self._sender, "Twiml": twiml}
        try:
            response = self._client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            detail = ""
            with contextlib.suppress(ValueError):
                detail = str(response.json().get("message", ""))
            raise GatewayError(f"twilio answered HTTP {response.status_code} {detail}".strip())


def make_gateway(settings: Settings) -> Gateway:
    """The gateway named by ``TWOFA_SMS_GATEWAY``."""
    if settings.sms_gateway == "console":
        return ConsoleGateway()
    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_http_url, settings.sms_timeout)
    if settings.sms_gateway == "twilio":
        return TwilioGateway(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            sender=settings.twilio_from,
            base_url=settings.twilio_api_base,
            timeout=settings.sms_timeout,
        )
    return OutboxGateway()
