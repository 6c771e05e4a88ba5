"""The Webhooks resource and the events it subscribes to (contract §3.6, §6.1).

An event (``factor.created``, ``factor.verified``, ``factor.deleted``, ``challenge.approved``,
``challenge.denied``) is queued for every enabled webhook of the service that subscribes to it
(or to ``*``), in the transaction of the change that causes it; the delivery queue sends it,
form-encoded and signed with ``X-Twilio-Signature``, and retries it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import Row

from twofa.errors import InvalidRequest
from twofa.provider.apps.service import validate_callback_url
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.catalog import load_service
from twofa.provider.verify.errors import InvalidParameter, ResourceNotFound
from twofa.provider.verify.model import Page, VerifyService
from twofa.provider.verify.wire import (
    Form,
    PageRequest,
    canonical,
    is_sid,
    new_sid,
    twilio_date,
)
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_webhooks as vw

EVENTS = (
    "*",
    "factor.created",
    "factor.verified",
    "factor.deleted",
    "challenge.approved",
    "challenge.denied",
)
MAX_WEBHOOKS = 20

# enqueue(conn, *, app_id, url, body, subject): queue one signed delivery in conn's transaction.
Enqueue = Callable[..., None]


def webhook_view(base: str, service: VerifyService, row: Row) -> dict[str, Any]:
    return {
        "sid": row.sid,
        "service_sid": service.sid,
        "account_sid": service.account_sid,
        "friendly_name": row.friendly_name,
        "event_types": row.event_types,
        "status": row.status,
        "version": row.version,
        "webhook_url": row.url,
        "webhook_method": "POST",
        "date_created": _d(row.created_at),
        "date_updated": _d(row.updated_at),
        "url": f"{base}/v2/Services/{service.sid}/Webhooks/{row.sid}",
    }


def _d(value: datetime) -> str | None:
    return twilio_date(aware(value))


def _url(value: str | None, *, allow_private: bool) -> str:
    """An absolute http(s) URL on a public address (unless private receivers are allowed)."""
    try:
        return validate_callback_url(value or "", allow_private=allow_private)
    except InvalidRequest as exc:
        raise InvalidParameter("WebhookUrl", exc.message) from exc


def _events(values: list[str]) -> list[str]:
    if not values or any(v not in EVENTS for v in values):
        raise InvalidParameter("EventTypes")
    return sorted(set(values))


class WebhookService:
    """Webhooks CRUD, and ``emit`` for the services whose changes raise events."""

    def __init__(self, db: Database, *, allow_private: bool) -> None:
        self._db = db
        self._allow_private = allow_private
        self.enqueue: Enqueue | None = None  # set when the delivery queue is wired

    def _load(self, conn: Connection, service: VerifyService, sid: str) -> Row:
        if not is_sid(sid, "YW"):
            raise ResourceNotFound()
        row = conn.execute(
            select(vw).where(vw.c.service_id == service.id, vw.c.sid == canonical(sid))
        ).first()
        if row is None:
            raise ResourceNotFound()
        return row

    def create(self, account: Account, service_sid: str, form: Form) -> tuple[VerifyService, Row]:
        name = form.text("FriendlyName", max_length=64, required=True)
        events = _events(form.texts("EventTypes", max_length=40))
        url = _url(
            form.text("WebhookUrl", max_length=2000, required=True),
            allow_private=self._allow_private,
        )
        status = form.text("Status", max_length=10) or "enabled"
        version = form.text("Version", max_length=4) or "v2"
        if status not in {"enabled", "disabled"}:
            raise InvalidParameter("Status")
        if version not in {"v1", "v2"}:
            raise InvalidParameter("Version")
        now = utcnow()
        sid = new_sid("YW")
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            count = conn.execute(select(vw.c.id).where(vw.c.service_id == service.id)).all()
            if len(count) >= MAX_WEBHOOKS:
                raise InvalidParameter("WebhookUrl", f"at most {MAX_WEBHOOKS} webhooks")
            conn.execute(
                insert(vw).values(
                    sid=sid,
                    service_id=service.id,
                    friendly_name=name,
                    event_types=events,
                    url=url,
                    status=status,
                    version=version,
                    created_at=now,
                    updated_at=now,
                )
            )
            return service, self._load(conn, service, sid)

    def fetch(self, account: Account, service_sid: str, sid: str) -> tuple[VerifyService, Row]:
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            return service, self._load(conn, service, sid)

    def update(
        self, account: Account, service_sid: str, sid: str, form: Form
    ) -> tuple[VerifyService, Row]:
        values: dict[str, Any] = {"updated_at": utcnow()}
        if (name := form.text("FriendlyName", max_length=64)) is not None:
            values["friendly_name"] = name
        if "EventTypes" in form:
            values["event_types"] = _events(form.texts("EventTypes", max_length=40))
        if "WebhookUrl" in form:
            values["url"] = _url(
                form.text("WebhookUrl", max_length=2000), allow_private=self._allow_private
            )
        if (status := form.text("Status", max_length=10)) is not None:
            if status not in {"enabled", "disabled"}:
                raise InvalidParameter("Status")
            values["status"] = status
        if (version := form.text("Version", max_length=4)) is not None:
            if version not in {"v1", "v2"}:
                raise InvalidParameter("Version")
            values["version"] = version
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            row = self._load(conn, service, sid)
            conn.execute(update(vw).where(vw.c.id == row.id).values(**values))
            return service, self._load(conn, service, sid)

    def delete(self, account: Account, service_sid: str, sid: str) -> None:
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            row = self._load(conn, service, sid)
            conn.execute(delete(vw).where(vw.c.id == row.id))

    def list(
        self, account: Account, service_sid: str, page: PageRequest
    ) -> tuple[VerifyService, Page[Row]]:
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            rows = conn.execute(
                select(vw)
                .where(vw.c.service_id == service.id, vw.c.id > page.after)
                .order_by(vw.c.id)
                .limit(page.size + 1)
            ).all()
        items = list(rows[: page.size])
        return service, Page(items, items[-1].id if len(rows) > page.size else None)

    def emit(
        self, conn: Connection, service: VerifyService, event: str, params: dict[str, Any]
    ) -> int:
        """Queue ``event`` for the service's subscribed webhooks in ``conn``'s transaction."""
        if self.enqueue is None:
            return 0
        rows = conn.execute(
            select(vw).where(vw.c.service_id == service.id, vw.c.status == "enabled")
        ).all()
        queued = 0
        for row in rows:
            if event not in row.event_types and "*" not in row.event_types:
                continue
            body = {
                "uuid": str(uuid.uuid4()),
                "type": event,
                "account_sid": service.account_sid,
                "service_sid": service.sid,
                **{k: _form_value(v) for k, v in params.items() if v is not None},
            }
            self.enqueue(conn, app_id=service.app_id, url=row.url, body=body, subject=row.sid)
            queued += 1
        return queued


def _form_value(value: Any) -> str:
    """A webhook parameter as form text (objects as compact JSON, as Twilio sends them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))
