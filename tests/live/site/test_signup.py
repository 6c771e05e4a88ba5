"""Sign-up: the phone is proved with a code before any account or provider user exists."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.live.site.conftest import Browser, CountingTransport
from tests.servers import e164
from twofa.client import Client, UserNotFound
from twofa.site.db import users


def _count_users(browser: Browser) -> int:
    engine = browser.app.extensions["twofa_site_database"].engine
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def _provider_users(calls: CountingTransport) -> list[str]:
    return [r for r in calls.requests if r.endswith("/protected/json/users/new")]


def test_the_phone_is_bound_only_after_its_code(
    site: Browser, api_key: str, calls: CountingTransport
) -> None:
    response = site.sign_up_form()
    assert response.headers["Location"] == "/sign-up/confirm"
    # A code went to the phone through phone verification; nothing is registered anywhere.
    assert calls.requests == ["POST /protected/json/phones/verification/start"]
    assert _count_users(site) == 0
    assert len(site.live.outbox(site.e164)) == 1
    page = site.get("/sign-up/confirm").get_data(as_text=True)
    assert "We sent a code by text message" in page and site.phone[-2:] in page
    assert site.get("/account").status_code == 302

    wrong = site.post("/sign-up/confirm", {"code": "000000"}, csrf_from="/sign-up/confirm")
    assert wrong.status_code == 422 and "That code is not valid" in wrong.get_data(as_text=True)
    assert _provider_users(calls) == [] and _count_users(site) == 0

    code = site.live.last_code(site.e164, 6)
    done = site.post("/sign-up/confirm", {"code": code}, csrf_from="/sign-up/confirm")
    assert done.headers["Location"] == "/account"
    assert len(_provider_users(calls)) == 1 and _count_users(site) == 1
    user = site.user()
    assert (user.phone, user.country_code) == (site.phone.replace("-", ""), 1)
    with Client(api_key, site.live.url) as provider:
        status = provider.user_status(user.authy_id)
    assert status.phone_number.endswith(site.phone[-4:])
    account = site.get("/account")
    assert account.status_code == 200 and "Alice Example" in account.get_data(as_text=True)


def test_a_number_typed_by_someone_else_is_never_bound(
    site: Browser, other: Browser, api_key: str, calls: CountingTransport
) -> None:
    """Sign-ups that never confirm leave the victim's number with codes only, no user."""
    for n in range(3):
        other.sign_up_form(email=f"thrower{n}@example.com", phone=site.phone)
    assert _provider_users(calls) == []
    assert _count_users(site) == 0
    with Client(api_key, site.live.url) as provider, pytest.raises(UserNotFound):
        provider.user_status(1)


def test_too_many_wrong_codes_end_the_sign_up(site: Browser) -> None:
    site.sign_up_form()
    for _ in range(4):
        site.post("/sign-up/confirm", {"code": "000000"}, csrf_from="/sign-up/confirm")
    last = site.post("/sign-up/confirm", {"code": "000000"}, csrf_from="/sign-up/confirm")
    assert last.headers["Location"] == "/sign-up"
    assert site.get("/sign-up/confirm").headers["Location"] == "/sign-up"
    assert _count_users(site) == 0


def test_sign_up_with_provider_down_creates_nothing(
    build_app: Callable[..., Flask], site: Browser, closed_url: str
) -> None:
    cut_off = Browser(build_app(provider_url=closed_url), site.live)
    response = cut_off.sign_up_form()
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "verification service is not reachable" in page
    assert "Your account was not created." in page
    assert _count_users(site) == 0
    assert "signup" not in cut_off.session()
    # Once the provider answers again, the same details sign up.
    assert site.sign_up_form().headers["Location"] == "/sign-up/confirm"


def test_sign_up_refuses_a_taken_email(site: Browser, other: Browser) -> None:
    site.register()
    response = other.sign_up_form()
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    assert _count_users(site) == 1


def test_sign_up_checks_the_phone_for_the_country(site: Browser, calls: CountingTransport) -> None:
    response = site.sign_up_form(phone="12")
    assert response.status_code == 422
    assert "valid mobile number" in response.get_data(as_text=True)
    assert calls.requests == []
    assert _count_users(site) == 0


@pytest.mark.parametrize(
    ("region", "kind"),
    [
        ("US", phonenumbers.PhoneNumberType.PREMIUM_RATE),
        ("GB", phonenumbers.PhoneNumberType.PREMIUM_RATE),
        ("FR", phonenumbers.PhoneNumberType.SHARED_COST),
        ("DE", phonenumbers.PhoneNumberType.SHARED_COST),
        ("US", phonenumbers.PhoneNumberType.TOLL_FREE),
    ],
)
def test_premium_and_shared_cost_numbers_are_refused(
    site: Browser, calls: CountingTransport, region: str, kind: int
) -> None:
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None and phonenumbers.number_type(example) == kind
    number = phonenumbers.national_significant_number(example)
    response = site.post(
        "/sign-up",
        {
            "full_name": "Alice Example",
            "email": "alice@example.com",
            "password": "correct horse battery",
            "region": region,
            "phone": number,
        },
    )
    assert response.status_code == 422
    assert "Premium-rate, shared-cost and service numbers" in response.get_data(as_text=True)
    assert calls.requests == []  # no code was sent
    assert site.live.outbox(e164(number)) == []


def test_sign_up_page_lists_countries_with_calling_codes(site: Browser) -> None:
    page = site.get("/sign-up").get_data(as_text=True)
    assert "United Kingdom (+44)" in page
    assert '<option selected value="US">United States (+1)</option>' in page


def test_forms_without_csrf_token_are_refused(site: Browser) -> None:
    response = site.http.post("/sign-up", data={"full_name": "x", "email": "a@example.com"})
    assert response.status_code == 400
    response = site.http.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    response = site.http.post("/sign-up/password", json={"password": "x"})
    assert response.status_code == 400
    site.sign_up()
    for path in ("/verify", "/resend", "/login/complete", "/login/push", "/logout"):
        assert site.http.post(path, data={"code": "1234567"}).status_code == 400, path
