"""Challenges on TOTP factors: created with or without ``AuthPayload``, answered later with it.

A wrong code leaves the challenge ``pending``; five wrong codes and the sixth attempt is
429/60308. A pending challenge past its expiration date is ``expired``. The code's time step
is spent on the factor, so one code approves one challenge.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Row

from twofa.provider.audit.service import AuditLog
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.errors import InvalidParameter, MaxChallengeAttempts, ResourceNotFound
from twofa.provider.verify.factor_model import Challenge, Entity
from twofa.provider.verify.factors import (
    FactorService,
    factor_from_row,
    load_entity,
    load_factor,
)
from twofa.provider.verify.model import Page
from twofa.provider.verify.wire import Form, PageRequest, canonical, is_sid, new_sid
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_challenges as vc
from twofa.storage.tables import verify_factors as vf

MAX_FAILURES = 5
DEFAULT_LIFETIME = timedelta(minutes=5)
MAX_LIFETIME = timedelta(minutes=60)
STATUSES = ("pending", "expired", "approved", "denied")


def _expiration(form: Form, now: datetime) -> datetime:
    raw = form.text("ExpirationDate", max_length=40)
    if not raw:
        return now + DEFAULT_LIFETIME
    try:
        when = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidParameter("ExpirationDate") from exc
    if not now < when <= now + MAX_LIFETIME:
        raise InvalidParameter("ExpirationDate")
    return when


def _details(form: Form) -> dict[str, Any]:
    fields = []
    for raw in form.texts("Details.Fields", max_length=300)[:21]:
        try:
            item = json.loads(raw)
        except ValueError as exc:
            raise InvalidParameter("Details.Fields") from exc
        if not (
            isinstance(item, dict)
            and isinstance(item.get("label"), str)
            and isinstance(item.get("value"), str)
            and len(item["label"]) <= 36
            and len(item["value"]) <= 128
        ):
            raise InvalidParameter("Details.Fields")
        fields.append({"label": item["label"], "value": item["value"]})
    if len(fields) > 20:
        raise InvalidParameter("Details.Fields")
    return {
        "message": form.text("Details.Message", max_length=256),
        "date": None,
        "fields": fields,
    }


class ChallengeService:
    """The Challenges resource."""

    def __init__(self, db: Database, factors: FactorService, audit: AuditLog) -> None:
        self._db = db
        self._factors = factors
        self._audit = audit

    def _challenge(self, conn: Connection, entity: Entity, row: Row) -> Challenge:
        factor = factor_from_row(
            conn.execute(select(vf).where(vf.c.id == row.factor_id)).one(), entity
        )
        status = row.status
        if status == "pending" and aware(row.expires_at) <= utcnow():
            status = "expired"
        return Challenge(
            id=row.id,
            sid=row.sid,
            entity=entity,
            factor=factor,
            status=status,
            responded_reason=row.responded_reason,
            details=row.details,
            hidden_details=row.hidden_details,
            created_at=aware(row.created_at),
            updated_at=aware(row.updated_at),
            responded_at=aware(row.responded_at),
            expires_at=aware(row.expires_at),
        )

    def _answer(
        self,
        conn: Connection,
        account: Account,
        entity: Entity,
        challenge: Row,
        factor: Row,
        code: str,
    ) -> str:
        """Apply one code to a pending challenge: "approved", "pending" or "refused"."""
        if challenge.failures >= MAX_FAILURES:
            return "refused"
        step = self._factors.match(factor, code) if factor.status == "verified" else None
        now = utcnow()
        if step is None:
            conn.execute(
                update(vc)
                .where(vc.c.id == challenge.id)
                .values(failures=challenge.failures + 1, updated_at=now)
            )
            return "pending"
        spent = conn.execute(
            update(vf).where(vf.c.id == factor.id, vf.c.last_step < step).values(last_step=step)
        ).rowcount
        if not spent:
            return "pending"
        conn.execute(
            update(vc)
            .where(vc.c.id == challenge.id, vc.c.status == "pending")
            .values(status="approved", responded_reason="none", responded_at=now, updated_at=now)
        )
        self._audit.record(
            "verify.challenge.approved", app_id=account.app_id, subject=challenge.sid, conn=conn
        )
        self._factors.webhooks.emit(
            conn,
            entity.service,
            "challenge.approved",
            {
                "entity_identity": entity.identity,
                "factor_sid": factor.sid,
                "factor_type": factor.factor_type,
                "factor_friendly_name": factor.friendly_name,
                "challenge_sid": challenge.sid,
                "challenge_details": challenge.details,
                "challenge_hidden_details": challenge.hidden_details,
                "status": "approved",
            },
        )
        return "approved"

    def create(self, account: Account, service_sid: str, identity: str, form: Form) -> Challenge:
        factor_sid = form.text("FactorSid", max_length=34, required=True) or ""
        code = form.text("AuthPayload", max_length=16)
        if code is not None and not 3 <= len(code) <= 8:
            raise InvalidParameter("AuthPayload")
        details = _details(form)
        hidden = form.json_object("HiddenDetails", max_length=1024)
        now = utcnow()
        expires = _expiration(form, now)
        sid = new_sid("YC")
        with self._db.write() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            try:
                factor = load_factor(conn, entity, factor_sid, lock=True)
            except ResourceNotFound as exc:
                raise InvalidParameter("FactorSid") from exc
            if factor.status != "verified":
                raise InvalidParameter("FactorSid", "the factor is not verified")
            conn.execute(
                insert(vc).values(
                    sid=sid,
                    entity_id=entity.id,
                    factor_id=factor.id,
                    status="pending",
                    responded_reason="none",
                    details=details,
                    hidden_details=hidden,
                    failures=0,
                    created_at=now,
                    updated_at=now,
                    expires_at=expires,
                )
            )
            row = conn.execute(select(vc).where(vc.c.sid == sid)).one()
            if code is not None:
                self._answer(conn, account, entity, row, factor, code)
                row = conn.execute(select(vc).where(vc.c.sid == sid)).one()
            return self._challenge(conn, entity, row)

    def _load(self, conn: Connection, entity: Entity, sid: str, *, lock: bool = False) -> Row:
        if not is_sid(sid, "YC"):
            raise ResourceNotFound()
        query = select(vc).where(vc.c.entity_id == entity.id, vc.c.sid == canonical(sid))
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise ResourceNotFound()
        return row

    def fetch(self, account: Account, service_sid: str, identity: str, sid: str) -> Challenge:
        with self._db.read() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            return self._challenge(conn, entity, self._load(conn, entity, sid))

    def update(
        self, account: Account, service_sid: str, identity: str, sid: str, form: Form
    ) -> Challenge:
        """Answer a pending challenge with ``AuthPayload`` (a TOTP code)."""
        code = form.text("AuthPayload", max_length=16, required=True) or ""
        outcome = "pending"
        with self._db.write() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            row = self._load(conn, entity, sid, lock=True)
            current = self._challenge(conn, entity, row)
            if current.status == "pending":
                factor = load_factor(conn, entity, current.factor.sid, lock=True)
                outcome = self._answer(conn, account, entity, row, factor, code)
            if outcome != "refused":
                return self._challenge(conn, entity, self._load(conn, entity, sid))
        raise MaxChallengeAttempts()

    def list(
        self, account: Account, service_sid: str, identity: str, form: Form, page: PageRequest
    ) -> Page[Challenge]:
        factor_sid = form.text("FactorSid", max_length=34)
        status = form.text("Status", max_length=10)
        order = (form.text("Order", max_length=4) or "asc").lower()
        if status is not None and status not in STATUSES:
            raise InvalidParameter("Status")
        if order not in {"asc", "desc"}:
            raise InvalidParameter("Order")
        with self._db.read() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            query = select(vc).where(vc.c.entity_id == entity.id)
            if factor_sid:
                query = query.join(vf, vf.c.id == vc.c.factor_id).where(
                    vf.c.sid == canonical(factor_sid)
                )
            now = utcnow()
            if status == "expired":
                query = query.where(vc.c.status == "pending", vc.c.expires_at <= now)
            elif status == "pending":
                query = query.where(vc.c.status == "pending", vc.c.expires_at > now)
            elif status:
                query = query.where(vc.c.status == status)
            if page.after:
                query = query.where(
                    vc.c.id > page.after if order == "asc" else vc.c.id < page.after
                )
            ordering = vc.c.id if order == "asc" else vc.c.id.desc()
            rows = conn.execute(query.order_by(ordering).limit(page.size + 1)).all()
            items = [self._challenge(conn, entity, r) for r in rows[: page.size]]
        return Page(items, items[-1].id if len(rows) > page.size else None)
