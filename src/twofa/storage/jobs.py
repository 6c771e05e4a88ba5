"""Which process runs the deployment's once-per-deployment maintenance jobs.

Several provider processes share one database (``--workers N``, several hosts). Sweeps that act
on the whole database (expiring requests, chaining the audit log, the SQLite checkpoint,
retention) need one runner, not one per process: run everywhere, they only contend for the
write lock, which showed as p99 spikes on the request path. The runner is whoever holds a lock
that the operating system or the database releases when the holder dies, so another process
takes over at its next try: an exclusive ``flock`` beside a SQLite file (one host), a
PostgreSQL session advisory lock (any number of hosts).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from typing import Any

from twofa.storage.database import Database

log = logging.getLogger(__name__)
JOBS_LOCK = 0x7477_6F66_6A6F_6273  # "twofjobs": the advisory lock key, one per database


class JobLease:
    """``held()`` says whether this process is the runner, taking the lock when it is free."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._fd: int | None = None
        self._conn: Any = None  # PostgreSQL: the session that holds the advisory lock

    def held(self) -> bool:
        """True while this process holds the lock (tried again on every call until it does)."""
        if self._db.is_sqlite:
            return self._held_sqlite()
        return self._held_postgres()

    def _held_sqlite(self) -> bool:
        if self._fd is not None:
            return True
        path = self._db.engine.url.database
        if not path or path == ":memory:":
            return True  # an in-memory database has one process
        fd = os.open(f"{path}.jobs", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _held_postgres(self) -> bool:
        try:
            if self._conn is None:
                fairy = self._db.engine.raw_connection()
                fairy.detach()  # a session of its own, outside the pool, for as long as we hold it
                self._conn = fairy
            cursor = self._conn.cursor()
            # Session locks nest: asking again while holding it answers true and proves the
            # session (and so the lock) is still alive.
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (JOBS_LOCK,))
            held = bool(cursor.fetchone()[0])
            self._conn.commit()
            return held
        except Exception:
            log.warning("maintenance lock session lost; trying again", exc_info=True)
            self.release()
            return False

    def release(self) -> None:
        """Give the lock up (at shutdown, or when its session failed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                # Unlocked here, not by closing the session: the server frees a closed
                # session's locks only once it notices, so a successor asking at once would
                # still find it held.
                cursor = self._conn.cursor()
                cursor.execute("SELECT pg_advisory_unlock_all()")
                self._conn.commit()
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
