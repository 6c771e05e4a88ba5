"""Sign-up, password check and the second factor: every decision of the login flow lives here.

A login is a :class:`LoginAttempt` row bound to one browser by a random token. The second factor
(push approval or code) is checked against *that* attempt, never against the user, so approving
one login cannot let another browser in. Completing a login closes the attempt and hands out a
fresh session token; the view rotates the cookie with it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from twofa.client import (
    Client,
    InvalidToken,
    ProviderError,
    ProviderUnavailable,
    UserNotRegistered,
)
from twofa.settings import Settings
from twofa.site.challenge import Challenge, Challenges
from twofa.site.errors import (
    AttemptGone,
    BadCredentials,
    ChallengeNeeded,
    Cooldown,
    InvalidCallback,
    NotApproved,
    Throttled,
    TooManyFailures,
    UnknownApproval,
    WrongCode,
    provider_message,
)
from twofa.site.live import LiveStatus
from twofa.site.passwords import Passwords
from twofa.site.store import AttemptStore, LoginAttempt, SessionStore, User, UserStore
from twofa.site.throttle import LoginThrottle

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Channel = Literal["sms", "call"]
FINAL_STATUSES = frozenset({"approved", "denied", "expired"})
LOGIN_PURPOSE = "login"


@dataclass(frozen=True, slots=True)
class LoginStart:
    """A started login: the token for the browser and where it goes next (``wait``/``verify``)."""

    token: str
    attempt: LoginAttempt
    next_step: Literal["wait", "verify"]
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class CodeSent:
    """Where a code went; ``channel`` is ``app`` when the provider skipped the SMS for an app."""

    channel: str
    destination: str


class AuthService:
    """The login flow over the site's stores and the provider client."""

    def __init__(
        self,
        *,
        settings: Settings,
        users: UserStore,
        attempts: AttemptStore,
        sessions: SessionStore,
        passwords: Passwords,
        provider: Client,
        live: LiveStatus,
        throttle: LoginThrottle,
        challenges: Challenges,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.users = users
        self.attempts = attempts
        self.sessions = sessions
        self.passwords = passwords
        self.provider = provider
        self.live = live
        self.throttle = throttle
        self.challenges = challenges
        self.clock = clock

    # -- sign-up and password ----------------------------------------------------------------

    def authenticate(
        self,
        *,
        email: str,
        password: str,
        ip: str | None,
        challenge: str | None = None,
        solution: str | None = None,
    ) -> User:
        """The user whose password this is, or :class:`BadCredentials` (same cost either way).

        :class:`Throttled` and :class:`ChallengeNeeded` come first, before any password check
        (:mod:`twofa.site.throttle` explains the rules).
        """
        email = email.strip().lower()
        verdict = self.throttle.check(email=email, ip=ip)
        if verdict.wait:
            raise Throttled(verdict.wait)
        if verdict.challenge and not self.challenges.redeem(
            LOGIN_PURPOSE, challenge, solution, bits=self.settings.site_challenge_bits
        ):
            raise ChallengeNeeded()
        user = self.users.by_email(email)
        if not self.passwords.verify(user.password_hash if user else None, password):
            self.throttle.failed(email=email, ip=ip)
            raise BadCredentials()
        assert user is not None
        self.throttle.succeeded(email=email, ip=ip)
        if self.passwords.needs_rehash(user.password_hash):
            self.users.set_password_hash(user.id, self.passwords.hash(password))
        return user

    def login_challenge(self) -> Challenge:
        """A puzzle for a login form (accounts under attack need one solved per try)."""
        return self.challenges.issue(LOGIN_PURPOSE, self.settings.site_challenge_bits)

    def open_session(
        self, user: User, *, ip: str | None, user_agent: str | None, method: str
    ) -> str:
        """A signed-in session for a user who just proved both factors (a confirmed sign-up)."""
        now = self.clock()
        attempt = self.attempts.create(
            token=secrets.token_urlsafe(32),
            user_id=user.id,
            now=now,
            expires_at=now + timedelta(seconds=self.settings.site_login_ttl),
            next_url=None,
            ip=ip,
            user_agent=user_agent,
        )
        return self._finish(attempt, method=method)

    # -- starting and resuming a login -------------------------------------------------------

    def start_login(
        self,
        user: User,
        *,
        ip: str | None,
        user_agent: str | None,
        next_url: str | None,
    ) -> LoginStart:
        """Open a login attempt and pick its second factor: a push if the user has the app.

        If the provider cannot be reached the attempt is cancelled and the error propagates, so
        the browser gets no half-logged-in state it cannot finish.
        """
        now = self.clock()
        token = secrets.token_urlsafe(32)
        attempt = self.attempts.create(
            token=token,
            user_id=user.id,
            now=now,
            expires_at=now + timedelta(seconds=self.settings.site_login_ttl),
            next_url=next_url,
            ip=ip,
            user_agent=user_agent,
        )
        try:
            registered = self.provider.user_status(user.authy_id).registered
            if registered:
                attempt = self.push(attempt, user)
                return LoginStart(token, attempt, "wait")
        except ProviderUnavailable:
            self.attempts.cancel(attempt.id)
            raise
        except UserNotRegistered:
            pass
        except ProviderError as exc:
            log.warning("push for login %s not sent: %r", attempt.id, exc)
            return LoginStart(token, attempt, "verify", provider_message(exc))
        return LoginStart(token, attempt, "verify")

    def resume(self, token: str | None) -> tuple[LoginAttempt, User]:
        """The open, unexpired attempt this browser holds, or :class:`AttemptGone`."""
        attempt = self.attempts.by_token(token) if token else None
        if attempt is None or attempt.state != "open" or attempt.expires_at <= self.clock():
            raise AttemptGone()
        user = self.users.by_id(attempt.user_id)
        if user is None:
            raise AttemptGone()
        return attempt, user

    def cancel(self, token: str | None) -> None:
        """Abandon the browser's pending login, if any."""
        attempt = self.attempts.by_token(token) if token else None
        if attempt is not None:
            self.attempts.cancel(attempt.id)

    # -- push approval -----------------------------------------------------------------------

    def push(self, attempt: LoginAttempt, user: User) -> LoginAttempt:
        """Send a push approval request for this attempt (again, after an expiry)."""
        details = {"Email": user.email}
        if attempt.ip:
            details["IP address"] = attempt.ip
        request = self.provider.create_approval_request(
            user.authy_id,
            message=f"Log in to {self.settings.site_app_name}",
            details=details,
            hidden_details={"login": str(attempt.id)},
            seconds_to_expire=self.settings.site_approval_ttl,
            number_matching=self.settings.site_number_matching,
        )
        expires_at = self.clock() + timedelta(seconds=self.settings.site_approval_ttl)
        self.attempts.set_approval(
            attempt.id, uuid=request.uuid, number=request.number, expires_at=expires_at
        )
        found = self.attempts.by_id(attempt.id)
        assert found is not None
        return found

    def approval_status(self, attempt: LoginAttempt, *, ask_provider: bool = False) -> str:
        """``none``, ``pending``, ``approved``, ``denied`` or ``expired`` for this attempt's push.

        The callback normally settles the status; ``ask_provider`` also polls the provider, so a
        lost callback only delays a login instead of blocking it.
        """
        fresh = self.attempts.by_id(attempt.id) or attempt
        uuid, status = fresh.approval_uuid, fresh.approval_status
        if uuid is None or status is None:
            return "none"
        if status != "pending":
            return status
        if fresh.approval_expires_at is not None and fresh.approval_expires_at <= self.clock():
            self._settle(fresh, uuid, "expired")
            return "expired"
        if ask_provider:
            try:
                remote = self.provider.get_approval_request(uuid).status
            except ProviderError:
                return "pending"
            if remote in FINAL_STATUSES:
                self._settle(fresh, uuid, remote)
                return remote
        return "pending"

    def wait_for_decision(
        self, attempt: LoginAttempt, *, timeout: float, heard: Callable[[float], str | None]
    ) -> str:
        """This attempt's push status after waiting up to ``timeout`` seconds for a decision.

        The callback (``heard`` waits for it) normally brings the answer; the provider is also
        asked every ``site_decision_poll_interval`` seconds, so a lost callback costs that long.
        """
        current = self.approval_status(attempt)
        fresh = self.attempts.by_id(attempt.id) or attempt
        if current != "pending" or fresh.approval_uuid is None:
            return current
        try:
            remote = self.provider.wait_for_decision(
                fresh.approval_uuid,
                timeout=timeout,
                poll_interval=self.settings.site_decision_poll_interval,
                callback=heard,
            )
        except ProviderError:
            remote = "pending"
        if remote in FINAL_STATUSES:
            self._settle(fresh, fresh.approval_uuid, remote)
        return self.approval_status(attempt)

    def handle_callback(self, *, uuid: object, authy_id: object, status: object) -> str:
        """Apply a verified provider callback to the one attempt that owns ``uuid``."""
        if not isinstance(uuid, str) or status not in {"approved", "denied"}:
            raise InvalidCallback()
        attempt = self.attempts.by_approval(uuid)
        user = self.users.by_id(attempt.user_id) if attempt else None
        if attempt is None or user is None or str(user.authy_id) != str(authy_id):
            raise UnknownApproval()
        self._settle(attempt, uuid, str(status))
        return str(status)

    def complete_push(self, attempt: LoginAttempt) -> str:
        """Finish a login whose own push was approved; returns the new session token."""
        if self.approval_status(attempt) != "approved":
            raise NotApproved()
        return self._finish(attempt, method="push")

    def _settle(self, attempt: LoginAttempt, uuid: str, status: str) -> None:
        if self.attempts.settle_approval(attempt.id, uuid, status):
            self.live.publish(uuid, status)

    # -- codes -------------------------------------------------------------------------------

    def send_first_code(self, attempt: LoginAttempt, user: User) -> CodeSent | None:
        """Send the attempt's first code, once: reloading the code page sends nothing more."""
        if attempt.code_sends:
            return None
        return self.send_code(attempt, user, channel="sms", force=False, check_cooldown=False)

    def send_code(
        self,
        attempt: LoginAttempt,
        user: User,
        *,
        channel: Channel,
        force: bool = True,
        check_cooldown: bool = True,
    ) -> CodeSent:
        """Text or call a code, at most once per cooldown period per attempt."""
        if check_cooldown:
            remaining = self.cooldown_remaining(attempt)
            if remaining:
                raise Cooldown(remaining)
        send = self.provider.request_call if channel == "call" else self.provider.request_sms
        result = send(user.authy_id, force=force)
        sent = CodeSent("app" if result.ignored else channel, result.cellphone)
        self.attempts.record_send(
            attempt.id, channel=sent.channel, destination=sent.destination, now=self.clock()
        )
        return sent

    def cooldown_remaining(self, attempt: LoginAttempt) -> int:
        """Whole seconds before another code may be sent for this attempt (0 = now)."""
        fresh = self.attempts.by_id(attempt.id) or attempt
        if fresh.code_sent_at is None or fresh.code_channel == "app":
            return 0
        ready = fresh.code_sent_at + timedelta(seconds=self.settings.site_resend_cooldown)
        left = (ready - self.clock()).total_seconds()
        return max(0, int(left + 0.999))

    def verify_code(self, attempt: LoginAttempt, user: User, code: str) -> str:
        """Check a code for this attempt; returns the new session token on success."""
        limit = self.settings.site_max_code_failures
        if attempt.code_failures >= limit:
            self.attempts.cancel(attempt.id)
            raise TooManyFailures()
        try:
            check = self.provider.verify_token(user.authy_id, code)
        except InvalidToken as exc:
            if self.attempts.add_failure(attempt.id) >= limit:
                self.attempts.cancel(attempt.id)
                raise TooManyFailures() from exc
            raise WrongCode() from exc
        kind = check.device_type
        if kind in {"sms", "call"}:
            method = kind
        elif kind:
            method = "app"
        else:
            method = attempt.code_channel or "code"
        return self._finish(attempt, method=method)

    # -- sessions ----------------------------------------------------------------------------

    def _finish(self, attempt: LoginAttempt, *, method: str) -> str:
        now = self.clock()
        if not self.attempts.complete(attempt.id, method=method, now=now):
            raise AttemptGone()
        token = secrets.token_urlsafe(32)
        self.sessions.create(
            token=token,
            user_id=attempt.user_id,
            now=now,
            expires_at=now + timedelta(seconds=self.settings.site_session_ttl),
        )
        return token

    def session_user(self, token: str | None) -> User | None:
        """The user of a live session token, else None."""
        if not token:
            return None
        user_id = self.sessions.user_id(token, now=self.clock())
        return self.users.by_id(user_id) if user_id is not None else None

    def logout(self, token: str | None) -> None:
        if token:
            self.sessions.revoke(token, now=self.clock())
