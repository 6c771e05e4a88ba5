"""Web Push message encryption (RFC 8291, ``aes128gcm`` of RFC 8188) and VAPID (RFC 8292).

Written on ``cryptography`` rather than pywebpush/py-vapid: the whole of it is an ECDH, two
HKDFs, one AES-GCM record and one ES256 JWT, shorter than the adapter we would need around
pywebpush (which mutates the claims dict it is given, has no size check and defaults to
``TTL: 0``) and without its blocking ``requests`` client. The RFC 8291 worked example is the
first unit test (tests/fast/webpush/test_crypto.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

RECORD_SIZE = 4096
SALT_BYTES = 16
AUTH_BYTES = 16
POINT_BYTES = 65  # an uncompressed P-256 point: 0x04 ‖ x ‖ y
HEADER_BYTES = SALT_BYTES + 4 + 1 + POINT_BYTES
TAG_BYTES = 16
# Push services must accept 4096-byte bodies (RFC 8030 section 7.2); one record holds it all.
MAX_BODY = 4096
MAX_PLAINTEXT = MAX_BODY - HEADER_BYTES - TAG_BYTES - 1
JWT_LIFETIME = 12 * 3600  # RFC 8292: at most 24 hours


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, as browsers give and take keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding; ``ValueError`` for anything else."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


class PayloadTooLarge(ValueError):
    """The message would not fit in the 4096 bytes every push service accepts."""


class InvalidSubscriptionKey(ValueError):
    """``p256dh`` is not a P-256 point or ``auth`` is not 16 bytes."""


@dataclass(frozen=True, slots=True)
class SubscriptionKeys:
    """The browser's half of the encryption: its ECDH public key and its auth secret."""

    p256dh: bytes
    auth: bytes

    @classmethod
    def parse(cls, p256dh: object, auth: object) -> SubscriptionKeys:
        """From the base64url strings of ``PushSubscription.toJSON().keys``; checked here."""
        try:
            point = b64url_decode(p256dh)  # type: ignore[arg-type]
            secret = b64url_decode(auth)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InvalidSubscriptionKey("keys must be base64url") from exc
        if len(secret) != AUTH_BYTES:
            raise InvalidSubscriptionKey("auth must be 16 bytes")
        if len(point) != POINT_BYTES or point[0] != 4:
            raise InvalidSubscriptionKey("p256dh must be an uncompressed P-256 point")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as exc:
            raise InvalidSubscriptionKey("p256dh is not a point on P-256") from exc
        return cls(point, secret)


def raw_public_key(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed form browsers use (``applicationServerKey``, ``p256dh``)."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _hmac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=info).derive(prk)


def encrypt(
    plaintext: bytes,
    keys: SubscriptionKeys,
    *,
    salt: bytes | None = None,
    sender: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """The ``aes128gcm`` body for one push message (RFC 8291 section 3, one record).

    ``salt`` and ``sender`` (the ephemeral ECDH key) are fresh per message; they are
    parameters only so that the RFC's worked example can be reproduced byte for byte.
    """
    if len(plaintext) > MAX_PLAINTEXT:
        raise PayloadTooLarge(f"{len(plaintext)} bytes; at most {MAX_PLAINTEXT} fit in one push")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    sender = sender or ec.generate_private_key(ec.SECP256R1())
    ua_public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), keys.p256dh)
    as_public = raw_public_key(sender)
    shared = sender.exchange(ec.ECDH(), ua_public)
    key_info = b"WebPush: info\x00" + keys.p256dh + as_public
    ikm = HKDF(algorithm=hashes.SHA256(), length=32, salt=keys.auth, info=key_info).derive(shared)
    prk = _hmac(salt, ikm)
    cek = _expand(prk, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _expand(prk, b"Content-Encoding: nonce\x00", 12)
    # A single record: the plaintext, then the last-record delimiter 0x02 and no padding.
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
    return header + ciphertext


def audience(endpoint: str) -> str:
    """The JWT ``aud``: the push resource's origin (RFC 8292 section 2)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def vapid_jwt(
    key: ec.EllipticCurvePrivateKey, *, aud: str, subject: str, now: float | None = None
) -> str:
    """An ES256 JWT with ``aud``, ``exp`` and ``sub`` (RFC 8292 section 2)."""
    expires = int(now if now is not None else time.time()) + JWT_LIFETIME
    header = b64url_encode(b'{"typ":"JWT","alg":"ES256"}')
    claims = {"aud": aud, "exp": expires, "sub": subject}
    body = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants r‖s, not DER
    return f"{header}.{body}.{b64url_encode(signature)}"


def vapid_authorization(token: str, public_key: bytes) -> str:
    """The ``Authorization`` header value: ``vapid t=<jwt>, k=<public key>``."""
    return f"vapid t={token}, k={b64url_encode(public_key)}"
