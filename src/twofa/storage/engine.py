"""Engine creation and migrations for the provider's database."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a SQLite write-ahead log is cut back to


def make_engine(url: str, *, lock_timeout: float = 30.0, **kwargs: Any) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout for SQLite, a pool for PostgreSQL.

    ``lock_timeout`` is how long a SQLite statement waits for another connection's lock.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if parsed.database and parsed.database != ":memory:":
            # SQLite connections are cheap and local: one per worker thread (the ASGI server
            # has 40), whatever the PostgreSQL pool is set to.
            kwargs["pool_size"] = max(kwargs.get("pool_size", 0), 40)
            kwargs["max_overflow"] = max(kwargs.get("max_overflow", 0), 10)
        else:
            kwargs.pop("pool_size", None)
            kwargs.pop("max_overflow", None)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
            cursor = dbapi_conn.cursor()
            _write_ahead_log(cursor, lock_timeout)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
            # Commits never wait for the disk in WAL mode with synchronous=NORMAL, except when
            # they trigger a checkpoint; checkpoints run in the background instead (see
            # Database.checkpoint), so no request ever pays for one.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            # Without a limit the log keeps the size of its busiest two seconds for good; with
            # one, the first write after a complete checkpoint cuts it back to this size.
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock at BEGIN, so read-then-write transactions never deadlock.
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _write_ahead_log(cursor: Any, lock_timeout: float) -> None:
    """Put the database in WAL mode unless it already is.

    Switching needs an exclusive lock and SQLite answers "database is locked" at once, without
    its busy handler, when another connection holds one; a connection opened while others of
    another process are busy would fail. Reading the mode takes no such lock, so the switch
    (once per database file) is tried, until ``lock_timeout``, only when it is needed.
    """
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


def make_async_engine(url: str, **kwargs: Any) -> AsyncEngine | None:
    """PostgreSQL through psycopg's asyncio driver, for work run on the event loop
    (``Database.run(..., on_loop=True)``); None for SQLite, which answers in microseconds.

    No ping before each checkout (it would double the round trips of a verification): a
    connection that broke since its last use fails its request with a 503 and is dropped.
    The pool has a fixed size, ``pool_size + max_overflow``: on the loop every request in
    flight may want a connection at once, and an overflow connection opened and closed for one
    request costs far more than the request; past the size, requests wait their turn.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    # Imported here: the asyncio extension loads SQLAlchemy's ORM, which SQLite never needs.
    from sqlalchemy.ext.asyncio import create_async_engine

    size = kwargs.pop("pool_size", 10) + kwargs.pop("max_overflow", 10)
    return create_async_engine(
        parsed.set(drivername="postgresql+psycopg_async"),
        pool_size=size,
        max_overflow=0,
        **kwargs,
    )


def alembic_config(url: str, migrations: Path = MIGRATIONS) -> Any:
    """An Alembic config pointing at packaged migrations (the provider's by default)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, migrations: Path = MIGRATIONS) -> None:
    """Apply migrations up to ``revision`` (creating a SQLite file's folder first)."""
    from alembic import command

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, migrations), revision)
