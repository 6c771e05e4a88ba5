"""Token verification, the provider's hottest path.

One read transaction loads the user, their unexpired SMS/voice codes and their TOTP secrets;
only a valid code costs a write (a conditional UPDATE that makes it single use). Wrong codes
write nothing to the database: every attempt is reserved in the lockout store before the code is
compared (a success gives it back), and failures are audited through the audit log's buffer.
"""

from __future__ import annotations

import hmac
import time
from typing import Literal

from twofa.crypto import Keyring
from twofa.errors import TokenInvalid, TokenReused, UserNotFound
from twofa.otp import decode_secret, match_step
from twofa.provider.apps.model import App
from twofa.provider.apps.sandbox import SANDBOX_TOKEN
from twofa.provider.audit.service import AuditLog
from twofa.provider.codes.store import Material, VerificationStore
from twofa.provider.codes.usage import UsageCounters
from twofa.provider.fraud.guard import FraudGuard
from twofa.provider.observability import metrics
from twofa.provider.ratelimit import Limits
from twofa.provider.users.model import parse_authy_id
from twofa.settings import Settings
from twofa.storage.database import utcnow

Outcome = Literal["valid", "reused", "invalid"]
KEY_CACHE = 50_000
_COUNTED = {o: metrics.VERIFICATIONS.labels(o) for o in ("valid", "reused", "invalid")}


class TokenVerifier:
    """Checks SMS/voice codes, app TOTP codes and generic-authenticator TOTP codes, once each."""

    def __init__(
        self,
        store: VerificationStore,
        keyring: Keyring,
        settings: Settings,
        limits: Limits,
        audit: AuditLog,
        usage: UsageCounters,
        *,
        guard: FraudGuard,
    ) -> None:
        self._store = store
        self._keys: dict[str, bytes] = {}  # decoded TOTP keys by ciphertext (never stale)
        self._guard = guard
        self._usage = usage
        self._sms_length = settings.sms_code_length
        self._keyring = keyring
        self._window = settings.totp_window
        self._limits = limits
        self._audit = audit

    def verify(self, app: App, raw_id: str, token: str, *, force: bool) -> None:
        """Accept ``token`` once or raise 60020 (wrong) / 60019 (already used) / 60003."""
        material = self._load(app, raw_id, token)
        if app.lenient_verify and not force and not material.confirmed:
            return  # the legacy Authy behaviour, only when the application opted in
        subject = f"{app.id}:{material.user_id}"
        # Reserve first: the attempt is counted before the comparison, so concurrent guesses
        # cannot all pass a check; a success gives the count back.
        self._limits.reserve("verify_failures_per_user", subject)
        if app.sandbox and token == SANDBOX_TOKEN:
            outcome, channel = self._sandbox_passed(app, material), "sandbox"
        else:
            outcome, channel = self._check(app, material, token)
        _COUNTED[outcome].inc()
        if outcome == "valid":
            self._limits.reset("verify_failures_per_user", subject)
            return
        self._audit.record(
            "verification.failed",
            app_id=app.id,
            subject=f"user:{material.user_id}",
            data={"reason": outcome, "channel": channel},
        )
        raise TokenReused() if outcome == "reused" else TokenInvalid()

    def _load(self, app: App, raw_id: str, token: str) -> Material:
        """The user's secrets (one query) and, for a code-length token, their codes."""
        authy_id = parse_authy_id(raw_id)
        if authy_id is None:
            raise UserNotFound()
        plausible = token.isascii() and token.isdigit() and 6 <= len(token) <= 12
        with_codes = plausible and len(token) == self._sms_length
        material = self._store.material(
            app.id, authy_id, codes_after=utcnow() if with_codes else None
        )
        if material is None:
            raise UserNotFound()
        if not plausible:
            return Material(material.user_id, material.confirmed, [], [])
        return material

    def _check(self, app: App, material: Material, token: str) -> tuple[Outcome, str]:
        """The outcome, and the channel it is counted against (``sms``, ``call``, ``app``,
        ``generic``; ``unknown`` when the token could match nothing).

        A wrong token says nothing of what the user meant to type, so it is counted against
        what they were most likely waiting for: the newest outstanding code it was compared
        with, else the authenticator secret of its length.
        """
        reused = False
        user_id = material.user_id
        channel = material.codes[-1].channel if material.codes else "unknown"
        if material.codes:
            wanted = self._keyring.code_hash(f"user:{user_id}", token)
            for code in material.codes:
                if hmac.compare_digest(code.code_hash, wanted):
                    if not code.used and self._store.spend_code(
                        user_id, code.id, utcnow(), confirm=not material.confirmed
                    ):
                        self._guard.code_verified(app.id, user_id)  # its prefix converts
                        return self._passed(app, user_id, code.channel), code.channel
                    reused, channel = True, code.channel
        now = time.time()
        for secret in material.secrets:
            if secret.digits != len(token):
                continue
            if channel == "unknown":
                channel = secret.kind
            key = self._key(secret.secret_enc)
            step = match_step(
                key, token, int(now // secret.step), digits=secret.digits, window=self._window
            )
            if step is None:
                continue
            if step > secret.last_step and self._store.spend_step(
                user_id, secret.id, step, confirm=not material.confirmed
            ):
                return self._passed(app, user_id, secret.kind), secret.kind
            reused, channel = True, secret.kind
        return ("reused" if reused else "invalid"), channel

    def _sandbox_passed(self, app: App, material: Material) -> Outcome:
        """Authy's sandbox token: valid for any user of a sandbox application, every time
        (the official clients' live tests verify it again and again), and it confirms the
        user as any valid code does."""
        if not material.confirmed:
            self._store.confirm(material.user_id)
        return self._passed(app, material.user_id, "sandbox")

    def _key(self, secret_enc: str) -> bytes:
        key = self._keys.get(secret_enc)
        if key is None:
            if len(self._keys) >= KEY_CACHE:
                self._keys.pop(next(iter(self._keys)))
            key = self._keys[secret_enc] = decode_secret(self._keyring.decrypt(secret_enc))
        return key

    def _passed(self, app: App, user_id: int, channel: str) -> Outcome:
        self._usage.add(app.id, "auths")
        # Buffered like failures: verification outcomes are the audit log's high-volume events.
        self._audit.record(
            "verification.passed",
            app_id=app.id,
            subject=f"user:{user_id}",
            data={"channel": channel},
        )
        return "valid"
