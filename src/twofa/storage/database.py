"""A thin handle on the engine with read and write transactions."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, Engine

from twofa.storage.tables import When


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; treat them as the UTC they were stored as."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _sqlite_lock_file(engine: Engine) -> int | None:
    """A lock file beside the SQLite database, shared by every process that writes to it."""
    path = engine.url.database
    if not path or path == ":memory:":
        return None
    return os.open(f"{path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def _flocked(fd: int | None) -> Iterator[None]:
    if fd is None:
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class Database:
    """Transactions over one engine. ``write()`` takes SQLite's write lock up front."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.inline = self.is_sqlite  # database-only calls may run on the event loop
        # SQLite has one writer. Queueing writers here, in order, is far cheaper than letting
        # them spin in SQLite's busy handler (which sleeps up to 100 ms between tries): a
        # thread lock within the process, and a file lock between processes of one host.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._lock_file = _sqlite_lock_file(engine) if self.is_sqlite else None
        self._local = threading.local()  # SQLite: one driver connection per thread, kept
        self._bind_time = When.dialect_impl(engine.dialect).bind_processor(engine.dialect)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any error."""
        if self._write_lock is None:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._write_lock, _flocked(self._lock_file), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    def time(self, moment: datetime) -> Any:
        """``moment`` as the driver takes it in a statement run by ``cursor()``."""
        return self._bind_time(moment) if self._bind_time is not None else moment

    @contextmanager
    def cursor(self, *, write: bool = False) -> Iterator[Any]:
        """A driver cursor for statements compiled once (see ``storage/statements.py``).

        For the few statements on the hottest path, SQLAlchemy's per-execution work costs more
        than the database itself. A write is one transaction under the same locks as
        ``write()``; a read runs without one (each statement sees a consistent snapshot).
        """
        if not self.is_sqlite:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                yield cursor
                raw.commit()
            finally:
                raw.close()  # back to the pool, which rolls back anything left open
            return
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Kept out of the pool: a thread's connection lives as long as the thread.
            fairy = self.engine.raw_connection()
            fairy.detach()
            self._local.fairy = fairy
            conn = self._local.conn = fairy.dbapi_connection
            assert conn is not None
        cursor = conn.cursor()
        if not write:
            yield cursor
            return
        assert self._write_lock is not None
        with self._write_lock, _flocked(self._lock_file):
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def checkpoint(self) -> None:
        """Copy the SQLite write-ahead log into the database file (no-op elsewhere)."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None
