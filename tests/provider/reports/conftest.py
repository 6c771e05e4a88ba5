"""The reports layer on both backends: the provider fixtures of ``tests/provider``, with
``settings`` pointed at a fresh PostgreSQL database for the ``postgres`` run.

A test that asks for ``seeded`` reads a day of traffic (``seeding.py``). On SQLite the day is
seeded once for the session and each test gets a copy of that database (seeding takes some
thirty requests and a delivery round; a copy, a millisecond); on PostgreSQL it is seeded in
the test's own database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.provider.conftest import BASE_URL, Authy, Callbacks, provider_settings
from tests.provider.reports.seeding import Seeded, seed_day
from tests.servers import RecordedPath, RecordingServer, postgres_database
from twofa.provider.app import create_app
from twofa.provider.services import Services, build_services
from twofa.settings import Settings
from twofa.storage.engine import upgrade


@dataclass(frozen=True)
class Snapshot:
    """The session's seeded SQLite database, and the day it holds."""

    database: Path
    seeded: Seeded


@pytest.fixture(scope="session")
def seeded_sqlite(
    tmp_path_factory: pytest.TempPathFactory, migrated: Path, recording_server: RecordingServer
) -> Snapshot:
    folder = tmp_path_factory.mktemp("seeded")
    settings = provider_settings(folder, migrated)
    services = build_services(settings)
    receiver = RecordedPath(recording_server)
    callbacks = Callbacks(services)
    try:
        with TestClient(create_app(settings, services, workers=False), base_url=BASE_URL) as http:
            authy = Authy(http, services, callback_url=receiver.url + "/authy/callback")
            day = seed_day(authy, callbacks, receiver)
    finally:
        callbacks.close()
    snapshot = folder / "seeded.db"
    # SQLite's backup reads through the write-ahead log: the copy holds every commit.
    with (
        closing(sqlite3.connect(folder / "provider.db")) as source,
        closing(sqlite3.connect(snapshot)) as target,
    ):
        source.backup(target)
    return Snapshot(snapshot, Seeded(day, authy.app_id, receiver.url + "/authy/callback"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, migrated: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        if "seeded" in request.fixturenames:
            snapshot: Snapshot = request.getfixturevalue("seeded_sqlite")
            yield provider_settings(tmp_path, snapshot.database)
        else:
            yield provider_settings(tmp_path, migrated)
        return
    with postgres_database() as url:
        upgrade(url)
        yield provider_settings(tmp_path, migrated, database_url=url)


@pytest.fixture
def seeded(
    request: pytest.FixtureRequest, settings: Settings, services: Services
) -> Iterator[Seeded]:
    """The day in this test's database: copied with it on SQLite, seeded now on PostgreSQL."""
    if services.db.is_sqlite:
        snapshot: Snapshot = request.getfixturevalue("seeded_sqlite")
        yield snapshot.seeded
        return
    http: TestClient = request.getfixturevalue("http")
    receiver: RecordedPath = request.getfixturevalue("receiver")
    authy = Authy(http, services, callback_url=receiver.url + "/authy/callback")
    callbacks = Callbacks(services)
    try:
        yield Seeded(seed_day(authy, callbacks, receiver), authy.app_id, authy.callback_url or "")
    finally:
        callbacks.close()


# The console's fixtures (an operator who signs in), on this folder's ``settings``.
from tests.provider.console.conftest import clock, console  # noqa: E402,F401
