"""Pure HOTP/TOTP (RFC 4226 / RFC 6238) shared by the provider and the authenticator.

Built on pyotp for the maths; this module adds what a verifier needs and pyotp leaves out:
the matched time step (so callers can refuse replays) and a window of whole steps.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pyotp

SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 block-friendly size RFC 4226 recommends


def random_secret() -> str:
    """A new base32 secret (no padding) of 160 random bits."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def hotp(secret: str, counter: int, *, digits: int = 6) -> str:
    """The RFC 4226 code for ``counter``."""
    return pyotp.HOTP(secret, digits=digits).at(counter)


def time_step(timestamp: float, *, step: int = 30) -> int:
    """The RFC 6238 time step that ``timestamp`` falls in."""
    return int(timestamp // step)


def totp(secret: str, timestamp: float, *, digits: int = 6, step: int = 30) -> str:
    """The RFC 6238 code at ``timestamp``."""
    return hotp(secret, time_step(timestamp, step=step), digits=digits)


def seconds_left(timestamp: float, *, step: int = 30) -> int:
    """Seconds until the code shown at ``timestamp`` changes."""
    return step - int(timestamp % step)


@dataclass(frozen=True, slots=True)
class TotpMatch:
    """A code matched the time step ``step``."""

    step: int


def match_totp(
    secret: str,
    code: str,
    timestamp: float,
    *,
    digits: int = 6,
    step: int = 30,
    window: int = 1,
) -> TotpMatch | None:
    """Find the time step within ``window`` steps of now whose code equals ``code``.

    Every candidate is compared in constant time, and all are tried, so the time taken does not
    tell which step (if any) matched. ``window=1`` accepts the previous and next step to absorb
    clock drift and typing time, as RFC 6238 section 5.2 suggests.
    """
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return None
    now = time_step(timestamp, step=step)
    found: TotpMatch | None = None
    for candidate in range(now - window, now + window + 1):
        if hmac.compare_digest(hotp(secret, candidate, digits=digits), code) and found is None:
            found = TotpMatch(candidate)
    return found


def otpauth_uri(secret: str, *, label: str, issuer: str, digits: int = 6, step: int = 30) -> str:
    """An ``otpauth://totp/`` URI that generic authenticator apps import from a QR code."""
    params = {
        "secret": secret,
        "issuer": issuer,
        "algorithm": "SHA1",
        "digits": digits,
        "period": step,
    }
    return f"otpauth://totp/{quote(issuer)}:{quote(label)}?{urlencode(params)}"
