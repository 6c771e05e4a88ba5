"""RFC 8291 message encryption and RFC 8292 VAPID, checked against the RFC and the fake service."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fakepush import b64d, b64e, check_vapid, decrypt
from twofa.provider.webpush.crypto import (
    MAX_BODY,
    MAX_PLAINTEXT,
    InvalidSubscriptionKey,
    PayloadTooLarge,
    SubscriptionKeys,
    audience,
    encrypt,
    raw_public_key,
    vapid_authorization,
    vapid_jwt,
)

# RFC 8291 section 5 and appendix A, verbatim.
PLAINTEXT = b"When I grow up, I want to be a watermelon"
AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
SALT = "DGv6ra1nlYgDCS1FRnbzlw"
BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
    "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
    "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)


def private_key(b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64d(b64), "big"), ec.SECP256R1())


def test_rfc8291_worked_example_byte_for_byte() -> None:
    sender = private_key(AS_PRIVATE)
    assert b64e(raw_public_key(sender)) == AS_PUBLIC
    keys = SubscriptionKeys.parse(UA_PUBLIC, AUTH)
    assert b64e(encrypt(PLAINTEXT, keys, salt=b64d(SALT), sender=sender)) == BODY


def test_the_fake_service_decrypts_the_rfc_example() -> None:
    assert decrypt(b64d(BODY), private_key(UA_PRIVATE), b64d(AUTH)) == PLAINTEXT


def test_fresh_salt_and_key_per_message() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = secrets.token_bytes(16)
    keys = SubscriptionKeys(raw_public_key(ua), auth)
    first, second = encrypt(b"{}", keys), encrypt(b"{}", keys)
    assert first[:16] != second[:16] and first[21:86] != second[21:86]
    assert decrypt(first, ua, auth) == decrypt(second, ua, auth) == b"{}"


def test_size_limit_is_the_4096_bytes_every_service_takes() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    keys = SubscriptionKeys(raw_public_key(ua), secrets.token_bytes(16))
    assert len(encrypt(b"x" * MAX_PLAINTEXT, keys)) == MAX_BODY
    with pytest.raises(PayloadTooLarge):
        encrypt(b"x" * (MAX_PLAINTEXT + 1), keys)


@pytest.mark.parametrize(
    ("p256dh", "auth"),
    [
        (UA_PUBLIC, "short"),
        (UA_PUBLIC[:-4], AUTH),  # truncated point
        ("A" + UA_PUBLIC[1:], AUTH),  # not an uncompressed point
        (b64e(b"\x04" + b"\x01" * 64), AUTH),  # off the curve
        ("not base64!", AUTH),
        (None, AUTH),
        (UA_PUBLIC, 16),
    ],
)
def test_subscription_keys_are_checked(p256dh: object, auth: object) -> None:
    with pytest.raises(InvalidSubscriptionKey):
        SubscriptionKeys.parse(p256dh, auth)


def test_vapid_jwt_passes_the_fake_services_checks() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    endpoint = "https://fcm.googleapis.com/fcm/send/abc:def"
    now = time.time()
    header = vapid_authorization(
        vapid_jwt(key, aud=audience(endpoint), subject="mailto:ops@example.org", now=now),
        raw_public_key(key),
    )
    claims, k = check_vapid(header, aud="https://fcm.googleapis.com", now=now)
    assert k == raw_public_key(key)
    assert claims["sub"] == "mailto:ops@example.org"
    assert now + 11 * 3600 < claims["exp"] <= now + 12 * 3600 + 1
    with pytest.raises(AssertionError):  # another push service's audience
        check_vapid(header, aud="https://updates.push.services.mozilla.com", now=now)
    with pytest.raises(AssertionError):  # expired
        check_vapid(header, aud="https://fcm.googleapis.com", now=now + 13 * 3600)
    token = header.split("t=")[1].split(",")[0]
    head, _body, sig = token.split(".")
    forged = b64e(json.dumps({**claims, "aud": "https://evil.example"}).encode())
    with pytest.raises(AssertionError):
        check_vapid(
            f"vapid t={head}.{forged}.{sig}, k={b64e(k)}", aud="https://evil.example", now=now
        )


def test_audience_is_the_origin() -> None:
    assert audience("https://web.push.apple.com/QGx-abc?x=1") == "https://web.push.apple.com"
    assert audience("https://127.0.0.1:8443/p/1") == "https://127.0.0.1:8443"
