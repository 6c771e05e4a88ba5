"""HOTP/TOTP against the RFC vectors, window matching and otpauth URIs."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from twofa import otp

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()

RFC4226_HOTP = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]

RFC6238_SHA1_8 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_HOTP)))
def test_rfc4226_appendix_d(counter: int, expected: str) -> None:
    assert otp.hotp(RFC_SECRET, counter) == expected


@pytest.mark.parametrize(("timestamp", "expected"), RFC6238_SHA1_8)
def test_rfc6238_appendix_b_sha1(timestamp: int, expected: str) -> None:
    assert otp.totp(RFC_SECRET, timestamp, digits=8) == expected


@pytest.mark.parametrize(("timestamp", "expected"), RFC6238_SHA1_8)
def test_rfc6238_vectors_match_at_their_step(timestamp: int, expected: str) -> None:
    match = otp.match_totp(RFC_SECRET, expected, timestamp, digits=8, window=0)
    assert match == otp.TotpMatch(timestamp // 30)


def test_time_step_and_seconds_left() -> None:
    assert otp.time_step(59) == 1
    assert otp.time_step(60) == 2
    assert otp.time_step(89, step=60) == 1
    assert otp.seconds_left(60) == 30
    assert otp.seconds_left(61) == 29
    assert otp.seconds_left(119, step=60) == 1


def test_window_accepts_neighbouring_steps_only() -> None:
    now = 1_700_000_015.0
    step = otp.time_step(now)
    for offset in (-1, 0, 1):
        code = otp.hotp(RFC_SECRET, step + offset)
        assert otp.match_totp(RFC_SECRET, code, now, window=1) == otp.TotpMatch(step + offset)
    for offset in (-2, 2):
        code = otp.hotp(RFC_SECRET, step + offset)
        if code in {otp.hotp(RFC_SECRET, step + o) for o in (-1, 0, 1)}:
            continue  # a collision of six-digit codes; vanishingly rare
        assert otp.match_totp(RFC_SECRET, code, now, window=1) is None
        assert otp.match_totp(RFC_SECRET, code, now, window=2) == otp.TotpMatch(step + offset)


def test_window_zero_is_strict() -> None:
    now = 1_700_000_015.0
    previous = otp.hotp(RFC_SECRET, otp.time_step(now) - 1)
    assert otp.match_totp(RFC_SECRET, previous, now, window=0) is None


def test_match_uses_the_configured_step() -> None:
    now = 1_700_000_000.0
    code = otp.totp(RFC_SECRET, now, digits=7, step=60)
    assert otp.match_totp(RFC_SECRET, code, now, digits=7, step=60, window=0) == otp.TotpMatch(
        int(now // 60)
    )
    assert otp.match_totp(RFC_SECRET, code, now, digits=7, step=30, window=0) is None or (
        otp.hotp(RFC_SECRET, int(now // 30), digits=7) == code
    )


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12345a", "abcdef", " 12345", "\uff11\uff12\uff13\uff14\uff15\uff16"],
)
def test_malformed_codes_never_match(code: str) -> None:
    assert otp.match_totp(RFC_SECRET, code, 59.0, digits=6) is None


def test_agrees_with_pyotp() -> None:
    secret = otp.random_secret()
    for timestamp in (0, 59, 1_700_000_000, 2_000_000_000):
        assert otp.totp(secret, timestamp) == pyotp.TOTP(secret).at(timestamp)
        assert otp.totp(secret, timestamp, digits=7) == pyotp.TOTP(secret, digits=7).at(timestamp)


def test_random_secret_is_160_bits_of_base32() -> None:
    secrets = {otp.random_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
        assert "=" not in secret


def test_otpauth_uri_round_trips_through_pyotp() -> None:
    secret = otp.random_secret()
    uri = otp.otpauth_uri(secret, label="alice@example.com", issuer="My App", digits=6, step=30)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert parts.path == "/My%20App:alice%40example.com"
    query = parse_qs(parts.query)
    assert query == {
        "secret": [secret],
        "issuer": ["My App"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret
    assert parsed.issuer == "My App"
    assert parsed.name == "alice@example.com"
    assert parsed.at(1_700_000_000) == otp.totp(secret, 1_700_000_000)


def test_otpauth_uri_escapes_separators_in_label() -> None:
    uri = otp.otpauth_uri("JBSWY3DPEHPK3PXP", label="a:b/c?d&e", issuer="x&y", digits=8, step=60)
    path = urlsplit(uri).path
    assert path.count(":") == 1
    assert "?" not in path and "&" not in path
    query = parse_qs(urlsplit(uri).query)
    assert query["issuer"] == ["x&y"]
    assert query["digits"] == ["8"]
    assert query["period"] == ["60"]


def test_raw_key_functions_match_rfc4226_vectors() -> None:
    key = b"12345678901234567890"
    assert [otp.hotp_key(key, n, 6) for n in range(10)] == RFC4226_HOTP
    assert otp.decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == key
    assert otp.decode_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq") == key
    assert otp.match_step(key, "969429", 4, digits=6, window=1) == 3
    assert otp.match_step(key, "969429", 5, digits=6, window=1) is None


def test_hotp_agrees_with_pyotp() -> None:
    secret = otp.random_secret()
    for counter in (0, 1, 2**31, 2**40):
        for digits in (6, 7, 8):
            assert otp.hotp(secret, counter, digits=digits) == pyotp.HOTP(secret, digits=digits).at(
                counter
            )
