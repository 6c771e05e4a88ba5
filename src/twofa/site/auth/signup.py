"""Sign-up: the phone is proved before anything is bound to it.

``start`` checks the form (address free, password acceptable, phone of an accepted type, a proof
of work once this address has used its sign-up budget), records a *pending sign-up* and asks the
provider to text a code to the number through the phone-verification API, which creates no
provider user. ``confirm`` checks that code; only then is the user registered at the provider
(``users/new``, binding the number to an ``authy_id``) and the local account created. A number
typed by someone who does not hold it therefore gets one code and nothing else: no provider
user, no account, no binding. The pending row is reserved before the SMS is sent, so parallel
submissions from one address cannot slip past the budget.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from twofa.client import Client, InvalidUser, ProviderError, VerificationFailed
from twofa.settings import Limit, Settings
from twofa.site.challenge import Challenge, Challenges
from twofa.site.db import signups
from twofa.site.errors import AttemptGone, Cooldown, SignUpFailed, TooManyFailures, WrongCode
from twofa.site.password_policy import check_password
from twofa.site.passwords import Passwords
from twofa.site.phones import InvalidPhoneNumber, RefusedPhoneNumber, masked, parse_phone
from twofa.site.store import EmailTaken, User, UserStore, token_digest
from twofa.site.throttle import address_key
from twofa.storage.database import Database, aware

EMAIL_TAKEN = {"email": "This e-mail address is already registered."}
CODE_LENGTH = 6
MAX_EXTRA_BITS = 4  # each sign-up past the budget makes the puzzle harder, up to 16 times
PURPOSE = "sign-up"


class ChallengeRequired(SignUpFailed):
    """This address used its sign-up budget: the form must carry a solved challenge."""

    message = "Your browser needs to solve a short puzzle first. Submit the form again."


@dataclass(frozen=True, slots=True)
class PendingSignUp:
    id: int
    state: str
    email: str
    password_hash: str
    full_name: str
    country_code: int
    region: str
    phone: str
    ip: str
    created_at: datetime
    expires_at: datetime
    code_sent_at: datetime | None
    code_failures: int

    @property
    def destination(self) -> str:
        return masked(self.phone)


def _pending(row: Any) -> PendingSignUp:
    data = dict(row._mapping)
    data.pop("token_hash", None)
    for name in ("created_at", "expires_at", "code_sent_at"):
        data[name] = aware(data[name])
    return PendingSignUp(**data)


class SignUpStore:
    """Pending sign-ups."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, *, token: str, **values: Any) -> int:
        row = {"token_hash": token_digest(token), "state": "pending", "code_failures": 0}
        with self.db.write() as conn:
            result = conn.execute(insert(signups).values(**row, **values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def by_token(self, token: str) -> PendingSignUp | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(signups).where(signups.c.token_hash == token_digest(token))
            ).first()
        return _pending(row) if row else None

    def count_from(self, ip: str, *, since: datetime) -> int:
        query = select(func.count()).where(and_(signups.c.ip == ip, signups.c.created_at >= since))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def update(self, signup_id: int, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(update(signups).where(signups.c.id == signup_id).values(**values))

    def add_failure(self, signup_id: int) -> int:
        with self.db.write() as conn:
            conn.execute(
                update(signups)
                .where(signups.c.id == signup_id)
                .values(code_failures=signups.c.code_failures + 1)
            )
            total = conn.execute(
                select(signups.c.code_failures).where(signups.c.id == signup_id)
            ).scalar_one()
        return int(total)

    def close(self, signup_id: int, state: str) -> bool:
        """Move a pending sign-up to ``state`` once; False when it was not pending."""
        with self.db.write() as conn:
            result = conn.execute(
                update(signups)
                .where(and_(signups.c.id == signup_id, signups.c.state == "pending"))
                .values(state=state)
            )
        return bool(result.rowcount)


class SignUpService:
    """Sign-up decisions over the sign-up store, the user store and the provider."""

    def __init__(
        self,
        *,
        settings: Settings,
        users: UserStore,
        signups: SignUpStore,
        passwords: Passwords,
        challenges: Challenges,
        provider: Client,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.users = users
        self.signups = signups
        self.passwords = passwords
        self.challenges = challenges
        self.provider = provider
        self.clock = clock
        self.budget = Limit.parse(settings.site_signup_limit_ip)

    def challenge_for(self, ip: str | None) -> Challenge | None:
        """The puzzle a sign-up from ``ip`` must solve now, or None within the budget."""
        bits = self._bits(ip)
        return self.challenges.issue(PURPOSE, bits) if bits else None

    def start(
        self,
        *,
        full_name: str,
        email: str,
        password: str,
        region: str,
        phone: str,
        ip: str | None,
        challenge: str | None = None,
        solution: str | None = None,
    ) -> tuple[str, PendingSignUp]:
        """Check the form and text a code to the phone; returns the browser's token."""
        email = email.strip().lower()
        try:
            number = parse_phone(phone, region)
        except RefusedPhoneNumber as exc:
            message = "Premium-rate, shared-cost and service numbers cannot receive codes."
            raise SignUpFailed(fields={"phone": message}) from exc
        except InvalidPhoneNumber as exc:
            raise SignUpFailed(fields={"phone": "Enter a valid phone number."}) from exc
        strength = check_password(
            password,
            min_length=self.settings.site_password_min_length,
            user_inputs=(full_name, email),
        )
        if not strength.ok:
            raise SignUpFailed(fields={"password": strength.message})
        if self.users.by_email(email) is not None:
            raise SignUpFailed(fields=dict(EMAIL_TAKEN))
        bits = self._bits(ip)
        if bits and not self.challenges.redeem(PURPOSE, challenge, solution, bits=bits):
            raise ChallengeRequired()
        now = self.clock()
        token = secrets.token_urlsafe(32)
        signup_id = self.signups.create(
            token=token,
            email=email,
            password_hash=self.passwords.hash(password),
            full_name=full_name.strip(),
            country_code=number.country_code,
            region=number.region,
            phone=number.national_number,
            ip=address_key(ip),
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.site_login_ttl),
        )
        try:
            self._send(signup_id, number.national_number, number.country_code, via="sms")
        except ProviderError:
            self.signups.close(signup_id, "cancelled")
            raise
        pending = self.signups.by_token(token)
        assert pending is not None
        return token, pending

    def resume(self, token: str | None) -> PendingSignUp:
        """The browser's pending, unexpired sign-up, or :class:`AttemptGone`."""
        pending = self.signups.by_token(token) if token else None
        if pending is None or pending.state != "pending" or pending.expires_at <= self.clock():
            raise AttemptGone("Your sign-up has expired. Please fill in the form again.")
        return pending

    def resend(self, pending: PendingSignUp, *, via: str) -> None:
        """Another code by SMS or call, at most once per cooldown."""
        if pending.code_sent_at is not None:
            ready = pending.code_sent_at + timedelta(seconds=self.settings.site_resend_cooldown)
            left = (ready - self.clock()).total_seconds()
            if left > 0:
                raise Cooldown(int(left + 0.999))
        self._send(pending.id, pending.phone, pending.country_code, via=via)

    def confirm(self, pending: PendingSignUp, code: str) -> User:
        """Check the code; then register at the provider and create the account."""
        limit = self.settings.site_max_code_failures
        try:
            self.provider.check_phone_verification(
                phone_number=pending.phone,
                country_code=pending.country_code,
                verification_code=code,
            )
        except VerificationFailed as exc:
            if self.signups.add_failure(pending.id) >= limit:
                self.signups.close(pending.id, "cancelled")
                raise TooManyFailures("Too many wrong codes. Please sign up again.") from exc
            raise WrongCode() from exc
        if self.users.by_email(pending.email) is not None:
            self.signups.close(pending.id, "cancelled")
            raise SignUpFailed(fields=dict(EMAIL_TAKEN))
        try:
            authy_user = self.provider.create_user(
                email=pending.email, cellphone=pending.phone, country_code=pending.country_code
            )
        except InvalidUser as exc:
            raise SignUpFailed("The verification service refused these details.") from exc
        if not self.signups.close(pending.id, "confirmed"):
            raise AttemptGone()
        try:
            return self.users.add(
                email=pending.email,
                password_hash=pending.password_hash,
                full_name=pending.full_name,
                country_code=pending.country_code,
                region=pending.region,
                phone=pending.phone,
                authy_id=authy_user.authy_id,
                now=self.clock(),
            )
        except EmailTaken as exc:
            raise SignUpFailed(fields=dict(EMAIL_TAKEN)) from exc

    def cancel(self, token: str | None) -> None:
        pending = self.signups.by_token(token) if token else None
        if pending is not None:
            self.signups.close(pending.id, "cancelled")

    def cooldown_remaining(self, pending: PendingSignUp) -> int:
        if pending.code_sent_at is None:
            return 0
        ready = pending.code_sent_at + timedelta(seconds=self.settings.site_resend_cooldown)
        return max(0, int((ready - self.clock()).total_seconds() + 0.999))

    def _send(self, signup_id: int, phone: str, country_code: int, *, via: str) -> None:
        self.provider.start_phone_verification(
            phone_number=phone,
            country_code=country_code,
            via="call" if via == "call" else "sms",
            code_length=CODE_LENGTH,
        )
        self.signups.update(signup_id, code_sent_at=self.clock())

    def _bits(self, ip: str | None) -> int:
        """0 within the budget, else the puzzle's difficulty (harder as the excess grows)."""
        since = self.clock() - timedelta(seconds=self.budget.seconds)
        excess = self.signups.count_from(address_key(ip), since=since) - self.budget.count
        if excess < 0:
            return 0
        return min(self.settings.site_challenge_bits + min(excess, MAX_EXTRA_BITS), 28)
