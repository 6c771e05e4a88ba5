"""Derived keys, secrets at rest, keyed code hashes and API keys."""

from __future__ import annotations

import base64

import pytest

from twofa import crypto

MASTER = b"m" * 40


def test_derive_separates_purposes_and_masters() -> None:
    a = crypto.derive(MASTER, "one")
    assert len(a) == 32
    assert a == crypto.derive(MASTER, "one")
    assert a != crypto.derive(MASTER, "two")
    assert a != crypto.derive(b"n" * 40, "one")
    assert len(crypto.derive(MASTER, "one", 64)) == 64


def test_encrypt_round_trip_and_randomised() -> None:
    ring = crypto.Keyring(MASTER)
    first = ring.encrypt("JBSWY3DPEHPK3PXP")
    second = ring.encrypt("JBSWY3DPEHPK3PXP")
    assert first != second
    assert "JBSWY3DPEHPK3PXP" not in first
    assert ring.decrypt(first) == ring.decrypt(second) == "JBSWY3DPEHPK3PXP"


def test_decrypt_with_another_key_or_tampered_fails() -> None:
    token = crypto.Keyring(MASTER).encrypt("secret")
    with pytest.raises(ValueError, match="another key"):
        crypto.Keyring(b"other" * 8).decrypt(token)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-1] ^= 1
    with pytest.raises(ValueError):
        crypto.Keyring(MASTER).decrypt(base64.urlsafe_b64encode(bytes(raw)).decode())
    with pytest.raises(ValueError):
        crypto.Keyring(MASTER).decrypt("not a token")


def test_code_hash_is_keyed_and_bound_to_purpose() -> None:
    ring = crypto.Keyring(MASTER)
    h = ring.code_hash("user:1", "1234567")
    assert len(h) == 64
    assert h == ring.code_hash("user:1", "1234567")
    assert h != ring.code_hash("user:2", "1234567")
    assert h != ring.code_hash("user:1", "1234568")
    assert h != crypto.Keyring(b"x" * 40).code_hash("user:1", "1234567")
    import hashlib

    assert h != hashlib.sha256(b"user:1:1234567").hexdigest()


def test_api_key_is_derived_from_the_salt() -> None:
    ring = crypto.Keyring(MASTER)
    salt = crypto.new_salt()
    key = ring.api_key(salt)
    assert len(key) == 40
    assert key.isalnum() and key.upper() == key
    assert key == crypto.Keyring(MASTER).api_key(salt)
    assert key != ring.api_key(crypto.new_salt())
    assert key != crypto.Keyring(b"y" * 40).api_key(salt)


def test_api_key_hash() -> None:
    assert crypto.api_key_hash("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_ids_and_salts() -> None:
    salts = {crypto.new_salt() for _ in range(20)}
    assert len(salts) == 20 and all(len(s) == 32 for s in salts)
    ids = {crypto.public_id() for _ in range(20)}
    assert len(ids) == 20 and all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize("length", [4, 7, 10])
def test_random_digits(length: int) -> None:
    values = [crypto.random_digits(length) for _ in range(200)]
    assert all(len(v) == length and v.isascii() and v.isdigit() for v in values)
    assert len(set(values)) > 150
    assert {c for v in values for c in v} == set("0123456789")
