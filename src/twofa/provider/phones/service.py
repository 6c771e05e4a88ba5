"""Phone verification (start, check, status) and phone information.

A verification code (4 to 10 digits) lives ``phone_verification_ttl`` seconds and works once.
Starting again replaces the pending code, so only the latest message is valid.
"""

from __future__ import annotations

import hmac
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert as sql_insert
from sqlalchemy import select, update

from twofa.crypto import Keyring, random_digits
from twofa.errors import (
    MissingParameter,
    NoPendingVerification,
    PhoneInvalid,
    VerificationIncorrect,
)
from twofa.provider.apps.model import App
from twofa.provider.apps.sandbox import SANDBOX_PHONE_CODE
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.messaging import Message, MessagingService
from twofa.provider.messaging.gateways import Channel
from twofa.provider.phone_numbers import Phone, carrier_name, line_type, parse_phone
from twofa.provider.ratelimit import Limits
from twofa.settings import Settings
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import phone_verifications

MAX_CHECKS = 5  # wrong checks that end a verification (Twilio Verify also allows five)

LOCALES = {
    "en": "Your {app} verification code is: {code}",
    "es": "Tu código de verificación de {app} es: {code}",
    "fr": "Votre code de vérification {app} est : {code}",
    "de": "Ihr {app} Bestätigungscode lautet: {code}",
    "pt": "O seu código de verificação {app} é: {code}",
    "it": "Il tuo codice di verifica {app} è: {code}",
}


@dataclass(frozen=True, slots=True)
class Started:
    uuid: str
    phone: Phone
    via: str
    seconds_to_expire: int
    carrier: str
    is_cellphone: bool


@dataclass(frozen=True, slots=True)
class VerificationStatus:
    status: str  # pending, verified, expired
    seconds_to_expire: int


def phone_param(params: dict[str, Any]) -> Phone:
    """The phone named by ``phone_number`` + ``country_code``; 60004 if absent, 60033 if bad."""
    number = params.get("phone_number")
    country = params.get("country_code")
    if number in (None, ""):
        raise MissingParameter("phone_number")
    if country in (None, ""):
        raise MissingParameter("country_code")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if (
        not isinstance(number, str)
        or isinstance(country, bool)
        or not isinstance(country, int | str)
    ):
        raise PhoneInvalid()
    phone = parse_phone(country, number)
    if phone is None:
        raise PhoneInvalid()
    return phone


class PhoneVerificationService:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        messaging: MessagingService,
        limits: Limits,
        guard: FraudGuard,
    ) -> None:
        self._guard = guard
        self._db = db
        self._keyring = keyring
        self._settings = settings
        self._messaging = messaging
        self._limits = limits

    def start(
        self, app: App, phone: Phone, *, via: str, code_length: int, locale: str | None
    ) -> Started:
        """Send a code to ``phone`` by SMS or call."""
        self._limits.hit("phone_verifications_per_number", f"{app.id}:{phone.e164}")
        self._limits.hit("sms_per_phone_total", phone.e164)
        self._limits.hit("sms_per_app", str(app.id))
        self._guard.before_send(app.id, phone)
        code = random_digits(code_length)
        template = LOCALES.get((locale or "en")[:2].lower(), LOCALES["en"])
        body = template.format(app=app.name, code=code)
        channel: Channel = "call" if via == "call" else "sms"
        self._messaging.send(Message(phone.e164, channel, body, secret=code), app_id=app.id)
        now = utcnow()
        ttl = self._settings.phone_verification_ttl
        uuid = str(uuidlib.uuid4())
        with self._db.write() as conn:
            conn.execute(
                update(phone_verifications)
                .where(
                    phone_verifications.c.app_id == app.id,
                    phone_verifications.c.phone_e164 == phone.e164,
                    phone_verifications.c.verified_at.is_(None),
                )
                .values(expires_at=now)
            )
            conn.execute(
                sql_insert(phone_verifications).values(
                    uuid=uuid,
                    app_id=app.id,
                    phone_e164=phone.e164,
                    code_hash=self._keyring.code_hash(f"phone:{app.id}:{phone.e164}", code),
                    via=channel,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
            )
        return Started(
            uuid,
            phone,
            channel,
            ttl - 1,
            carrier_name(phone) or "Unknown",
            line_type(phone) == "cellphone",
        )

    def check(self, app: App, phone: Phone, code: str) -> None:
        """Accept the pending code once; 60022 when wrong, 60023 when nothing is pending.

        Each check is reserved before the code is compared: one more attempt on the
        verification (a conditional UPDATE, so concurrent checks cannot exceed the cap; after
        ``MAX_CHECKS`` the verification is over and a new code must be requested), and one on
        the (application, phone) back-off that spans verifications. A sandbox application's
        pending verification also accepts ``SANDBOX_PHONE_CODE``."""
        now = utcnow()
        pending = (
            phone_verifications.c.app_id == app.id,
            phone_verifications.c.phone_e164 == phone.e164,
            phone_verifications.c.verified_at.is_(None),
            phone_verifications.c.expires_at > now,
            phone_verifications.c.attempts < MAX_CHECKS,
        )
        with self._db.read() as conn:
            row = conn.execute(
                select(phone_verifications)
                .where(*pending)
                .order_by(phone_verifications.c.id.desc())
            ).first()
        if row is None:
            raise NoPendingVerification(phone.international)
        subject = f"phone:{app.id}:{phone.e164}"
        self._limits.reserve("verify_failures_per_user", subject)
        with self._db.write() as conn:
            taken = conn.execute(
                update(phone_verifications)
                .where(phone_verifications.c.id == row.id, *pending)
                .values(attempts=phone_verifications.c.attempts + 1)
            ).rowcount
        if not taken:
            raise NoPendingVerification(phone.international)
        wanted = self._keyring.code_hash(f"phone:{app.id}:{phone.e164}", code)
        sandboxed = app.sandbox and code == SANDBOX_PHONE_CODE  # Authy's sandbox code
        if not sandboxed and not hmac.compare_digest(row.code_hash, wanted):
            raise VerificationIncorrect()
        with self._db.write() as conn:
            won = conn.execute(
                update(phone_verifications)
                .where(
                    phone_verifications.c.id == row.id, phone_verifications.c.verified_at.is_(None)
                )
                .values(verified_at=now)
            ).rowcount
            if won:
                self._guard.converted(app.id, phone, conn)
        if not won:
            raise NoPendingVerification(phone.international)
        self._limits.reset("verify_failures_per_user", subject)

    def status(self, app: App, phone: Phone) -> VerificationStatus:
        """The latest verification for ``phone``: pending, verified or expired."""
        with self._db.read() as conn:
            row = conn.execute(
                select(phone_verifications)
                .where(
                    phone_verifications.c.app_id == app.id,
                    phone_verifications.c.phone_e164 == phone.e164,
                )
                .order_by(phone_verifications.c.id.desc())
            ).first()
        if row is None:
            raise NoPendingVerification(phone.international)
        expires: datetime = aware(row.expires_at)
        if row.verified_at is not None:
            return VerificationStatus("verified", 0)
        left = int((expires - utcnow()).total_seconds())
        return VerificationStatus("pending", left) if left > 0 else VerificationStatus("expired", 0)

    @staticmethod
    def info(phone: Phone) -> dict[str, Any]:
        """What the numbering plan says about ``phone`` (no carrier lookup service is queried)."""
        stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S")
        return {
            "message": f"Phone number information as of {stamp} UTC",
            "type": line_type(phone),
            "provider": carrier_name(phone) or "Unknown",
            "ported": False,
        }
