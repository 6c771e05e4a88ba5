"""Registering the same phone for one application from several requests at once returns one
user to all of them: no request fails on the unique phone constraint it raced for."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import TEST_SECRET, postgres_database
from twofa.provider.services import Services, build_services
from twofa.settings import load_settings
from twofa.storage.engine import upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    def built(url: str) -> Services:
        upgrade(url)
        return build_services(
            load_settings(env="test", secret_key=TEST_SECRET, data_dir=tmp_path, database_url=url)
        )

    if request.param == "postgres":
        with postgres_database() as url:
            services = built(url)
            yield services
            services.close()
    else:
        services = built(f"sqlite:///{tmp_path / 'provider.db'}")
        yield services
        services.close()


def test_one_phone_registered_at_once_from_many_requests_is_one_user(services: Services) -> None:
    app = services.apps.create("Race").app
    callers = 8
    start = threading.Barrier(callers)
    ids: list[int] = []
    errors: list[BaseException] = []

    def register(n: int) -> None:
        try:
            start.wait()
            user = services.users.create(
                app.id, email=f"user{n}@example.com", cellphone="2015550123", country_code="1"
            )
            ids.append(user.id)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(ids) == callers and len(set(ids)) == 1
