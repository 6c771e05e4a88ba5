"""Monthly usage counters (for ``/app/stats``).

Counting in memory and adding the totals to the database every second keeps a write off the
verification path; a crash loses at most that second of statistics, never a security record
(those are in the audit log).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from twofa.storage.database import Database, utcnow
from twofa.storage.tables import usage


def _upsert(insert: Any) -> Any:
    statement = insert(usage).values(
        app_id=bindparam("app_id"),
        month=bindparam("month"),
        kind=bindparam("kind"),
        count=bindparam("amount"),
    )
    return statement.on_conflict_do_update(
        index_elements=[usage.c.app_id, usage.c.month, usage.c.kind],
        set_={"count": usage.c.count + statement.excluded.count},
    )


_UPSERTS = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


class UsageCounters:
    """Per-application monthly counters, accumulated in memory and flushed periodically."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: Counter[tuple[int, str, str]] = Counter()
        self._lock = threading.Lock()
        self._month: tuple[tuple[int, int], str] = ((0, 0), "")  # formatted once a month

    def add(self, app_id: int, kind: str) -> None:
        """Count one ``kind`` event (``auths``, ...) for the application this month."""
        now = utcnow()
        month = self._month
        if month[0] != (now.year, now.month):
            month = self._month = ((now.year, now.month), now.strftime("%Y-%m"))
        with self._lock:
            self._pending[(app_id, month[1], kind)] += 1

    def flush(self) -> None:
        """Add the accumulated counts to the database."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return
        rows = [
            {"app_id": a, "month": m, "kind": k, "amount": n} for (a, m, k), n in pending.items()
        ]
        try:
            with self._db.write() as conn:
                conn.execute(_UPSERTS[conn.dialect.name], rows)
        except BaseException:  # WouldBlock included: ``Database.run`` runs it again
            with self._lock:
                self._pending.update(pending)
            raise
