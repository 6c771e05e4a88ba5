"""Parsing, validating and masking phone numbers with ``phonenumbers``."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

_ALLOWED = re.compile(r"^[0-9 ()+.\-]{1,30}$")


@dataclass(frozen=True, slots=True)
class Phone:
    country_code: int
    e164: str

    @property
    def national(self) -> str:
        return self.e164[len(str(self.country_code)) + 1 :]

    @property
    def international(self) -> str:
        """``+1 201-555-0123``: how messages name the number."""
        number = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def parse_phone(country_code: int | str, number: str) -> Phone | None:
    """The number as E.164, or None when it cannot be a phone number in that country.

    We check that the number is *possible* (its length fits the country's plan), not that it is
    currently assigned: fictional test ranges such as 555-01xx must keep working.
    """
    parsed = parse_phone_number(country_code, number)
    return parsed[0] if parsed is not None else None


def parse_phone_number(
    country_code: int | str, number: str
) -> tuple[Phone, phonenumbers.PhoneNumber] | None:
    """``parse_phone``, with the parsed number for further checks (no second parse)."""
    if not isinstance(number, str) or not _ALLOWED.match(number):
        return None
    code = str(country_code).strip().lstrip("+")
    if not (code.isascii() and code.isdigit()) or not 1 <= len(code) <= 3:
        return None
    digits = re.sub(r"\D", "", number)
    if not digits:
        return None
    candidate = "+" + digits if number.strip().startswith("+") else f"+{code}{digits}"
    try:
        parsed = phonenumbers.parse(candidate)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != int(code) or not phonenumbers.is_possible_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return Phone(parsed.country_code, e164), parsed


def mask_status(phone: Phone) -> str:
    """``XXX-XXX-1234``: user status shows only the last four digits."""
    return f"XXX-XXX-{phone.national[-4:]}"


def mask_sms(phone: Phone) -> str:
    """``+1-XXX-XXX-XX67``: SMS and call answers show only the last two digits."""
    return f"+{phone.country_code}-XXX-XXX-XX{phone.national[-2:]}"


def phone_from_e164(e164: str) -> Phone:
    parsed = phonenumbers.parse(e164)
    return Phone(parsed.country_code or 0, e164)


def line_type(phone: Phone) -> str:
    """``cellphone``, ``landline``, ``voip`` or ``unknown``, from the numbering plan."""
    kind = phonenumbers.number_type(phonenumbers.parse(phone.e164))
    if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return "cellphone"
    if kind == PhoneNumberType.FIXED_LINE:
        return "landline"
    if kind == PhoneNumberType.VOIP:
        return "voip"
    return "unknown"


def carrier_name(phone: Phone) -> str:
    """The original carrier, where the numbering plan records one."""
    from phonenumbers import carrier

    return carrier.name_for_number(phonenumbers.parse(phone.e164), "en") or ""
