"""Provider rate limits as users see them: real 429 answers from a provider with tiny limits."""

from __future__ import annotations

import pytest

from tests.live.site.conftest import Browser, FakeClock
from tests.servers import LiveProvider

pytestmark = pytest.mark.xdist_group("site-limited-provider")

TOO_MANY = "Too many attempts. Please wait"


@pytest.fixture
def live(limited_provider: LiveProvider) -> LiveProvider:
    return limited_provider


def test_push_rate_limit_is_explained_and_codes_still_work(site: Browser) -> None:
    user, device = site.app_user()
    assert site.login().headers["Location"] == "/login/wait"
    site.post("/logout")
    assert site.login().headers["Location"] == "/verify"
    page = site.get("/verify").get_data(as_text=True)
    assert TOO_MANY in page
    assert len(device.pending()) == 1
    response = site.post("/verify", {"code": device.app_code(user.authy_id)})
    assert response.headers["Location"] == "/account"


def test_sms_rate_limit_is_shown(site: Browser, clock: FakeClock) -> None:
    site.sign_up()
    site.get("/verify")
    assert len(site.outbox()) == 1
    clock.advance(31)
    site.post("/resend", {"via": "sms"}, csrf_from="/verify")
    assert TOO_MANY in site.get("/verify").get_data(as_text=True)
    assert len(site.outbox()) == 1


def test_code_failure_limit_is_shown(site: Browser) -> None:
    site.sign_up()
    site.get("/verify")
    right = site.last_code()
    wrong = "0" * len(right) if right != "0" * len(right) else "1" * len(right)
    pages = [site.post("/verify", {"code": wrong}).get_data(as_text=True) for _ in range(4)]
    assert ["That code is not valid" in p for p in pages[:3]] == [True] * 3
    assert TOO_MANY in pages[3]
    # Locked at the provider: even the right code waits, and the login is still open.
    response = site.post("/verify", {"code": right})
    assert response.status_code == 422
    assert TOO_MANY in response.get_data(as_text=True)
