"""The driver-level SQLite time text is exactly what SQLAlchemy stores for a ``DateTime``.

Rows written by SQLAlchemy and rows written at driver level (``Database.time``) are compared
as text in SQLite (``expires_at > ?``); one differing character would misorder them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from twofa.storage.database import _sqlite_time
from twofa.storage.tables import When

_SQLALCHEMY = When.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
_ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))])


@given(st.datetimes(timezones=_ZONES))
def test_the_text_is_sqlalchemys(moment: datetime) -> None:
    assert _SQLALCHEMY is not None
    assert _sqlite_time(moment) == _SQLALCHEMY(moment)


def test_whole_seconds_and_early_years_keep_every_field() -> None:
    assert _sqlite_time(datetime(2026, 12, 3, 8, 0, 0, tzinfo=UTC)) == "2026-12-03 08:00:00.000000"
    assert _sqlite_time(datetime(7, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "0007-01-02 03:04:05.000006"
