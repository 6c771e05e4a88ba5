"""The audit log: events recorded by the running provider, chained, and tampering detected."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from authy.api import AuthyApiClient

from tests.servers import LiveProvider, run_cli
from twofa.storage.tables import audit_log


def _wait_for(live: LiveProvider, event: str, subject: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = run_cli("audit", "--json", "--limit", "100000", "--event", event, env=live.env)
        assert shown.returncode == 0, shown.stderr
        if any(entry["subject"] == subject for entry in json.loads(shown.stdout)):
            return
        time.sleep(0.3)
    raise AssertionError(f"no {event} for {subject} in the audit log")


def test_security_events_are_recorded_and_chained(provider: LiveProvider) -> None:
    _, key = provider.new_app()
    client = AuthyApiClient(key, api_uri=provider.url)
    phone = provider.new_phone()
    user = client.users.create("audit@example.com", phone, 1)
    assert user.ok()
    assert client.users.request_sms(user.id).ok()
    assert not client.tokens.verify(user.id, "0000000").ok()
    code = provider.last_code("+1" + phone.replace("-", ""))
    assert client.tokens.verify(user.id, code).ok()

    subject = f"user:{user.id}"
    for event in ("user.created", "code.sent", "verification.failed", "verification.passed"):
        _wait_for(provider, event, subject)

    checked = run_cli("audit", "verify", "--json", env=provider.env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = json.loads(checked.stdout)
    assert result["ok"] is True and result["checked"] >= 4 and len(result["head"]) == 64


def test_tampering_is_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.servers import start_provider

    live = start_provider(tmp_path, f"sqlite:///{tmp_path / 'provider.db'}")
    try:
        _, key = live.new_app()
        client = AuthyApiClient(key, api_uri=live.url)
        for n in range(3):
            assert client.users.create(f"t{n}@example.com", live.new_phone(), 1).ok()
        live.services.audit.chain_pending()
        assert live.services.audit.verify().ok

        with live.services.db.write() as conn:
            conn.execute(
                sa.update(audit_log).where(audit_log.c.seq == 2).values(data={"country_code": 44})
            )
        altered = run_cli("audit", "verify", env=live.env)
        assert altered.returncode == 1
        assert "entry 2 was altered" in altered.stdout

        with live.services.db.write() as conn:
            conn.execute(
                sa.update(audit_log).where(audit_log.c.seq == 2).values(data={"country_code": 1})
            )
        assert live.services.audit.verify().ok
        with live.services.db.write() as conn:
            conn.execute(sa.delete(audit_log).where(audit_log.c.seq == 2))
        removed = live.services.audit.verify()
        assert not removed.ok and removed.broken_at == 2 and "missing" in removed.reason
    finally:
        live.stop()
