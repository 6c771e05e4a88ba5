"""E-mail delivery for the Verify ``email`` channel: the outbox, the console, or SMTP.

SMTP uses the standard library's ``smtplib`` (TLS on connect, STARTTLS, or plain for a relay on
the same host), with optional credentials; ``TWOFA_EMAIL_GATEWAY`` chooses.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from twofa.provider.apps.sandbox import SANDBOX_GATEWAY
from twofa.provider.messaging.gateways import GatewayError
from twofa.settings import Settings


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str
    secret: str | None = None  # the code inside ``body``; never stored outside the outbox

    def redacted(self) -> str:
        if not self.secret:
            return self.body
        return self.body.replace(self.secret, "\u2022" * len(self.secret))


class EmailGateway(Protocol):
    name: str

    def send(self, email: Email) -> None:
        """Deliver ``email`` or raise ``GatewayError``."""
        ...


class OutboxEmail:
    """Delivers nowhere: the stored message is the delivery (the dev outbox shows it)."""

    name = "outbox"

    def send(self, email: Email) -> None:
        return None


class SandboxEmail(OutboxEmail):
    """A sandbox application's e-mail: stored only, whatever gateway the deployment uses."""

    name = SANDBOX_GATEWAY


class ConsoleEmail:
    name = "console"

    def send(self, email: Email) -> None:
        print(f"[email to {email.to}] {email.subject}\n{email.body}", file=sys.stderr, flush=True)


class SmtpEmail:
    """One SMTP connection per message: codes are rare enough, and nothing goes stale."""

    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str,
        username: str,
        password: str,
        sender: str,
        timeout: float,
    ) -> None:
        if not host or not sender:
            raise ValueError("the smtp gateway needs TWOFA_SMTP_HOST and TWOFA_EMAIL_FROM")
        self._host, self._port, self._tls = host, port, tls
        self._username, self._password = username, password
        self._sender, self._timeout = sender, timeout

    def _message(self, email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(email.body)
        return message

    def send(self, email: Email) -> None:
        context = ssl.create_default_context()
        try:
            if self._tls == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self._host, self._port, timeout=self._timeout, context=context
                )
            else:
                client = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            with client:
                if self._tls == "starttls":
                    client.starttls(context=context)
                if self._username:
                    client.login(self._username, self._password)
                client.send_message(self._message(email))
        except (OSError, smtplib.SMTPException) as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}") from exc


def make_email_gateway(settings: Settings) -> EmailGateway:
    """The gateway named by ``TWOFA_EMAIL_GATEWAY``."""
    if settings.email_gateway == "smtp":
        return SmtpEmail(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            sender=settings.email_from,
            timeout=settings.sms_timeout,
        )
    if settings.email_gateway == "console":
        return ConsoleEmail()
    return OutboxEmail()
