"""The site's code flows end to end against the real provider."""

from __future__ import annotations

import re

from tests.live.site.conftest import Browser
from tests.live.site_served.conftest import valid_phone
from tests.servers import LiveProvider


def _e164(phone: str) -> str:
    return "+1" + phone.replace("-", "")


def _code(live: LiveProvider, phone: str) -> str:
    return live.last_code(_e164(phone), digits=live.settings.sms_code_length)


def test_sign_up_then_sms_code_then_account(site: Browser, live: LiveProvider) -> None:
    phone = valid_phone()
    response = site.sign_up(email="live@example.com", phone=phone)
    assert response.headers["Location"] == "/verify"
    page = site.get("/verify").get_data(as_text=True)
    assert "We sent a code by text message" in page
    assert len(live.outbox(_e164(phone))) == 2  # the sign-up's code, then this login's
    site.get("/verify")
    assert len(live.outbox(_e164(phone))) == 2, "a reload must not send another SMS"

    wrong = site.post("/verify", {"code": "0000000"})
    assert "That code is not valid" in wrong.get_data(as_text=True)
    done = site.post("/verify", {"code": _code(live, phone)})
    assert done.headers["Location"] == "/account"
    account = site.get("/account").get_data(as_text=True)
    assert "live@example.com" in account and "Text message and voice call" in account
    assert re.search(r"Text message code|Code", account)


def test_login_again_and_call_me(site: Browser, live: LiveProvider) -> None:
    phone = valid_phone()
    site.sign_up(email="caller@example.com", phone=phone)
    site.get("/verify")
    site.post("/verify", {"code": _code(live, phone)})
    site.post("/logout")

    assert site.login(email="caller@example.com").headers["Location"] == "/verify"
    site.get("/verify")
    site.post("/resend", {"via": "call"}, csrf_from="/verify")
    assert "We are calling" in site.get("/verify").get_data(as_text=True)
    done = site.post("/verify", {"code": _code(live, phone)})
    assert done.headers["Location"] == "/account"


def test_provider_rate_limit_is_shown_to_the_user(site: Browser, live: LiveProvider) -> None:
    phone = valid_phone()
    site.sign_up(email="limited@example.com", phone=phone)
    site.get("/verify")
    limit = live.settings.limit("sms_per_phone").count
    message = ""
    for _ in range(limit + 1):
        site.post("/resend", {"via": "sms"}, csrf_from="/verify")
        message = site.get("/verify").get_data(as_text=True)
        if "Too many attempts" in message:
            break
    assert "Too many attempts" in message


def test_sign_up_with_the_provider_unreachable(
    tmp_path: object, api_key: str, live: LiveProvider
) -> None:
    from pathlib import Path

    from tests.live.site.conftest import make_settings
    from twofa.process import free_port
    from twofa.site.app import create_app

    settings = make_settings(
        Path(str(tmp_path)),
        site_api_key=api_key,
        site_provider_url=f"http://127.0.0.1:{free_port()}",
        site_provider_timeout=2,
    )
    app = create_app(settings)
    try:
        response = Browser(app, live).sign_up_form(email="nobody@example.com")
        assert response.status_code == 422
        assert "Your account was not created." in response.get_data(as_text=True)
    finally:
        app.extensions["twofa_site_database"].dispose()
