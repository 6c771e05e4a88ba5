"""Shared fixtures: live servers on loopback ports against SQLite and the local PostgreSQL, and
the migrated SQLite file that in-process tests copy.

The tiers ``fast/`` and ``provider/`` start no process: ``make test-fast`` depends on it, so
collection refuses a test there that asks for a provider process, and starting any process
from one fails the test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import LiveProvider, postgres_database, start_provider
from twofa.storage.engine import upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _start(tmp: Path, backend: str, **env: str) -> Iterator[LiveProvider]:
    """A provider on ``backend``; ``env`` adds or overrides its settings (``TWOFA_*``)."""
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


@pytest.fixture(scope="session")
def sqlite_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """The session's provider on SQLite (tests use their own applications and numbers)."""
    yield from _start(tmp_path_factory.mktemp("provider-sqlite"), "sqlite")


@pytest.fixture(scope="session")
def postgres_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    """The session's provider on a fresh PostgreSQL database."""
    yield from _start(tmp_path_factory.mktemp("provider-postgres"), "postgres")


@pytest.fixture(scope="session", params=BACKENDS)
def provider(request: pytest.FixtureRequest) -> LiveProvider:
    """The session's provider on each storage backend in turn: the same processes as
    ``sqlite_provider`` and ``postgres_provider``, started once however the tests are ordered."""
    live: LiveProvider = request.getfixturevalue(f"{request.param}_provider")
    return live


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty provider database at the newest revision, migrated once and copied per test:
    a migration run costs far more than a file copy."""
    database = tmp_path_factory.mktemp("migrated") / "provider.db"
    upgrade(f"sqlite:///{database}")
    return database


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


TESTS = Path(__file__).resolve().parent
IN_PROCESS_TIERS = {"fast", "provider"}


def _tier(path: Path) -> str:
    return path.resolve().relative_to(TESTS).parts[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    process_fixtures = {
        fixture.__wrapped__  # type: ignore[attr-defined]
        for fixture in (provider, sqlite_provider, postgres_provider)
    }
    for item in items:
        if _tier(item.path) not in IN_PROCESS_TIERS:
            continue
        info = getattr(item, "_fixtureinfo", None)
        used = info.name2fixturedefs.values() if info is not None else []
        if any(defs[-1].func in process_fixtures for defs in used):
            raise pytest.UsageError(
                f"{item.nodeid} starts a provider process; move it to tests/live/"
            )


@pytest.fixture(autouse=True)
def _no_processes_in_process_tiers(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _tier(request.node.path) not in IN_PROCESS_TIERS:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{request.node.nodeid} started a process; move it to tests/live/")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under ``-n``: the tests of one file, or of one ``xdist_group``, go to one worker, so a
    module's servers start once instead of once per worker that happens to run one of its tests.
    """
    from xdist.scheduler import LoadScopeScheduling

    class FileOrGroup(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):  # xdist_group's suffix, as --dist loadgroup
                return nodeid.split("@")[-1]
            return nodeid.split("::", 1)[0]

    return FileOrGroup(config, log)
