"""Applications from the console: each change goes through the services, is refused to roles
that may not make it, asks for a recent second factor where it must, and is audited under the
operator's name."""

from __future__ import annotations

import re

import pytest

from tests.provider.conftest import Authy
from tests.provider.console.conftest import Console, Operator
from tests.servers import RecordedPath


def _key(page: str) -> str:
    found = re.search(r"data-api-key>([A-Z0-9]+)<", page)
    assert found, page
    return found.group(1)


def _create(op: Operator, name: str = "Shop", callback_url: str = "") -> tuple[int, str]:
    op.get("/console/apps/new")
    created = op.post("/console/apps/new", {"name": name, "callback_url": callback_url})
    assert created.status_code == 200, created.text
    app = next(a for a in op_services(op).apps.all() if a.name == name)
    return app.id, _key(created.text)


def op_services(op: Operator):  # type: ignore[no-untyped-def]
    return op.http.app.state.services  # type: ignore[attr-defined]


def _authy_ok(console: Console, key: str) -> int:
    return (
        console.browser()
        .get("/protected/json/app/details", headers={"X-Authy-API-Key": key})
        .status_code
    )


def test_an_admin_creates_an_application_whose_key_is_shown_once(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, key = _create(alice)
    assert _authy_ok(console, key) == 200
    detail = alice.get(f"/console/apps/{app_id}")
    assert detail.status_code == 200
    assert key not in detail.text and key not in alice.get("/console/apps").text


def test_rotating_a_key_asks_for_a_recent_second_factor(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, old_key = _create(alice)
    console.clock.offset += console.settings.console_reauth_seconds + 1
    confirm = alice.get(f"/console/apps/{app_id}/rotate")
    assert confirm.status_code == 303
    assert confirm.headers["location"] == f"/console/reauth?next=/console/apps/{app_id}/rotate"
    # A POST made without the recent factor is sent the same way, and changes nothing.
    assert alice.post(f"/console/apps/{app_id}/rotate").status_code == 303
    assert _authy_ok(console, old_key) == 200

    alice.get(confirm.headers["location"])
    back = alice.post(
        "/console/reauth/totp", {"code": alice.code(), "next": f"/console/apps/{app_id}/rotate"}
    )
    assert back.headers["location"] == f"/console/apps/{app_id}/rotate"
    alice.get(back.headers["location"])
    rotated = alice.post(f"/console/apps/{app_id}/rotate")
    assert rotated.status_code == 200
    new_key = _key(rotated.text)
    assert _authy_ok(console, new_key) == 200
    assert _authy_ok(console, old_key) == 401

    audit = console.services.audit
    audit.flush_all()
    rotations = audit.entries(event="app.key_rotated")
    assert [(e.app_id, e.actor) for e in rotations] == [(app_id, "operator:alice")]
    audit.chain_all()
    assert audit.verify().ok


@pytest.mark.parametrize("role", ["helpdesk", "read-only"])
def test_other_roles_may_not_rotate_create_or_delete(console: Console, role: str) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, key = _create(alice)
    bob = console.operator("bob", role)
    bob.start_session()
    assert bob.get(f"/console/apps/{app_id}").status_code == 200  # every role sees
    for path in (
        f"/console/apps/{app_id}/rotate",
        f"/console/apps/{app_id}/delete",
        "/console/apps/new",
    ):
        assert bob.get(path).status_code == 403
        assert bob.post(path, {"name": "x"}).status_code == 403
    for path in ("callback", "features", "defaults", "countries"):
        assert bob.post(f"/console/apps/{app_id}/{path}", {"callback_url": ""}).status_code == 403
    assert _authy_ok(console, key) == 200
    assert "New application" not in bob.get("/console/apps").text


def test_read_only_may_not_touch_callbacks_but_helpdesk_may(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, _ = _create(alice)
    reader = console.operator("reader", "read-only")
    reader.start_session()
    helper = console.operator("helper", "helpdesk")
    helper.start_session()
    assert reader.post(f"/console/apps/{app_id}/callback/retry").status_code == 403
    assert reader.post(f"/console/apps/{app_id}/callback/resume").status_code == 403
    assert helper.post(f"/console/apps/{app_id}/callback/retry").status_code == 303
    assert helper.post(f"/console/apps/{app_id}/callback/resume").status_code == 303


def test_deleting_an_application_stops_its_key(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, key = _create(alice)
    alice.get(f"/console/apps/{app_id}/delete")
    gone = alice.post(f"/console/apps/{app_id}/delete")
    assert gone.headers["location"] == "/console/apps"
    assert _authy_ok(console, key) == 401
    assert alice.get(f"/console/apps/{app_id}").status_code == 404


def test_callback_url_and_a_test_send(console: Console, receiver: RecordedPath) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, _ = _create(alice)
    alice.get(f"/console/apps/{app_id}")
    url = receiver.url + "/authy/callback"
    assert alice.post(f"/console/apps/{app_id}/callback", {"callback_url": url}).status_code == 303
    assert console.services.apps.get(app_id).callback_url == url
    tested = alice.post(f"/console/apps/{app_id}/callback/test")
    assert tested.status_code == 303
    page = alice.get(tested.headers["location"])
    assert "Test callback delivered" in page.text
    sent = receiver.received()
    assert len(sent) == 1
    assert {k.lower() for k in sent[0].headers} >= {"x-authy-signature", "x-authy-signature-nonce"}
    receiver.server.status = 500
    alice.post(f"/console/apps/{app_id}/callback/test")
    assert "HTTP 500" in alice.get(f"/console/apps/{app_id}").text


def test_bad_callback_urls_are_refused_with_a_page(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id, _ = _create(alice)
    alice.get(f"/console/apps/{app_id}")
    for url in ("ftp://example.com/x", "not a url", "http://[::1", "http://x:99999/"):
        refused = alice.post(f"/console/apps/{app_id}/callback", {"callback_url": url})
        assert refused.status_code == 400, url


def test_features_defaults_and_countries(console: Console, authy: Authy) -> None:
    alice = console.operator("alice")
    alice.start_session()
    app_id = authy.app_id
    alice.get(f"/console/apps/{app_id}")
    assert (
        alice.post(
            f"/console/apps/{app_id}/features", {"sms_enabled": "on", "onetouch_enabled": "on"}
        ).status_code
        == 303
    )
    app = console.services.apps.get(app_id)
    assert app.sms_enabled and not app.calls_enabled and not app.multi_device
    saved = alice.post(
        f"/console/apps/{app_id}/defaults", {"number_matching": "on", "onetouch_ttl": "90"}
    )
    assert saved.status_code == 303
    user = authy.new_user()
    authy.enrol(user)
    request = authy.push_json(user, "Log in?")
    assert request.get("number") is not None  # number matching by default now
    status = authy.status(request["uuid"])
    assert status["seconds_to_expire"] == 90
    assert (
        alice.post(f"/console/apps/{app_id}/defaults", {"onetouch_ttl": "soon"}).status_code == 303
    )
    assert console.services.apps.get(app_id).onetouch_ttl == 90

    assert (
        alice.post(f"/console/apps/{app_id}/countries", {"countries": "ca, us"}).status_code == 303
    )
    assert console.services.apps.get(app_id).allowed_countries == "CA,US"
    assert (
        alice.post(f"/console/apps/{app_id}/countries", {"countries": "Canada"}).status_code == 400
    )
    assert alice.post(f"/console/apps/{app_id}/countries", {"countries": ""}).status_code == 303
    assert console.services.apps.get(app_id).allowed_countries is None

    console.services.audit.flush_all()
    actors = {e.actor for e in console.services.audit.entries(limit=200) if e.app_id == app_id}
    assert "operator:alice" in actors


def test_unknown_applications_answer_404(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    for path in ("/console/apps/999999", "/console/apps/999999/rotate"):
        assert alice.get(path).status_code == 404
    for path in ("callback", "features", "defaults", "callback/test"):
        assert alice.post(f"/console/apps/999999/{path}").status_code == 404
    assert alice.get("/console/apps/abc").status_code == 400
