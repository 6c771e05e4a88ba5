"""Line types and geo permissions: refused at user creation (line type) and at every send."""

from __future__ import annotations

import json

import pytest

from tests.live.fraud.conftest import assert_refused, tenant
from tests.servers import LiveProvider, e164, run_cli

PREMIUM_AND_CO = [
    (1, "900 555 0100"),  # US premium rate
    (44, "909 879 0000"),  # UK premium rate
    (44, "871 234 5678"),  # UK 0871, charged like premium rate
    (44, "55 1234 5678"),  # UK UAN
    (44, "70 1234 5678"),  # UK personal number
]


@pytest.mark.parametrize(("country_code", "national"), PREMIUM_AND_CO)
def test_premium_and_similar_numbers_are_refused(
    guarded: LiveProvider, country_code: int, national: str
) -> None:
    api = tenant(guarded)
    created = api.call(
        "POST",
        "/protected/json/users/new",
        json={
            "user": {
                "email": "p@example.com",
                "cellphone": national,
                "country_code": 1 * country_code,
            }
        },
    )
    assert_refused(created, "60083", 400)
    started = api.call(
        "POST",
        "/protected/json/phones/verification/start",
        json={"phone_number": national, "country_code": country_code, "via": "call"},
    )
    assert_refused(started, "60083", 400)
    assert guarded.outbox(e164(national, country_code)) == []


def test_countries_outside_the_deployment_list_are_refused(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    authy_id, phone = api.new_user("803 123 4567", country_code=234)  # Nigeria: not by default
    assert_refused(api.sms(authy_id), "60013", 400)
    started = api.call(
        "POST",
        "/protected/json/phones/verification/start",
        json={"phone_number": "803 123 4567", "country_code": 234, "via": "sms"},
    )
    assert_refused(started, "60013", 400)
    assert guarded.outbox(phone) == []


def test_an_application_narrows_its_countries(guarded: LiveProvider) -> None:
    api = tenant(guarded)
    us_user, us_phone = api.new_user()
    gb_user, _ = api.new_user("7700 900123", country_code=44)
    shown = run_cli("fraud", "countries", str(api.app_id), "gb", "--json", env=guarded.env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["countries"] == "GB"
    assert_refused(api.sms(us_user), "60013", 400)
    assert guarded.outbox(us_phone) == []
    assert api.sms(gb_user).status_code == 200
    # Another application keeps the deployment's list.
    other = tenant(guarded)
    assert other.sms(other.new_user()[0]).status_code == 200
    reset = run_cli("fraud", "countries", str(api.app_id), "-", "--json", env=guarded.env)
    assert json.loads(reset.stdout)["countries"] is None
    assert api.sms(us_user).status_code == 200
