"""The SMTP e-mail gateway against a local SMTP server (aiosmtpd): the gateway alone, with and
without credentials, and the provider sending a Verify e-mail code through it."""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.compat.verify_helpers import new_account
from tests.servers import LiveProvider, free_port, start_provider
from twofa.provider.messaging.email import Email, SmtpEmail
from twofa.provider.messaging.gateways import GatewayError

USER, PASSWORD = "mailer", "mail-secret"


@dataclass
class Mailbox:
    """What the local SMTP server received: envelopes and parsed messages."""

    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        ):
            self.logins.append(USER)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"expected {count} e-mails"
            time.sleep(0.05)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,  # loopback only; TLS modes are the operator's choice
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def gateway(port: int, **overrides: Any) -> SmtpEmail:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "username": "",
        "password": "",
        "sender": "codes@twofa.example",
        "timeout": 5.0,
    }
    options.update(overrides)
    return SmtpEmail(**options)


def test_gateway_sends_a_plain_text_message(smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    gateway(port).send(Email("alice@example.com", "Your code", "Your code is: 123456"))
    sender, recipients, message = mailbox.messages[-1]
    assert (sender, recipients) == ("codes@twofa.example", ["alice@example.com"])
    assert message["Subject"] == "Your code" and message["From"] == "codes@twofa.example"
    assert message["Message-ID"] and message["Date"]
    assert "123456" in message.get_payload(decode=True).decode()
    assert mailbox.logins == []


def test_gateway_logs_in_with_credentials(smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    gateway(port, username=USER, password=PASSWORD).send(Email("b@example.com", "S", "B"))
    assert mailbox.logins == [USER] and len(mailbox.messages) == 1
    with pytest.raises(GatewayError, match="SMTPAuthenticationError"):
        gateway(port, username=USER, password="wrong").send(Email("b@example.com", "S", "B"))


def test_gateway_failure_is_a_gateway_error() -> None:
    with pytest.raises(GatewayError):
        gateway(free_port()).send(Email("c@example.com", "S", "B"))  # nothing listens there
    with pytest.raises(ValueError, match="TWOFA_SMTP_HOST"):
        gateway(25, host="")


@pytest.fixture
def mailing_provider(tmp_path: Path, smtp: tuple[Mailbox, int]) -> Iterator[LiveProvider]:
    _, port = smtp
    live = start_provider(
        tmp_path,
        f"sqlite:///{tmp_path / 'provider.db'}",
        TWOFA_EMAIL_GATEWAY="smtp",
        TWOFA_SMTP_HOST="127.0.0.1",
        TWOFA_SMTP_PORT=str(port),
        TWOFA_SMTP_TLS="none",
        TWOFA_SMTP_USERNAME=USER,
        TWOFA_SMTP_PASSWORD=PASSWORD,
        TWOFA_EMAIL_FROM="Verify <codes@twofa.example>",
    )
    try:
        yield live
    finally:
        live.stop()


def test_verify_email_code_through_smtp(
    mailing_provider: LiveProvider, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    account = new_account(mailing_provider)
    auth = (account.account_sid, account.auth_token)
    base = f"{mailing_provider.url}/v2/Services"
    service = httpx.post(base, data={"FriendlyName": "Mail"}, auth=auth).json()["sid"]
    started = httpx.post(
        f"{base}/{service}/Verifications",
        data={"To": "Dana@Example.com", "Channel": "email"},
        auth=auth,
    )
    assert started.status_code == 201, started.text
    mailbox.wait_for(1)
    _, recipients, message = mailbox.messages[-1]
    assert recipients == ["Dana@example.com"]
    assert message["Subject"] == "Your Mail verification code"
    code = re.findall(r"\b\d{6}\b", message.get_payload(decode=True).decode())[-1]
    # The provider keeps a record of the e-mail, without the code (a real gateway delivered it).
    record = mailing_provider.outbox("Dana@example.com")[-1]
    assert record.channel == "email" and code not in record.body
    checked = httpx.post(
        f"{base}/{service}/VerificationCheck",
        data={"To": "Dana@example.com", "Code": code},
        auth=auth,
    )
    assert checked.json()["status"] == "approved"
