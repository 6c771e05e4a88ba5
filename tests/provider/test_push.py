"""OneTouch approval requests in-process: create, list on the device, decide, read the status."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.provider.conftest import Authy
from twofa.authenticator.device import DeviceApiError
from twofa.storage.database import utcnow
from twofa.storage.tables import approval_requests


def test_approved_request_reads_approved(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    uuid = authy.push(user, "Log in to Example?", details={"Email": "alice@example.com"})
    assert authy.status(uuid)["status"] == "pending"

    (pending,) = phone.pending()
    assert pending.uuid == uuid
    assert pending.message == "Log in to Example?"
    assert phone.approve(uuid) == "approved"

    status = authy.status(uuid)
    assert status["status"] == "approved"
    assert status["uuid"] == uuid
    assert phone.pending() == []


def test_denied_request_reads_denied(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    uuid = authy.push(user)
    assert phone.deny(uuid) == "denied"
    assert authy.status(uuid)["status"] == "denied"


def test_a_decided_request_cannot_be_decided_again(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    uuid = authy.push(user)
    phone.deny(uuid)
    try:
        phone.approve(uuid)
    except DeviceApiError as error:
        assert 400 <= error.status < 500
    else:
        raise AssertionError("a second decision was accepted")
    assert authy.status(uuid)["status"] == "denied"


def test_number_matching_denies_a_wrong_number(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    created = authy.push_json(user, number_matching=True)
    number = int(created["number"])
    (pending,) = phone.pending()
    assert pending.number_matching and pending.numbers is None  # typed, never offered
    wrong = 10 + (number - 9) % 90
    assert phone.approve(created["uuid"], number=wrong) == "denied"
    assert authy.status(created["uuid"])["status"] == "denied"


def test_number_matching_approves_the_shown_number(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    created = authy.push_json(user, number_matching=True)
    assert phone.approve(created["uuid"], number=int(created["number"])) == "approved"


def test_another_application_cannot_read_the_request(authy: Authy, http: TestClient) -> None:
    user = authy.new_user()
    uuid = authy.push(user)
    other = Authy(http, authy.services, callback_url=None)
    response = other.get(f"/onetouch/json/approval_requests/{uuid}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "60049"


def test_push_to_an_unknown_user_is_a_clean_404(authy: Authy) -> None:
    response = authy.post(
        "/onetouch/json/users/999999/approval_requests", json={"message": "Log in?"}
    )
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_push_without_a_message_is_refused(authy: Authy) -> None:
    user = authy.new_user()
    response = authy.post(f"/onetouch/json/users/{user.id}/approval_requests", json={})
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_overdue_requests_expire_on_the_sweep(authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    overdue, fresh = authy.push(user, seconds_to_expire=60), authy.push(user)
    with authy.services.db.write() as conn:  # time passes for one request only
        conn.execute(
            update(approval_requests)
            .where(approval_requests.c.uuid == overdue)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert authy.services.push.expire_due() == 1
    assert authy.status(overdue)["status"] == "expired"
    assert authy.status(fresh)["status"] == "pending"
    assert [r.uuid for r in phone.pending()] == [fresh]
