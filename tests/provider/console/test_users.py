"""Users from the console: search, unlock, revoke a device, delete, retry a delivery; helpdesk
may do the first three, read-only none, and every change names its operator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.provider.conftest import Authy, Callbacks
from tests.provider.console.conftest import Console
from tests.servers import RecordedPath
from twofa.storage.tables import deliveries


def test_search_by_authy_id_phone_and_e_mail(console: Console, authy: Authy) -> None:
    user = authy.new_user("Carol.Jones@example.com")
    other = authy.new_user("dave@example.com")
    reader = console.operator("reader", "read-only")
    reader.start_session()
    for query in (str(user.id), user.phone, user.national, "carol.jones@EXAMPLE.com"):
        page = reader.get("/console/users", params={"q": query})
        assert page.status_code == 200
        assert f'/console/users/{authy.app_id}/{user.id}"' in page.text, query
        assert f'/console/users/{authy.app_id}/{other.id}"' not in page.text, query
    for hostile in ("%", "_", "' OR 1=1 --", "\x00", "9" * 400, "@"):
        page = reader.get("/console/users", params={"q": hostile})
        assert page.status_code == 200
        assert "No user matches" in page.text


def test_a_user_page_shows_devices_codes_and_requests(console: Console, authy: Authy) -> None:
    user = authy.new_user()
    authy.enrol(user, name="Carol's phone")
    uuid = authy.push(user, "Sign in to Acme?")
    assert authy.sms(user, force="true").status_code == 200
    reader = console.operator("reader", "read-only")
    reader.start_session()
    page = reader.get(f"/console/users/{authy.app_id}/{user.id}")
    assert page.status_code == 200
    assert "Carol&#39;s phone" in page.text
    assert "Sign in to Acme?" in page.text
    assert "sms" in page.text
    assert uuid  # the request is listed by its message; the page never shows a code
    code = authy.last_code(user.phone)
    assert code not in page.text
    assert "Revoke" not in page.text and "Unlock" not in page.text  # read-only: no buttons


def test_helpdesk_unlocks_a_locked_user(console: Console, authy: Authy) -> None:
    user = authy.new_user()
    free = console.settings.limit("verify_failures_per_user").count
    statuses = [authy.verify(user, "0000000").status_code for _ in range(free + 1)]
    assert statuses[-1] == 429
    helper = console.operator("helper", "helpdesk")
    helper.start_session()
    helper.get(f"/console/users/{authy.app_id}/{user.id}")
    done = helper.post(f"/console/users/{authy.app_id}/{user.id}/unlock")
    assert done.status_code == 303
    assert authy.verify(user, "0000000").status_code == 401  # checked again, not refused
    console.services.audit.flush_all()
    unlocked = console.services.audit.entries(event="user.unlocked")
    assert [(e.subject, e.actor) for e in unlocked] == [(f"user:{user.id}", "operator:helper")]


def test_helpdesk_revokes_a_device_and_read_only_may_not(console: Console, authy: Authy) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    other_user = authy.new_user()
    other_phone = authy.enrol(other_user)
    reader = console.operator("reader", "read-only")
    reader.start_session()
    path = f"/console/users/{authy.app_id}/{user.id}/devices/{phone.device_uuid}/revoke"
    assert reader.post(path).status_code == 403
    helper = console.operator("helper", "helpdesk")
    helper.start_session()
    # Another phone's device cannot be revoked through this user's page.
    wrong = f"/console/users/{authy.app_id}/{user.id}/devices/{other_phone.device_uuid}/revoke"
    assert helper.post(wrong).status_code == 404
    assert helper.post(path).status_code == 303
    assert authy.status(authy.push(other_user))["status"] == "pending"
    page = helper.get(f"/console/users/{authy.app_id}/{user.id}")
    assert "revoked" in page.text
    console.services.audit.flush_all()
    revoked = console.services.audit.entries(event="device.revoked")
    assert [(e.subject, e.actor) for e in revoked] == [
        (f"device:{phone.device_uuid}", "operator:helper")
    ]


@pytest.mark.parametrize("role", ["helpdesk", "read-only"])
def test_only_admins_delete_users(console: Console, authy: Authy, role: str) -> None:
    user = authy.new_user()
    other = console.operator("other", role)
    other.start_session()
    path = f"/console/users/{authy.app_id}/{user.id}/delete"
    assert other.get(path).status_code == 403
    assert other.post(path).status_code == 403
    assert authy.get(f"/protected/json/users/{user.id}/status").status_code == 200


def test_deleting_a_user_needs_a_recent_second_factor(console: Console, authy: Authy) -> None:
    user = authy.new_user()
    alice = console.operator("alice")
    alice.start_session()
    path = f"/console/users/{authy.app_id}/{user.id}/delete"
    console.clock.offset += console.settings.console_reauth_seconds + 1
    assert alice.get(path).headers["location"] == f"/console/reauth?next={path}"
    alice.get("/console/reauth")
    alice.post("/console/reauth/totp", {"code": alice.code(), "next": path})
    alice.get(path)
    assert alice.post(path).headers["location"] == "/console/users"
    assert authy.get(f"/protected/json/users/{user.id}/status").status_code == 404


def test_helpdesk_retries_a_failed_callback(
    console: Console, authy: Authy, receiver: RecordedPath, callbacks: Callbacks
) -> None:
    user = authy.new_user()
    phone = authy.enrol(user)
    uuid = authy.push(user)
    receiver.server.status = 400  # a refusal: final, not retried by itself
    phone.approve(uuid)
    assert callbacks.deliver_due() == ["HTTP 400"]
    assert callbacks.deliver_due() == []
    with console.services.db.read() as conn:
        row_id = conn.execute(select(deliveries.c.id).where(deliveries.c.subject == uuid)).scalar()
    reader = console.operator("reader", "read-only")
    reader.start_session()
    assert reader.post(f"/console/deliveries/{row_id}/retry").status_code == 403
    helper = console.operator("helper", "helpdesk")
    helper.start_session()
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        sent = helper.post(f"/console/deliveries/{row_id}/retry", {"next": hostile})
        assert sent.headers["location"] == "/console/"
        assert callbacks.deliver_due() == ["HTTP 400"]
    receiver.server.status = 200
    done = helper.post(f"/console/deliveries/{row_id}/retry", {"next": f"/requests/{uuid}"})
    assert done.headers["location"] == f"/console/requests/{uuid}"
    assert callbacks.deliver_due() == [None]
    assert helper.post(f"/console/deliveries/{row_id}/retry").status_code == 404  # delivered
    assert helper.post("/console/deliveries/99999999/retry").status_code == 404
