"""The OneTouch callback signature: the contract's vectors and callbacks Authy really sent."""

from __future__ import annotations

import json

import pytest
from authy.api import AuthyApiClient

from tests.fast import signing_recorded as rec
from twofa import signing

NONCE = "1427849783.886085"

VECTOR_A_BODY = json.loads(
    '{"authy_id":1234,"status":"approved","uuid":"abc-123","approval_request":{"transaction":'
    '{"message":"Hi there/you","flagged":false,"reason":null}}}'
)
VECTOR_A_SIGNED = (
    "1427849783.886085|POST|https://example.com/authy/callback|approval_request%5Btransaction%5D"
    "%5Bflagged%5D=false&approval_request%5Btransaction%5D%5Bmessage%5D=Hi+there%2Fyou&approval_"
    "request%5Btransaction%5D%5Breason%5D=&authy_id=1234&status=approved&uuid=abc-123"
)
VECTOR_C_KEY = "test-api-key-0123456789abcdef0123"
VECTOR_C_BODY = json.loads(
    '{"authy_id":1635,"device_uuid":4242,"callback_action":"approval_request_status","uuid":'
    '"1836762c-e4b7-4c99-a0e4-d8e7518b4e78","status":"approved","approval_request":{"transaction":'
    '{"details":{"Email":"alice@example.com"},"device_details":{},"device_geolocation":"",'
    '"device_signing_time":1700000000,"encrypted":false,"flagged":false,"hidden_details":'
    '{"ip_address":"10.0.0.1"},"message":"Request to log in to Twilio demo app","reason":"",'
    '"requester_details":null,"status":"approved","uuid":"1836762c-e4b7-4c99-a0e4-d8e7518b4e78",'
    '"created_at_time":1699999990,"customer_uuid":15083},"expiration_timestamp":1700086390,'
    '"logos":[{"res":"default","url":"https://example.com/logo.png"}],"app_id":'
    '"582380eb7e1caa03317ec08c"},"signature":"c2lnbmF0dXJlLW9mLXRoZS1kZXZpY2U=","device":'
    '{"os_type":"android","id":4242,"registration_date":1690000000,"last_sync_date":1690000001,'
    '"city":null,"country":"Colombia","ip":"190.0.0.1"}}'
)
VECTOR_C_PARAMS = (
    "approval_request%5Bapp_id%5D=582380eb7e1caa03317ec08c&approval_request%5Bexpiration_timestamp"
    "%5D=1700086390&approval_request%5Blogos%5D%5B%5D%5Bres%5D=default&approval_request%5Blogos%5D"
    "%5B%5D%5Burl%5D=https%3A%2F%2Fexample.com%2Flogo.png&approval_request%5Btransaction%5D%5Bcre"
    "ated_at_time%5D=1699999990&approval_request%5Btransaction%5D%5Bcustomer_uuid%5D=15083&approva"
    "l_request%5Btransaction%5D%5Bdetails%5D%5BEmail%5D=alice%40example.com&approval_request%5Btr"
    "ansaction%5D%5Bdevice_geolocation%5D=&approval_request%5Btransaction%5D%5Bdevice_signing_time"
    "%5D=1700000000&approval_request%5Btransaction%5D%5Bencrypted%5D=false&approval_request%5Btran"
    "saction%5D%5Bflagged%5D=false&approval_request%5Btransaction%5D%5Bhidden_details%5D%5Bip_addr"
    "ess%5D=10.0.0.1&approval_request%5Btransaction%5D%5Bmessage%5D=Request+to+log+in+to+Twilio+de"
    "mo+app&approval_request%5Btransaction%5D%5Breason%5D=&approval_request%5Btransaction%5D%5Breq"
    "uester_details%5D=&approval_request%5Btransaction%5D%5Bstatus%5D=approved&approval_request%5B"
    "transaction%5D%5Buuid%5D=1836762c-e4b7-4c99-a0e4-d8e7518b4e78&authy_id=1635&callback_action=a"
    "pproval_request_status&device%5Bcity%5D=&device%5Bcountry%5D=Colombia&device%5Bid%5D=4242&dev"
    "ice%5Bip%5D=190.0.0.1&device%5Blast_sync_date%5D=1690000001&device%5Bos_type%5D=android&devic"
    "e%5Bregistration_date%5D=1690000000&device_uuid=4242&signature=c2lnbmF0dXJlLW9mLXRoZS1kZXZpY2"
    "U%3D&status=approved&uuid=1836762c-e4b7-4c99-a0e4-d8e7518b4e78"
)


def test_vector_a_signed_string_and_signature() -> None:
    url = "https://example.com/authy/callback"
    assert signing.signed_string(NONCE, "POST", url, VECTOR_A_BODY) == VECTOR_A_SIGNED
    signature = signing.sign(
        key="foobar123", nonce=NONCE, method="POST", url=url, params=VECTOR_A_BODY
    )
    assert signature == "G/ukXeF+dIDrJ9C4SbacnJBlMjAugWCx0yrLnLOSDck="
    assert signing.verify(
        key="foobar123",
        signature=signature,
        nonce=NONCE,
        method="POST",
        url=url,
        params=VECTOR_A_BODY,
    )


def test_vector_b_get_with_flat_bracketed_keys() -> None:
    url = "https://example.com/authy/callback"
    params = {
        "authy_id": "1234",
        "status": "approved",
        "uuid": "abc-123",
        "approval_request[transaction][message]": "Hi there/you",
    }
    assert signing.signed_string(NONCE, "GET", url, params) == (
        "1427849783.886085|GET|https://example.com/authy/callback|approval_request%5Btransaction"
        "%5D%5Bmessage%5D=Hi+there%2Fyou&authy_id=1234&status=approved&uuid=abc-123"
    )
    assert signing.sign(key="foobar123", nonce=NONCE, method="GET", url=url, params=params) == (
        "4UNXlyPLDgfZ9l+kgOSlmMm8OpR4BJeov7ToYJqu0pE="
    )


def test_vector_c_realistic_callback() -> None:
    url = "http://localhost:5000/authy/callback"
    assert signing.canonical_params(VECTOR_C_BODY) == VECTOR_C_PARAMS
    assert (
        signing.sign(
            key=VECTOR_C_KEY,
            nonce="1700000000.123456",
            method="POST",
            url=url,
            params=VECTOR_C_BODY,
        )
        == "OOjI6doO2R/YYVJdkg8rWN0kPSsPO5sURmchKuGf1iE="
    )


def test_vector_d_python_repository_inputs() -> None:
    url = "https://api.authy.com/dashboard/json/application/webhooks"
    params = {"b": "val|ue&2", "a": "value1"}
    assert signing.canonical_params(params) == "a=value1&b=val%7Cue%262"
    assert signing.sign(key="foobar123", nonce=NONCE, method="POST", url=url, params=params) == (
        "4f9676D/+BzsEq8NzF0fXpv7qETnzJUW/4YGe7p0EPM="
    )
    assert signing.sign(key="foobar123", nonce=NONCE, method="GET", url=url, params=params) == (
        "W+RlOV+lGi1EA9jaT1X5hL1aJFAuTRwnHuQhCp2tAxI="
    )


def test_empty_objects_and_lists_contribute_nothing() -> None:
    assert signing.canonical_params({"a": {}, "b": [], "c": "1"}) == "c=1"


def test_several_logos_keep_their_pairs_together() -> None:
    body = {
        "logos": [{"res": "default", "url": "https://x/1"}, {"res": "med", "url": "https://x/2"}]
    }
    assert signing.canonical_params(body) == (
        "logos%5B%5D%5Bres%5D=default&logos%5B%5D%5Burl%5D=https%3A%2F%2Fx%2F1&"
        "logos%5B%5D%5Bres%5D=med&logos%5B%5D%5Burl%5D=https%3A%2F%2Fx%2F2"
    )


@pytest.mark.parametrize(("nonce", "signature", "body"), rec.JAVA_POST)
def test_recorded_java_post_callbacks(nonce: str, signature: str, body: str) -> None:
    params = rec.post_body(body)
    assert signing.verify(
        key=rec.JAVA_KEY,
        signature=signature,
        nonce=nonce,
        method="POST",
        url=rec.JAVA_URL,
        params=params,
    )
    assert not signing.verify(
        key=rec.JAVA_KEY,
        signature=signature,
        nonce=nonce,
        method="POST",
        url=rec.JAVA_URL,
        params={**params, "status": "tampered"},
    )


@pytest.mark.parametrize(("nonce", "signature", "query"), rec.JAVA_GET)
def test_recorded_java_get_callbacks(nonce: str, signature: str, query: str) -> None:
    params = rec.get_params(query)
    assert signing.verify(
        key=rec.JAVA_KEY,
        signature=signature,
        nonce=nonce,
        method="GET",
        url=rec.JAVA_URL,
        params=params,
    )
    assert not signing.verify(
        key=rec.JAVA_KEY,
        signature=signature,
        nonce=nonce,
        method="POST",
        url=rec.JAVA_URL,
        params=params,
    )


def test_recorded_java_properties_callback() -> None:
    key, url, nonce, signature, body = rec.JAVA_PROPERTIES_POST
    params = rec.post_body(body)
    assert signing.verify(
        key=key, signature=signature, nonce=nonce, method="POST", url=url, params=params
    )
    assert not signing.verify(
        key=key,
        signature=signature,
        nonce=nonce,
        method="POST",
        url=url.replace("http://", "https://"),
        params=params,
    )


def test_recorded_uphold_callback() -> None:
    assert signing.verify(
        key=rec.UPHOLD_KEY,
        signature=rec.UPHOLD_SIGNATURE,
        nonce=rec.UPHOLD_NONCE,
        method="POST",
        url=rec.UPHOLD_URL,
        params=rec.UPHOLD_BODY,
    )


@pytest.mark.parametrize("change", ["key", "nonce", "url", "method", "body", "signature"])
def test_any_tampering_fails(change: str) -> None:
    args = {
        "key": rec.UPHOLD_KEY,
        "signature": rec.UPHOLD_SIGNATURE,
        "nonce": rec.UPHOLD_NONCE,
        "method": "POST",
        "url": rec.UPHOLD_URL,
        "params": rec.UPHOLD_BODY,
    }
    altered = {
        "key": rec.UPHOLD_KEY[:-1] + "X",
        "nonce": "1455825430",
        "url": "https://foo.bar/x",
        "method": "GET",
        "body": {**rec.UPHOLD_BODY, "authy_id": 1234568},
        "signature": "A" + rec.UPHOLD_SIGNATURE[1:],
    }[change]
    args["params" if change == "body" else change] = altered
    assert not signing.verify(**args)  # type: ignore[arg-type]


def test_our_signatures_validate_with_the_official_client() -> None:
    body = {**VECTOR_C_BODY}
    body["approval_request"] = {
        **body["approval_request"],
        "logos": [
            {"res": "default", "url": "https://example.com/a.png"},
            {"res": "low", "url": "https://example.com/b.png"},
            {"res": "high", "url": "https://example.com/c.png"},
        ],
    }
    url = "https://rp.example/authy/callback?ignored=no"
    signature = signing.sign(
        key=VECTOR_C_KEY, nonce="1700000001", method="POST", url=url, params=body
    )
    client = AuthyApiClient(VECTOR_C_KEY)
    assert client.one_touch.validate_one_touch_signature(signature, "1700000001", "POST", url, body)


def test_max_age_refuses_stale_and_future_nonces() -> None:
    url = "https://example.com/cb"
    params = {"a": "1"}
    nonce = "1700000000.5"
    signature = signing.sign(key="k", nonce=nonce, method="POST", url=url, params=params)

    def check(now: float, max_age: float | None = 300) -> bool:
        return signing.verify(
            key="k",
            signature=signature,
            nonce=nonce,
            method="POST",
            url=url,
            params=params,
            max_age=max_age,
            now=now,
        )

    assert check(1700000000.5 + 299)
    assert check(1700000000.5 - 299)
    assert not check(1700000000.5 + 301)
    assert not check(1700000000.5 - 301)
    assert check(1700000000.5 + 10**6, max_age=None)


def test_max_age_refuses_non_numeric_nonce() -> None:
    signature = signing.sign(key="k", nonce="abc", method="POST", url="u", params={"a": "1"})
    assert signing.verify(
        key="k", signature=signature, nonce="abc", method="POST", url="u", params={"a": "1"}
    )
    assert not signing.verify(
        key="k",
        signature=signature,
        nonce="abc",
        method="POST",
        url="u",
        params={"a": "1"},
        max_age=300,
        now=0,
    )


@pytest.mark.parametrize(
    ("signature", "nonce", "method"), [("", "1", "POST"), ("sig", "", "POST"), ("sig", "1", "PUT")]
)
def test_missing_parts_fail_without_raising(signature: str, nonce: str, method: str) -> None:
    assert not signing.verify(
        key="k", signature=signature, nonce=nonce, method=method, url="u", params={"a": "1"}
    )
