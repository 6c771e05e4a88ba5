"""Send SMS/voice codes and verify any kind of token.

SMS and voice codes are random digits from ``secrets``, stored as keyed hashes, valid for
``sms_code_ttl`` and single use: every unexpired code of a user works once, and using one spends
them all (so a resend never strands the user with a code that no longer works). App and generic
TOTP codes are accepted once per time step: the matched step must be later than the last one
used, enforced with a conditional UPDATE so two concurrent requests cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import insert, select

from twofa.crypto import Keyring, random_digits
from twofa.errors import (
    CallsDisabled,
    QrCodeDisabled,
    SmsDisabled,
    TwofaError,
)
from twofa.otp import otpauth_uri, random_secret
from twofa.provider.apps.model import App
from twofa.provider.audit.service import AuditLog
from twofa.provider.codes.usage import UsageCounters
from twofa.provider.codes.verification import TokenVerifier
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.messaging import Message, MessagingService
from twofa.provider.ratelimit import Limits
from twofa.provider.users.model import User
from twofa.provider.users.store import active_devices, load_user
from twofa.settings import Settings
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import sent_codes, totp_secrets

Outcome = Literal["valid", "reused", "invalid"]


@dataclass(frozen=True, slots=True)
class SendResult:
    user: User
    ignored: bool
    device: str | None


@dataclass(frozen=True, slots=True)
class GenericSecret:
    secret: str
    uri: str
    label: str
    issuer: str


class CodeService:
    """Sending codes and verifying tokens for one provider."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        messaging: MessagingService,
        limits: Limits,
        audit: AuditLog,
        usage: UsageCounters,
        verifier: TokenVerifier,
        *,
        guard: FraudGuard,
    ) -> None:
        self._db = db
        self._audit = audit
        self.usage = usage
        self._verifier = verifier
        self._guard = guard
        self._keyring = keyring
        self._settings = settings
        self._messaging = messaging
        self._limits = limits

    def unlock(self, app_id: int, user_id: int, *, actor: str | None = None) -> None:
        """Forget a user's wrong-code count, so they may try again at once (an operator's
        decision after checking who asks: the back-off otherwise lifts by itself)."""
        self._limits.reset("verify_failures_per_user", f"{app_id}:{user_id}")
        self._audit.record("user.unlocked", app_id=app_id, subject=f"user:{user_id}", actor=actor)
        self._audit.flush()

    # Sending -------------------------------------------------------------------------------

    def send(
        self,
        app: App,
        raw_id: str,
        *,
        channel: Literal["sms", "call"],
        force: bool,
        action: str | None = None,
    ) -> SendResult:
        """Send a fresh code by SMS or voice, unless the user has the app and ``force`` is off."""
        with self._db.read() as conn:
            user = load_user(conn, app.id, raw_id)
            devices = active_devices(conn, user.phone.e164)
        if devices and not force:
            return SendResult(user, ignored=True, device=devices[-1].os_type)
        if channel == "sms" and not app.sms_enabled:
            raise SmsDisabled()
        if channel == "call" and not app.calls_enabled:
            raise CallsDisabled()
        # Per (application, phone), so no tenant can spend another's budget for a shared number;
        # the deployment-wide count per phone is a higher backstop.
        self._limits.hit("sms_per_phone", f"{app.id}:{user.phone.e164}")
        self._limits.hit("sms_per_phone_total", user.phone.e164)
        self._limits.hit("sms_per_app", str(app.id))
        self._guard.before_send(app.id, user.phone)
        code = random_digits(self._settings.sms_code_length)
        minutes = self._settings.sms_code_ttl // 60
        if channel == "sms":
            body = f"Your {app.name} verification code is: {code}. It expires in {minutes} minutes."
        else:
            body = f"Your {app.name} verification code is {code}. Again, your code is {code}."
        if action:
            body = f"{body} ({action[:100]})"
        self._messaging.send(Message(user.phone.e164, channel, body, secret=code), app_id=app.id)
        now = utcnow()
        with self._db.write() as conn:
            conn.execute(
                insert(sent_codes).values(
                    user_id=user.id,
                    code_hash=self._keyring.code_hash(f"user:{user.id}", code),
                    channel=channel,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self._settings.sms_code_ttl),
                )
            )
            self._audit.record(
                "code.sent",
                app_id=app.id,
                subject=f"user:{user.id}",
                data={"channel": channel},
                conn=conn,
            )
        return SendResult(user, ignored=False, device=None)

    def send_install_link(self, app: App, user: User, url: str) -> bool:
        """Text the authenticator's address to a user who has no device yet (best effort).

        A failed or rate-limited message must not undo the user's registration, so failures
        are recorded (by the messaging service) and reported as False, not raised.
        """
        with self._db.read() as conn:
            if active_devices(conn, user.phone.e164):
                return False
        try:
            self._guard.before_send(app.id, user.phone)
            self._limits.hit("sms_per_phone", f"{app.id}:{user.phone.e164}")
            self._limits.hit("sms_per_phone_total", user.phone.e164)
            self._messaging.send(
                Message(
                    user.phone.e164,
                    "sms",
                    f"{app.name} uses two-factor authentication. Get the authenticator: {url}",
                ),
                app_id=app.id,
            )
        except TwofaError:
            return False
        return True

    # Verifying -----------------------------------------------------------------------------

    def verify(self, app: App, raw_id: str, token: str, *, force: bool) -> None:
        """Accept ``token`` once or raise 60020 (wrong) / 60019 (already used) / 60003."""
        self._verifier.verify(app, raw_id, token, force=force)

    # Generic authenticator -----------------------------------------------------------------

    def generic_secret(self, app: App, raw_id: str, *, label: str | None) -> GenericSecret:
        """The user's generic-authenticator secret (6 digits), created on first request."""
        if not app.generic_tokens_enabled:
            raise QrCodeDisabled()
        with self._db.write() as conn:
            user = load_user(conn, app.id, raw_id)
            row = conn.execute(
                select(totp_secrets).where(
                    totp_secrets.c.user_id == user.id, totp_secrets.c.kind == "generic"
                )
            ).first()
            if row is None:
                secret = random_secret()
                conn.execute(
                    insert(totp_secrets).values(
                        user_id=user.id,
                        kind="generic",
                        secret_enc=self._keyring.encrypt(secret),
                        digits=6,
                        step=30,
                        last_step=0,
                        created_at=utcnow(),
                    )
                )
            else:
                secret = self._keyring.decrypt(row.secret_enc)
        name = (label or user.email or user.phone.e164)[:100]
        uri = otpauth_uri(secret, label=name, issuer=app.name, digits=6, step=30)
        return GenericSecret(secret, uri, name, app.name)

    def app_secret(self, user_id: int) -> tuple[str, int, int]:
        """The user's app TOTP secret, digits and step (for the user's own devices only)."""
        with self._db.read() as conn:
            row = conn.execute(
                select(totp_secrets).where(
                    totp_secrets.c.user_id == user_id, totp_secrets.c.kind == "app"
                )
            ).one()
        return self._keyring.decrypt(row.secret_enc), row.digits, row.step


__all__ = ["CodeService", "GenericSecret", "SendResult", "aware"]
