"""The retention purge on SQLite and PostgreSQL: expired secrets a day after expiry, records of
what happened after 30 days, nothing pending, in small batches, with configurable ages."""

from __future__ import annotations

import secrets
import uuid as uuidlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from tests.servers import TEST_SECRET, postgres_database
from twofa.provider import retention
from twofa.provider.services import Services, build_services
from twofa.settings import load_settings
from twofa.storage.database import utcnow
from twofa.storage.engine import upgrade
from twofa.storage.tables import (
    approval_requests,
    deliveries,
    device_registrations,
    messages,
    phone_verifications,
    sent_codes,
)

DAY = timedelta(days=1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'provider.db'}"
        return
    with postgres_database() as url:
        yield url


def services_for(url: str, tmp_path: Path, **overrides: Any) -> Services:
    upgrade(url)
    return build_services(
        load_settings(
            env="test",
            secret_key=TEST_SECRET,
            data_dir=tmp_path,
            database_url=url,
            callback_allow_private=True,
            **overrides,
        )
    )


class Rows:
    """Inserts rows of every purged kind at chosen ages, remembering which should survive."""

    def __init__(self, services: Services) -> None:
        self.db = services.db
        app = services.apps.create("Retention", callback_url="http://127.0.0.1:9/cb").app
        self.app_id = app.id
        self.user_id = services.users.create(
            app.id, email="r@example.com", cellphone="201-555-0100", country_code=1
        ).id
        self.now = utcnow()

    def code(self, expired_for: timedelta) -> None:
        at = self.now - expired_for
        self._insert(
            sent_codes,
            user_id=self.user_id,
            code_hash=secrets.token_hex(32),
            channel="sms",
            created_at=at - timedelta(minutes=10),
            expires_at=at,
        )

    def registration(self, expired_for: timedelta) -> None:
        at = self.now - expired_for
        self._insert(
            device_registrations,
            uuid=str(uuidlib.uuid4()),
            phone_e164="+12015550100",
            code_hash=secrets.token_hex(32),
            attempts=0,
            created_at=at - timedelta(minutes=10),
            expires_at=at,
        )

    def verification(self, expired_for: timedelta) -> None:
        at = self.now - expired_for
        self._insert(
            phone_verifications,
            uuid=str(uuidlib.uuid4()),
            app_id=self.app_id,
            phone_e164="+12015550100",
            code_hash=secrets.token_hex(32),
            via="sms",
            created_at=at - timedelta(minutes=10),
            expires_at=at,
        )

    def message(self, age: timedelta) -> None:
        self._insert(
            messages,
            app_id=self.app_id,
            to="+12015550100",
            channel="sms",
            body="Your code",
            gateway="outbox",
            status="sent",
            created_at=self.now - age,
        )

    def request(self, age: timedelta, status: str) -> str:
        at = self.now - age
        uuid = str(uuidlib.uuid4())
        self._insert(
            approval_requests,
            uuid=uuid,
            public_id=secrets.token_hex(12),
            app_id=self.app_id,
            user_id=self.user_id,
            message="Log in?",
            details={},
            hidden_details={"ip": "203.0.113.9"},
            seconds_to_expire=0,
            status=status,
            created_at=at,
            updated_at=at,
        )
        return uuid

    def delivery(self, age: timedelta, status: str) -> None:
        at = self.now - age
        self._insert(
            deliveries,
            kind="authy_callback",
            app_id=self.app_id,
            target=f"app:{self.app_id}",
            subject=str(uuidlib.uuid4()),
            url="http://127.0.0.1:9/cb",
            body={},
            status=status,
            attempts=1,
            next_attempt_at=at,
            window_start=at,
            created_at=at,
        )

    def _insert(self, table: Any, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(insert(table).values(**values))

    def count(self, table: Any, *where: Any) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            )


def fill(rows: Rows) -> None:
    for make in (rows.code, rows.registration, rows.verification):
        make(2 * DAY)  # gone
        make(DAY + timedelta(minutes=1))  # gone
        make(timedelta(hours=20))  # kept: expired less than a day ago
        make(-timedelta(minutes=5))  # kept: still valid
    for _ in range(3):
        rows.message(31 * DAY)  # gone
    rows.message(29 * DAY)  # kept
    rows.request(31 * DAY, "approved")  # gone
    rows.request(31 * DAY, "expired")  # gone
    rows.request(31 * DAY, "pending")  # kept: still waiting
    rows.request(DAY, "denied")  # kept
    rows.delivery(31 * DAY, "delivered")  # gone
    rows.delivery(31 * DAY, "failed")  # gone
    rows.delivery(31 * DAY, "pending")  # kept: its receiver is still awaited
    rows.delivery(DAY, "delivered")  # kept


def test_the_purge_keeps_what_is_recent_or_pending(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches per table
    services = services_for(database_url, tmp_path)
    try:
        rows = Rows(services)
        fill(rows)
        purged = services.retention.purge()
        assert purged.counts == {
            "sent_codes": 2,
            "device_registrations": 2,
            "phone_verifications": 2,
            "messages": 3,
            "approval_requests": 2,
            "deliveries": 2,
        }
        for table in (sent_codes, device_registrations, phone_verifications):
            assert rows.count(table) == 2
        assert rows.count(messages) == 1
        assert rows.count(approval_requests) == 2
        assert rows.count(approval_requests, approval_requests.c.status == "pending") == 1
        assert rows.count(deliveries) == 2
        assert rows.count(deliveries, deliveries.c.status == "pending") == 1
        assert services.retention.purge().total == 0  # nothing left to do
    finally:
        services.close()


def test_the_ages_are_settings(database_url: str, tmp_path: Path) -> None:
    services = services_for(
        database_url,
        tmp_path,
        retention_expired_after=3 * 86400,
        retention_history_after=45 * 86400,
    )
    try:
        rows = Rows(services)
        fill(rows)
        assert services.retention.purge().total == 0
        later = rows.now + timedelta(days=20)
        purged = services.retention.purge(now=later)
        assert purged.counts["messages"] == 4 and purged.counts["sent_codes"] == 4
    finally:
        services.close()


def test_defaults_are_a_day_and_thirty_days() -> None:
    settings = load_settings(env="test", secret_key=TEST_SECRET)
    assert settings.retention_expired_after == 86400
    assert settings.retention_history_after == 30 * 86400
