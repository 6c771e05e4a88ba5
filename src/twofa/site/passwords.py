"""Argon2id password hashing that costs the same whether or not the account exists."""

from __future__ import annotations

import os
import secrets
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hash and check passwords with Argon2id.

    ``verify(None, password)`` still runs a full Argon2 check against a throw-away hash, so a
    login for an unknown e-mail takes as long as one with a wrong password: response time does
    not reveal which addresses have accounts.

    At most ``concurrency`` hashes run at once (default: one core left free). Each takes
    ``memory_kib`` of memory and a core for a few hundred milliseconds, so a burst of logins
    queues here instead of starving the threads that deliver callbacks and live status, and a
    flood of logins cannot exhaust memory.
    """

    def __init__(
        self, *, memory_kib: int = 65536, time_cost: int = 3, concurrency: int | None = None
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        slots = concurrency or max(1, (os.cpu_count() or 2) - 1)
        self._slots = threading.BoundedSemaphore(slots)
        self._dummy = self._hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only when ``password_hash`` is given and matches ``password``."""
        try:
            with self._slots:
                ok = self._hasher.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
