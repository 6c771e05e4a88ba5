"""Device signatures: ECDSA P-256 / SHA-256 keys sent as JWKs, signatures in IEEE P1363 form.

Browsers (WebCrypto) produce and expect the raw ``r‖s`` form (64 bytes); ``cryptography`` and
OpenSSL speak DER. We convert at this boundary and nowhere else. A JWK is accepted only when it
names P-256 and its point lies on the curve: an off-curve or wrong-curve key is the classic
invalid-curve attack on ECDSA/ECDH verifiers, so it is refused at registration, not later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

COORDINATE_BYTES = 32
SIGNATURE_BYTES = 2 * COORDINATE_BYTES


class InvalidKey(ValueError):
    """The JWK is not an ECDSA P-256 public key we accept."""


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ``ValueError`` on anything else."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def p1363_to_der(signature: bytes) -> bytes:
    """``r‖s`` (64 bytes) as the DER ``SEQUENCE { r, s }`` that OpenSSL verifies."""
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("a P-256 signature in P1363 form is 64 bytes")
    r = int.from_bytes(signature[:COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[COORDINATE_BYTES:], "big")
    return encode_dss_signature(r, s)


def der_to_p1363(signature: bytes) -> bytes:
    """DER ``SEQUENCE { r, s }`` as the fixed-width ``r‖s`` that WebCrypto produces."""
    r, s = decode_dss_signature(signature)
    return r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")


def _coordinate(jwk: Mapping[str, Any], name: str) -> int:
    raw = jwk.get(name)
    try:
        data = b64url_decode(raw)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidKey(f"{name} is not base64url") from exc
    if len(data) != COORDINATE_BYTES:
        raise InvalidKey(f"{name} must be {COORDINATE_BYTES} bytes")
    return int.from_bytes(data, "big")


def public_key_from_jwk(jwk: Any) -> ec.EllipticCurvePublicKey:
    """The P-256 public key a JWK describes; ``InvalidKey`` for anything else.

    Private members (``d``) are refused outright: a client that sends its private key has
    leaked it, and storing it would make the database a signing oracle.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidKey("the key must be a JWK object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidKey("only EC keys on P-256 are accepted")
    if "d" in jwk:
        raise InvalidKey("send the public key only")
    x, y = _coordinate(jwk, "x"), _coordinate(jwk, "y")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError as exc:
        raise InvalidKey("the point is not on P-256") from exc


def normalized_jwk(jwk: Any) -> dict[str, str]:
    """The validated public JWK with only the members we keep (kty, crv, x, y)."""
    key = public_key_from_jwk(jwk)
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(COORDINATE_BYTES, "big")),
    }


def verify(key: ec.EllipticCurvePublicKey, signature_b64url: Any, message: bytes) -> bool:
    """True when ``signature_b64url`` (P1363, base64url) signs ``message`` under ``key``."""
    try:
        der = p1363_to_der(b64url_decode(signature_b64url))
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        return False
    return True


def signed_host(host: str) -> str:
    """The host name a request signature covers: lower case, without the port.

    The port is left out because a proxy in front (nginx's ``$host``) may drop it, and it adds
    nothing: a signature for one host name cannot be replayed on another.
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def request_text(
    method: str, host: str, target: str, device: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    """The text a device signs for one request (docs/device-api.md section 2).

    It names the host and the device, so a request captured on one deployment or from one
    device never verifies as another's, even under the same key.
    """
    digest = hashlib.sha256(body).hexdigest()
    parts = (method.upper(), signed_host(host), target, device, timestamp, nonce, digest)
    return "\n".join(parts).encode()


def key_thumbprint(jwk: Mapping[str, str]) -> str:
    """The RFC 7638 thumbprint of a public EC JWK: the identity of the key, whoever sends it."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    text = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url_encode(hashlib.sha256(text).digest())


def decision_text(uuid: str, status: str, signing_time: int, number: int | None) -> bytes:
    """The text a device signs to answer a request: ``uuid|status|time[|number]``."""
    text = f"{uuid}|{status}|{signing_time}"
    if number is not None:
        text += f"|{number}"
    return text.encode()
