"""PostgreSQL goes away and comes back (a private cluster): while it is down the provider
answers 503 / 60000 in the Authy envelope, never 500; afterwards it serves again without a
restart, and nothing is left half-written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.scale.conftest import (
    CallbackReceiver,
    PrivatePostgres,
    enrol,
    new_account,
    shut,
    wait_until,
)
from tests.servers import LiveProvider, start_provider
from twofa.authenticator.device import DeviceApiError
from twofa.storage.tables import audit_log, totp_secrets, users

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("scale")]


@pytest.fixture
def pg_provider(tmp_path: Path, private_postgres: PrivatePostgres) -> Iterator[LiveProvider]:
    live = start_provider(
        tmp_path, private_postgres.create_database("twofa"), TWOFA_LOG_LEVEL="WARNING"
    )
    yield live
    shut(live)


class UserWriter:
    """Creates users over HTTP, one after another, recording every answer."""

    def __init__(self, provider: LiveProvider, api_key: str) -> None:
        self.answers: list[tuple[str, int, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(provider, api_key), daemon=True)
        self._thread.start()

    def _run(self, provider: LiveProvider, api_key: str) -> None:
        while not self._stop.is_set():
            national = provider.new_phone()
            response = httpx.post(
                provider.url + "/protected/json/users/new",
                headers={"X-Authy-API-Key": api_key},
                json={"user": {"email": "w@example.com", "cellphone": national, "country_code": 1}},
                timeout=30,
            )
            self.answers.append((national, response.status_code, response.json()))
            time.sleep(0.01)

    def stop(self) -> list[tuple[str, int, dict[str, Any]]]:
        self._stop.set()
        self._thread.join(30)
        return list(self.answers)


def test_postgres_restart(
    pg_provider: LiveProvider, private_postgres: PrivatePostgres, callbacks: CallbackReceiver
) -> None:
    provider = pg_provider
    pid = provider.proc.pid
    account = new_account(provider, callback_url=callbacks.url)
    device = enrol(provider, account.national).on(provider)
    before = account.push(provider)
    writer = UserWriter(provider, account.api_key)
    wait_until(lambda: len(writer.answers) >= 3, what="users created before the outage")
    wrong_code = f"/protected/json/verify/1234567/{account.authy_id}"
    assert account.call(provider, "GET", wrong_code).json()["error_code"] == "60020"

    private_postgres.stop("fast")
    try:
        outage_phone = provider.new_phone()
        calls: list[tuple[str, str, dict[str, Any]]] = [
            (
                "POST",
                "/protected/json/users/new",
                {
                    "json": {
                        "user": {
                            "email": "o@example.com",
                            "cellphone": outage_phone,
                            "country_code": 1,
                        }
                    }
                },
            ),
            ("GET", f"/protected/json/users/{account.authy_id}/status", {}),
            ("GET", f"/protected/json/sms/{account.authy_id}?force=true", {}),
            ("GET", wrong_code, {}),
            (
                "POST",
                f"/onetouch/json/users/{account.authy_id}/approval_requests",
                {"json": {"message": "during the outage"}},
            ),
            ("GET", f"/onetouch/json/approval_requests/{before}", {}),
        ]
        for method, path, kwargs in calls:
            started = time.perf_counter()
            response = account.call(provider, method, path, **kwargs)
            assert response.status_code == 503, (path, response.status_code, response.text)
            body = response.json()
            assert body["error_code"] == "60000" and body["success"] is False, body
            assert body["message"] and body["errors"]["message"] == body["message"]
            assert time.perf_counter() - started < 5
        for attempt in (device.pending, lambda: device.decide(before, approve=True)):
            with pytest.raises(DeviceApiError) as refused:
                attempt()
            assert (refused.value.status, refused.value.code) == (503, "60000")
        ready = httpx.get(provider.url + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
        time.sleep(0.5)  # background workers meet the outage too
    finally:
        private_postgres.start()

    # Back without restarting the provider.
    wait_until(
        lambda: (
            account.call(
                provider, "GET", f"/protected/json/users/{account.authy_id}/status"
            ).status_code
            == 200
        ),
        what="the provider to serve again",
    )
    # Verification runs on the event loop over the asyncio driver's own pool, whose
    # connections all broke: each fails its request (503) once and is dropped, then codes are
    # checked again.
    wait_until(
        lambda: account.call(provider, "GET", wrong_code).json()["error_code"] == "60020",
        timeout=30,
        what="verification to serve again",
    )
    answers = writer.stop()
    assert provider.proc.poll() is None and provider.proc.pid == pid
    assert httpx.get(provider.url + "/readyz", timeout=10).status_code == 200
    assert {status for _, status, _ in answers} <= {200, 503}, answers
    assert 503 in {status for _, status, _ in answers}
    assert any(status == 200 for _, status, _ in answers[-2:]), "writes did not resume"

    # The decision refused during the outage can be made now; its callback goes out once.
    assert device.decide(before, approve=True) == "approved"
    assert account.status(provider, before) == "approved"
    wait_until(lambda: callbacks.counts().get(before) == 1, what="the callback")

    # Nothing half-written: the user refused during the outage does not exist; every user
    # that exists has its secret and its audit entry; every 200 names a user that exists.
    db = provider.services.db
    with db.read() as conn:
        assert (
            conn.execute(
                select(users.c.id).where(users.c.phone_e164 == "+1" + outage_phone.replace("-", ""))
            ).first()
            is None
        )
        rows = conn.execute(
            select(
                users.c.id,
                users.c.phone_e164,
                select(func.count())
                .select_from(totp_secrets)
                .where(totp_secrets.c.user_id == users.c.id)
                .scalar_subquery()
                .label("secrets"),
                select(func.count())
                .select_from(audit_log)
                .where(
                    audit_log.c.event == "user.created",
                    audit_log.c.subject == func.concat("user:", users.c.id),
                )
                .scalar_subquery()
                .label("audited"),
            ).where(users.c.app_id == account.app_id)
        ).all()
    assert rows and all(r.secrets == 1 and r.audited == 1 for r in rows), rows
    ids = {r.id for r in rows}
    assert all(body["user"]["id"] in ids for _, status, body in answers if status == 200)
    print(
        f"\n{len(answers)} user creations across the restart: "
        f"{sum(s == 200 for _, s, _ in answers)} created, "
        f"{sum(s == 503 for _, s, _ in answers)} refused with 503/60000"
    )
