"""Operator accounts and the checks of a sign-in: password, then TOTP.

Sign-in attempts are counted before they are checked (moving windows from the ``limits``
library, per operator name and per client address), and every failure gets the same answer
whatever failed, so the console does not tell which names exist. A TOTP code is good for one
sign-in: the matched time step is stored and a code from that step or an earlier one is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from twofa import otp
from twofa.crypto import Keyring
from twofa.provider.audit.service import AuditLog
from twofa.provider.operators import store
from twofa.provider.operators.model import (
    ROLES,
    CreatedOperator,
    Operator,
    OperatorError,
    SignInFailed,
    SignInThrottled,
)
from twofa.provider.operators.passwords import OperatorPasswords, password_problem
from twofa.provider.ratelimit import WindowLimiter
from twofa.settings import Limit, Settings
from twofa.storage.database import Database, utcnow
from twofa.text import clean

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
TOTP_DIGITS = 6  # what every authenticator app shows for a plain otpauth URI
TOTP_STEP = 30
TOTP_WINDOW = 1
ISSUER = "twofa console"


def normal_name(name: str) -> str:
    """Operator names are case-insensitive: stored and compared in lower case."""
    return name.strip().lower()


class OperatorService:
    """Operators: create, list, disable; check a password and a TOTP code at sign-in."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        settings: Settings,
        audit: AuditLog,
        *,
        passwords: OperatorPasswords | None = None,
        limiter: WindowLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._settings = settings
        self._audit = audit
        self._passwords = passwords
        self._limiter = limiter or WindowLimiter(settings.redis_url, prefix="twofa:console")
        self._per_operator = Limit.parse(settings.console_login_limit_operator)
        self._per_address = Limit.parse(settings.console_login_limit_ip)
        self._clock = clock

    @property
    def passwords(self) -> OperatorPasswords:
        # Built on first use: hashing a dummy password costs ~100 ms that API-only processes
        # and commands that never check a password should not pay.
        if self._passwords is None:
            self._passwords = OperatorPasswords(
                memory_kib=self._settings.console_password_memory_kib
            )
        return self._passwords

    # Accounts ----------------------------------------------------------------------------------

    def create(self, name: str, *, role: str, password: str, actor: str) -> CreatedOperator:
        """A new operator with a fresh TOTP secret (returned once, for their authenticator)."""
        name = normal_name(name)
        if not NAME.fullmatch(name):
            raise OperatorError(
                "operator names are 1 to 64 characters: letters, digits, '.', '_' or '-'"
            )
        if role not in ROLES:
            raise OperatorError(f"role must be one of {', '.join(ROLES)}")
        problem = password_problem(
            password, min_length=self._settings.console_password_min_length, name=name
        )
        if problem:
            raise OperatorError(f"password refused: {problem}")
        secret = otp.random_secret()
        password_hash = self.passwords.hash(password)
        with self._db.write() as conn:
            if store.by_name(conn, name) is not None:
                raise OperatorError(f"an operator named {name!r} exists already")
            operator = store.insert_operator(
                conn,
                name=name,
                role=role,
                password_hash=password_hash,
                totp_secret_enc=self._keyring.encrypt(secret),
                now=utcnow(),
            )
            self._audit.record(
                "operator.created",
                subject=operator.actor,
                data={"role": role},
                actor=actor,
                conn=conn,
            )
        uri = otp.otpauth_uri(secret, label=name, issuer=ISSUER, digits=TOTP_DIGITS, step=TOTP_STEP)
        return CreatedOperator(operator, secret, uri)

    def all(self) -> list[Operator]:
        with self._db.read() as conn:
            return store.all_operators(conn)

    def get(self, operator_id: int) -> Operator | None:
        with self._db.read() as conn:
            return store.by_id(conn, operator_id)

    def find(self, name: str) -> Operator:
        with self._db.read() as conn:
            found = store.by_name(conn, normal_name(name))
        if found is None:
            raise OperatorError(f"no operator named {normal_name(name)!r}")
        return found

    def disable(self, name: str, *, actor: str) -> Operator:
        """Disable an operator; their sessions end at once."""
        operator = self.find(name)
        now = utcnow()
        with self._db.write() as conn:
            if not store.disable(conn, operator.id, now):
                raise OperatorError(f"operator {operator.name!r} is disabled already")
            ended = store.end_sessions_of(conn, operator.id, now)
            self._audit.record(
                "operator.disabled",
                subject=operator.actor,
                data={"sessions_ended": ended},
                actor=actor,
                conn=conn,
            )
        return self.find(name)

    # Sign-in -----------------------------------------------------------------------------------

    def _count(self, key: str, limit: Limit) -> None:
        decision = self._limiter.hit(key, limit)
        if not decision.allowed:
            raise SignInThrottled(decision.retry_after)

    def check_password(self, name: str, password: str, *, address: str) -> Operator:
        """The enabled operator ``name`` if ``password`` is theirs; ``SignInFailed`` otherwise.

        The attempt is counted first, per address and per name, and the Argon2 check runs
        whether or not the name exists.
        """
        name = normal_name(clean(name))[:64]
        self._count(f"address:{address}", self._per_address)
        self._count(f"operator:{name}", self._per_operator)
        with self._db.read() as conn:
            found = store.secrets_of(conn, name)
        password_hash = found[1] if found else None
        if not self.passwords.verify(password_hash, password) or found is None:
            self._failed(name, "password", address)
            raise SignInFailed()
        return found[0]

    def has_totp(self, operator_id: int) -> bool:
        with self._db.read() as conn:
            return store.totp_of(conn, operator_id)[0] is not None

    def check_totp(self, operator: Operator, code: str, *, address: str) -> None:
        """Accept a TOTP code once; ``SignInFailed`` for a wrong, replayed or malformed one."""
        self._count(f"factor:{operator.id}", self._per_operator)
        code = code.strip().replace(" ", "")
        with self._db.read() as conn:
            secret_enc, _ = store.totp_of(conn, operator.id)
        matched = None
        if secret_enc is not None:
            matched = otp.match_totp(
                self._keyring.decrypt(secret_enc),
                code,
                self._clock(),
                digits=TOTP_DIGITS,
                step=TOTP_STEP,
                window=TOTP_WINDOW,
            )
        if matched is not None:
            with self._db.write() as conn:
                if store.spend_totp_step(conn, operator.id, matched.step):
                    return
        self._failed(operator.name, "totp" if matched is None else "totp_replayed", address)
        raise SignInFailed()

    def signed_in(self, operator: Operator) -> None:
        """A complete sign-in: the operator's own count starts afresh."""
        self._limiter.clear(f"operator:{operator.name}", self._per_operator)
        self._limiter.clear(f"factor:{operator.id}", self._per_operator)

    def _failed(self, name: str, stage: str, address: str) -> None:
        self._audit.record(
            "operator.sign_in_failed",
            subject=f"operator:{name}",
            data={"stage": stage, "address": address},
        )
