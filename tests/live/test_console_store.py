"""The console's storage on both backends: operators, sessions, single-use challenges and
TOTP steps, the operator's user search, deleting an application, and audit entries with an
actor in the chain; and the migration builds exactly the tables the code describes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from tests.servers import TEST_SECRET, postgres_database
from twofa import otp
from twofa.errors import NotFound
from twofa.provider.operators import store
from twofa.provider.operators.model import SignInFailed
from twofa.provider.services import Services, build_services
from twofa.settings import load_settings
from twofa.storage.database import utcnow
from twofa.storage.engine import upgrade
from twofa.storage.tables import metadata

PASSWORD = "pelican-harbour-lattice-19"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'provider.db'}"


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    upgrade(database_url)
    built = build_services(
        load_settings(
            env="test",
            secret_key=TEST_SECRET,
            data_dir=tmp_path,
            database_url=database_url,
            redis_url=None,
        )
    )
    yield built
    built.close()


def test_the_migration_matches_the_tables(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_sign_in_steps_sessions_and_challenges(services: Services) -> None:
    created = services.operators.create("Alice", role="admin", password=PASSWORD, actor="cli")
    operator = services.operators.check_password("ALICE", PASSWORD, address="192.0.2.1")
    assert operator.name == "alice"
    code = otp.totp(created.totp_secret, time.time(), digits=6)
    services.operators.check_totp(operator, code, address="192.0.2.1")
    with pytest.raises(SignInFailed):
        services.operators.check_totp(operator, code, address="192.0.2.1")  # replayed

    token = services.console_sessions.start(operator, factor="totp", address="192.0.2.1")
    session = services.console_sessions.load(token)
    assert session is not None and session.operator.name == "alice"
    services.console_sessions.end(session)
    assert services.console_sessions.load(token) is None

    token = services.console_sessions.start(operator, factor="totp", address="192.0.2.1")
    services.operators.disable("alice", actor="cli")
    assert services.console_sessions.load(token) is None
    with pytest.raises(SignInFailed):
        services.operators.check_password("alice", PASSWORD, address="192.0.2.1")

    with services.db.write() as conn:
        store.insert_challenge(
            conn,
            challenge="c1",
            operator_id=operator.id,
            purpose="sign_in",
            expires_at=utcnow().replace(year=utcnow().year + 1),
        )
    taken = []
    for purpose in ("reauth", "sign_in", "sign_in"):
        with services.db.write() as conn:
            taken.append(
                store.take_challenge(
                    conn, challenge="c1", operator_id=operator.id, purpose=purpose, now=utcnow()
                )
            )
    assert taken == [False, True, False]


def test_search_delete_and_the_audit_chain(services: Services) -> None:
    app = services.apps.create("Shop", actor="operator:alice").app
    user = services.users.create(
        app.id, email="Carol@Example.com", cellphone="201-555-0142", country_code=1
    )
    for query in (str(user.id), "+12015550142", "2015550142", "carol@example.COM"):
        assert [f.user.id for f in services.users.search(query)] == [user.id], query
    assert services.users.search("%") == []
    services.apps.delete(app.id, actor="operator:alice")
    with pytest.raises(NotFound):
        services.apps.get(app.id)
    assert services.users.search(str(user.id)) == []
    services.audit.chain_all()
    assert services.audit.verify().ok
    actors = {(e.event, e.actor) for e in services.audit.entries(limit=50)}
    assert {("app.created", "operator:alice"), ("app.deleted", "operator:alice")} <= actors
