"""The SMS gateway stops answering in time: the caller gets a clear 503 / 60015 (60014 for a
call), the attempt is on file as failed (the outbox lists only messages sent), and a retry
works once the gateway answers again."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.scale.conftest import SlowGateway, e164, shut
from tests.servers import LiveProvider, start_provider
from twofa.storage.tables import messages

pytestmark = [pytest.mark.xdist_group("scale")]

TIMEOUT = 0.5


@pytest.fixture
def gateway_provider(tmp_path: Path, slow_gateway: SlowGateway) -> Iterator[LiveProvider]:
    live = start_provider(
        tmp_path,
        f"sqlite:///{tmp_path / 'provider.db'}",
        TWOFA_SMS_GATEWAY="http",
        TWOFA_SMS_HTTP_URL=slow_gateway.url,
        TWOFA_SMS_TIMEOUT=str(TIMEOUT),
        TWOFA_LOG_LEVEL="WARNING",
    )
    yield live
    shut(live)


def stored(provider: LiveProvider, phone: str) -> list[tuple[str, str, str | None]]:
    with provider.services.db.read() as conn:
        rows = conn.execute(
            select(messages.c.channel, messages.c.status, messages.c.error)
            .where(messages.c.to == phone)
            .order_by(messages.c.id)
        ).all()
    return [(r.channel, r.status, r.error) for r in rows]


def test_gateway_timeout_then_retry(
    gateway_provider: LiveProvider, slow_gateway: SlowGateway
) -> None:
    provider = gateway_provider
    _, api_key = provider.new_app("Gateway")
    national = provider.new_phone()
    phone = e164(national)

    def call(path: str) -> httpx.Response:
        return httpx.get(provider.url + path, headers={"X-Authy-API-Key": api_key}, timeout=10)

    created = httpx.post(
        provider.url + "/protected/json/users/new",
        headers={"X-Authy-API-Key": api_key},
        json={"user": {"email": "g@example.com", "cellphone": national, "country_code": 1}},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    authy_id = created.json()["user"]["id"]

    slow_gateway.delay = 4 * TIMEOUT
    for channel, code in (("sms", "60015"), ("call", "60014")):
        started = time.perf_counter()
        response = call(f"/protected/json/{channel}/{authy_id}")
        elapsed = time.perf_counter() - started
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["error_code"] == code and body["success"] is False, body
        assert body["message"] == ("SMS not sent" if channel == "sms" else "Call not started")
        assert elapsed < 2 * TIMEOUT + 1.0, elapsed
    attempts = stored(provider, phone)
    assert [(c, s) for c, s, _ in attempts] == [("sms", "failed"), ("call", "failed")]
    assert all("Timeout" in (error or "") for _, _, error in attempts), attempts
    assert provider.outbox(phone) == []  # what `twofa outbox` shows: only messages sent

    # The code of a message that was never delivered is not valid either.
    late = slow_gateway.received.get(timeout=10)  # the gateway's late copy of the SMS
    while late["channel"] != "sms":
        late = slow_gateway.received.get(timeout=10)
    late_code = re.search(r"\b(\d{7})\b", str(late["body"]))
    assert late_code
    assert call(f"/protected/json/verify/{late_code.group(1)}/{authy_id}").status_code == 401

    slow_gateway.delay = 0.0
    retried = call(f"/protected/json/sms/{authy_id}")
    assert retried.status_code == 200, retried.text
    assert [s for _, s, _ in stored(provider, phone)] == ["failed", "failed", "sent"]
    assert [m.status for m in provider.outbox(phone)] == ["sent"]
    # Stored bodies hide the code; the gateway saw it.
    delivered = slow_gateway.received.get(timeout=10)
    while delivered["channel"] != "sms":  # skip the late copy of the voice message
        delivered = slow_gateway.received.get(timeout=10)
    sent_code = re.search(r"\b(\d{7})\b", str(delivered["body"]))
    assert sent_code and sent_code.group(1) != late_code.group(1)
    verified = call(f"/protected/json/verify/{sent_code.group(1)}/{authy_id}")
    assert verified.status_code == 200, verified.text
