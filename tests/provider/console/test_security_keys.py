"""Security keys (WebAuthn) at the console, with a software key: registration and sign-in,
and the attacks the checks stop: a replayed assertion, a phishing origin, a cloned key whose
counter goes back, another operator's key."""

from __future__ import annotations

from typing import Any

from tests.provider.console.conftest import Console, Operator
from tests.provider.console.softkey import SoftKey


def _register(op: Operator, key: SoftKey, name: str = "Desk key") -> int:
    op.get("/console/account/keys")
    options = op.post_json("/console/account/keys/options")
    assert options.status_code == 200, options.text
    done = op.post_json(
        "/console/account/keys/new", {"credential": key.register(options.json()), "name": name}
    )
    return done.status_code


def _sign_out(op: Operator) -> None:
    op.get("/console/apps")  # the page's CSRF token belongs to the session now
    assert op.post("/console/logout").status_code == 303


def _password(op: Operator) -> None:
    op.get("/console/login")
    op.post("/console/login", {"name": op.name, "password": op.password})
    op.get("/console/login/second-factor")


def _options(op: Operator) -> dict[str, Any]:
    response = op.post_json("/console/login/webauthn/options")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_an_operator_registers_a_key_and_signs_in_with_it(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    key = SoftKey()
    assert _register(alice, key) == 200
    assert "Desk key" in alice.get("/console/account/keys").text
    _sign_out(alice)

    _password(alice)
    page = alice.get("/console/login/second-factor")
    assert "Use security key" in page.text
    done = alice.post_json(
        "/console/login/webauthn",
        {"credential": key.assert_(_options(alice)), "next": "/console/apps"},
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"redirect": "/console/apps"}
    assert alice.get("/console/apps").status_code == 200
    console.services.audit.flush_all()
    signed_in = console.services.audit.entries(event="operator.signed_in")
    assert [e.data["factor"] for e in signed_in] == ["totp", "webauthn"]


def test_a_replayed_assertion_is_refused(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    key = SoftKey()
    _register(alice, key)
    _sign_out(alice)
    _password(alice)
    # Counter 0, as many passkeys send: only the spent challenge can stop the replay.
    captured = key.assert_(_options(alice), counter=0)
    assert alice.post_json("/console/login/webauthn", {"credential": captured}).status_code == 200

    thief = Operator("alice", "admin", "", console.browser(), console.clock)
    _password(thief)
    _options(thief)  # a fresh challenge exists; the captured answer signed the old one
    replay = thief.post_json("/console/login/webauthn", {"credential": captured})
    assert replay.status_code == 400
    assert thief.get("/console/apps").status_code == 303


def test_an_assertion_made_for_another_origin_is_refused(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    key = SoftKey()
    _register(alice, key)
    _sign_out(alice)
    _password(alice)
    phished = key.assert_(_options(alice), origin="https://console.evil.example")
    assert alice.post_json("/console/login/webauthn", {"credential": phished}).status_code == 400
    wrong_rp = key.assert_(_options(alice), rp_id="evil.example")
    assert alice.post_json("/console/login/webauthn", {"credential": wrong_rp}).status_code == 400


def test_a_cloned_key_whose_counter_goes_back_is_refused(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    key = SoftKey()
    _register(alice, key)
    _sign_out(alice)
    _password(alice)
    first = key.assert_(_options(alice), counter=10)
    assert alice.post_json("/console/login/webauthn", {"credential": first}).status_code == 200
    _sign_out(alice)
    _password(alice)
    clone = key.assert_(_options(alice), counter=5)
    assert alice.post_json("/console/login/webauthn", {"credential": clone}).status_code == 400


def test_another_operators_key_does_not_sign_in(console: Console) -> None:
    alice = console.operator("alice")
    bob = console.operator("bob")
    bob.sign_in()
    bobs_key = SoftKey()
    _register(bob, bobs_key)
    alice.sign_in()
    _register(alice, SoftKey())
    _sign_out(alice)
    _password(alice)
    forged = bobs_key.assert_(_options(alice))
    assert alice.post_json("/console/login/webauthn", {"credential": forged}).status_code == 400


def test_a_key_registered_for_another_origin_is_refused(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    alice.get("/console/account/keys")
    options = alice.post_json("/console/account/keys/options").json()
    key = SoftKey()
    made = key.register(options, origin="https://console.evil.example")
    refused = alice.post_json("/console/account/keys/new", {"credential": made, "name": "x"})
    assert refused.status_code == 400
    assert console.services.passkeys.credentials(1) == []


def test_re_authentication_with_a_key(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    key = SoftKey()
    _register(alice, key)
    console.clock.offset += console.settings.console_reauth_seconds + 1
    page = alice.get("/console/reauth?next=/console/account/keys")
    assert "Use security key" in page.text
    options = alice.post_json("/console/reauth/webauthn/options").json()
    done = alice.post_json(
        "/console/reauth/webauthn",
        {"credential": key.assert_(options), "next": "/console/account/keys"},
    )
    assert done.json() == {"redirect": "/console/account/keys"}
    assert alice.post_json("/console/account/keys/options").status_code == 200
