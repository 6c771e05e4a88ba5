"""Messaging Configurations: which messaging service a Verify Service names per country.

twofa sends through its configured gateway whatever the country; the configurations are stored
and echoed so that code managing them keeps working (contract §3.5).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from twofa.provider.verify.accounts import Account
from twofa.provider.verify.catalog import load_service
from twofa.provider.verify.errors import (
    InvalidParameter,
    MessagingConfigurationExists,
    ResourceNotFound,
)
from twofa.provider.verify.model import Page, VerifyService
from twofa.provider.verify.views import service_url
from twofa.provider.verify.wire import Form, PageRequest, is_sid, twilio_date
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_messaging_configurations as vm

COUNTRY = re.compile(r"^([A-Z]{2}|all)$")


def _country(value: str | None) -> str:
    if value is None:
        raise InvalidParameter("Country")
    country = value if value == "all" else value.upper()
    if not COUNTRY.match(country):
        raise InvalidParameter("Country")
    return country


def _messaging_service(form: Form) -> str:
    sid = form.text("MessagingServiceSid", max_length=34, required=True) or ""
    if not is_sid(sid, "MG"):
        raise InvalidParameter("MessagingServiceSid")
    return sid


def configuration_view(base: str, service: VerifyService, row: Row) -> dict[str, Any]:
    return {
        "account_sid": service.account_sid,
        "service_sid": service.sid,
        "country": row.country,
        "messaging_service_sid": row.messaging_service_sid,
        "date_created": twilio_date(aware(row.created_at)),
        "date_updated": twilio_date(aware(row.updated_at)),
        "url": f"{service_url(base, service)}/MessagingConfigurations/{row.country}",
    }


class MessagingConfigurations:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _load(self, conn: Connection, service: VerifyService, country: str) -> Row:
        row = conn.execute(
            select(vm).where(vm.c.service_id == service.id, vm.c.country == _country(country))
        ).first()
        if row is None:
            raise ResourceNotFound()
        return row

    def create(self, account: Account, service_sid: str, form: Form) -> tuple[VerifyService, Row]:
        country = _country(form.text("Country", max_length=3, required=True))
        messaging = _messaging_service(form)
        now = utcnow()
        try:
            with self._db.write() as conn:
                service = load_service(conn, account, service_sid)
                conn.execute(
                    insert(vm).values(
                        service_id=service.id,
                        country=country,
                        messaging_service_sid=messaging,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return service, self._load(conn, service, country)
        except IntegrityError as exc:
            raise MessagingConfigurationExists() from exc

    def fetch(self, account: Account, service_sid: str, country: str) -> tuple[VerifyService, Row]:
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            return service, self._load(conn, service, country)

    def update(
        self, account: Account, service_sid: str, country: str, form: Form
    ) -> tuple[VerifyService, Row]:
        messaging = _messaging_service(form)
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            row = self._load(conn, service, country)
            conn.execute(
                update(vm)
                .where(vm.c.id == row.id)
                .values(messaging_service_sid=messaging, updated_at=utcnow())
            )
            return service, self._load(conn, service, country)

    def delete(self, account: Account, service_sid: str, country: str) -> None:
        with self._db.write() as conn:
            service = load_service(conn, account, service_sid)
            row = self._load(conn, service, country)
            conn.execute(delete(vm).where(vm.c.id == row.id))

    def list(
        self, account: Account, service_sid: str, page: PageRequest
    ) -> tuple[VerifyService, Page[Row]]:
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            rows = conn.execute(
                select(vm)
                .where(vm.c.service_id == service.id, vm.c.id > page.after)
                .order_by(vm.c.id)
                .limit(page.size + 1)
            ).all()
        items = list(rows[: page.size])
        return service, Page(items, items[-1].id if len(rows) > page.size else None)
