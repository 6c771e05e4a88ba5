"""Login throttling: back-off per account and address, a soft per-account puzzle, no lockout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.live.site.conftest import EMAIL, PASSWORD, Browser, FakeClock
from twofa.site.challenge import solve


def _from(app: Flask, browser: Browser, ip: str) -> Browser:
    """The same kind of browser, seen by the site as coming from ``ip``."""
    twin = Browser(app, browser.live, browser.phone)
    twin.http.environ_base["REMOTE_ADDR"] = ip
    return twin


@pytest.fixture
def app(build_app: Callable[..., Flask]) -> Flask:
    return build_app(
        site_login_limit_pair="3/900",
        site_login_limit_ip="6/900",
        site_login_limit_account="5/3600",
        site_challenge_bits=8,
    )


def test_guessing_from_one_address_backs_off(site: Browser, clock: FakeClock) -> None:
    site.register()
    for _ in range(3):
        assert site.login(password="wrong password").status_code == 401
    # The fourth try waits, whatever the password: nothing is checked, nothing revealed.
    for password in ("wrong password", PASSWORD):
        refused = site.login(password=password)
        assert refused.status_code == 429
        assert "Too many failed sign-ins from here" in refused.get_data(as_text=True)
        assert refused.headers["Retry-After"] == "15"
    clock.advance(16)
    assert site.login(password="wrong password").status_code == 401
    refused = site.login(password=PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"  # doubled
    clock.advance(31)
    assert site.login().headers["Location"] == "/verify"


def test_an_attackers_failures_do_not_lock_the_victim_out(
    app: Flask, site: Browser, clock: FakeClock
) -> None:
    site.register()
    attacker = _from(app, site, "203.0.113.9")
    for _ in range(3):
        assert attacker.login(password="guess").status_code == 401
    assert attacker.login(password="guess").status_code == 429
    # The victim, from her own address, is not held back by the attacker's back-off...
    victim = _from(app, site, "198.51.100.7")
    assert victim.login().headers["Location"] == "/verify"
    victim.post("/logout")
    # ...and once the account has seen many failures from many places, she solves a puzzle.
    for n in range(3):
        _from(app, site, f"192.0.2.{n + 1}").login(password="guess")
    page = victim.login()
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "solves a short puzzle" in text and "data-challenge" in text
    token = text.split('name="challenge" value="', 1)[1].split('"', 1)[0]
    done = victim.login(challenge=token, solution=solve(token, 8))
    assert done.headers["Location"] == "/verify"


def test_a_puzzle_is_good_once_and_only_for_logins(app: Flask, site: Browser) -> None:
    site.register()
    for n in range(5):
        _from(app, site, f"192.0.2.{n + 1}").login(password="guess")
    victim = _from(app, site, "198.51.100.7")
    text = victim.login().get_data(as_text=True)
    token = text.split('name="challenge" value="', 1)[1].split('"', 1)[0]
    solution = solve(token, 8)
    assert victim.login(challenge=token, solution=solution).headers["Location"] == "/verify"
    victim.post("/logout")
    again = victim.login(challenge=token, solution=solution)
    assert again.status_code == 422, "a spent puzzle is refused"
    unsolved = victim.login(challenge=token, solution="1")
    assert unsolved.status_code == 422


def test_one_address_trying_many_accounts_backs_off(app: Flask, site: Browser) -> None:
    stuffer = _from(app, site, "203.0.113.50")
    for n in range(6):
        assert stuffer.login(email=f"user{n}@example.com", password="guess").status_code == 401
    assert stuffer.login(email="user99@example.com", password="guess").status_code == 429
    # Another address is not affected.
    assert _from(app, site, "203.0.113.51").login(password="guess").status_code == 401


def test_a_right_password_clears_the_back_off_of_its_address(site: Browser) -> None:
    site.register()
    for _ in range(2):
        site.login(password="wrong password")
    assert site.login().headers["Location"] == "/verify"
    site.post("/logout")
    for _ in range(3):
        assert site.login(password="wrong password").status_code == 401
    assert site.login(email=EMAIL.upper()).status_code == 429  # same account, any case
