"""Attempt limits that hold: reserve first, under real concurrency, on both backends.

The attacks: 40 concurrent guesses got the right code accepted as the 40th with a limit of 10
(check-then-count); wrong codes were unlimited across a fixed window's boundary; phone
verification codes survived any number of wrong checks; concurrent registration confirms passed
the cap of five.
"""

from __future__ import annotations

import httpx

from tests.live.fraud.conftest import Tenant, assert_refused, tenant, together, wrong
from tests.servers import LiveProvider, e164
from twofa.authenticator import keys

LIMIT = 10  # TWOFA_LIMIT_VERIFY_FAILURES_PER_USER in ATTACK_ENV


def test_forty_concurrent_guesses_compare_at_most_the_limit(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    authy_id, phone = api.new_user()
    assert api.sms(authy_id).status_code == 200
    code = guarded.last_code(phone)
    answers = together([lambda n=n: api.verify(authy_id, wrong(code, n)) for n in range(40)])
    statuses = [a.status_code for a in answers]
    assert statuses.count(401) <= LIMIT, statuses  # compared: at most the limit
    assert statuses.count(401) + statuses.count(429) == 40, statuses
    for refused in (a for a in answers if a.status_code == 429):
        assert_refused(refused)
    # The right code as the 41st attempt: refused without being compared.
    assert_refused(api.verify(authy_id, code))


def test_a_right_code_after_39_concurrent_wrong_ones_is_refused(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    authy_id, phone = api.new_user()
    api.sms(authy_id)
    code = guarded.last_code(phone)
    statuses = [
        a.status_code
        for a in together([lambda n=n: api.verify(authy_id, wrong(code, n)) for n in range(39)])
    ]
    assert statuses.count(401) <= LIMIT, statuses
    assert_refused(api.verify(authy_id, code))


def test_wrong_codes_back_off_instead_of_resetting(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    authy_id, phone = api.new_user()
    api.sms(authy_id)
    code = guarded.last_code(phone)
    answers = [api.verify(authy_id, wrong(code, n)) for n in range(LIMIT + 10)]
    assert [a.status_code for a in answers[:LIMIT]] == [401] * LIMIT
    for refused in answers[LIMIT:]:
        assert_refused(refused)
        assert 500 <= int(refused.headers["Retry-After"]) <= 600  # the first wait: 600 s
    assert_refused(api.verify(authy_id, code))
    # The lockout is per (application, user): the same phone in another application is free.
    other = tenant(guarded)
    other_id, _ = other.new_user(phone[2:])
    other.sms(other_id)
    assert other.verify(other_id, guarded.last_code(phone)).status_code == 200


def test_a_success_gives_the_attempts_back(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    authy_id, phone = api.new_user()
    for _ in range(3):
        api.sms(authy_id)
        code = guarded.last_code(phone)
        for n in range(LIMIT - 1):
            assert api.verify(authy_id, wrong(code, n)).status_code == 401
        assert api.verify(authy_id, code).status_code == 200


def _start_verification(api: Tenant, national: str) -> None:
    answer = api.call(
        "POST",
        "/protected/json/phones/verification/start",
        json={"phone_number": national, "country_code": 1, "via": "sms", "code_length": 4},
    )
    assert answer.status_code == 200, answer.text


def _check(api: Tenant, national: str, code: str) -> httpx.Response:
    return api.call(
        "GET",
        "/protected/json/phones/verification/check",
        params={"phone_number": national, "country_code": 1, "verification_code": code},
    )


def test_a_phone_verification_ends_after_five_wrong_checks(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    national = guarded.new_phone()
    _start_verification(api, national)
    code = guarded.last_code(e164(national), 4)
    for n in range(5):
        assert_refused(_check(api, national, wrong(code, n)), "60022", 401)
    assert_refused(_check(api, national, code), "60023", 404)  # over: ask for a new code
    _start_verification(api, national)
    assert _check(api, national, guarded.last_code(e164(national), 4)).status_code == 200


def test_concurrent_phone_checks_compare_at_most_five(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    national = guarded.new_phone()
    _start_verification(api, national)
    code = guarded.last_code(e164(national), 4)
    answers = together([lambda n=n: _check(api, national, wrong(code, n)) for n in range(30)])
    statuses = [a.status_code for a in answers]
    assert statuses.count(401) <= 5, statuses
    assert set(statuses) <= {401, 404, 429}, statuses
    assert_refused(_check(api, national, code), "60023", 404)


def test_concurrent_registration_confirms_compare_at_most_five(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    national = guarded.new_phone()
    api.new_user(national)  # a number some application knows gets a code
    started = httpx.post(
        guarded.url + "/device/v1/registrations",
        json={"country_code": "1", "phone_number": national},
        timeout=30,
    )
    assert started.status_code == 200, started.text
    registration = started.json()["registration_id"]
    code = guarded.last_code(e164(national), 6)
    device = {
        "name": "attacker",
        "os_type": "cli",
        "public_key": keys.public_jwk(keys.generate()),
    }

    def confirm(token: str) -> httpx.Response:
        return httpx.post(
            f"{guarded.url}/device/v1/registrations/{registration}/confirm",
            json={"code": token, **device},
            timeout=30,
        )

    answers = together([lambda n=n: confirm(wrong(code, n)) for n in range(30)])
    statuses = [a.status_code for a in answers]
    assert statuses.count(401) <= 5, statuses
    assert set(statuses) <= {401, 404}, statuses
    assert confirm(code).status_code == 404  # the registration is over
