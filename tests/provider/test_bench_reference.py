"""The benchmark's bare verification reference accepts and refuses exactly what twofa does.

``bench/verify.py`` quotes twofa's rate as a ratio to ``bench/reference.py``; the ratio means
something only if both do the same work. Both run here on copies of one database, in process,
with the same sequence of requests, and must give the same status and Authy error code each time.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.reference import Reference
from fastapi.testclient import TestClient

from twofa.otp import hotp
from twofa.provider.app import create_app
from twofa.provider.services import build_services
from twofa.settings import load_settings

KEY = "reference-test-secret-key-0123456789abcdef"


@pytest.fixture
def databases(tmp_path: Path, migrated: Path) -> Iterator[dict[str, object]]:
    """One provider database with an app, two users, secrets and an SMS code; then two copies."""
    source = tmp_path / "source.db"
    shutil.copyfile(migrated, source)
    url = f"sqlite:///{source}"
    settings = load_settings(
        env="test", secret_key=KEY, data_dir=tmp_path, database_url=url, sms_gateway="outbox"
    )
    services = build_services(settings)
    created = services.apps.create("reference")
    app = created.app
    alice = services.users.create(
        app.id, email="a@x.example", cellphone="201-555-0101", country_code=1
    )
    bob = services.users.create(
        app.id, email="b@x.example", cellphone="201-555-0102", country_code=1
    )
    generic = services.codes.generic_secret(app, str(alice.id), label=None)
    secret, digits, step = services.codes.app_secret(alice.id)
    services.codes.send(app, str(bob.id), channel="sms", force=True)
    body = services.messaging.list(to=bob.phone.e164)[-1].body
    sms_code = re.findall(r"\b(\d{7})\b", body)[-1]
    services.audit.flush()
    services.close()
    twofa_db, reference_db = tmp_path / "twofa.db", tmp_path / "reference.db"
    shutil.copy(source, twofa_db)
    shutil.copy(source, reference_db)
    yield {
        "settings": settings.model_copy(update={"database_url": f"sqlite:///{twofa_db}"}),
        "reference_db": reference_db,
        "api_key": created.api_key,
        "alice": alice.id,
        "bob": bob.id,
        "app_secret": (secret, digits, step),
        "generic": generic.secret,
        "sms_code": sms_code,
    }


def _outcome(status: int, body: dict[str, object]) -> tuple[int, object]:
    return status, body.get("error_code")


def test_reference_answers_as_twofa_does(databases: dict[str, object]) -> None:
    import json
    import time

    secret, digits, step_seconds = databases["app_secret"]  # type: ignore[misc]
    step = int(time.time() // step_seconds)
    app_code = hotp(secret, step, digits=digits)
    generic_code = hotp(str(databases["generic"]), step, digits=6)
    wrong_app = next(
        c
        for c in (f"{n:07d}" for n in range(1234567, 9999999, 7919))
        if c not in {hotp(secret, s, digits=digits) for s in range(step - 1, step + 2)}
    )
    key, alice, bob = databases["api_key"], databases["alice"], databases["bob"]
    sms = databases["sms_code"]
    cases = [
        ("not-a-key", app_code, alice),
        (key, app_code, 987654),
        (key, app_code, "12ab"),
        (key, wrong_app, alice),
        (key, "abc", alice),
        (key, app_code, alice),
        (key, app_code, alice),
        (key, generic_code, alice),
        (key, sms, bob),
        (key, sms, bob),
        *[(key, wrong_app, bob)] * 12,
    ]
    settings = databases["settings"]
    app = create_app(settings, build_services(settings), workers=False)  # type: ignore[arg-type]
    reference = Reference(str(databases["reference_db"]), KEY.encode())
    twofa_answers, reference_answers = [], []
    with TestClient(app) as client:
        for api_key, token, user in cases:
            response = client.get(
                f"/protected/json/verify/{token}/{user}", headers={"X-Authy-API-Key": str(api_key)}
            )
            twofa_answers.append(_outcome(response.status_code, response.json()))
    for api_key, token, user in cases:
        status, body = reference.verify(str(api_key), str(token), str(user))
        reference_answers.append(_outcome(status, json.loads(body)))
    assert reference_answers == twofa_answers
    # The sequence exercises every answer: a wrong key, no user, wrong, valid, replayed, limited.
    assert {status for status, _ in twofa_answers} == {200, 401, 404, 429}
    assert (401, "60019") in twofa_answers
