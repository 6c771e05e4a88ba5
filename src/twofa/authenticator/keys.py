"""The device key: ECDSA P-256, kept in a 0600 PEM file, shown to the provider as a JWK.

The private key never leaves this machine; the provider stores only the public JWK, so a copy
of its database lets nobody sign as this device.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

COORDINATE_BYTES = 32


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWKs and the device API use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 private key from the OS random source."""
    return ec.generate_private_key(ec.SECP256R1())


def save(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    """Write the key as unencrypted PKCS#8 PEM, readable by the owner only.

    The file is created with mode 0600 in one step (never world-readable, not even briefly),
    and an existing key is never overwritten: losing it would orphan the registered device.
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read a key written by ``save``; ``ValueError`` if the file holds anything else."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path} does not hold a P-256 private key")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public half as a JWK (RFC 7518 section 6.2.1)."""
    numbers = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
        "y": b64url(numbers.y.to_bytes(COORDINATE_BYTES, "big")),
    }


def sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    """ECDSA P-256 / SHA-256 over ``message``, as base64url of ``r‖s`` (P1363, 64 bytes).

    P1363 rather than DER because that is what WebCrypto produces: the provider accepts one
    format from every kind of device.
    """
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return b64url(r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big"))
