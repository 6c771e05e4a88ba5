"""Monthly usage counters (for ``/app/stats``), bumped in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from twofa.storage.database import utcnow
from twofa.storage.tables import usage


def _upsert(insert: Any) -> Any:
    statement = insert(usage).values(
        app_id=bindparam("app_id"), month=bindparam("month"), kind=bindparam("kind"), count=1
    )
    return statement.on_conflict_do_update(
        index_elements=[usage.c.app_id, usage.c.month, usage.c.kind],
        set_={"count": usage.c.count + 1},
    )


_UPSERTS = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


def bump(conn: Connection, app_id: int, kind: str) -> None:
    """Add one to this month's ``kind`` counter for the application."""
    conn.execute(
        _UPSERTS[conn.dialect.name],
        {"app_id": app_id, "month": utcnow().strftime("%Y-%m"), "kind": kind},
    )
