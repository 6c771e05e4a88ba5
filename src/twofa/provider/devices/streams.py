"""Which event streams a device holds open, across every provider process.

A device may hold ``MAX_STREAMS`` streams (a phone app, a browser tab or two); opening one more
closes the oldest, so a stolen key cannot open hundreds. The table ``device_streams`` is the
one truth every process shares: a stream whose row is gone, or whose device is revoked, ends at
its next heartbeat, whether or not the bus told its process (Redis may be down). The bus only
makes that faster.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from sqlalchemy import delete, insert, select

from twofa.events import EventBus
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import device_streams, devices

MAX_STREAMS = 3
Liveness = Literal["open", "closed", "revoked"]


def device_topic(uuid: str) -> str:
    """The bus topic of one device: revocation and streams closed by a newer one."""
    return f"device:{uuid}"


def revoked_event(uuid: str) -> dict[str, Any]:
    """The bus event that ends a revoked device's streams (keyed: bus and feed may both send)."""
    return {"type": "revoked", "key": f"revoked:{uuid}", "uuid": uuid}


class StreamRegistry:
    """Open, check and close device streams in the database."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self._db = db
        self._bus = bus

    def open(self, device_id: int, device_uuid: str) -> str:
        """Record a new stream; close the oldest beyond ``MAX_STREAMS``. Returns its id."""
        stream_id = secrets.token_hex(16)
        with self._db.write() as conn:
            conn.execute(
                insert(device_streams).values(id=stream_id, device_id=device_id, opened_at=utcnow())
            )
            rows = conn.execute(
                select(device_streams.c.id)
                .where(device_streams.c.device_id == device_id)
                .order_by(device_streams.c.opened_at.desc(), device_streams.c.id)
            ).all()
            evicted = [r.id for r in rows[MAX_STREAMS:] if r.id != stream_id]
            if evicted:
                conn.execute(delete(device_streams).where(device_streams.c.id.in_(evicted)))
        for old in evicted:
            self._bus.publish(device_topic(device_uuid), {"type": "stream.closed", "stream": old})
        return stream_id

    def liveness(self, stream_id: str) -> Liveness:
        """``open``; ``closed`` when a newer stream replaced it; ``revoked`` with its device."""
        with self._db.read() as conn:
            row = conn.execute(
                select(devices.c.revoked_at, devices.c.state)
                .select_from(device_streams.join(devices))
                .where(device_streams.c.id == stream_id)
            ).first()
        if row is None:
            return "closed"
        return "revoked" if row.revoked_at is not None or row.state != "active" else "open"

    def close(self, stream_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(delete(device_streams).where(device_streams.c.id == stream_id))

    def count(self, device_id: int) -> int:
        with self._db.read() as conn:
            return len(
                conn.execute(
                    select(device_streams.c.id).where(device_streams.c.device_id == device_id)
                ).all()
            )
