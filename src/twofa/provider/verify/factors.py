"""Entities and TOTP factors: create (binding shown once), verify with ``AuthPayload``, list,
fetch, update and delete.

A wrong code leaves the factor ``unverified`` with a 200, as Twilio answers since 2021; five
wrong codes in a row and the sixth attempt is 429/60310. Each accepted time step is spent, so a
code cannot be replayed. Secrets are encrypted at rest with the provider's key.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from twofa.crypto import Keyring
from twofa.otp import decode_secret, random_secret
from twofa.provider.audit.service import AuditLog
from twofa.provider.verify import totp
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.catalog import load_service
from twofa.provider.verify.errors import InvalidParameter, MaxFactorAttempts, ResourceNotFound
from twofa.provider.verify.factor_model import Entity, Factor, NewFactor
from twofa.provider.verify.model import Page, VerifyService
from twofa.provider.verify.webhooks import WebhookService
from twofa.provider.verify.wire import Form, PageRequest, canonical, is_sid, new_sid
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_entities as ve
from twofa.storage.tables import verify_factors as vf

IDENTITY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_FAILURES = 5
ALGORITHMS = ("sha1", "sha256", "sha512")


def metadata_param(form: Form, name: str = "Metadata") -> dict[str, str] | None:
    """A JSON object of strings, at most 1024 characters (contract R20)."""
    value = form.json_object(name, max_length=1024)
    if value is not None and not all(isinstance(v, str) for v in value.values()):
        raise InvalidParameter(name)
    return value


def _entity(row: Row, service: VerifyService) -> Entity:
    return Entity(
        row.id, row.sid, service, row.identity, aware(row.created_at), aware(row.updated_at)
    )


def factor_from_row(row: Row, entity: Entity) -> Factor:
    return Factor(
        id=row.id,
        sid=row.sid,
        entity=entity,
        factor_type=row.factor_type,
        friendly_name=row.friendly_name,
        status=row.status,
        config=row.config,
        metadata=row._mapping["metadata"],
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def load_entity(
    conn: Connection, account: Account, service_sid: str, identity: str, *, create: bool = False
) -> Entity:
    """The entity ``identity`` of the service; created on the way when ``create`` is set."""
    service = load_service(conn, account, service_sid)
    if not IDENTITY.match(identity):
        if create:
            raise InvalidParameter("Identity")
        raise ResourceNotFound()
    query = select(ve).where(ve.c.service_id == service.id, ve.c.identity == identity)
    row = conn.execute(query).first()
    if row is None and create:
        now = utcnow()
        conn.execute(
            insert(ve).values(
                sid=new_sid("YE"),
                service_id=service.id,
                identity=identity,
                created_at=now,
                updated_at=now,
            )
        )
        row = conn.execute(query).first()
    if row is None:
        raise ResourceNotFound()
    return _entity(row, service)


def load_factor(conn: Connection, entity: Entity, sid: str, *, lock: bool = False) -> Row:
    if not is_sid(sid, "YF"):
        raise ResourceNotFound()
    query = select(vf).where(vf.c.entity_id == entity.id, vf.c.sid == canonical(sid))
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise ResourceNotFound()
    return row


def totp_config(service: VerifyService, form: Form, base: dict[str, Any]) -> dict[str, Any]:
    """The factor's TOTP settings: the form's, else ``base`` (the service's, then defaults)."""
    alg = form.text("Config.Alg", max_length=10)
    if alg is not None and alg.lower() not in ALGORITHMS:
        raise InvalidParameter("Config.Alg")
    return {
        "alg": alg.lower() if alg else base["alg"],
        "skew": form.integer("Config.Skew", 0, 2) if "Config.Skew" in form else base["skew"],
        "code_length": form.integer("Config.CodeLength", 3, 8) or base["code_length"],
        "time_step": form.integer("Config.TimeStep", 20, 60) or base["time_step"],
    }


class FactorService:
    """The Entities and Factors resources (TOTP factors)."""

    def __init__(
        self, db: Database, keyring: Keyring, audit: AuditLog, webhooks: WebhookService
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._audit = audit
        self.webhooks = webhooks

    def emit(self, conn: Connection, factor: Row, entity: Entity, event: str) -> None:
        """Queue a factor event for the service's webhooks."""
        self.webhooks.emit(
            conn,
            entity.service,
            event,
            {
                "entity_identity": entity.identity,
                "factor_sid": factor.sid,
                "factor_type": factor.factor_type,
                "factor_friendly_name": factor.friendly_name,
                "factor_metadata": factor._mapping["metadata"],
            },
        )

    # Entities ------------------------------------------------------------------------------

    def create_entity(self, account: Account, service_sid: str, form: Form) -> Entity:
        identity = form.text("Identity", max_length=64, required=True) or ""
        try:
            with self._db.write() as conn:
                service = load_service(conn, account, service_sid)
                if not IDENTITY.match(identity):
                    raise InvalidParameter("Identity")
                exists = conn.execute(
                    select(ve.c.id).where(ve.c.service_id == service.id, ve.c.identity == identity)
                ).first()
                if exists is not None:
                    raise InvalidParameter("Identity", "an entity with this identity exists")
                return load_entity(conn, account, service_sid, identity, create=True)
        except IntegrityError as exc:
            raise InvalidParameter("Identity", "an entity with this identity exists") from exc

    def entity(self, account: Account, service_sid: str, identity: str) -> Entity:
        with self._db.read() as conn:
            return load_entity(conn, account, service_sid, identity)

    def delete_entity(self, account: Account, service_sid: str, identity: str) -> None:
        with self._db.write() as conn:
            found = load_entity(conn, account, service_sid, identity)
            conn.execute(delete(ve).where(ve.c.id == found.id))

    def entities(self, account: Account, service_sid: str, page: PageRequest) -> Page[Entity]:
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            rows = conn.execute(
                select(ve)
                .where(ve.c.service_id == service.id, ve.c.id > page.after)
                .order_by(ve.c.id)
                .limit(page.size + 1)
            ).all()
        items = [_entity(r, service) for r in rows[: page.size]]
        return Page(items, items[-1].id if len(rows) > page.size else None)

    # Factors -------------------------------------------------------------------------------

    def create(self, account: Account, service_sid: str, identity: str, form: Form) -> NewFactor:
        """A new TOTP factor, ``unverified`` until a code from it is given back."""
        name = form.text("FriendlyName", max_length=64, required=True) or ""
        kind = form.text("FactorType", max_length=10, required=True)
        if kind != "totp":
            # Push factors need a device SDK; twofa's authenticator will be that device.
            raise InvalidParameter("FactorType", "only totp factors are offered")
        secret = form.text("Binding.Secret", max_length=128) or random_secret()
        try:
            if len(decode_secret(secret)) < 10:
                raise InvalidParameter("Binding.Secret", "at least 80 bits")
        except ValueError as exc:
            raise InvalidParameter("Binding.Secret") from exc
        metadata = metadata_param(form)
        now = utcnow()
        sid = new_sid("YF")
        with self._db.write() as conn:
            entity = load_entity(conn, account, service_sid, identity, create=True)
            service_totp = entity.service.config.get("totp", {})
            config = totp_config(entity.service, form, {"alg": "sha1", **service_totp})
            conn.execute(
                insert(vf).values(
                    sid=sid,
                    entity_id=entity.id,
                    factor_type="totp",
                    friendly_name=name,
                    status="unverified",
                    secret_enc=self._keyring.encrypt(secret.upper()),
                    config=config,
                    metadata=metadata,
                    failures=0,
                    last_step=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._audit.record(
                "verify.factor.created", app_id=account.app_id, subject=sid, conn=conn
            )
            row = load_factor(conn, entity, sid)
            self.emit(conn, row, entity, "factor.created")
            factor = factor_from_row(row, entity)
        issuer = service_totp.get("issuer") or entity.service.friendly_name
        return NewFactor(
            factor, secret.upper(), totp.uri(secret, label=name, issuer=issuer, config=config)
        )

    def fetch(self, account: Account, service_sid: str, identity: str, sid: str) -> Factor:
        with self._db.read() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            return factor_from_row(load_factor(conn, entity, sid), entity)

    def list(
        self, account: Account, service_sid: str, identity: str, page: PageRequest
    ) -> Page[Factor]:
        with self._db.read() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            rows = conn.execute(
                select(vf)
                .where(vf.c.entity_id == entity.id, vf.c.id > page.after)
                .order_by(vf.c.id)
                .limit(page.size + 1)
            ).all()
        items = [factor_from_row(r, entity) for r in rows[: page.size]]
        return Page(items, items[-1].id if len(rows) > page.size else None)

    def delete(self, account: Account, service_sid: str, identity: str, sid: str) -> None:
        with self._db.write() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            row = load_factor(conn, entity, sid)
            conn.execute(delete(vf).where(vf.c.id == row.id))
            self.emit(conn, row, entity, "factor.deleted")
            self._audit.record(
                "verify.factor.deleted", app_id=account.app_id, subject=row.sid, conn=conn
            )

    def update(
        self, account: Account, service_sid: str, identity: str, sid: str, form: Form
    ) -> Factor:
        """Rename, reconfigure, or verify with ``AuthPayload`` (wrong: still unverified)."""
        name = form.text("FriendlyName", max_length=64)
        payload = form.text("AuthPayload", max_length=16)
        refused = False
        with self._db.write() as conn:
            entity = load_entity(conn, account, service_sid, identity)
            row = load_factor(conn, entity, sid, lock=True)
            values: dict[str, Any] = {"updated_at": utcnow()}
            if name:
                values["friendly_name"] = name
            config = totp_config(entity.service, form, row.config)
            if config != row.config:
                values["config"] = config
            if payload is not None and row.status == "unverified":
                if row.failures >= MAX_FAILURES:
                    refused = True
                else:
                    step = self.match(row, payload, config)
                    if step is None:
                        values["failures"] = row.failures + 1
                    else:
                        values.update(status="verified", failures=0, last_step=step)
                        self._audit.record(
                            "verify.factor.verified",
                            app_id=account.app_id,
                            subject=row.sid,
                            conn=conn,
                        )
            if not refused:
                conn.execute(update(vf).where(vf.c.id == row.id).values(**values))
                row = load_factor(conn, entity, sid)
                if values.get("status") == "verified":
                    self.emit(conn, row, entity, "factor.verified")
        if refused:
            raise MaxFactorAttempts()
        return factor_from_row(row, entity)

    def match(self, row: Row, code: str, config: dict[str, Any] | None = None) -> int | None:
        """The unspent time step ``code`` belongs to, else None."""
        step = totp.matched_step(
            self._keyring.decrypt(row.secret_enc),
            code,
            config=config or row.config,
            now=time.time(),
        )
        return step if step is not None and step > row.last_step else None
