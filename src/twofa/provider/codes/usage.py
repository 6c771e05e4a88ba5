"""Monthly usage counters (for ``/app/stats``), bumped in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from twofa.storage.database import utcnow
from twofa.storage.tables import usage


def bump(conn: Connection, app_id: int, kind: str) -> None:
    """Add one to this month's ``kind`` counter for the application."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    month = utcnow().strftime("%Y-%m")
    statement = insert(usage).values(app_id=app_id, month=month, kind=kind, count=1)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[usage.c.app_id, usage.c.month, usage.c.kind],
            set_={"count": usage.c.count + 1},
        )
    )
