"""The audit log's write path for buffered events: inserted already chained, one transaction.

Buffered events (a code checked, a request refused) are most of the log's volume: one per
verification. Inserting them plain and chaining them afterwards cost an INSERT, a read-back and
an UPDATE per event, each with a hold of the write lock. Here a batch takes the chain's lock,
reads the chain's head, computes each entry's hash from the values in memory (the same
hash that ``verify`` recomputes from the stored row, ``chain.py``) and inserts the batch with its
sequence numbers in one ``executemany``, at driver level (``storage/statements.py``). Entries
written inside another change's transaction are still chained afterwards by the chainer; the
chain is ordered by ``seq``, not by row id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select

from twofa.provider.audit.chain import canonical, chained_hash
from twofa.storage.database import Database
from twofa.storage.statements import Statement
from twofa.storage.tables import audit_log

CHAIN_LOCK = 7_466_001  # PostgreSQL advisory lock: one chainer or chained insert at a time
_HEAD = select(audit_log.c.seq, audit_log.c.hash).where(
    audit_log.c.seq == select(func.max(audit_log.c.seq)).scalar_subquery()
)
_INSERT_CHAINED = insert(audit_log).values(
    seq=bindparam("seq"),
    created_at=bindparam("created_at"),
    event=bindparam("event"),
    app_id=bindparam("app_id"),
    subject=bindparam("subject"),
    data=bindparam("data"),
    actor=bindparam("actor"),
    prev_hash=bindparam("prev_hash"),
    hash=bindparam("hash"),
)
GENESIS = "0" * 64


class AuditStore:
    """Appends buffered events to the chain."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._head = Statement(_HEAD, db.engine)
        self._insert = Statement(_INSERT_CHAINED, db.engine)

    def append_chained(self, events: Sequence[dict[str, Any]]) -> None:
        """Insert ``events`` (as ``AuditLog.record`` buffers them) as the chain's next entries."""
        db = self._db
        with db.cursor(write=True) as cursor:
            if not db.is_sqlite:
                # Waits for a chainer or another process's batch (each holds it for one short
                # transaction); on SQLite the write lock already serialises them.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
            head = self._head.execute(cursor, {}).fetchone()
            seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
            rows = []
            for event in events:
                seq += 1
                data = canonical(event["data"])  # stored as hashed
                digest = chained_hash(
                    prev,
                    seq,
                    event["created_at"],
                    event["event"],
                    event["app_id"],
                    event["subject"],
                    data,
                    event["actor"],
                )
                rows.append(
                    self._insert.params(
                        {
                            "seq": seq,
                            "created_at": db.time(event["created_at"]),
                            "event": event["event"],
                            "app_id": event["app_id"],
                            "subject": event["subject"],
                            "data": data,
                            "actor": event["actor"],
                            "prev_hash": prev,
                            "hash": digest,
                        }
                    )
                )
                prev = digest
            cursor.executemany(self._insert.sql, rows)
