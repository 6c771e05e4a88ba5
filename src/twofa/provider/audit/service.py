"""Record security events and chain them.

Entries are inserted at once, in the transaction of the change they describe, without taking
any global lock (so the hot path never queues behind the log). A background chainer then gives
each new entry the next sequence number and ``hash = sha256(prev_hash + entry)``; one chainer
runs at a time (PostgreSQL advisory lock; SQLite's single writer). Editing or deleting a
chained entry breaks every later hash, which ``twofa audit verify`` reports. To also detect a
truncated tail, record ``twofa audit verify --json``'s head hash somewhere else from time to time.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, update

from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import audit_log

GENESIS = "0" * 64
_INSERT = insert(audit_log)
_CHAIN = (
    update(audit_log)
    .where(audit_log.c.id == bindparam("row_id"))
    .values(seq=bindparam("n"), prev_hash=bindparam("prev"), hash=bindparam("digest"))
)
CHAIN_LOCK = 7_466_001


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int | None
    created_at: datetime
    event: str
    app_id: int | None
    subject: str
    data: dict[str, Any]
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    unchained: int
    head: str
    broken_at: int | None
    reason: str


def entry_hash(
    prev_hash: str,
    seq: int,
    created_at: datetime,
    event: str,
    app_id: int | None,
    subject: str,
    data: dict[str, Any],
) -> str:
    """The chained hash of one entry: SHA-256 over the previous hash and canonical JSON."""
    canonical = json.dumps(
        {
            "seq": seq,
            "created_at": created_at.astimezone(UTC).isoformat(),
            "event": event,
            "app_id": app_id,
            "subject": subject,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _entry(row: Any) -> Entry:
    return Entry(
        row.seq,
        aware(row.created_at),
        row.event,
        row.app_id,
        row.subject,
        row.data or {},
        row.prev_hash,
        row.hash,
    )


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._buffer: deque[dict[str, Any]] = deque(maxlen=100_000)

    def record(
        self,
        event: str,
        *,
        app_id: int | None = None,
        subject: str = "",
        data: dict[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Append an event inside ``conn``'s transaction, or buffer it when there is none.

        Events that describe a change are written with that change. Events without one (a
        wrong code, a refused request) are the ones an attacker can produce at will; they are
        buffered and written in batches by ``flush``, so they cannot turn every guess into a
        database write. A crash loses at most the last flush interval of them.
        """
        values = {
            "created_at": utcnow(),
            "event": event,
            "app_id": app_id,
            "subject": subject[:200],
            "data": data or {},
        }
        if conn is not None:
            conn.execute(_INSERT, values)
            return
        self._buffer.append(values)

    def flush(self) -> int:
        """Write buffered events; returns how many."""
        batch: list[dict[str, Any]] = []
        while self._buffer and len(batch) < 5000:
            batch.append(self._buffer.popleft())
        if batch:
            try:
                with self._db.write() as conn:
                    conn.execute(_INSERT, batch)
            except Exception:
                self._buffer.extendleft(reversed(batch))
                raise
        return len(batch)

    def rate_limited(self, name: str, subject: str) -> None:
        """Record a refused request (``subject`` is the limited key: user, phone or app)."""
        self.record("rate_limit.hit", subject=f"{name}:{subject}", data={"limit": name})

    def chain_all(self, batch: int = 500) -> int:
        """Chain everything waiting, a batch per transaction so writers are never held long."""
        total = 0
        while True:
            done = self.chain_pending(batch)
            total += done
            if done < batch:
                return total

    def chain_pending(self, limit: int = 500) -> int:
        """Chain entries that have no sequence number yet; returns how many were chained."""
        self.flush()
        with self._db.write() as conn:
            if (
                conn.dialect.name == "postgresql"
                and not conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK}
                ).scalar()
            ):
                return 0
            head = conn.execute(
                select(audit_log.c.seq, audit_log.c.hash)
                .where(audit_log.c.seq.is_not(None))
                .order_by(audit_log.c.seq.desc())
                .limit(1)
            ).first()
            seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
            rows = conn.execute(
                select(audit_log)
                .where(audit_log.c.seq.is_(None))
                .order_by(audit_log.c.id)
                .limit(limit)
            ).all()
            chained = []
            for row in rows:
                seq += 1
                digest = entry_hash(
                    prev,
                    seq,
                    aware(row.created_at),
                    row.event,
                    row.app_id,
                    row.subject,
                    row.data or {},
                )
                chained.append({"row_id": row.id, "n": seq, "prev": prev, "digest": digest})
                prev = digest
            if chained:
                conn.execute(_CHAIN, chained)  # one executemany: the write lock is held briefly
        return len(rows)

    def entries(self, *, limit: int = 100, event: str | None = None) -> list[Entry]:
        """The latest chained and unchained entries, oldest first."""
        query = select(audit_log)
        if event:
            query = query.where(audit_log.c.event == event)
        query = query.order_by(audit_log.c.id.desc()).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [_entry(r) for r in reversed(rows)]

    def verify(self, batch: int = 5000) -> Verification:
        """Walk the chain from the start and report the first entry whose hash does not hold."""
        prev, expected_seq, checked = GENESIS, 1, 0
        with self._db.read() as conn:
            unchained = conn.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.seq.is_(None))
            ).scalar_one()
            last = 0
            while True:
                rows = conn.execute(
                    select(audit_log)
                    .where(audit_log.c.seq > last)
                    .order_by(audit_log.c.seq)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                for row in rows:
                    if row.seq != expected_seq:
                        return Verification(
                            False,
                            checked,
                            unchained,
                            prev,
                            expected_seq,
                            f"entry {expected_seq} is missing",
                        )
                    digest = entry_hash(
                        prev,
                        row.seq,
                        aware(row.created_at),
                        row.event,
                        row.app_id,
                        row.subject,
                        row.data or {},
                    )
                    if row.prev_hash != prev or row.hash != digest:
                        return Verification(
                            False, checked, unchained, prev, row.seq, f"entry {row.seq} was altered"
                        )
                    prev, expected_seq, checked = digest, expected_seq + 1, checked + 1
                last = rows[-1].seq
        return Verification(True, checked, unchained, prev, None, "chain intact")
