"""Passwords by NIST SP 800-63B-4: a length floor, an offline blocklist, a hint on the form."""

from __future__ import annotations

import re

import pytest

from tests.live.site.conftest import Browser
from twofa.site.password_policy import check_password

REFUSED = ["password12", "aaaaaaaaaa", "1234567890", "qwertyuiop", "iloveyou2", "Password1!"]


@pytest.mark.parametrize("password", REFUSED)
def test_common_repetitive_and_sequential_passwords_are_refused_at_sign_up(
    site: Browser, password: str
) -> None:
    response = site.sign_up_form(password=password)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"common password|Repeats like|easy to guess|Sequences like", page), page
    assert site.live.outbox(site.e164) == []  # refused before any code was sent


def test_length_floor_and_no_composition_rules(site: Browser) -> None:
    short = site.sign_up_form(password="x7#kP2q")
    assert "Use at least 8 characters." in short.get_data(as_text=True)
    # Eight characters, no digits or symbols required: a phrase of plain words is fine.
    assert check_password("plum vortex gazebo", min_length=8).ok
    assert check_password("x7#kP2qz", min_length=8).ok


def test_the_accounts_own_details_are_refused() -> None:
    details = ("Alice Example", "alice@example.com")
    for password in ("aliceexample", "alice@example.com", "Alice Example"):
        assert not check_password(password, min_length=8, user_inputs=details).ok, password


def test_long_passwords_and_unicode_are_accepted(site: Browser) -> None:
    assert check_password("ü" * 3 + " mañana señor 🙂 tranquilo", min_length=8).ok
    assert check_password("Zq7!plum vortex gazebo " * 5, min_length=8).ok  # 115 characters
    assert not check_password("y" * 129, min_length=8).ok


def test_the_hint_endpoint_gives_the_same_verdict(site: Browser) -> None:
    token = site.csrf("/sign-up")
    weak = site.http.post(
        "/sign-up/password", json={"password": "password12"}, headers={"X-CSRFToken": token}
    )
    assert weak.status_code == 200
    body = weak.get_json()
    assert body["ok"] is False and body["score"] <= 1
    assert body["message"] == "This is a very common password."
    strong = site.http.post(
        "/sign-up/password",
        json={"password": "correct horse battery", "email": "a@example.com"},
        headers={"X-CSRFToken": token},
    )
    assert strong.get_json() == {
        "ok": True,
        "score": 4,
        "message": "Strong password.",
        "suggestions": [],
    }
    bad = site.http.post("/sign-up/password", json={"nope": 1}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400
