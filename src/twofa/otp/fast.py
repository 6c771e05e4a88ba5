"""HOTP on raw key bytes, for verifiers that check many codes per second.

Same algorithm as RFC 4226 section 5.3 (HMAC-SHA-1, dynamic truncation); the key is decoded
from base32 once and reused, where pyotp decodes it again for every counter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

_PACK = struct.Struct(">Q").pack


def decode_secret(secret: str) -> bytes:
    """Base32 secret (padding optional, case-insensitive) to key bytes."""
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp_key(key: bytes, counter: int, digits: int) -> str:
    """The RFC 4226 code for ``counter`` under raw ``key``."""
    digest = hmac.new(key, _PACK(counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def match_step(key: bytes, code: str, now_step: int, *, digits: int, window: int) -> int | None:
    """The time step within ``window`` of ``now_step`` whose code is ``code``, else None.

    Every candidate is computed and compared in constant time, so timing does not reveal which
    step matched.
    """
    found: int | None = None
    encoded = code.encode()
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(hotp_key(key, step, digits).encode(), encoded) and found is None:
            found = step
    return found
