"""What the numbering plan says about a destination: its line type, country and prefix.

Pure functions over ``phonenumbers``; no storage, no settings object.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from twofa.errors import CountryNotAllowed, LineTypeRefused
from twofa.provider.phone_numbers import Phone

# Numbers whose messages cost the sender extra or pay the receiver: the tools of toll fraud.
REFUSED_LINE_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.UAN: "UAN",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
}
NON_GEOGRAPHIC = "001"  # phonenumbers' region for +800, +808, +870, +881, +882, +883, +888, +979


def refused_line_type(
    phone: Phone, *, number: phonenumbers.PhoneNumber | None = None
) -> str | None:
    """The name of the phone's line type when it is one twofa never sends to, else None
    (``number``: the phone already parsed, which saves parsing it again)."""
    parsed = number if number is not None else phonenumbers.parse(phone.e164)
    return REFUSED_LINE_TYPES.get(phonenumbers.number_type(parsed))


def check_line_type(phone: Phone, *, number: phonenumbers.PhoneNumber | None = None) -> None:
    """400/60083 for a premium-rate, shared-cost, UAN or personal number."""
    kind = refused_line_type(phone, number=number)
    if kind is not None:
        raise LineTypeRefused(kind)


def country_of(phone: Phone) -> str:
    """ISO 3166 code of the destination (``JM`` for +1 876), ``001`` for non-geographic."""
    parsed = phonenumbers.parse(phone.e164)
    region = phonenumbers.region_code_for_number(parsed)
    if region is None:  # a possible but unassigned number: the country code's main region
        region = phonenumbers.region_code_for_country_code(phone.country_code)
    return str(region or NON_GEOGRAPHIC)


def parse_countries(text: str | None) -> frozenset[str] | None:
    """``"US, ca"`` → ``{"US", "CA"}``; ``"*"`` → None (every country); empty → None too."""
    if text is None or not text.strip():
        return None
    codes = frozenset(part.strip().upper() for part in text.split(",") if part.strip())
    return None if "*" in codes else codes


def check_country(phone: Phone, *allowed: frozenset[str] | None) -> None:
    """400/60013 unless every list given (None: no restriction) allows the destination."""
    country = country_of(phone)
    for countries in allowed:
        if countries is not None and country not in countries:
            raise CountryNotAllowed(country)


def prefix_of(phone: Phone, digits: int) -> str:
    """``+1201`` for +1 201-555-0123 with 3 digits: country code plus leading national digits."""
    return f"+{phone.country_code}{phone.national[:digits]}"
