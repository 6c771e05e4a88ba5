"""The reports layer on both backends: the provider fixtures of ``tests/provider``, with
``settings`` pointed at a fresh PostgreSQL database for the ``postgres`` run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.provider.conftest import provider_settings
from tests.servers import postgres_database
from twofa.settings import Settings
from twofa.storage.engine import upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, migrated: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield provider_settings(tmp_path, migrated)
        return
    with postgres_database() as url:
        upgrade(url)
        yield provider_settings(tmp_path, migrated, database_url=url)


# The console's fixtures (an operator who signs in), on this folder's ``settings``.
from tests.provider.console.conftest import clock, console  # noqa: E402,F401
