"""A thin handle on the engine with read and write transactions.

On SQLite, writers queue on a lock; another process can hold it for a while (an admin command,
a second provider process, a ``sqlite3`` shell). Nothing waits for a lock longer than
``lock_timeout``: past that, ``DatabaseBusy`` (503). Work run on the event loop
(``without_waiting``) does not wait at all: it raises ``WouldBlock`` before its first write, and
the caller runs it again in a worker thread, so the loop (and ``/healthz``) never stalls.

On PostgreSQL, work marked ``on_loop`` runs on the event loop too, over psycopg's asyncio
driver: SQLAlchemy's ``run_sync`` runs the same synchronous code in a greenlet, and each round
trip awaits the driver instead of blocking a worker thread (see ``run``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio.to_thread
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from twofa.errors import DatabaseBusy, ServiceUnavailable
from twofa.storage.tables import When

if TYPE_CHECKING:  # the asyncio extension (and the ORM it loads) only where PostgreSQL is used
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")
DEFAULT_LOCK_TIMEOUT = 30.0


class WouldBlock(BaseException):
    """Work on the event loop met a held write lock before writing anything: run it in a thread.

    A ``BaseException``, so service code that catches ``Exception`` cannot swallow it.
    """


@dataclass
class _NoWait:
    wrote: bool = False  # once a write committed, later ones wait (the work cannot be re-run)


_no_wait: ContextVar[_NoWait | None] = ContextVar("twofa_db_no_wait", default=None)
# PostgreSQL work on the event loop: the async engine's connection that it runs on.
_loop_conn: ContextVar[Connection | None] = ContextVar("twofa_db_loop_conn", default=None)


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig or exc).lower()
    return "locked" in text or "busy" in text


def _sqlite_time(moment: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite ``DATETIME`` stores it: its fields as text, without
    an offset. That processor fills a %-format from a dict of the fields (about 2 µs, paid per
    audit entry and per code lookup on the verification path); ``isoformat`` writes the same
    text in C (``tests/fast/test_sqlite_time.py`` checks they agree)."""
    return moment.isoformat(" ", "microseconds")[:26]


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


def _flock(fd: int, deadline: float | None) -> bool:
    """Take the file lock, trying until ``deadline`` (once, when None); False if it stayed held."""
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if deadline is None or time.monotonic() >= deadline:
                return False
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.02)


class Database:
    """Transactions over one engine. ``write()`` takes SQLite's write lock up front."""

    def __init__(
        self,
        engine: Engine,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        on_hop: Callable[[], object] | None = None,
        async_engine: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        self.async_engine = async_engine  # PostgreSQL: the asyncio driver, for ``on_loop``
        self._async_loop: asyncio.AbstractEventLoop | None = None  # the loop its pool is on
        self._on_hop = on_hop  # told each time ``run`` leaves the event loop for a held lock
        self.lock_timeout = lock_timeout
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.inline = self.is_sqlite  # database-only calls may run on the event loop
        # SQLite has one writer. Queueing writers here, in order, is far cheaper than letting
        # them spin in SQLite's busy handler (which sleeps up to 100 ms between tries): a
        # thread lock within the process, and a file lock between processes of one host.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._lock_file = _sqlite_lock_file(engine) if self.is_sqlite else None
        self._local = threading.local()  # SQLite: one driver connection per thread, kept
        self._bind_time = (
            _sqlite_time
            if self.is_sqlite
            else When.dialect_impl(engine.dialect).bind_processor(engine.dialect)
        )

    async def run(self, work: Callable[[], T], *, on_loop: bool = False) -> T:
        """Run blocking work that touches only the database, from async code.

        On SQLite it runs inline on the event loop: SQLite answers in microseconds and has one
        writer anyway, so a hop to a worker thread would cost more than the query. But when
        another process holds the write lock it goes to a worker thread, where it waits (up to
        the lock timeout, then 503) without stalling the loop.

        Elsewhere network round trips must not stall the loop. With ``on_loop`` (and an async
        engine) the work runs on the loop all the same, in a greenlet on one connection of the
        async engine: each statement awaits psycopg's asyncio driver, so other requests run
        meanwhile and no thread is involved. Only work whose every wait is a database round
        trip may ask for it. Otherwise it runs in a worker thread.
        """
        if self.inline:
            try:
                return self.without_waiting(work)
            except WouldBlock:
                if self._on_hop is not None:
                    self._on_hop()
        elif on_loop and self.async_engine is not None and self._owns_loop():
            async with self.async_engine.connect() as conn:
                return await conn.run_sync(_on_connection, work)
        return await anyio.to_thread.run_sync(work)

    def _owns_loop(self) -> bool:
        """True on the loop whose connections the async engine holds (the first to use it
        until ``dispose_async``): another loop (a test client's, say) uses worker threads."""
        loop = asyncio.get_running_loop()
        if self._async_loop is None:
            self._async_loop = loop
        return self._async_loop is loop

    def without_waiting(self, work: Callable[[], T]) -> T:
        """Run ``work`` here (on the event loop); ``WouldBlock`` if it would wait for a lock."""
        token = _no_wait.set(_NoWait())
        try:
            return work()
        finally:
            _no_wait.reset(token)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        shared = _loop_conn.get()
        if shared is not None:
            with shared.begin():
                yield shared
            return
        with self.engine.connect() as conn:
            try:
                transaction = conn.begin()
            except OperationalError as exc:
                raise DatabaseBusy() if _locked(exc) else exc from exc
            with transaction:
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any error."""
        if self._write_lock is None:
            shared = _loop_conn.get()
            if shared is not None:
                with shared.begin():
                    yield shared
                return
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._locks() as (deadline, refusal), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            yield from self._immediate(conn, deadline, refusal)

    @contextmanager
    def _locks(self) -> Iterator[tuple[float | None, BaseException]]:
        """Hold this process's and this host's write locks; yields the deadline for the rest.

        Waits up to ``lock_timeout`` (then ``DatabaseBusy``), or not at all inside
        ``without_waiting`` before its first write (then ``WouldBlock``).
        """
        assert self._write_lock is not None
        no_wait = _no_wait.get()
        wait = no_wait is None or no_wait.wrote
        deadline = time.monotonic() + self.lock_timeout if wait else None
        refusal: BaseException = DatabaseBusy() if wait else WouldBlock()
        if not self._write_lock.acquire(timeout=self.lock_timeout if wait else 0):
            raise refusal
        try:
            if self._lock_file is not None and not _flock(self._lock_file, deadline):
                raise refusal
            try:
                yield deadline, refusal
            finally:
                if self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        finally:
            self._write_lock.release()
        if no_wait is not None:
            no_wait.wrote = True

    def _busy(self, execute: Callable[[str], object], info: dict[Any, Any], wait: bool) -> None:
        """SQLite's own wait for another connection's lock: the lock timeout, or none at all.

        The connection remembers its setting (``info``), so the PRAGMA runs only when a
        connection moves between the event loop and a worker thread, not on every write.
        """
        wanted = int(self.lock_timeout * 1000) if wait else 0
        if info.get("busy_ms") != wanted:
            execute(f"PRAGMA busy_timeout={wanted}")
            info["busy_ms"] = wanted

    def _immediate(
        self, conn: Connection, deadline: float | None, refusal: BaseException
    ) -> Iterator[Connection]:
        """BEGIN IMMEDIATE, waiting for a foreign lock (not at all on the event loop)."""
        driver = conn.connection.driver_connection  # outside SQLAlchemy's transaction
        assert driver is not None
        self._busy(driver.execute, conn.connection.info, deadline is not None)
        try:
            transaction = conn.begin()
        except OperationalError as exc:
            if _locked(exc):
                raise refusal from exc
            raise
        with transaction:
            yield conn

    def time(self, moment: datetime) -> Any:
        """``moment`` as the driver takes it in a statement run by ``cursor()``."""
        return self._bind_time(moment) if self._bind_time is not None else moment

    @contextmanager
    def cursor(self, *, write: bool = False, single: bool = False) -> Iterator[Any]:
        """A driver cursor for statements compiled once (see ``storage/statements.py``).

        For the few statements on the hottest path, SQLAlchemy's per-execution work costs more
        than the database itself. A write is one transaction under the same locks as
        ``write()``; a read runs without one (each statement sees a consistent snapshot).
        With ``single`` the caller runs one statement, which the database makes a transaction
        by itself: no BEGIN and COMMIT around it (on PostgreSQL, one round trip, not three).
        One only: on SQLite a second statement could meet another connection's lock after the
        first committed, and on the event loop that would re-run work whose first write stood.
        """
        if not self.is_sqlite:
            # The server down or gone away (a restart, a failover): the driver's own errors
            # reach us here, so they become the 503 that SQLAlchemy's path answers too.
            dbapi = self.engine.dialect.loaded_dbapi
            unavailable = (dbapi.OperationalError, dbapi.InterfaceError)
            shared = _loop_conn.get()
            if shared is not None:  # on the loop: the async driver behind a synchronous face
                yield from _shared_cursor(shared, unavailable, write=write and not single)
                return
            try:
                raw = self.engine.raw_connection()
            except unavailable as exc:
                raise ServiceUnavailable() from exc
            try:
                with _autocommit(raw, not write or single):
                    cursor = raw.cursor()
                    yield cursor
                    raw.commit()
            except unavailable as exc:
                raw.invalidate()  # never hand a broken session to the next caller
                raise ServiceUnavailable() from exc
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
        with self._locks() as (deadline, refusal):
            info = self._local.__dict__.setdefault("info", {})
            self._busy(cursor.execute, info, deadline is not None)
            if single:  # the connection commits each statement itself (engine.py)
                try:
                    yield cursor
                except sqlite3.OperationalError as exc:
                    if "locked" in str(exc) or "busy" in str(exc):
                        raise refusal from exc
                    raise
                return
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise refusal from exc
                raise
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

    async def dispose_async(self) -> None:
        """Close the async engine's connections (they belong to the loop that made them)."""
        if self.async_engine is not None and self._async_loop is asyncio.get_running_loop():
            await self.async_engine.dispose()
            self._async_loop = None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def _on_connection(conn: Connection, work: Callable[[], T]) -> T:
    """Run ``work`` with ``conn`` as the connection of every transaction it opens."""
    token = _loop_conn.set(conn)
    try:
        return work()
    finally:
        _loop_conn.reset(token)


def _shared_cursor(
    conn: Connection, unavailable: tuple[type[BaseException], ...], *, write: bool
) -> Iterator[Any]:
    """A driver cursor on the loop's connection, committed on success (``cursor()``)."""
    raw = conn.connection
    try:
        with _autocommit(raw, not write):
            cursor = raw.cursor()
            try:
                yield cursor
            except BaseException:
                raw.rollback()
                raise
            raw.commit()
    except unavailable as exc:
        conn.invalidate()  # never hand a broken session to the next caller
        raise ServiceUnavailable() from exc


@contextmanager
def _autocommit(raw: Any, on: bool) -> Iterator[None]:
    """PostgreSQL reads without a transaction, as on SQLite: each statement is its own, so a
    read costs one round trip, not three (BEGIN, the statement, COMMIT). The connection goes
    back to the pool as it came (transactions begin implicitly)."""
    if not on:
        yield
        return
    driver = raw.dbapi_connection
    driver.autocommit = True
    try:
        yield
    finally:
        driver.autocommit = False
