"""Nothing is sent to a number no one asked for.

The attack: ``POST /device/v1/registrations`` needs no key; 30 voice calls to UK 09xx, US 900 and
+882 numbers went out in 2.1 s from one client, and rotating numbers was unlimited.
"""

from __future__ import annotations

import httpx

from tests.live.fraud.conftest import assert_refused, tenant
from tests.servers import LiveProvider, e164

# (country code, national number): premium-rate UK and US, and the +882 international network.
HOSTILE = [("44", "909 879 0000"), ("1", "900 555 0100"), ("882", "1234567890")]


def register(live: LiveProvider, country: str, national: str, **headers: str) -> httpx.Response:
    return httpx.post(
        live.url + "/device/v1/registrations",
        json={"country_code": country, "phone_number": national, "via": "call"},
        headers=headers,
        timeout=30,
    )


def test_calls_go_only_to_numbers_an_application_knows(guarded: LiveProvider) -> None:
    before = len(guarded.outbox())
    rotating = [("1", guarded.new_phone()) for _ in range(20)]
    answers = [register(guarded, cc, national) for cc, national in HOSTILE + rotating]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"registration_id", "seconds_to_expire", "success"}
    assert len(guarded.outbox()) == before  # not one call placed
    # A number some application knows does get its code, with the same answer.
    known = guarded.new_phone()
    tenant(guarded).new_user(known)
    answer = register(guarded, "1", known)
    assert set(answer.json()) == set(answers[0].json())
    assert [m.channel for m in guarded.outbox(e164(known))] == ["call"]


def test_registrations_per_number_back_off(guarded: LiveProvider) -> None:
    national = guarded.new_phone()
    tenant(guarded).new_user(national)
    free = guarded.settings.limit("device_registrations_per_number").count
    for _ in range(free):
        assert register(guarded, "1", national).status_code == 200
    refused = register(guarded, "1", national)
    assert_refused(refused)
    assert 500 <= int(refused.headers["Retry-After"]) <= 600
    assert len(guarded.outbox(e164(national))) == free
    # An unknown number is budgeted the same way: a 429 reveals nothing either.
    unknown = guarded.new_phone()
    for _ in range(free):
        register(guarded, "1", unknown)
    assert_refused(register(guarded, "1", unknown))
