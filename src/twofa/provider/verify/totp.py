"""TOTP for Verify factors: SHA-1, SHA-256 or SHA-512, 3 to 8 digits, 20 to 60 s steps.

pyotp computes the codes; this module only picks the matching step within the skew window,
comparing every candidate in constant time, so the caller can refuse a replayed step.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pyotp

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def matched_step(secret: str, code: str, *, config: dict[str, Any], now: float) -> int | None:
    """The time step within ``config['skew']`` of now whose code is ``code``, else None."""
    digits = int(config["code_length"])
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return None
    step = int(config["time_step"])
    hotp = pyotp.HOTP(secret, digits=digits, digest=DIGESTS[config["alg"]])
    current = int(now // step)
    found: int | None = None
    for candidate in range(current - int(config["skew"]), current + int(config["skew"]) + 1):
        if hmac.compare_digest(hotp.at(candidate).encode(), code.encode()) and found is None:
            found = candidate
    return found


def uri(secret: str, *, label: str, issuer: str, config: dict[str, Any]) -> str:
    """The ``otpauth://totp/…`` key URI an authenticator app scans."""
    return pyotp.TOTP(
        secret,
        digits=int(config["code_length"]),
        digest=DIGESTS[config["alg"]],
        interval=int(config["time_step"]),
        name=label,
        issuer=issuer,
    ).provisioning_uri()
