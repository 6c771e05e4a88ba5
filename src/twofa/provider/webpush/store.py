"""Web Push SQL: the deployment's VAPID key and the devices' push subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Exists, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import devices, webpush_keys, webpush_subscriptions

KEY_ROW = 1


@dataclass(frozen=True, slots=True)
class StoredKey:
    public_key: str  # base64url of the uncompressed point
    private_key_enc: str


@dataclass(frozen=True, slots=True)
class Subscription:
    """A device's push subscription (``PushSubscription.toJSON()``, validated)."""

    id: int
    device_id: int
    endpoint: str
    p256dh: str
    auth: str
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Subscription:
        return cls(row.id, row.device_id, row.endpoint, row.p256dh, row.auth, aware(row.updated_at))


class WebPushStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def key(self) -> StoredKey | None:
        with self._db.read() as conn:
            row = conn.execute(select(webpush_keys).where(webpush_keys.c.id == KEY_ROW)).first()
        return StoredKey(row.public_key, row.private_key_enc) if row else None

    def insert_key(self, key: StoredKey) -> StoredKey:
        """Store the first key; if another process stored one first, that one wins."""
        try:
            with self._db.write() as conn:
                conn.execute(
                    insert(webpush_keys).values(
                        id=KEY_ROW,
                        public_key=key.public_key,
                        private_key_enc=key.private_key_enc,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass
        stored = self.key()
        assert stored is not None
        return stored

    def save_subscription(self, device_id: int, endpoint: str, p256dh: str, auth: str) -> None:
        """Insert or replace the device's subscription (a browser has at most one)."""
        now = utcnow()
        values = {"endpoint": endpoint, "p256dh": p256dh, "auth": auth, "updated_at": now}
        with self._db.write() as conn:
            changed = conn.execute(
                update(webpush_subscriptions)
                .where(webpush_subscriptions.c.device_id == device_id)
                .values(**values)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(webpush_subscriptions).values(
                        device_id=device_id, created_at=now, **values
                    )
                )

    def delete_for_device(self, device_id: int) -> bool:
        with self._db.write() as conn:
            return bool(
                conn.execute(
                    delete(webpush_subscriptions).where(
                        webpush_subscriptions.c.device_id == device_id
                    )
                ).rowcount
            )


def subscriptions_of_phone(
    conn: Connection, phone_e164: str, *, besides: str | None = None
) -> list[Subscription]:
    """The subscriptions of the phone's active devices, except the device ``besides`` (uuid)."""
    which = [
        devices.c.phone_e164 == phone_e164,
        devices.c.revoked_at.is_(None),
        devices.c.state == "active",
    ]
    if besides is not None:
        which.append(devices.c.uuid != besides)
    rows = conn.execute(
        select(webpush_subscriptions)
        .join(devices, devices.c.id == webpush_subscriptions.c.device_id)
        .where(*which)
        .order_by(webpush_subscriptions.c.id)
    ).all()
    return [Subscription.from_row(row) for row in rows]


def delete_device_subscriptions(conn: Connection, device_id: int) -> list[int]:
    """Delete the device's subscription in ``conn``'s transaction; the ids it had."""
    return list(
        conn.execute(
            delete(webpush_subscriptions)
            .where(webpush_subscriptions.c.device_id == device_id)
            .returning(webpush_subscriptions.c.id)
        ).scalars()
    )


def still_subscribed(subscription_id: ColumnElement[int], endpoint: ColumnElement[str]) -> Exists:
    """True while the subscription a wake-up was queued for is still stored, unchanged: not
    forgotten as gone, replaced, nor deleted with its device's revocation."""
    return exists().where(
        webpush_subscriptions.c.id == subscription_id,
        webpush_subscriptions.c.endpoint == endpoint,
    )


def forget_gone(conn: Connection, subscription_id: int, endpoint: str) -> bool:
    """Delete a subscription the push service says is gone, unless the device has sent a new
    one since (same row, same endpoint)."""
    return bool(
        conn.execute(
            delete(webpush_subscriptions).where(
                webpush_subscriptions.c.id == subscription_id,
                webpush_subscriptions.c.endpoint == endpoint,
            )
        ).rowcount
    )
