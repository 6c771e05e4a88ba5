"""Signed OneTouch callbacks from the durable delivery queue: delivery, retries, expiry.

Decisions are recorded through the provider's push service from this process, against the
provider's own database; the provider process's worker delivers the callbacks.
"""

from __future__ import annotations

import json
import re
import time
import uuid as uuidlib
from collections.abc import Iterator
from typing import Any

import pytest
from authy.api import AuthyApiClient
from sqlalchemy import insert, select

from tests.servers import LiveProvider, RecordingServer, run_cli, wait_until
from twofa import signing
from twofa.errors import ApprovalRequestNotPending
from twofa.provider.deliveries.authy import app_target
from twofa.provider.push.model import Decision
from twofa.storage.database import utcnow
from twofa.storage.tables import approval_requests, deliveries, devices


def e164(national: str) -> str:
    return "+1" + re.sub(r"\D", "", national)


@pytest.fixture
def receiver() -> Iterator[RecordingServer]:
    server = RecordingServer(status=200, body=b"")
    yield server
    server.close()


def add_device(provider: LiveProvider, phone_e164: str) -> tuple[int, str]:
    device_uuid = str(uuidlib.uuid4())
    with provider.services.db.write() as conn:
        device_id = conn.execute(
            insert(devices)
            .values(
                uuid=device_uuid,
                phone_e164=phone_e164,
                name="Test phone",
                os_type="android",
                public_key={"kty": "EC", "crv": "P-256", "x": "x", "y": "y"},
                created_at=utcnow(),
            )
            .returning(devices.c.id)
        ).scalar_one()
    return int(device_id), device_uuid


def decide(
    provider: LiveProvider,
    uuid: str,
    phone_e164: str,
    device: tuple[int, str],
    status: str = "approved",
) -> None:
    push = provider.services.push
    push.decide(
        push.load_for_phone(uuid, phone_e164),
        Decision(
            status=status,
            device_id=device[0],
            device_uuid=device[1],
            device_json={"id": device[0], "os_type": "android", "city": None},
            signature="c2lnbmVkLWJ5LXRoZS1kZXZpY2U=",
            signing_time=int(time.time()),
        ),
    )


class Setup:
    def __init__(self, provider: LiveProvider, receiver: RecordingServer) -> None:
        self.callback_url = receiver.url + "/authy/callback"
        self.app_id, self.key = provider.new_app("Callbacks", callback_url=self.callback_url)
        self.client = AuthyApiClient(self.key, api_uri=provider.url)
        self.phone = e164(provider.new_phone())
        self.user_id = self.client.users.create("cb@example.com", self.phone, 1).id
        self.device = add_device(provider, self.phone)

    def request(self, **options: object) -> str:
        created = self.client.one_touch.send_request(self.user_id, "Log in?", **options)
        assert created.ok(), created.content
        return str(created.get_uuid())


def delivery_row(provider: LiveProvider, uuid: str) -> Any:
    """The request's callback delivery as the database holds it now (a new transaction)."""
    with provider.services.db.read() as conn:
        return conn.execute(select(deliveries).where(deliveries.c.subject == uuid)).one()


def test_delivery_is_signed_json(provider: LiveProvider, receiver: RecordingServer) -> None:
    s = Setup(provider, receiver)
    uuid = s.request(
        details={"Email": "cb@example.com"},
        hidden_details={"ip": "10.0.0.1"},
        logos=[
            {"res": "default", "url": "https://example.com/a.png"},
            {"res": "low", "url": "https://example.com/b.png"},
        ],
    )
    decide(provider, uuid, s.phone, s.device, "denied")
    (request,) = receiver.wait_for(1)
    assert request.method == "POST"
    assert request.path == "/authy/callback"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["authy_id"] == s.user_id
    assert body["uuid"] == uuid
    assert body["status"] == "denied"
    assert body["callback_action"] == "approval_request_status"
    assert body["approval_request"]["transaction"]["hidden_details"] == {"ip": "10.0.0.1"}
    signature = request.headers["X-Authy-Signature"]
    nonce = request.headers["X-Authy-Signature-Nonce"]
    assert s.client.one_touch.validate_one_touch_signature(
        signature, nonce, "POST", s.callback_url, body
    )
    assert signing.verify(
        key=s.key,
        signature=signature,
        nonce=nonce,
        method="POST",
        url=s.callback_url,
        params=body,
        max_age=60,
    )
    assert not signing.verify(
        key=s.key + "x",
        signature=signature,
        nonce=nonce,
        method="POST",
        url=s.callback_url,
        params=body,
    )
    status = s.client.one_touch.get_approval_status(uuid).content["approval_request"]
    assert status["status"] == "denied"
    assert status["processed_at"] is not None
    time.sleep(0.6)
    assert len(receiver.received()) == 1  # delivered once


def test_failures_are_retried_and_never_disable_the_callback(
    provider: LiveProvider, receiver: RecordingServer
) -> None:
    """Three failed attempts once disabled the callback and abandoned its queue; no longer."""
    receiver.status = 500
    s = Setup(provider, receiver)
    uuid = s.request()
    decide(provider, uuid, s.phone, s.device)
    second = s.request()
    decide(provider, second, s.phone, s.device)
    attempts = receiver.wait_for(4, timeout=20)
    assert {json.loads(a.body)["uuid"] for a in attempts} == {uuid, second}

    listed = run_cli("apps", "list", "--json", env=provider.env)
    assert listed.returncode == 0, listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r["app_id"] == s.app_id]
    assert row["callback"]["state"] == "failing"
    assert row["callback"]["pending"] == 2
    assert row["callback"]["last_error"] == "HTTP 500"

    receiver.status = 200
    third = s.request()
    decide(provider, third, s.phone, s.device)
    # The third's success makes the others due at once, and so does the failure of a retry
    # that was already in flight when the receiver came back (recorded after that success).
    deadline = time.monotonic() + 20
    while True:
        with provider.services.db.read() as conn:
            statuses = dict(
                conn.execute(
                    select(deliveries.c.subject, deliveries.c.status).where(
                        deliveries.c.app_id == s.app_id
                    )
                ).all()
            )
        if set(statuses.values()) == {"delivered"} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert statuses == {uuid: "delivered", second: "delivered", third: "delivered"}
    listed = run_cli("apps", "list", "--json", env=provider.env)
    (row,) = [r for r in json.loads(listed.stdout) if r["app_id"] == s.app_id]
    assert row["callback"]["state"] == "ok"
    assert row["callback"]["pending"] == 0


def test_a_retry_that_succeeds_resets_the_failure_count(
    provider: LiveProvider, receiver: RecordingServer
) -> None:
    receiver.status = 503
    s = Setup(provider, receiver)
    uuid = s.request()
    decide(provider, uuid, s.phone, s.device)
    receiver.wait_for(1)
    receiver.status = 200
    receiver.wait_for(2)
    # The worker records the answer after the receiver has it: wait for the record, each
    # look in a new transaction.
    row = wait_until(
        lambda: (r := delivery_row(provider, uuid)).status == "delivered" and r,
        what="the retry to be recorded as delivered",
    )
    assert row.attempts == 2
    assert app_target(s.app_id) not in provider.services.deliveries.receivers()  # forgotten


def test_expired_requests_send_no_callback(
    provider: LiveProvider, receiver: RecordingServer
) -> None:
    s = Setup(provider, receiver)
    uuid = s.request(seconds_to_expire=1)
    time.sleep(2.2)
    status = s.client.one_touch.get_approval_status(uuid).content["approval_request"]
    assert status["status"] == "expired"
    assert status["processed_at"] is not None
    with pytest.raises(ApprovalRequestNotPending):
        decide(provider, uuid, s.phone, s.device)
    swept = s.request(seconds_to_expire=1)

    def stored_status() -> str:
        with provider.services.db.read() as conn:
            return str(
                conn.execute(
                    select(approval_requests.c.status).where(approval_requests.c.uuid == swept)
                ).scalar_one()
            )

    # The provider's sweep expires it without anyone reading it through the API.
    wait_until(lambda: stored_status() == "expired", what="the sweep to expire the request")
    with provider.services.db.read() as conn:
        assert conn.execute(select(deliveries).where(deliveries.c.app_id == s.app_id)).all() == []
    assert receiver.received() == []


def test_a_decision_is_taken_once(provider: LiveProvider, receiver: RecordingServer) -> None:
    s = Setup(provider, receiver)
    uuid = s.request()
    decide(provider, uuid, s.phone, s.device)
    with pytest.raises(ApprovalRequestNotPending):
        decide(provider, uuid, s.phone, s.device, "denied")
    (request,) = receiver.wait_for(1)
    assert json.loads(request.body)["status"] == "approved"
    time.sleep(0.6)
    assert len(receiver.received()) == 1


def test_a_refused_callback_is_not_retried(
    provider: LiveProvider, receiver: RecordingServer
) -> None:
    """A 404 (the receiver no longer knows the login) will not change: one attempt, one failure."""
    receiver.status = 404
    s = Setup(provider, receiver)
    uuid = s.request()
    decide(provider, uuid, s.phone, s.device)
    receiver.wait_for(1)
    row = wait_until(
        lambda: (r := delivery_row(provider, uuid)).status != "pending" and r,
        what="the refusal to be recorded",
    )
    assert row.status == "failed" and row.last_error == "HTTP 404"
    time.sleep(2)  # longer than the test provider's first retry delay: no retry came
    assert len(receiver.received()) == 1
