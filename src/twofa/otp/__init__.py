"""HOTP/TOTP (RFC 4226 / RFC 6238), the one implementation the provider and authenticator share.

Written out rather than taken from pyotp (the tests check it against pyotp and the RFC vectors)
because token verification is the provider's hottest path: a verifier decodes a secret's
base32 once and computes every step of its window from the raw key, where pyotp decodes it
again for every counter. Verifiers also need what pyotp leaves out: the matched time step (so
callers can refuse replays) and a window of whole steps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from urllib.parse import quote, urlencode

SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 block-friendly size RFC 4226 recommends
_PACK = struct.Struct(">Q").pack


def random_secret() -> str:
    """A new base32 secret (no padding) of 160 random bits."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def decode_secret(secret: str) -> bytes:
    """Base32 secret (padding optional, case-insensitive, spaces ignored) to key bytes."""
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp_key(key: bytes, counter: int, digits: int) -> str:
    """The RFC 4226 code for ``counter`` under raw ``key`` (HMAC-SHA-1, dynamic truncation)."""
    digest = hmac.new(key, _PACK(counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def hotp(secret: str, counter: int, *, digits: int = 6) -> str:
    """The RFC 4226 code for ``counter``."""
    return hotp_key(decode_secret(secret), counter, digits)


def time_step(timestamp: float, *, step: int = 30) -> int:
    """The RFC 6238 time step that ``timestamp`` falls in."""
    return int(timestamp // step)


def totp(secret: str, timestamp: float, *, digits: int = 6, step: int = 30) -> str:
    """The RFC 6238 code at ``timestamp``."""
    return hotp(secret, time_step(timestamp, step=step), digits=digits)


def seconds_left(timestamp: float, *, step: int = 30) -> int:
    """Seconds until the code shown at ``timestamp`` changes."""
    return step - int(timestamp % step)


def match_step(key: bytes, code: str, now_step: int, *, digits: int, window: int) -> int | None:
    """The time step within ``window`` of ``now_step`` whose code is ``code``, else None.

    Every candidate is computed and compared in constant time, and all are tried, so the time
    taken does not tell which step (if any) matched.
    """
    found: int | None = None
    encoded = code.encode()
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(hotp_key(key, step, digits).encode(), encoded) and found is None:
            found = step
    return found


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

    ``window=1`` accepts the previous and next step to absorb clock drift and typing time, as
    RFC 6238 section 5.2 suggests.
    """
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return None
    now = time_step(timestamp, step=step)
    matched = match_step(decode_secret(secret), code, now, digits=digits, window=window)
    return TotpMatch(matched) if matched is not None else None


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
