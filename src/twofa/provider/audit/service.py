"""Record security events and chain them.

Entries are inserted at once, in the transaction of the change they describe, without taking
any global lock (so the hot path never queues behind the log). A background chainer then gives
each new entry the next sequence number and ``hash = sha256(prev_hash + entry)``; one chainer
runs at a time (PostgreSQL advisory lock; SQLite's single writer). Editing or deleting a
chained entry breaks every later hash, which ``twofa audit verify`` reports. To also detect a
truncated tail, record ``twofa audit verify --json``'s head hash somewhere else from time to time.

Events without a transaction of their own (a code checked, a request refused) wait in a memory
buffer, but only until the background writer has written the batch before them: ``record``
wakes it at once, and everything buffered meanwhile goes in its next single INSERT (a group
commit, at most every ``MIN_FLUSH_GAP`` seconds), already chained (``store.py``). A crash
therefore loses what arrived during the last write, not a second's worth. While the database
is down they wait in the buffer; a full buffer drops its oldest events, counted in
``twofa_audit_events_dropped_total`` and logged, and events written more than ``LATE_SECONDS``
after they happened are counted as late.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, update

from twofa.provider.audit.chain import entry_hash
from twofa.provider.audit.store import CHAIN_LOCK, GENESIS, AuditStore
from twofa.provider.observability import metrics
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import audit_log

log = logging.getLogger(__name__)
BUFFER = 100_000
MIN_FLUSH_GAP = 0.05  # under a flood of events, one INSERT per 50 ms at most
FLUSH_BATCH = 1000  # events per transaction: a flush on the event loop stays a few ms
LATE_SECONDS = 5.0
_INSERT = insert(audit_log)
_UNCHAINED = select(audit_log.c.id).where(audit_log.c.seq.is_(None)).limit(1)
_CHAIN = (
    update(audit_log)
    .where(audit_log.c.id == bindparam("row_id"))
    .values(seq=bindparam("n"), prev_hash=bindparam("prev"), hash=bindparam("digest"))
)


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
    actor: str | None = None  # "operator:<name>", "cli"; None for the API's own events


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    unchained: int
    head: str
    broken_at: int | None
    reason: str


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
        row.actor,
    )


class AuditLog:
    def __init__(self, db: Database, *, buffer: int = BUFFER) -> None:
        self._db = db
        self._store = AuditStore(db)
        self._buffer: deque[dict[str, Any]] = deque(maxlen=buffer)
        self.dropped = 0
        self.wake: Callable[[], None] | None = None  # set by the background writer

    def record(
        self,
        event: str,
        *,
        app_id: int | None = None,
        subject: str = "",
        data: dict[str, Any] | None = None,
        conn: Connection | None = None,
        actor: str | None = None,
    ) -> None:
        """Append an event inside ``conn``'s transaction, or buffer it when there is none.

        Events that describe a change are written with that change. Events without one (a
        wrong code, a refused request) are the ones an attacker can produce at will; they are
        buffered and written in batches by ``flush``, so they cannot turn every guess into a
        database write. A crash loses at most the last flush interval of them.

        ``actor`` names who made a change by hand: ``operator:<name>`` from the console,
        ``cli`` from a command.
        """
        values = {
            "created_at": utcnow(),
            "event": event,
            "app_id": app_id,
            "subject": subject[:200],
            "data": data or {},
            "actor": actor[:100] if actor else None,
        }
        if conn is not None:
            conn.execute(_INSERT, values)
            return
        if len(self._buffer) == self._buffer.maxlen:
            self._dropped(1)
        self._buffer.append(values)
        wake = self.wake
        if wake is not None and len(self._buffer) == 1:
            wake()  # the writer drains the buffer before it sleeps again: one wake per batch

    def _dropped(self, count: int) -> None:
        self.dropped += count
        metrics.AUDIT_DROPPED.inc(count)
        if self.dropped == count or self.dropped % 1000 < count:
            log.error(
                "audit buffer full (%s events): %s oldest events dropped so far",
                self._buffer.maxlen,
                self.dropped,
            )

    @property
    def buffered(self) -> int:
        """Events waiting in memory for the writer."""
        return len(self._buffer)

    def flush(self) -> int:
        """Write a batch of buffered events, chained; returns how many."""
        batch: list[dict[str, Any]] = []
        while self._buffer and len(batch) < FLUSH_BATCH:
            batch.append(self._buffer.popleft())
        if batch:
            try:
                self._store.append_chained(batch)
            except BaseException:  # WouldBlock included: the same batch is tried again
                room = (self._buffer.maxlen or 0) - len(self._buffer)
                if len(batch) > room:
                    self._dropped(len(batch) - room)
                    batch = batch[len(batch) - room :]
                self._buffer.extendleft(reversed(batch))
                raise
            self._count_late(batch)
        metrics.AUDIT_BUFFERED.set(len(self._buffer))
        return len(batch)

    def _count_late(self, batch: list[dict[str, Any]]) -> None:
        oldest = (utcnow() - batch[0]["created_at"]).total_seconds()
        if oldest <= LATE_SECONDS:
            return
        late = sum(1 for v in batch if (utcnow() - v["created_at"]).total_seconds() > LATE_SECONDS)
        metrics.AUDIT_LATE.inc(late)
        log.warning("%s audit events written late, the oldest after %.1f s", late, oldest)

    async def drain(self) -> int:
        """``flush`` on the event loop (``Database.run``): on SQLite inline, where it cannot
        contend with the requests' own writes; on PostgreSQL over the asyncio driver."""
        return await self._db.run(self.flush, on_loop=True)

    def flush_all(self) -> int:
        """Write everything buffered (in batches); returns how many."""
        total = 0
        while True:
            done = self.flush()
            total += done
            if not done:
                return total

    @staticmethod
    def pause_between_flushes(started: float) -> float:
        """Seconds to wait before the next flush, so a flood of events is written in batches."""
        return max(MIN_FLUSH_GAP - (time.monotonic() - started), 0.0)

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
        """Chain entries that have no sequence number yet; returns how many were chained.

        Buffered events arrive chained; what is left are events written inside another
        change's transaction, so the write lock is taken only when there are some.
        """
        with self._db.read() as conn:
            if conn.execute(_UNCHAINED).first() is None:
                return 0
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
                    row.actor,
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
                        row.actor,
                    )
                    if row.prev_hash != prev or row.hash != digest:
                        return Verification(
                            False, checked, unchained, prev, row.seq, f"entry {row.seq} was altered"
                        )
                    prev, expected_seq, checked = digest, expected_seq + 1, checked + 1
                last = rows[-1].seq
        return Verification(True, checked, unchained, prev, None, "chain intact")
