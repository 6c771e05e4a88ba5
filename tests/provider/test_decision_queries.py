"""A device's decision reads its approval request once.

The decision path is what every push login waits on; each extra read is a round trip on
PostgreSQL. The statements are counted on the engine while ``DeviceService.decide`` runs
in-process against a migrated SQLite database.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import event, insert, select

from tests.servers import TEST_SECRET
from twofa.authenticator.keys import public_jwk, sign
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.service import SignedDecision
from twofa.provider.devices.signature import decision_text
from twofa.provider.push.model import NewRequest
from twofa.provider.services import Services, build_services
from twofa.settings import load_settings
from twofa.storage.database import utcnow
from twofa.storage.tables import deliveries, devices


@pytest.fixture
def services(tmp_path: Path, migrated: Path) -> Iterator[Services]:
    url = f"sqlite:///{tmp_path / 'provider.db'}"
    shutil.copyfile(migrated, tmp_path / "provider.db")
    built = build_services(
        load_settings(
            env="test",
            secret_key=TEST_SECRET,
            data_dir=tmp_path,
            database_url=url,
            callback_allow_private=True,
        )
    )
    try:
        yield built
    finally:
        built.close()


def enrolled(
    services: Services, phone_e164: str
) -> tuple[EnrolledDevice, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = utcnow()
    with services.db.write() as conn:
        row = conn.execute(
            insert(devices)
            .values(
                uuid=str(uuid.uuid4()),
                phone_e164=phone_e164,
                name="Test phone",
                os_type="cli",
                public_key=public_jwk(key),
                created_at=now,
            )
            .returning(*devices.c)
        ).one()
    return EnrolledDevice.from_row(row, key.public_key()), key


def test_a_decision_reads_its_request_once(services: Services) -> None:
    created = services.apps.create("Queries", callback_url="http://127.0.0.1:9/authy/callback")
    user = services.users.create(
        created.app.id, email="q@example.com", cellphone="201-555-0123", country_code=1
    )
    request = services.push.create(
        created.app,
        str(user.id),
        NewRequest(
            message="Log in?",
            details={},
            hidden_details={},
            logos=None,
            seconds_to_expire=None,
        ),
    )
    device, key = enrolled(services, user.phone.e164)
    signing_time = int(time.time())
    signature = sign(key, decision_text(request.uuid, "approved", signing_time, None))
    decision = SignedDecision(
        approve=True, signing_time=signing_time, number=None, signature=signature
    )

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    engine = services.db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        outcome = services.devices.decide(device, request.uuid, decision)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert outcome.status == "approved"
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 1, selects
    assert "FROM APPROVAL_REQUESTS JOIN APPS" in selects[0]
    assert "JOIN USERS" in selects[0]
    with services.db.read() as conn:
        queued = conn.execute(select(deliveries.c.subject)).scalars().all()
    assert queued == [request.uuid]
