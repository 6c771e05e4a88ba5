"""SQL for the fraud guard: traffic per (application, prefix), blocks, known numbers, countries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from twofa.storage.database import Database, aware
from twofa.storage.tables import apps, fraud_blocks, fraud_traffic, users


@dataclass(frozen=True, slots=True)
class Block:
    id: int
    app_id: int
    prefix: str
    sends: int
    conversions: int
    created_at: datetime
    expires_at: datetime
    lifted_at: datetime | None

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app_id": self.app_id,
            "prefix": self.prefix,
            "sends": self.sends,
            "conversions": self.conversions,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
        }


def _block(row: Any) -> Block:
    return Block(
        row.id,
        row.app_id,
        row.prefix,
        row.sends,
        row.conversions,
        aware(row.created_at),
        aware(row.expires_at),
        aware(row.lifted_at),
    )


def _upsert(insert_: Any, column: str) -> Any:
    statement = insert_(fraud_traffic).values(
        app_id=bindparam("app_id"),
        prefix=bindparam("prefix"),
        bucket=bindparam("bucket"),
        sends=1 if column == "sends" else 0,
        conversions=1 if column == "conversions" else 0,
    )
    return statement.on_conflict_do_update(
        index_elements=[fraud_traffic.c.app_id, fraud_traffic.c.prefix, fraud_traffic.c.bucket],
        set_={column: fraud_traffic.c[column] + 1},
    )


_COUNT = {
    (dialect, column): _upsert(insert_, column)
    for dialect, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
    for column in ("sends", "conversions")
}


def _active(app_id: int, prefix: str, now: datetime) -> Any:
    return and_(
        fraud_blocks.c.app_id == app_id,
        fraud_blocks.c.prefix == prefix,
        fraud_blocks.c.expires_at > now,
        fraud_blocks.c.lifted_at.is_(None),
    )


class FraudStore:
    """Every query the fraud guard makes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def is_known_number(self, e164: str) -> bool:
        """Whether any application has a user with this phone."""
        with self._db.read() as conn:
            found = conn.execute(select(users.c.id).where(users.c.phone_e164 == e164).limit(1))
            return found.first() is not None

    def phone_of(self, user_id: int) -> str | None:
        with self._db.read() as conn:
            value = conn.execute(select(users.c.phone_e164).where(users.c.id == user_id)).scalar()
        return str(value) if value else None

    def app_countries(self, app_id: int) -> str | None:
        with self._db.read() as conn:
            value = conn.execute(
                select(apps.c.allowed_countries).where(apps.c.id == app_id)
            ).scalar()
        return str(value) if value else None

    def set_app_countries(self, app_id: int, countries: str | None) -> bool:
        with self._db.write() as conn:
            return bool(
                conn.execute(
                    update(apps).where(apps.c.id == app_id).values(allowed_countries=countries)
                ).rowcount
            )

    def active_block(self, app_id: int, prefix: str, now: datetime) -> Block | None:
        with self._db.read() as conn:
            row = conn.execute(
                select(fraud_blocks)
                .where(_active(app_id, prefix, now))
                .order_by(fraud_blocks.c.expires_at.desc())
                .limit(1)
            ).first()
        return _block(row) if row else None

    def count(
        self, column: str, app_id: int, prefix: str, bucket: int, conn: Connection | None = None
    ) -> None:
        """One more send or conversion in the bucket (an upsert)."""
        params = {"app_id": app_id, "prefix": prefix, "bucket": bucket}
        if conn is not None:
            conn.execute(_COUNT[(conn.dialect.name, column)], params)
            return
        with self._db.write() as own:
            own.execute(_COUNT[(own.dialect.name, column)], params)

    def traffic(self, app_id: int, prefix: str, since: int) -> tuple[int, int]:
        """Sends and conversions to ``prefix`` since the bucket ``since``."""
        with self._db.read() as conn:
            row = conn.execute(
                select(
                    func.coalesce(func.sum(fraud_traffic.c.sends), 0),
                    func.coalesce(func.sum(fraud_traffic.c.conversions), 0),
                ).where(
                    fraud_traffic.c.app_id == app_id,
                    fraud_traffic.c.prefix == prefix,
                    fraud_traffic.c.bucket >= since,
                )
            ).one()
        return int(row[0]), int(row[1])

    def block(
        self, app_id: int, prefix: str, *, sends: int, conversions: int, now: datetime, until: Any
    ) -> Block | None:
        """Record a block unless one is already active; the new block, or None."""
        with self._db.write() as conn:
            if conn.execute(select(fraud_blocks.c.id).where(_active(app_id, prefix, now))).first():
                return None
            row = conn.execute(
                insert(fraud_blocks)
                .values(
                    app_id=app_id,
                    prefix=prefix,
                    sends=sends,
                    conversions=conversions,
                    created_at=now,
                    expires_at=until,
                )
                .returning(*fraud_blocks.c)
            ).one()
        return _block(row)

    def blocks(self, *, now: datetime | None = None) -> list[Block]:
        """Every block, newest first; only those still in force when ``now`` is given."""
        query = select(fraud_blocks).order_by(fraud_blocks.c.id.desc())
        if now is not None:
            query = query.where(fraud_blocks.c.expires_at > now, fraud_blocks.c.lifted_at.is_(None))
        with self._db.read() as conn:
            return [_block(row) for row in conn.execute(query)]

    def lift(self, block_id: int, now: datetime) -> Block | None:
        """Lift a block and forget its prefix's traffic, so the next send is judged afresh."""
        with self._db.write() as conn:
            row = conn.execute(select(fraud_blocks).where(fraud_blocks.c.id == block_id)).first()
            if row is None:
                return None
            conn.execute(
                update(fraud_blocks)
                .where(_active(row.app_id, row.prefix, now))
                .values(lifted_at=now)
            )
            conn.execute(
                delete(fraud_traffic).where(
                    fraud_traffic.c.app_id == row.app_id, fraud_traffic.c.prefix == row.prefix
                )
            )
        return _block(row)

    def purge(self, before: int) -> int:
        """Drop traffic buckets older than ``before`` (epoch seconds)."""
        with self._db.write() as conn:
            return int(
                conn.execute(delete(fraud_traffic).where(fraud_traffic.c.bucket < before)).rowcount
            )
