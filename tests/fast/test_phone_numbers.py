"""Phone numbers: parsing to E.164, masking, line types."""

from __future__ import annotations

import pytest

from twofa.provider.phone_numbers import (
    Phone,
    line_type,
    mask_sms,
    mask_status,
    parse_phone,
    phone_from_e164,
)


@pytest.mark.parametrize(
    ("country", "number", "e164"),
    [
        (1, "555-123-4567", "+15551234567"),
        ("1", "(201) 555-0123", "+12015550123"),
        ("+1", "201.555.0123", "+12015550123"),
        (" 1 ", "201 555 0123", "+12015550123"),
        (44, "7700 900123", "+447700900123"),
        ("44", "+44 7700 900123", "+447700900123"),
        (57, "3001234567", "+573001234567"),
    ],
)
def test_parse_valid(country: int | str, number: str, e164: str) -> None:
    phone = parse_phone(country, number)
    assert phone is not None
    assert phone.e164 == e164
    assert phone.country_code == int(str(country).strip().lstrip("+"))


@pytest.mark.parametrize(
    ("country", "number"),
    [
        (1, ""),
        (1, "abc"),
        (1, "555-123-45x7"),
        (1, "12"),
        (1, "5" * 31),
        (1, "555'; DROP TABLE"),
        ("abc", "5551234567"),
        ("", "5551234567"),
        ("1234", "5551234567"),
        (999, "5551234567"),
        ("²", "5551234567"),
        ("\u0661", "5551234567"),
        (1, "\uff15\uff15\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17"),
        (1, "+44 7700 900123"),  # the number names another country than the one given
        (1, "555\x001234567"),
    ],
)
def test_parse_invalid(country: int | str, number: str) -> None:
    assert parse_phone(country, number) is None


def test_parse_refuses_non_strings() -> None:
    assert parse_phone(1, 5551234567) is None  # type: ignore[arg-type]


def test_masks() -> None:
    phone = Phone(1, "+12015550167")
    assert mask_status(phone) == "XXX-XXX-0167"
    assert mask_sms(phone) == "+1-XXX-XXX-XX67"
    assert phone.national == "2015550167"
    assert phone.international == "+1 201-555-0167"


def test_phone_from_e164() -> None:
    assert phone_from_e164("+447700900123") == Phone(44, "+447700900123")


def test_line_types() -> None:
    assert line_type(Phone(44, "+447911123456")) == "cellphone"
    assert line_type(Phone(44, "+442071838750")) == "landline"
    assert line_type(Phone(1, "+12015550123")) == "cellphone"  # US plans mix fixed and mobile
    assert line_type(Phone(1, "+15551234567")) == "unknown"
