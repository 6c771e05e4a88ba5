"""Past a small sign-up budget per address, each sign-up needs a solved proof of work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.live.site.conftest import Browser, CountingTransport
from twofa.site.challenge import leading_zero_bits, solve, work


@pytest.fixture
def app(build_app: Callable[..., Flask]) -> Flask:
    return build_app(site_signup_limit_ip="2/3600", site_challenge_bits=8)


def _challenge(page: str) -> tuple[str, int]:
    token = page.split('name="challenge" value="', 1)[1].split('"', 1)[0]
    bits = int(page.split('data-bits="', 1)[1].split('"', 1)[0])
    return token, bits


def test_the_budget_then_a_puzzle(site: Browser, calls: CountingTransport) -> None:
    assert "data-challenge" not in site.get("/sign-up").get_data(as_text=True)
    for n in range(2):
        phone = site.live.new_phone()
        response = site.sign_up_form(email=f"a{n}@example.com", phone=phone)
        assert response.headers["Location"] == "/sign-up/confirm"
    sent = len(calls.requests)
    # The third sign-up from this address is refused until the browser does the work.
    refused = site.sign_up_form(email="a2@example.com", phone=site.live.new_phone())
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "solve a short puzzle" in page
    assert len(calls.requests) == sent, "no code was sent"
    token, bits = _challenge(site.get("/sign-up").get_data(as_text=True))
    assert bits == 8
    solution = solve(token, bits)
    ok = site.sign_up_form(
        email="a2@example.com", phone=site.live.new_phone(), challenge=token, solution=solution
    )
    assert ok.headers["Location"] == "/sign-up/confirm"
    assert _challenge(site.get("/sign-up").get_data(as_text=True))[1] == 9  # harder each time
    # The same solution cannot be spent twice.
    again = site.sign_up_form(
        email="a3@example.com", phone=site.live.new_phone(), challenge=token, solution=solution
    )
    assert again.status_code == 422


def test_a_login_puzzle_is_no_good_for_sign_up(app: Flask, site: Browser) -> None:
    for n in range(2):
        site.sign_up_form(email=f"b{n}@example.com", phone=site.live.new_phone())
    challenges = app.extensions["twofa_site"].auth.challenges
    login = challenges.issue("login", 12)
    response = site.sign_up_form(
        email="b2@example.com",
        phone=site.live.new_phone(),
        challenge=login.token,
        solution=solve(login.token, 12),
    )
    assert response.status_code == 422


def test_work_counts_leading_zero_bits() -> None:
    assert leading_zero_bits(b"\x00\x00\xff") == 16
    assert leading_zero_bits(b"\x0f") == 4
    assert leading_zero_bits(b"\x80") == 0
    token = "example"
    assert work(token, solve(token, 10)) >= 10
