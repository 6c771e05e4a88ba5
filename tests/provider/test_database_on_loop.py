"""PostgreSQL work marked ``on_loop`` runs on the event loop over the asyncio driver: no worker
thread, other work runs while it waits, and a failed statement leaves nothing open behind it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.servers import postgres_database
from twofa.storage.database import Database
from twofa.storage.engine import make_async_engine, make_engine, upgrade

pytestmark = pytest.mark.postgres


@pytest.fixture
def db() -> Iterator[Database]:
    with postgres_database() as url:
        upgrade(url)
        database = Database(make_engine(url), async_engine=make_async_engine(url))
        yield database
        database.dispose()


def test_work_runs_in_the_loops_thread_and_its_writes_commit(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("CREATE TABLE probe (n integer NOT NULL)"))

    def work() -> int:
        with db.cursor(write=True) as cursor:
            cursor.execute("INSERT INTO probe (n) VALUES (%s)", (3,))
        with db.read() as conn:  # SQLAlchemy's transactions run on the same connection
            conn.execute(text("SELECT 1")).scalar_one()
        return threading.get_ident()

    async def scenario() -> int:
        ran_in = await db.run(work, on_loop=True)
        await db.dispose_async()
        return ran_in

    assert asyncio.run(scenario()) == threading.get_ident()
    with db.read() as conn:  # seen from the threaded engine: committed
        assert conn.execute(text("SELECT n FROM probe")).scalar_one() == 3


def test_waiting_work_does_not_hold_up_the_loop(db: Database) -> None:
    def slow() -> None:
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")

    async def scenario() -> tuple[float, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        started = time.monotonic()
        counting = asyncio.create_task(ticker())
        await asyncio.gather(*(db.run(slow, on_loop=True) for _ in range(3)))
        counting.cancel()
        took = time.monotonic() - started
        await db.dispose_async()
        return took, ticks

    took, ticks = asyncio.run(scenario())
    assert took < 2.5, took  # three 1 s waits at once, not one after the other (3 s)
    assert ticks >= 10, ticks  # the loop kept running other work meanwhile


def test_a_failed_statement_is_rolled_back_and_the_connection_reused(db: Database) -> None:
    def failing() -> None:
        with db.cursor(write=True) as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    def fine() -> int:
        with db.cursor() as cursor:
            cursor.execute("SELECT 41 + 1")
            return int(cursor.fetchone()[0])

    async def scenario() -> int:
        with pytest.raises(Exception, match="no_such_table"):
            await db.run(failing, on_loop=True)
        answer = await db.run(fine, on_loop=True)
        await db.dispose_async()
        return answer

    assert asyncio.run(scenario()) == 42


def test_an_unreachable_server_is_a_503() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    db = Database(make_engine(url), async_engine=make_async_engine(url))

    def work() -> None:
        with db.cursor() as cursor:
            cursor.execute("SELECT 1")

    async def scenario() -> None:
        await db.run(work, on_loop=True)

    with pytest.raises(OperationalError):  # rendered as a 503 by the provider's handler
        asyncio.run(scenario())
    db.dispose()


def test_another_loop_uses_worker_threads_until_the_first_lets_go(db: Database) -> None:
    def where() -> int:
        with db.cursor() as cursor:
            cursor.execute("SELECT 1")
        return threading.get_ident()

    async def run() -> int:
        return await db.run(where, on_loop=True)

    async def run_and_dispose() -> int:
        ran_in = await run()
        await db.dispose_async()
        return ran_in

    here = threading.get_ident()
    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(run()) == here  # the pool now lives on this loop
        assert asyncio.run(run()) != here  # another loop: a worker thread, not that pool
        first.run_until_complete(db.dispose_async())
    finally:
        first.close()
    assert asyncio.run(run_and_dispose()) == here  # let go of: the next loop may take it


def test_reads_and_writes_from_a_worker_thread_on_the_blocking_driver(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("CREATE TABLE probe (n integer NOT NULL)"))
    for n in range(3):  # the same pooled connections, read without a transaction, then written
        with db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM probe")
            assert cursor.fetchone()[0] == n
        with db.cursor(write=True) as cursor:
            cursor.execute("INSERT INTO probe (n) VALUES (%s)", (n,))
