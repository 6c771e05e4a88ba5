"""Device signatures: encodings, JWK validation, and client/provider agreement."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from twofa.authenticator import device as client_side
from twofa.authenticator import keys
from twofa.provider.devices import signature as provider_side
from twofa.provider.devices.signature import (
    InvalidKey,
    b64url_decode,
    der_to_p1363,
    normalized_jwk,
    p1363_to_der,
    public_key_from_jwk,
    verify,
)


def test_p1363_and_der_round_trip() -> None:
    key = keys.generate()
    der = key.sign(b"message", ec.ECDSA(hashes.SHA256()))
    raw = der_to_p1363(der)
    assert len(raw) == 64
    assert p1363_to_der(raw) == der
    key.public_key().verify(p1363_to_der(raw), b"message", ec.ECDSA(hashes.SHA256()))


def test_small_r_and_s_keep_fixed_width() -> None:
    """r and s shorter than 32 bytes are left-padded in P1363 (WebCrypto does the same)."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    raw = der_to_p1363(encode_dss_signature(5, 7))
    assert raw == (5).to_bytes(32, "big") + (7).to_bytes(32, "big")
    with pytest.raises(ValueError):
        p1363_to_der(raw[:63])


def test_client_signature_verifies_on_the_provider() -> None:
    key = keys.generate()
    jwk = keys.public_jwk(key)
    public = public_key_from_jwk(jwk)
    args = ("/device/v1/x?a=1", "dev-1", "1700000000", "n" * 16, b"{}")
    text = provider_side.request_text("POST", "auth.example.com:8443", *args)
    assert text == client_side.request_text("POST", "auth.example.com", *args)
    assert text.endswith(hashlib.sha256(b"{}").hexdigest().encode())
    signature = keys.sign(key, text)
    assert len(b64url_decode(signature)) == 64 and "=" not in signature
    assert verify(public, signature, text)
    assert not verify(public, signature, text + b"x")
    assert not verify(public, "!!!", text)
    assert not verify(public, keys.b64url(b"\0" * 64), text)
    assert not verify(public_key_from_jwk(keys.public_jwk(keys.generate())), signature, text)


def test_empty_body_hash() -> None:
    text = provider_side.request_text("get", "Example.COM", "/p", "d", "1", "n", b"")
    assert text.split(b"\n") == [
        b"GET",
        b"example.com",
        b"/p",
        b"d",
        b"1",
        b"n",
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]


def test_jwk_validation() -> None:
    jwk = keys.public_jwk(keys.generate())
    assert normalized_jwk({**jwk, "kid": "x", "ext": True}) == jwk
    bad = [
        None,
        [],
        {**jwk, "crv": "P-384"},
        {**jwk, "kty": "RSA"},
        {**jwk, "x": keys.b64url(b"\1" * 31)},
        {**jwk, "y": "not base64url!"},
        {**jwk, "y": keys.b64url(b"\1" * 32)},  # off the curve
        {**jwk, "d": keys.b64url(b"\1" * 32)},  # a private key
        {k: v for k, v in jwk.items() if k != "y"},
    ]
    for candidate in bad:
        with pytest.raises(InvalidKey):
            public_key_from_jwk(candidate)


def test_decision_text() -> None:
    assert (
        provider_side.decision_text("u-1", "approved", 1700000000, None)
        == b"u-1|approved|1700000000"
    )
    assert (
        provider_side.decision_text("u-1", "denied", 1700000000, 42) == b"u-1|denied|1700000000|42"
    )
    for args in (("u", "approved", 1, None), ("u", "denied", 2, 7)):
        assert client_side.decision_text(*args) == provider_side.decision_text(*args)


@pytest.mark.parametrize(
    "header,host",
    [
        ("example.com", "example.com"),
        ("Example.com:8443", "example.com"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("[::1]:8000", "[::1]"),
        ("[::1]", "[::1]"),
    ],
)
def test_signed_host_matches_on_both_sides(header: str, host: str) -> None:
    assert provider_side.signed_host(header) == host
    assert client_side.signed_host(f"user@{header}") == host


def test_key_thumbprint_is_rfc7638() -> None:
    # RFC 7638 section 3.1 uses an RSA key; for EC the members are crv, kty, x, y, sorted.
    jwk = {"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "ignored"}
    expected = keys.b64url(hashlib.sha256(b'{"crv":"P-256","kty":"EC","x":"a","y":"b"}').digest())
    assert provider_side.key_thumbprint(jwk) == expected
