"""Operator sign-in: password then second factor, one answer for every failure, throttling,
sessions that end, and cookies that cannot be read, sent elsewhere or planted."""

from __future__ import annotations

import pytest

from tests.provider.console.conftest import Console, Operator
from twofa import otp

FAILED = "The name, password or code is not right."


def _password_step(op: Operator, name: str, password: str) -> int:
    op.get("/console/login")
    return op.post("/console/login", {"name": name, "password": password}).status_code


def test_a_password_alone_reaches_nothing_but_the_second_factor(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    first = alice.post("/console/login", {"name": "alice", "password": alice.password})
    assert first.status_code == 303
    assert first.headers["location"].startswith("/console/login/second-factor")
    assert "__Host-twofa_console" not in alice.http.cookies  # no session yet
    for path in ("/console/apps", "/console/account/keys", "/console/"):
        refused = alice.http.get(path)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/console/login?next=")
    assert alice.get(first.headers["location"]).status_code == 200


def test_every_failure_gets_the_same_answer(console: Console) -> None:
    alice = console.operator("alice")
    mallory = console.operator("mallory")
    answers = []
    for name, password in (("alice", "wrong password!!"), ("nobody", alice.password)):
        alice.get("/console/login")
        response = alice.post("/console/login", {"name": name, "password": password})
        answers.append((response.status_code, FAILED in response.text))
    mallory.get("/console/login")
    mallory.post("/console/login", {"name": "mallory", "password": mallory.password})
    mallory.get("/console/login/second-factor")
    wrong_code = mallory.post("/console/login/totp", {"code": "000000"})
    answers.append((wrong_code.status_code, FAILED in wrong_code.text))
    assert answers == [(400, True)] * 3


def test_a_disabled_operator_cannot_sign_in(console: Console) -> None:
    alice = console.operator("alice")
    console.services.operators.disable("alice", actor="cli")
    assert _password_step(alice, "alice", alice.password) == 400


def test_a_totp_code_signs_in_once(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    alice.post("/console/login", {"name": "alice", "password": alice.password})
    alice.get("/console/login/second-factor")
    code = alice.code()
    assert alice.post("/console/login/totp", {"code": code}).status_code == 303

    thief = Operator("alice", "admin", alice.secret, console.browser(), console.clock)
    thief.get("/console/login")
    thief.post("/console/login", {"name": "alice", "password": alice.password})
    thief.get("/console/login/second-factor")
    replayed = thief.post("/console/login/totp", {"code": code})
    assert replayed.status_code == 400
    assert "__Host-twofa_console" not in thief.http.cookies


def test_sign_in_attempts_per_operator_are_throttled(console: Console) -> None:
    alice = console.operator("alice")
    statuses = [_password_step(alice, "alice", f"guess number {n}") for n in range(11)]
    assert statuses == [400] * 10 + [429]
    # Even the right password waits now: the count is taken before the check.
    alice.get("/console/login")
    blocked = alice.post("/console/login", {"name": "alice", "password": alice.password})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_second_factor_guesses_are_throttled(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    alice.post("/console/login", {"name": "alice", "password": alice.password})
    alice.get("/console/login/second-factor")
    statuses = [
        alice.post("/console/login/totp", {"code": f"{n:06d}"}).status_code for n in range(11)
    ]
    assert statuses[-1] == 429
    assert statuses[:-1].count(400) >= 9


def test_the_session_cookie_is_host_only_secure_httponly_strict(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    alice.post("/console/login", {"name": "alice", "password": alice.password})
    alice.get("/console/login/second-factor")
    done = alice.post("/console/login/totp", {"code": alice.code()})
    cookies = done.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("__Host-twofa_console="))
    attributes = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)


def test_a_planted_session_cookie_is_never_adopted(console: Console) -> None:
    alice = console.operator("alice")
    alice.http.cookies.set("__Host-twofa_console", "planted-by-attacker", domain="testserver.local")
    alice.sign_in()
    assert alice.http.cookies.get("__Host-twofa_console") != "planted-by-attacker"
    attacker = console.browser()
    attacker.cookies.set("__Host-twofa_console", "planted-by-attacker", domain="testserver.local")
    assert attacker.get("/console/apps").status_code == 303


def test_sessions_end_when_idle_after_their_maximum_and_at_sign_out(console: Console) -> None:
    settings = console.settings
    alice = console.operator("alice")
    alice.sign_in()
    console.clock.offset += settings.console_session_idle - 30
    assert alice.get("/console/apps").status_code == 200  # used: the idle clock restarts
    console.clock.offset += settings.console_session_idle + 1
    assert alice.get("/console/apps").status_code == 303

    alice.sign_in()
    for _ in range(settings.console_session_max // (settings.console_session_idle - 60) + 1):
        console.clock.offset += settings.console_session_idle - 60
        alice.get("/console/apps")
    assert alice.get("/console/apps").status_code == 303  # past the maximum, however used

    alice.sign_in()
    token = alice.http.cookies.get("__Host-twofa_console")
    assert alice.post("/console/logout").status_code == 303
    replay = console.browser()
    replay.cookies.set("__Host-twofa_console", token, domain="testserver.local")
    assert replay.get("/console/apps").status_code == 303


def test_disabling_an_operator_ends_their_sessions(console: Console) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    console.services.operators.disable("alice", actor="operator:root")
    assert alice.get("/console/apps").status_code == 303


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/x"],
)
def test_next_never_leaves_the_console(console: Console, target: str) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    first = alice.post(
        "/console/login", {"name": "alice", "password": alice.password, "next": target}
    )
    second = alice.post("/console/login/totp", {"code": alice.code(), "next": target})
    assert second.status_code == 303, first.text
    assert second.headers["location"] == "/console/"


def test_sign_in_is_audited_with_the_operator(console: Console) -> None:
    alice = console.operator("alice")
    alice.get("/console/login")
    alice.post("/console/login", {"name": "alice", "password": "not the password"})
    alice.sign_in()
    audit = console.services.audit
    audit.flush_all()
    events = {(e.event, e.subject, e.actor) for e in audit.entries(limit=20)}
    assert ("operator.created", "operator:alice", "cli") in events
    assert ("operator.sign_in_failed", "operator:alice", None) in events
    assert ("operator.signed_in", "operator:alice", "operator:alice") in events
    audit.chain_all()
    assert audit.verify().ok


def test_a_code_from_a_step_already_used_is_refused_for_re_authentication(
    console: Console,
) -> None:
    alice = console.operator("alice")
    alice.sign_in()
    used = otp.totp(alice.secret, console.clock(), digits=6)  # the step sign-in spent
    alice.get("/console/reauth")
    assert alice.post("/console/reauth/totp", {"code": used}).status_code == 400
    again = alice.post("/console/reauth/totp", {"code": alice.code(), "next": "/console/apps"})
    assert again.headers["location"] == "/console/apps"


def test_an_admin_disables_another_operator_after_re_authenticating(console: Console) -> None:
    alice = console.operator("alice")
    bob = console.operator("bob", "helpdesk")
    bob.sign_in()
    alice.sign_in()
    assert "bob" in alice.get("/console/operators").text
    assert bob.get("/console/operators").status_code == 403
    assert bob.post("/console/operators/alice/disable").status_code == 403
    assert alice.get("/console/operators/alice/disable").status_code == 400  # not oneself
    console.clock.offset += console.settings.console_reauth_seconds + 1
    stale = alice.get("/console/operators/bob/disable")
    assert stale.headers["location"] == "/console/reauth?next=/console/operators/bob/disable"
    alice.get("/console/reauth")
    alice.post(
        "/console/reauth/totp", {"code": alice.code(), "next": "/console/operators/bob/disable"}
    )
    alice.get("/console/operators/bob/disable")
    assert alice.post("/console/operators/bob/disable").headers["location"] == "/console/operators"
    assert bob.get("/console/apps").status_code == 303  # bob's session ended
    console.services.audit.flush_all()
    disabled = console.services.audit.entries(event="operator.disabled")
    assert [(e.subject, e.actor) for e in disabled] == [("operator:bob", "operator:alice")]
