"""Application text on terminals: controls and bidi overrides stripped or shown escaped."""

from __future__ import annotations

import pytest

from twofa.text import clean, clean_map, terminal_safe

HOSTILE = [
    "\x1b]0;pwned\x07",  # set the window title
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b[8m",  # hide what follows
    "\r",  # back to the line start: overwrite the app name
    "\x9b31m",  # C1 CSI
    "\u202e",  # right-to-left override
    "\u2066",  # isolate
    "\x00",
    "\x7f",
]


@pytest.mark.parametrize("attack", HOSTILE)
def test_clean_leaves_nothing_a_terminal_acts_on(attack: str) -> None:
    cleaned = clean(f"Login{attack}Bank")
    assert cleaned.replace(" ", "").isprintable(), repr(cleaned)
    assert "Login" in cleaned and "Bank" in cleaned


def test_clean_keeps_ordinary_text() -> None:
    text = "Connexion à la Banque — ¿Sí? 日本語 🙂 \u05e9\u05dc\u05d5\u05dd"
    assert clean(text) == text
    assert clean("line one\nline two\tend") == "line one line two end"
    assert clean_map({"IP\x1b[31m": "10.0.0.1\u202e"}) == {"IP[31m": "10.0.0.1"}


@pytest.mark.parametrize("attack", HOSTILE)
def test_terminal_safe_shows_escapes(attack: str) -> None:
    shown = terminal_safe(f"App{attack}")
    assert shown.isprintable(), repr(shown)
    assert shown.startswith("App\\")


def test_terminal_safe_names_the_character() -> None:
    assert terminal_safe("a\x1bb\u202ec") == "a\\x1bb\\u202ec"
    assert terminal_safe(42) == "42"
