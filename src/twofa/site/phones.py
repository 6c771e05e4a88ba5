"""Countries with their calling codes, and phone number parsing, for the sign-up form."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder


@dataclass(frozen=True, slots=True)
class Country:
    region: str  # ISO 3166 alpha-2, e.g. "GB"
    name: str
    calling_code: int

    @property
    def label(self) -> str:
        return f"{self.name} (+{self.calling_code})"


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid number split the way the provider wants it: calling code plus national number."""

    region: str
    country_code: int
    national_number: str
    e164: str


class InvalidPhoneNumber(ValueError):
    """The number is not a valid number for the chosen country."""


class RefusedPhoneNumber(InvalidPhoneNumber):
    """A valid number of a kind the site never texts (premium rate, shared cost, …)."""


# Numbers that can receive a code. Premium-rate and shared-cost numbers earn their owner money
# per message or call (SMS pumping, toll fraud); toll-free, UAN, personal, pager and voicemail
# numbers are not a person's phone. VoIP stays allowed: many people's only number is one.
ACCEPTED_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,  # reachable by voice call
        phonenumbers.PhoneNumberType.VOIP,
    }
)


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every region phonenumbers knows, sorted by name."""
    found = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        code = phonenumbers.country_code_for_region(region)
        found.append(Country(region=region, name=name or region, calling_code=code))
    return tuple(sorted(found, key=lambda c: c.name))


def country(region: str) -> Country | None:
    return next((c for c in countries() if c.region == region), None)


def parse_phone(number: str, region: str) -> Phone:
    """Parse ``number`` as dialled in ``region``; raise :class:`InvalidPhoneNumber`."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed) or parsed.country_code is None:
        raise InvalidPhoneNumber("not a valid phone number for that country")
    if phonenumbers.number_type(parsed) not in ACCEPTED_TYPES:
        raise RefusedPhoneNumber("premium-rate, shared-cost and service numbers are not accepted")
    return Phone(
        region=phonenumbers.region_code_for_number(parsed) or region,
        country_code=int(parsed.country_code),
        national_number=phonenumbers.national_significant_number(parsed),
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
    )


def masked(national_number: str) -> str:
    """Only the last two digits, for showing where a code went."""
    return "•" * max(len(national_number) - 2, 0) + national_number[-2:]
