"""Plain HTTP as the other Authy clients send it (contract sections 1.2-1.4, 8 item 15)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.servers import LiveProvider

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def e164(national: str) -> str:
    return "+1" + re.sub(r"\D", "", national)


@pytest.fixture
def key(provider: LiveProvider) -> str:
    return provider.new_app()[1]


@pytest.fixture
def http(provider: LiveProvider) -> httpx.Client:
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        yield client


def assert_ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] in (True, "true")
    return body  # type: ignore[no-any-return]


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == code
    assert isinstance(body["error_code"], str)
    assert isinstance(body["errors"]["message"], str)
    assert body["message"] == body["errors"]["message"]
    return body  # type: ignore[no-any-return]


def create_user(http: httpx.Client, key: str, phone: str) -> int:
    response = http.post(
        "/protected/json/users/new",
        headers={"X-Authy-API-Key": key},
        json={"user": {"email": "a@example.com", "cellphone": phone, "country_code": 1}},
    )
    return int(assert_ok(response)["user"]["id"])


def test_api_key_in_the_query(http: httpx.Client, key: str) -> None:
    body = assert_ok(http.get("/protected/json/app/details", params={"api_key": key}))
    assert body["app"]["app_id"]
    assert_envelope(
        http.get("/protected/json/app/details", params={"api_key": "nope"}), 401, "60001"
    )


def test_api_key_in_a_form_body(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    phone = provider.new_phone()
    response = http.post(
        "/protected/json/users/new",
        data={
            "api_key": key,
            "user[email]": "go@example.com",
            "user[cellphone]": phone,
            "user[country_code]": "1",
        },
    )
    assert assert_ok(response)["user"]["id"] > 0


def test_header_wins_over_query(http: httpx.Client, key: str) -> None:
    assert_ok(
        http.get(
            "/protected/json/app/details",
            params={"api_key": "wrong"},
            headers={"X-Authy-API-Key": key},
        )
    )


def test_missing_key(http: httpx.Client) -> None:
    assert_envelope(http.get("/protected/json/app/details"), 401, "60001")
    assert_envelope(http.post("/protected/json/users/new", json={}), 401, "60001")


def test_form_encoded_user_creation_like_ruby(
    provider: LiveProvider, http: httpx.Client, key: str
) -> None:
    phone = provider.new_phone()
    response = http.post(
        "/protected/json/users/new",
        headers={"X-Authy-API-Key": key},
        data={
            "user[email]": "ruby@example.com",
            "user[cellphone]": phone,
            "user[country_code]": "1",
            "send_install_link_via_sms": "false",
        },
    )
    authy_id = assert_ok(response)["user"]["id"]
    status = assert_ok(
        http.get(f"/protected/json/users/{authy_id}/status", headers={"X-Authy-API-Key": key})
    )
    assert status["status"]["email"] == "ruby@example.com"


def test_form_encoded_invalid_user_lists_fields(http: httpx.Client, key: str) -> None:
    response = http.post(
        "/protected/json/users/new",
        headers={"X-Authy-API-Key": key},
        data={"user[email]": "nope", "user[cellphone]": "12"},
    )
    body = assert_envelope(response, 400, "60027")
    assert body["errors"] == {
        "email": "is invalid",
        "cellphone": "is invalid",
        "message": "User was not valid",
    }
    assert body["email"] == "is invalid"


def test_php_style_query_only_post(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    phone = provider.new_phone()
    response = http.post(
        "/protected/json/users/new",
        headers={"X-Authy-API-Key": key},
        params={
            "user[email]": "php@example.com",
            "user[cellphone]": phone,
            "user[country_code]": "1",
            "user[send_install_link_via_sms]": "0",
        },
    )
    authy_id = assert_ok(response)["user"]["id"]
    approval = http.post(
        f"/onetouch/json/users/{authy_id}/approval_requests",
        headers={"X-Authy-API-Key": key},
        params={"message": "PHP login", "details[Name]": "Alice", "seconds_to_expire": "300"},
    )
    assert assert_ok(approval)["approval_request"]["uuid"]


@pytest.mark.parametrize("style", ["brackets", "indices"])
def test_logos_bracket_forms(
    provider: LiveProvider, http: httpx.Client, key: str, style: str
) -> None:
    authy_id = create_user(http, key, provider.new_phone())

    def logo(i: int, field: str) -> str:
        return f"logos[][{field}]" if style == "brackets" else f"logos[{i}][{field}]"

    form = [
        ("message", "Login?"),
        ("details[Account Number]", "42"),
        ("hidden_details[ip]", "10.0.0.1"),
        (logo(0, "res"), "default"),
        (logo(0, "url"), "https://example.com/a.png"),
        (logo(1, "res"), "low"),
        (logo(1, "url"), "https://example.com/b.png"),
    ]
    response = http.post(
        f"/onetouch/json/users/{authy_id}/approval_requests",
        headers={"X-Authy-API-Key": key, **FORM},
        content=urlencode(form),
    )
    uuid = assert_ok(response)["approval_request"]["uuid"]
    stored = provider.services.push.get(provider.services.apps.authenticate(key), uuid)[0]
    assert stored.logos == [
        {"res": "default", "url": "https://example.com/a.png"},
        {"res": "low", "url": "https://example.com/b.png"},
    ]
    assert stored.details == {"Account Number": "42"}
    assert stored.hidden_details == {"ip": "10.0.0.1"}


def test_bad_logos_are_refused(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    authy_id = create_user(http, key, provider.new_phone())
    response = http.post(
        f"/onetouch/json/users/{authy_id}/approval_requests",
        headers={"X-Authy-API-Key": key},
        json={"message": "x", "logos": [{"res": "huge", "url": "ftp://x"}]},
    )
    assert_envelope(response, 400, "60004")


def test_form_body_on_get_for_verification_check(
    provider: LiveProvider, http: httpx.Client, key: str
) -> None:
    phone = provider.new_phone()
    assert_ok(
        http.post(
            "/protected/json/phones/verification/start",
            params={"api_key": key},
            data={"phone_number": phone, "country_code": "1", "via": "sms"},
        )
    )
    code = provider.last_code(e164(phone), digits=4)
    status = assert_ok(
        http.request(
            "GET",
            "/protected/json/phones/verification/status",
            params={"api_key": key},
            headers=FORM,
            content=f"phone_number={phone}&country_code=1",
        )
    )
    assert status["status"] == "pending"
    response = http.request(
        "GET",
        "/protected/json/phones/verification/check",
        params={"api_key": key},
        headers=FORM,
        content=f"phone_number={phone}&country_code=1&verification_code={code}",
    )
    assert assert_ok(response)["message"] == "Verification code is correct."
    status = assert_ok(
        http.request(
            "GET",
            "/protected/json/phones/verification/status",
            params={"api_key": key, "phone_number": phone, "country_code": "1"},
        )
    )
    assert status["status"] == "verified"


def test_json_body_on_get(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    response = http.request(
        "GET",
        "/protected/json/phones/info",
        headers={"X-Authy-API-Key": key},
        json={"phone_number": "555-123-4567", "country_code": 1},
    )
    assert assert_ok(response)["type"]


@pytest.mark.parametrize(
    "path",
    [
        "/protected/json/users/{id}/delete",
        "/protected/json/users/delete/{id}",
        "/protected/json/users/{id}/remove",
    ],
)
def test_delete_aliases(provider: LiveProvider, http: httpx.Client, key: str, path: str) -> None:
    authy_id = create_user(http, key, provider.new_phone())
    headers = {"X-Authy-API-Key": key}
    deleted = assert_ok(http.post(path.format(id=authy_id), headers=headers))
    assert deleted["message"] == "User removed from application"
    assert_envelope(
        http.get(f"/protected/json/users/{authy_id}/status", headers=headers), 404, "60026"
    )
    assert_envelope(http.post(path.format(id=authy_id), headers=headers), 404, "60026")


def test_ruby_extras(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    headers = {"X-Authy-API-Key": key}
    authy_id = create_user(http, key, provider.new_phone())
    assert_ok(
        http.post(
            f"/protected/json/users/{authy_id}/update",
            headers=headers,
            data={"email": "new@example.com"},
        )
    )
    status = assert_ok(http.get(f"/protected/json/users/{authy_id}/status", headers=headers))
    assert status["status"]["email"] == "new@example.com"
    assert_envelope(
        http.post(
            f"/protected/json/users/{authy_id}/update", headers=headers, data={"email": "bad"}
        ),
        400,
        "60027",
    )
    activity = http.post(
        f"/protected/json/users/{authy_id}/register_activity",
        headers=headers,
        data={"type": "cookie_login", "data[reason]": "x"},
    )
    assert assert_ok(activity)["message"] == "Activity was created."


def test_npm_verify_without_force_is_strict(
    provider: LiveProvider, http: httpx.Client, key: str
) -> None:
    authy_id = create_user(http, key, provider.new_phone())
    response = http.get(f"/protected/json/verify/0000000/{authy_id}", params={"api_key": key})
    assert_envelope(response, 401, "60020")


ERROR_CASES = [
    ("GET", "/protected/json/users/999999999/status", None, 404, "60026"),
    ("GET", "/protected/json/users/abc/status", None, 404, "60026"),
    ("GET", "/protected/json/sms/999999999", None, 404, "60026"),
    ("GET", "/protected/json/call/0", None, 404, "60026"),
    ("GET", "/protected/json/verify/1234567/999999999", None, 404, "60026"),
    ("POST", "/protected/json/users/new", {}, 400, "60027"),
    ("POST", "/protected/json/users/999999999/secret", {}, 404, "60026"),
    ("POST", "/onetouch/json/users/999999999/approval_requests", {"message": "x"}, 404, "60026"),
    ("GET", "/onetouch/json/approval_requests/no-such-uuid", None, 404, "60049"),
    (
        "POST",
        "/protected/json/phones/verification/start",
        {"phone_number": "555-123-4567"},
        400,
        "60004",
    ),
    (
        "POST",
        "/protected/json/phones/verification/start",
        {"phone_number": "12", "country_code": 1},
        400,
        "60033",
    ),
    (
        "POST",
        "/protected/json/phones/verification/start",
        {"phone_number": "555-123-4567", "country_code": 1, "via": "pigeon"},
        400,
        "60004",
    ),
    (
        "POST",
        "/protected/json/phones/verification/start",
        {"phone_number": "555-123-4567", "country_code": 1, "code_length": 11},
        400,
        "60004",
    ),
    ("GET", "/protected/json/phones/info", None, 400, "60004"),
    ("GET", "/protected/json/registrations/status?custom_user_id=42", None, 404, "60035"),
    ("GET", "/protected/json/registrations/status", None, 400, "60004"),
    ("GET", "/protected/json/no/such/route", None, 404, "60000"),
    ("DELETE", "/protected/json/users/new", None, 405, "60002"),
    ("PUT", "/protected/json/app/details", None, 405, "60002"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), ERROR_CASES)
def test_every_error_is_an_authy_envelope(
    http: httpx.Client,
    key: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: str,
) -> None:
    response = http.request(method, path, headers={"X-Authy-API-Key": key}, json=body)
    assert_envelope(response, status, code)


def test_no_endpoint_answers_201_or_204(
    provider: LiveProvider, http: httpx.Client, key: str
) -> None:
    headers = {"X-Authy-API-Key": key}
    phone = provider.new_phone()
    authy_id = create_user(http, key, phone)
    uuid = assert_ok(
        http.post(
            f"/onetouch/json/users/{authy_id}/approval_requests",
            headers=headers,
            json={"message": "m"},
        )
    )["approval_request"]["uuid"]
    calls = [
        (
            "POST",
            "/protected/json/users/new",
            {"user": {"email": "x@example.com", "cellphone": provider.new_phone()}},
        ),
        ("GET", f"/protected/json/users/{authy_id}/status", None),
        ("GET", f"/protected/json/sms/{authy_id}", None),
        ("GET", f"/protected/json/call/{authy_id}", None),
        ("POST", f"/protected/json/users/{authy_id}/secret", {"qr_size": 200}),
        ("POST", f"/onetouch/json/users/{authy_id}/approval_requests", {"message": "m"}),
        ("GET", f"/onetouch/json/approval_requests/{uuid}", None),
        (
            "POST",
            "/protected/json/phones/verification/start",
            {"phone_number": provider.new_phone(), "country_code": 1},
        ),
        ("GET", "/protected/json/phones/info?phone_number=5551234567&country_code=1", None),
        ("GET", "/protected/json/app/details", None),
        ("GET", "/protected/json/app/stats", None),
        ("POST", f"/protected/json/users/{authy_id}/register_activity", {"type": "banned"}),
        ("POST", f"/protected/json/users/{authy_id}/delete", {}),
    ]
    for method, path, body in calls:
        response = http.request(method, path, headers=headers, json=body)
        assert response.status_code == 200, (path, response.status_code, response.text)
        assert response.content, path
        assert response.headers["content-type"].startswith("application/json"), path


def test_json_is_compact(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    headers = {"X-Authy-API-Key": key}
    authy_id = create_user(http, key, provider.new_phone())
    for response in (
        http.get(f"/protected/json/users/{authy_id}/status", headers=headers),
        http.get("/protected/json/app/details", headers=headers),
        http.get("/protected/json/users/999999999/status", headers=headers),
    ):
        text = response.text
        assert text == json.dumps(response.json(), separators=(",", ":"), ensure_ascii=False) or (
            text == json.dumps(response.json(), separators=(",", ":"))
        )
        assert '": ' not in text and '", "' not in text


def test_ignored_is_absent_when_sent(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    authy_id = create_user(http, key, provider.new_phone())
    body = assert_ok(http.get(f"/protected/json/sms/{authy_id}", params={"api_key": key}))
    assert "ignored" not in body
    assert body["message"] == "SMS token was sent"


def test_percent_encoded_ids(provider: LiveProvider, http: httpx.Client, key: str) -> None:
    authy_id = create_user(http, key, provider.new_phone())
    encoded = "".join(f"%{ord(c):02X}" for c in str(authy_id))
    assert (
        assert_ok(
            http.get(f"/protected/json/users/{encoded}/status", headers={"X-Authy-API-Key": key})
        )["status"]["authy_id"]
        == authy_id
    )


def test_base_url_with_trailing_path_segments_is_not_needed(
    provider: LiveProvider, http: httpx.Client
) -> None:
    assert http.get("/healthz").json()["success"] is True
