"""Shared fixtures: live servers on loopback ports against SQLite and the local PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import LiveProvider, postgres_database, start_provider

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _start(tmp: Path, backend: str, **env: str) -> Iterator[LiveProvider]:
    if backend == "postgres":
        with postgres_database() as url:
            live = start_provider(tmp, url, **env)
            try:
                yield live
            finally:
                live.stop()
    else:
        live = start_provider(tmp, f"sqlite:///{tmp / 'provider.db'}", **env)
        try:
            yield live
        finally:
            live.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveProvider]:
    """A provider process per storage backend, shared by the session (tests use their own apps)."""
    yield from _start(tmp_path_factory.mktemp(f"provider-{request.param}"), request.param)


@pytest.fixture(scope="session")
def sqlite_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """One provider on SQLite, for tests whose subject is not storage."""
    yield from _start(tmp_path_factory.mktemp("provider-sqlite-only"), "sqlite")


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
