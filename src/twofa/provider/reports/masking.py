"""Masks for what the console shows of messages, receivers and addresses.

The console is read by helpdesk staff and on shared screens. A code in a message body is a
live credential for as long as it is valid (``sms_code_ttl``, ten minutes by default), and the
outbox gateway keeps bodies with their codes; a full phone number or e-mail address is personal
data that nobody needs to read off a screen to answer "did the text go out?" (an operator who
has the number can still search for it: the filter takes it and the page shows it masked). So
nothing the console renders carries a code, a whole number or a whole address, and the masks
are applied where rows are read, before any template sees them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

from twofa.provider.fraud.policy import country_of
from twofa.provider.phone_numbers import phone_from_e164

DOT = "•"
# Four or more digits, alone or split by single spaces, dots or hyphens ("123 4567", "12-34"):
# every code format a message can carry, and any phone number written in one.
_DIGIT_RUN = re.compile(r"\d(?:[ .\-]?\d){3,}")


def mask_digits(text: str) -> str:
    """Every run of four or more digits replaced by dots of the same length."""
    return _DIGIT_RUN.sub(lambda m: re.sub(r"\d", DOT, m.group(0)), text)


def mask_phone(e164: str) -> str:
    """``+1 •••••••23``: the country code and the last two digits only."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return mask_digits(e164) if len(e164) < 4 else DOT * 6
    national = str(parsed.national_number)
    return f"+{parsed.country_code} {DOT * max(len(national) - 2, 1)}{national[-2:]}"


def mask_email(address: str) -> str:
    """``a•••@example.com``: the first character of the local part and the domain."""
    local, at, domain = address.partition("@")
    if not at:
        return DOT * 6
    return f"{local[:1]}{DOT * 3}@{domain}"


def mask_address(to: str) -> str:
    """A message's recipient, masked by its kind."""
    return mask_email(to) if "@" in to else mask_phone(to)


@lru_cache(maxsize=65_536)
def country(e164: str) -> str | None:
    """ISO country of an E.164 number (``001`` non-geographic), None when it is not one.

    Cached: the dashboard maps every number texted in a day, and numbers repeat.
    """
    if not e164.startswith("+"):
        return None
    try:
        return country_of(phone_from_e164(e164))
    except (ValueError, phonenumbers.NumberParseException):
        return None


def mask_url(url: str, *, keep_path: bool = True) -> str:
    """A receiver's address without credentials, query or fragment (where tokens hide); with
    ``keep_path=False`` the path too (a Web Push endpoint's path is its capability)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return DOT * 6
    user = f"{parts.username}{':' + DOT * 3 if parts.password else ''}@" if parts.username else ""
    path = parts.path if keep_path else ("/…" if parts.path not in ("", "/") else parts.path)
    masked = urlunsplit((parts.scheme, f"{user}{host}{port}", path, "", ""))
    return masked if parts.netloc else f"{parts.scheme}://{path}"
