"""SMS pumping: a prefix whose sends do not convert is blocked for that application only."""

from __future__ import annotations

import json
import time

import httpx

from tests.live.fraud.conftest import ATTACK_ENV, assert_refused, tenant
from tests.servers import LiveProvider, run_cli

MIN_SENDS = int(ATTACK_ENV["TWOFA_FRAUD_MIN_SENDS"])


def _pumped_number(n: int) -> str:
    return f"7700 9{n:05d}"  # +44 7700 9xxxxx: one prefix (+44770), fictional numbers


def test_a_pumped_prefix_is_blocked_and_others_are_untouched(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    legit_user, legit_phone = api.new_user()  # +1 201: another prefix of the same application
    statuses = []
    for n in range(MIN_SENDS + 3):
        authy_id, _ = api.new_user(_pumped_number(n), country_code=44)
        statuses.append(api.sms(authy_id))
    assert [a.status_code for a in statuses[: MIN_SENDS - 1]] == [200] * (MIN_SENDS - 1)
    for refused in statuses[MIN_SENDS - 1 :]:
        assert_refused(refused)
    sent = sum(1 for a in statuses if a.status_code == 200)
    assert sent == MIN_SENDS - 1
    # Legitimate users elsewhere: code sent and verified while the attack runs.
    assert api.sms(legit_user).status_code == 200
    assert api.verify(legit_user, guarded.last_code(legit_phone)).status_code == 200
    # Another application sending to the same prefix is not blocked.
    other = tenant(guarded)
    assert other.sms(other.new_user(_pumped_number(999), country_code=44)[0]).status_code == 200
    # Visible: audit log, metrics, command line; and liftable.
    blocks = json.loads(run_cli("fraud", "list", "--json", env=guarded.env).stdout)
    mine = [b for b in blocks if b["app_id"] == api.app_id]
    assert [(b["prefix"], b["conversions"]) for b in mine] == [("+44770", 0)]
    metrics = httpx.get(guarded.url + "/metrics", timeout=10).text
    assert "twofa_fraud_blocks_total" in metrics
    _wait_for_audit(guarded, "fraud.blocked", "prefix:+44770")
    lifted = run_cli("fraud", "unblock", str(mine[0]["id"]), "--json", env=guarded.env)
    assert lifted.returncode == 0, lifted.stderr
    authy_id, _ = api.new_user(_pumped_number(500), country_code=44)
    assert api.sms(authy_id).status_code == 200
    assert not [
        b
        for b in json.loads(run_cli("fraud", "list", "--json", env=guarded.env).stdout)
        if b["app_id"] == api.app_id
    ]


def test_a_prefix_that_converts_is_not_blocked(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    for n in range(MIN_SENDS * 2):
        national = _pumped_number(n)
        authy_id, phone = api.new_user(national, country_code=44)
        assert api.sms(authy_id).status_code == 200
        if n % 3:  # two in three users finish their login
            assert api.verify(authy_id, guarded.last_code(phone)).status_code == 200


def _wait_for_audit(live: LiveProvider, event: str, subject: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = run_cli("audit", "--json", "--limit", "100000", "--event", event, env=live.env)
        if any(entry["subject"] == subject for entry in json.loads(shown.stdout or "[]")):
            return
        time.sleep(0.3)
    raise AssertionError(f"no {event} for {subject} in the audit log")
