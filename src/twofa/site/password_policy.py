"""Which passwords the site accepts, by NIST SP 800-63B-4 (section 3.1.1.2).

* **Length**: at least ``TWOFA_SITE_PASSWORD_MIN_LENGTH`` characters (default 8, the minimum
  800-63B-4 allows for a password that is always used with a second factor, as here: the site
  has no password-only sign-in) and at most 128, counted in Unicode characters. No composition
  rules (no "one digit and one symbol"), no expiry; spaces and every printable character count.
* **Blocklist**: a password that is common, breached, repetitive, sequential, or built from the
  account's own name or address is refused. The check is zxcvbn's, offline: its frequency list
  of about 30,000 passwords seen in breaches, English words and names, keyboard patterns,
  repeats, sequences and dates, plus the user's own details. A password whose estimated
  guesses stay under a million (zxcvbn score 0 or 1) is refused, with zxcvbn's reason.
* **Guidance**: the same estimate drives the hint under the password field (``POST
  /sign-up/password``), so the form tells a person why before they submit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 128
MIN_SCORE = 2  # zxcvbn: 0-1 means fewer than 10^6 guesses
ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide the estimate
LABELS = {2: "Fair", 3: "Good", 4: "Strong"}


@dataclass(frozen=True, slots=True)
class Strength:
    """The verdict on one password, with words a person can act on."""

    ok: bool
    score: int  # 0-4 (zxcvbn)
    message: str
    suggestions: tuple[str, ...] = ()


def check_password(
    password: str, *, min_length: int, user_inputs: tuple[str, ...] = ()
) -> Strength:
    """Judge ``password``; ``user_inputs`` are the account's own details (name, e-mail)."""
    if len(password) < min_length:
        return Strength(False, 0, f"Use at least {min_length} characters.")
    if len(password) > MAX_LENGTH:
        return Strength(False, 0, f"Use at most {MAX_LENGTH} characters.")
    from zxcvbn import zxcvbn  # loads its word lists (a few MB) on first use only

    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=_words(user_inputs))
    score = int(result["score"])
    feedback = result.get("feedback") or {}
    suggestions = tuple(str(s) for s in feedback.get("suggestions") or ())
    if score < MIN_SCORE:
        warning = str(feedback.get("warning") or "") or "This password is too easy to guess."
        return Strength(False, score, warning, suggestions)
    return Strength(True, score, f"{LABELS[score]} password.")


def _words(inputs: tuple[str, ...]) -> list[str]:
    """The account's details and their parts (``alice.smith@example.com`` → alice, smith, …)."""
    words: set[str] = set()
    for value in inputs:
        value = value.strip().lower()
        if value:
            words.add(value)
            words.update(part for part in re.split(r"[^\w]+", value) if len(part) >= 3)
    return sorted(words)
