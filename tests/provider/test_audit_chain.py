"""Buffered audit events are inserted already chained; the chain holds with events of other
transactions between them, and with several processes writing batches at once."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.servers import postgres_database
from twofa.provider.audit.service import AuditLog
from twofa.storage.database import Database
from twofa.storage.engine import make_engine, upgrade
from twofa.storage.tables import audit_log


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path, migrated: Path) -> Iterator[str]:
    if request.param == "postgres":
        with postgres_database() as database_url:
            upgrade(database_url)
            yield database_url
    else:
        shutil.copyfile(migrated, tmp_path / "provider.db")
        yield f"sqlite:///{tmp_path / 'provider.db'}"


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    database = Database(make_engine(url))
    yield database
    database.dispose()


def unchained(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.seq.is_(None))
            ).scalar_one()
        )


def test_a_flushed_batch_is_chained_without_the_chainer(db: Database) -> None:
    audit = AuditLog(db)
    for n in range(5):
        audit.record("verification.failed", app_id=1, subject=f"user:{n}", data={"n": n})
    assert audit.flush() == 5
    entries = audit.entries(event="verification.failed")
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.data for e in entries] == [{"n": n} for n in range(5)]
    assert unchained(db) == 0
    assert audit.chain_all() == 0
    result = audit.verify()
    assert result.ok and result.checked == 5 and result.head == entries[-1].hash


def test_events_of_other_transactions_are_chained_after_the_batches_around_them(
    db: Database,
) -> None:
    audit = AuditLog(db)
    audit.record("verification.failed", subject="user:1")
    audit.flush()
    with db.write() as conn:
        audit.record("user.created", subject="user:2", conn=conn)
    audit.record("verification.passed", subject="user:2")
    audit.flush()
    assert unchained(db) == 1  # the change's own event waits for the chainer
    assert audit.chain_all() == 1
    by_event = {e.event: e.seq for e in audit.entries()}
    assert by_event == {"verification.failed": 1, "verification.passed": 2, "user.created": 3}
    assert audit.verify().ok

    with db.write() as conn:  # an entry edited afterwards still breaks the chain
        conn.execute(
            audit_log.update().where(audit_log.c.seq == 2).values(subject="user:someone-else")
        )
    broken = audit.verify()
    assert not broken.ok and broken.broken_at == 2


def test_processes_writing_batches_at_once_extend_one_chain(url: str) -> None:
    # Each Database stands for a process: its own connections (and, on SQLite, lock handles).
    databases = [Database(make_engine(url)) for _ in range(3)]
    logs = [AuditLog(database) for database in databases]
    rounds, per_round = 15, 20
    start = threading.Barrier(len(logs) + 1)
    errors: list[BaseException] = []

    def writer(index: int, audit: AuditLog) -> None:
        try:
            start.wait()
            for r in range(rounds):
                for n in range(per_round):
                    audit.record("verification.failed", subject=f"p{index}:{r}:{n}")
                audit.flush()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def chainer() -> None:
        try:
            start.wait()
            for r in range(rounds):
                with databases[0].write() as conn:
                    logs[0].record("user.created", subject=f"chainer:{r}", conn=conn)
                logs[0].chain_all()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i, a)) for i, a in enumerate(logs[1:])]
    threads.append(threading.Thread(target=chainer))
    try:
        for thread in threads:
            thread.start()
        start.wait()
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        logs[0].chain_all()
        expected = (len(logs) - 1) * rounds * per_round + rounds
        result = logs[0].verify()
        assert result.ok, result.reason
        assert result.checked == expected and result.unchained == 0
    finally:
        for database in databases:
            database.dispose()
