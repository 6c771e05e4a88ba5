"""A SQLite connection opened while another process writes waits for the lock like any
statement, instead of failing at once in its set-up (a second worker, an admin command)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from twofa.storage import engine as engine_module
from twofa.storage.database import Database
from twofa.storage.engine import make_engine


def test_a_connection_opened_during_a_foreign_write_waits_for_it(
    tmp_path: Path, migrated: Path
) -> None:
    path = tmp_path / "provider.db"
    shutil.copyfile(migrated, path)  # as migrated: not in WAL mode yet
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE probe (n integer)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO probe VALUES (1)")
    release = threading.Timer(0.3, other.execute, ("COMMIT",))
    release.start()
    engine = make_engine(f"sqlite:///{path}", lock_timeout=10)
    try:
        started = time.monotonic()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.execute(text("SELECT count(*) FROM probe")).scalar() == 1
        assert time.monotonic() - started >= 0.2  # it waited for the commit, then went on
    finally:
        release.join()
        engine.dispose()
        other.close()


def test_a_new_database_is_switched_to_the_write_ahead_log(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_the_write_ahead_log_shrinks_after_a_burst(
    tmp_path: Path, migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of writes grows the log; once checkpointed, the next write cuts it back to the
    limit instead of keeping the burst's size on disk for good."""
    monkeypatch.setattr(engine_module, "WAL_SIZE_LIMIT", 256 * 1024)
    path = tmp_path / "provider.db"
    shutil.copyfile(migrated, path)
    database = Database(make_engine(f"sqlite:///{path}", lock_timeout=10))
    wal = Path(f"{path}-wal")
    try:
        with database.write() as conn:
            conn.exec_driver_sql("CREATE TABLE burst (b blob)")
            for _ in range(4000):
                conn.exec_driver_sql("INSERT INTO burst VALUES (randomblob(1000))")
        assert wal.stat().st_size > 2 * 1024 * 1024
        database.checkpoint()
        with database.write() as conn:
            conn.exec_driver_sql("INSERT INTO burst VALUES (1)")
        assert wal.stat().st_size <= 256 * 1024
    finally:
        database.engine.dispose()
