"""One process of a deployment runs the whole-database maintenance jobs, and another takes over
when it goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import postgres_database
from twofa.storage.database import Database
from twofa.storage.engine import make_engine
from twofa.storage.jobs import JobLease


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with postgres_database() as database_url:
            yield database_url
    else:
        yield f"sqlite:///{tmp_path / 'provider.db'}"


def test_one_runner_at_a_time_and_a_successor_when_it_goes(url: str) -> None:
    # Two Database objects stand for two processes: separate lock files handles, sessions.
    first, second = Database(make_engine(url)), Database(make_engine(url))
    a, b = JobLease(first), JobLease(second)
    try:
        assert a.held()
        assert not b.held()
        assert a.held(), "the runner keeps the lock on every later check"
        assert not b.held()
        a.release()  # the runner stops (or dies: the OS or the database frees the lock)
        assert b.held()
        assert not a.held()
    finally:
        a.release()
        b.release()
        first.dispose()
        second.dispose()
