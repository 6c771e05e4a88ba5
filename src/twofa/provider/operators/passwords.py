"""Operator passwords: Argon2id, and which passwords an operator may choose.

The same approach as the demo site's (which the provider may not import): Argon2id from
argon2-cffi, a check against a throw-away hash when the name is unknown so the time taken does
not tell which names exist, and zxcvbn's offline estimate to refuse common, breached or guessable
passwords (NIST SP 800-63B-4 section 3.1.1.2: a length floor and a blocklist, no composition
rules). Operators hold the keys to every application, so the floor is higher: 12 characters by
default and a zxcvbn score of 3 (about 10^8 guesses) rather than the site's 2.
"""

from __future__ import annotations

import secrets
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MAX_LENGTH = 128
MIN_SCORE = 3
ZXCVBN_MAX = 72  # zxcvbn refuses longer input


class OperatorPasswords:
    """Hash and check operator passwords; at most two checks run at once per process."""

    def __init__(self, *, memory_kib: int = 65536, time_cost: int = 3) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        self._slots = threading.BoundedSemaphore(2)
        # Made on first need (once per process), so building the services stays cheap.
        self._dummy_hash: str | None = None

    @property
    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))
        return self._dummy_hash

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only when ``password_hash`` is given and matches; as slow when it is not."""
        try:
            with self._slots:
                ok = self._hasher.verify(password_hash or self._dummy, password[:MAX_LENGTH])
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None


def password_problem(password: str, *, min_length: int, name: str) -> str | None:
    """Why ``password`` may not be an operator's password, or None when it may."""
    if len(password) < min_length:
        return f"use at least {min_length} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    from zxcvbn import zxcvbn  # loads its word lists on first use only

    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[name, "twofa", "console", "operator"])
    if int(result["score"]) < MIN_SCORE:
        warning = str((result.get("feedback") or {}).get("warning") or "")
        return warning or "this password is too easy to guess"
    return None
