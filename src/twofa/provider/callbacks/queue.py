"""Queue a callback in the transaction of the change that causes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert

from twofa.storage.database import utcnow
from twofa.storage.tables import callback_deliveries

if TYPE_CHECKING:
    from twofa.provider.apps.model import App


def enqueue_callback(conn: Connection, app: App, request_uuid: str, body: dict[str, Any]) -> bool:
    """Queue the callback in the decision's transaction; False when the app has none enabled."""
    if not app.callback_url or app.callback_disabled_at is not None:
        return False
    now = utcnow()
    conn.execute(
        insert(callback_deliveries).values(
            app_id=app.id,
            request_uuid=request_uuid,
            url=app.callback_url,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True
