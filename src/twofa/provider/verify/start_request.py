"""A verification start or check as parsed from the form: the destination normalised, the
channel resolved, the optional parameters checked (60200 for anything malformed)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from twofa.provider.phone_numbers import carrier_name, line_type, phone_from_e164
from twofa.provider.verify.errors import InvalidParameter
from twofa.provider.verify.wire import Form

CHANNELS = {"sms", "call", "email", "whatsapp", "sna", "auto"}


@dataclass(frozen=True, slots=True)
class StartRequest:
    to: str
    channel: str
    custom_code: str | None
    amount: str | None
    payee: str | None
    locale: str | None
    rate_limits: dict[str, Any]
    friendly_name: str | None
    app_hash: str | None


def normalise_to(raw: str, channel: str) -> str:
    """E.164 for phone channels, a normalised address for e-mail; 60200 otherwise."""
    if channel == "email":
        try:
            return validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidParameter("To") from exc
    if not raw.startswith("+") or len(raw) > 20:
        raise InvalidParameter("To")
    try:
        number = phonenumbers.parse(raw)
    except phonenumbers.NumberParseException as exc:
        raise InvalidParameter("To") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidParameter("To")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_start(form: Form) -> StartRequest:
    to = form.text("To", max_length=320, required=True) or ""
    channel = (form.text("Channel", max_length=10, required=True) or "").lower()
    if channel not in CHANNELS:
        raise InvalidParameter("Channel")
    custom = form.text("CustomCode", max_length=10)
    if custom is not None and not 4 <= len(custom) <= 10:
        raise InvalidParameter("CustomCode")
    device_ip = form.text("DeviceIp", max_length=64)
    if device_ip:
        try:
            ipaddress.ip_address(device_ip)
        except ValueError as exc:
            raise InvalidParameter("DeviceIp") from exc
    return StartRequest(
        to=normalise_to(to.strip(), "email" if channel == "email" else "sms"),
        channel="sms" if channel == "auto" else channel,
        custom_code=custom,
        amount=form.text("Amount", max_length=64) or None,
        payee=form.text("Payee", max_length=128) or None,
        locale=form.text("Locale", max_length=10),
        rate_limits=form.json_object("RateLimits") or {},
        friendly_name=form.text("CustomFriendlyName", max_length=30) or None,
        app_hash=form.text("AppHash", max_length=32) or None,
    )


def carrier_lookup(to: str, channel: str) -> dict[str, Any]:
    """What the numbering plan tells about ``to`` (type and original carrier)."""
    if channel == "email":
        return {}
    phone = phone_from_e164(to)
    kind = {"cellphone": "mobile", "landline": "landline", "voip": "voip"}.get(line_type(phone))
    return {
        "carrier": {
            "mobile_country_code": None,
            "type": kind,
            "error_code": None,
            "mobile_network_code": None,
            "name": carrier_name(phone) or None,
        }
    }


def lenient_to(raw: str) -> str:
    """``To`` on a check, normalised as on start where possible, else taken as given."""
    raw = raw.strip()
    for channel in ("sms", "email"):
        try:
            return normalise_to(raw, channel)
        except InvalidParameter:
            continue
    return raw
