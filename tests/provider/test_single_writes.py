"""A one-statement write (``Database.cursor(write=True, single=True)``) skips BEGIN and COMMIT,
and nothing else: it still queues behind the process's and the host's write locks, a lock held
by another connection still sends loop work to a thread (or ends in a 503), and on PostgreSQL the
connection goes back to the pool in its usual transactional mode."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.servers import postgres_database
from twofa.errors import DatabaseBusy
from twofa.storage.database import Database, WouldBlock
from twofa.storage.engine import make_async_engine, make_engine, upgrade


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "single.db"
    database = Database(make_engine(f"sqlite:///{path}"), lock_timeout=0.3)
    with database.write() as conn:
        conn.execute(text("CREATE TABLE probe (n integer NOT NULL)"))
        conn.execute(text("INSERT INTO probe (n) VALUES (0)"))
    yield database, path
    database.dispose()


def _bump(db: Database) -> int:
    with db.cursor(write=True, single=True) as cursor:
        return int(cursor.execute("UPDATE probe SET n = n + 1 WHERE n >= 0").rowcount)


def _seen_elsewhere(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT n FROM probe").fetchone()[0])


def test_the_statement_commits_by_itself(sqlite_db: tuple[Database, Path]) -> None:
    db, path = sqlite_db
    assert _bump(db) == 1
    assert _seen_elsewhere(path) == 1
    assert db.without_waiting(lambda: _bump(db)) == 1
    assert _seen_elsewhere(path) == 2


def test_a_foreign_lock_moves_loop_work_to_a_thread_or_ends_in_a_503(
    sqlite_db: tuple[Database, Path],
) -> None:
    db, path = sqlite_db
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(WouldBlock):
            db.without_waiting(lambda: _bump(db))
        with pytest.raises(DatabaseBusy):
            _bump(db)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _bump(db) == 1  # nothing was left open by the refusals
    assert _seen_elsewhere(path) == 1


@pytest.mark.postgres
def test_postgres_single_writes_commit_and_leave_transactions_as_they_were() -> None:
    with postgres_database() as url:
        upgrade(url)
        db = Database(make_engine(url), async_engine=make_async_engine(url))
        with db.write() as conn:
            conn.execute(text("CREATE TABLE probe (n integer NOT NULL)"))
            conn.execute(text("INSERT INTO probe (n) VALUES (0)"))

        def failing_pair() -> None:
            with db.cursor(write=True) as cursor:
                cursor.execute("UPDATE probe SET n = 100")
                cursor.execute("SELECT * FROM no_such_table")

        async def scenario() -> None:
            assert await db.run(lambda: _bump(db), on_loop=True) == 1
            with pytest.raises(Exception, match="no_such_table"):
                await db.run(failing_pair, on_loop=True)
            await db.dispose_async()

        try:
            asyncio.run(scenario())
            assert _bump(db) == 1  # the blocking driver's path too
            with pytest.raises(Exception, match="no_such_table"):
                failing_pair()
            with db.read() as conn:  # both single writes kept; both pairs rolled back whole
                assert conn.execute(text("SELECT n FROM probe")).scalar_one() == 2
        finally:
            db.dispose()
