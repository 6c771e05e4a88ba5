"""Per-phone budgets are per (application, phone), with a higher deployment-wide backstop.

The attack: one tenant (or the demo site's anonymous sign-up) spent a victim number's budget and
locked it out of SMS codes in every application.
"""

from __future__ import annotations

from tests.live.fraud.conftest import assert_refused, tenant
from tests.servers import LiveProvider, e164


def test_a_tenant_cannot_spend_another_tenants_budget(guarded: LiveProvider) -> None:
    national = guarded.new_phone()
    attacker, victim = tenant(guarded), tenant(guarded)
    attacker_user, _ = attacker.new_user(national)
    victim_user, phone = victim.new_user(national)
    per_app = guarded.settings.limit("sms_per_phone").count
    answers = [attacker.sms(attacker_user) for _ in range(per_app + 5)]
    assert [a.status_code for a in answers[:per_app]] == [200] * per_app
    for refused in answers[per_app:]:
        assert_refused(refused)
    answer = victim.sms(victim_user)
    assert answer.status_code == 200, answer.text
    assert victim.verify(victim_user, guarded.last_code(phone)).status_code == 200


def test_the_deployment_wide_backstop_per_phone(guarded: LiveProvider) -> None:
    national = guarded.new_phone()
    total = guarded.settings.limit("sms_per_phone_total").count
    sent = 0
    while sent < total:
        api = tenant(guarded)
        authy_id, _ = api.new_user(national)
        while sent < total and api.sms(authy_id).status_code == 200:
            sent += 1
    api = tenant(guarded)
    authy_id, _ = api.new_user(national)
    assert_refused(api.sms(authy_id))
    assert len(guarded.outbox(e164(national))) == total
