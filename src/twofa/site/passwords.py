"""Argon2id password hashing that costs the same whether or not the account exists."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class PasswordsBusy(Exception):
    """Too many password checks are queued already: refuse rather than hold one more thread."""


class Passwords:
    """Hash and check passwords with Argon2id.

    ``verify(None, password)`` still runs a full Argon2 check against a throw-away hash, so a
    login for an unknown e-mail takes as long as one with a wrong password: response time does
    not reveal which addresses have accounts.

    At most ``concurrency`` hashes run at once (default: one core left free). Each takes
    ``memory_kib`` of memory and a core for a few hundred milliseconds, so a burst of logins
    queues here instead of starving the threads that deliver callbacks and live status, and a
    flood of logins cannot exhaust memory.

    The queue itself is bounded too: with ``max_waiting`` checks running or queued, the next
    raises :class:`PasswordsBusy` at once. Each queued check holds a server thread, so a burst of
    logins (hundreds of people at once, or a password spray) would otherwise take every thread
    and leave none for pages; past the bound the site answers 503 "try again in a moment".
    """

    def __init__(
        self,
        *,
        memory_kib: int = 65536,
        time_cost: int = 3,
        concurrency: int | None = None,
        max_waiting: int | None = None,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        slots = concurrency or max(1, (os.cpu_count() or 2) - 1)
        self._slots = threading.BoundedSemaphore(slots)
        self._max_waiting = max_waiting
        self._waiting = 0
        self._count = threading.Lock()
        self._dummy = self._hasher.hash(secrets.token_urlsafe(24))

    @property
    def waiting(self) -> int:
        """Checks running or queued now."""
        return self._waiting

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        with self._count:
            if self._max_waiting is not None and self._waiting >= self._max_waiting:
                raise PasswordsBusy()
            self._waiting += 1
        try:
            with self._slots:
                yield
        finally:
            with self._count:
                self._waiting -= 1

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only when ``password_hash`` is given and matches ``password``."""
        try:
            with self._slot():
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
