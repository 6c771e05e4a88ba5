"""Hostile and malformed input: always the Authy envelope, never a 5xx, nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.servers import LiveProvider
from twofa.storage.tables import approval_requests, users

HUGE = 64 * 1024 + 1


@pytest.fixture
def app(sqlite_provider: LiveProvider) -> tuple[int, str]:
    return sqlite_provider.new_app()


@pytest.fixture
def http(sqlite_provider: LiveProvider, app: tuple[int, str]) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sqlite_provider.url, timeout=10, headers={"X-Authy-API-Key": app[1]}
    ) as client:
        yield client


def count(provider: LiveProvider, table: Any, app_id: int) -> int:
    with provider.services.db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.app_id == app_id)
            ).scalar_one()
        )


def envelope(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.status_code >= 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert body["success"] is False
    assert isinstance(body["error_code"], str) and body["error_code"].isdigit()
    assert isinstance(body["errors"]["message"], str)
    assert isinstance(body["message"], str)
    return body  # type: ignore[no-any-return]


def new_user(provider: LiveProvider, http: httpx.Client) -> int:
    response = http.post(
        "/protected/json/users/new",
        json={
            "user": {"email": "h@example.com", "cellphone": provider.new_phone(), "country_code": 1}
        },
    )
    assert response.status_code == 200, response.text
    return int(response.json()["user"]["id"])


BAD_JSON = [
    b"{",
    b'{"user": ',
    b"{'a': 1}",
    b"\xff\xfe\x00",
    b"[" * 50_000,
    b"NaN-ish",
    b'{"a": 1}garbage',
    b"\x00",
]


@pytest.mark.parametrize("body", BAD_JSON)
def test_malformed_json(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client, body: bytes
) -> None:
    before = count(sqlite_provider, users, app[0])
    response = http.post(
        "/protected/json/users/new", content=body, headers={"Content-Type": "application/json"}
    )
    envelope(response, 400)
    assert count(sqlite_provider, users, app[0]) == before


@pytest.mark.parametrize("body", [[1, 2], "user", 42, None, True, [{"user": {}}]])
def test_json_that_is_not_an_object(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client, body: Any
) -> None:
    before = count(sqlite_provider, users, app[0])
    envelope(
        http.post(
            "/protected/json/users/new",
            content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        ),
        400,
    )
    assert count(sqlite_provider, users, app[0]) == before


WRONG_USERS = [
    {"user": "alice"},
    {"user": ["a"]},
    {"user": {"email": {"$ne": 1}, "cellphone": "555-123-4567"}},
    {"user": {"email": "a@b.com", "cellphone": {"a": 1}}},
    {"user": {"email": "a@b.com", "cellphone": ["555"]}},
    {"user": {"email": "a@b.com", "cellphone": True}},
    {"user": {"email": "a@b.com", "cellphone": 10**400}},
    {"user": {"email": "a@b.com", "cellphone": 1.5e300}},
    {"user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": {"x": 1}}},
    {"user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": 10**100}},
    {"user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": True}},
    {"user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": -1}},
    {"user": {"email": "a@b.com", "cellphone": "555-123-4567", "country_code": "²"}},
    {"user": {"email": "a@b.com", "cellphone": "555\x00123-4567"}},
    {"user": {"email": "a@b.com\x00", "cellphone": "555-123-4567"}},
    {"user": {"email": "'; DROP TABLE users; --@x.com", "cellphone": "555-123-4567"}},
    {"user": {"email": "a@b.com", "cellphone": "555-123-4567' OR '1'='1"}},
    {
        "user": {
            "email": "😀@😀.😀",
            "cellphone": "\uff15\uff15\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        }
    },
    {"user": {"email": "a" * 10_000 + "@b.com", "cellphone": "555-123-4567"}},
    {"user": {"email": "a@b.com", "cellphone": "5" * 10_000}},
]


@pytest.mark.parametrize("body", WRONG_USERS)
def test_wrong_types_and_values_on_user_creation(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client, body: dict[str, Any]
) -> None:
    before = count(sqlite_provider, users, app[0])
    result = envelope(http.post("/protected/json/users/new", json=body), 400)
    assert result["error_code"] in {"60027", "60004", "60002"}
    assert count(sqlite_provider, users, app[0]) == before


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_body(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client, chunked: bool
) -> None:
    before = count(sqlite_provider, users, app[0])
    payload = json.dumps(
        {"user": {"email": "a@b.com", "cellphone": sqlite_provider.new_phone()}, "pad": "x" * HUGE}
    ).encode()
    if chunked:

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(payload), 8192):
                yield payload[start : start + 8192]

        content: Any = chunks()
    else:
        content = payload
    response = http.post(
        "/protected/json/users/new", content=content, headers={"Content-Type": "application/json"}
    )
    body = envelope(response, 413)
    assert body["error_code"] == "60002"
    assert count(sqlite_provider, users, app[0]) == before


def test_oversize_form_body_on_get(http: httpx.Client) -> None:
    response = http.request(
        "GET",
        "/protected/json/phones/info",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=b"a=" + b"x" * HUGE,
    )
    envelope(response, 413)


def test_body_just_under_the_limit_is_read(
    sqlite_provider: LiveProvider, http: httpx.Client
) -> None:
    payload = json.dumps(
        {
            "user": {"email": "a@b.com", "cellphone": sqlite_provider.new_phone()},
            "pad": "x" * (60 * 1024),
        }
    )
    assert (
        http.post(
            "/protected/json/users/new",
            content=payload,
            headers={"Content-Type": "application/json"},
        ).status_code
        == 200
    )


BAD_IDS = [
    "0",
    "-1",
    "abc",
    "1.5",
    "1e3",
    "99999999999999999999999999",
    "9" * 1000,
    "%00",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2F..%2Fapp%2Fdetails",
    "1%20OR%201=1",
    "1'%20OR%20'1'='1",
    "%F0%9F%98%80",
    "%C2%B2",
    "%D9%A1",
    "%EF%BC%91",
    "null",
    "undefined",
    "[]",
    "%7B%7D",
]


@pytest.mark.parametrize("raw_id", BAD_IDS)
@pytest.mark.parametrize(
    "template",
    [
        ("GET", "/protected/json/users/{}/status"),
        ("GET", "/protected/json/sms/{}"),
        ("GET", "/protected/json/call/{}"),
        ("GET", "/protected/json/verify/1234567/{}"),
        ("POST", "/protected/json/users/{}/delete"),
        ("POST", "/protected/json/users/delete/{}"),
        ("POST", "/protected/json/users/{}/secret"),
        ("POST", "/protected/json/users/{}/register_activity"),
        ("POST", "/onetouch/json/users/{}/approval_requests"),
    ],
)
def test_bad_ids(http: httpx.Client, raw_id: str, template: tuple[str, str]) -> None:
    method, path = template
    response = http.request(method, path.format(raw_id), json={"message": "x"})
    body = envelope(response)
    assert response.status_code in (400, 404)
    if (response.status_code == 404 and "/users/" in path) or "/sms/" in path:
        assert body["error_code"] in {"60026", "60000"}


@pytest.mark.parametrize(
    "uuid", ["x" * 10_000, "%00", "'%20OR%201=1--", "%F0%9F%98%80", "..%2F..%2Fetc", "%C0%AE%C0%AE"]
)
def test_bad_approval_uuids(http: httpx.Client, uuid: str) -> None:
    response = http.get(f"/onetouch/json/approval_requests/{uuid}")
    envelope(response)
    assert response.status_code in (400, 404)
    assert len(response.content) < 2000


@pytest.mark.parametrize(
    "token",
    [
        "0" * 10_000,
        "%00" * 7,
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        "%F0%9F%98%80" * 7,
        "-123456",
        "1234567%20",
        "123456789012345678901234567890",
        "12345.6",
        "1e6",
    ],
)
def test_bad_tokens(sqlite_provider: LiveProvider, http: httpx.Client, token: str) -> None:
    authy_id = new_user(sqlite_provider, http)
    body = envelope(http.get(f"/protected/json/verify/{token}/{authy_id}"))
    assert body["error_code"] in {"60020", "60002"}


def test_unicode_and_emoji_round_trip(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client
) -> None:
    authy_id = new_user(sqlite_provider, http)
    details = {"Ñame 😀": "Zoë 💥", "SQL": "'); DROP TABLE approval_requests; --", "nul": "a\x00b"}
    response = http.post(
        f"/onetouch/json/users/{authy_id}/approval_requests",
        json={"message": "Log in? 🔐 — ĉu vi?", "details": details},
    )
    if response.status_code == 200:
        uuid = response.json()["approval_request"]["uuid"]
        request, _ = sqlite_provider.services.push.get(
            sqlite_provider.services.apps.get(app[0]), uuid
        )
        assert request.message == "Log in? 🔐 — ĉu vi?"
        assert request.details["Ñame 😀"] == "Zoë 💥"
        assert request.details["SQL"] == details["SQL"]
    else:
        envelope(response, 400)
    assert count(sqlite_provider, approval_requests, app[0]) <= 1


@pytest.mark.parametrize(
    "body",
    [
        {"message": {"a": 1}},
        {"message": ["x"]},
        {"message": "x" * 100_00},
        {"message": ""},
        {"message": None},
        {"message": "x", "seconds_to_expire": "soon"},
        {"message": "x", "seconds_to_expire": -1},
        {"message": "x", "seconds_to_expire": 10**30},
        {"message": "x", "seconds_to_expire": True},
        {"message": "x", "seconds_to_expire": 1.5},
        {"message": "x", "details": "text"},
        {"message": "x", "details": [1, 2]},
        {"message": "x", "details": {str(i): "v" for i in range(60)}},
        {"message": "x", "logos": "logo"},
        {"message": "x", "logos": [1]},
        {"message": "x", "logos": [{"res": "default", "url": "javascript:alert(1)"}]},
        {"message": "x", "logos": [{"res": {"a": 1}, "url": "https://x"}]},
        {"message": "x", "logos": [{"res": "default", "url": "https://x"}] * 9},
    ],
)
def test_wrong_types_on_approval_requests(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client, body: dict[str, Any]
) -> None:
    authy_id = new_user(sqlite_provider, http)
    before = count(sqlite_provider, approval_requests, app[0])
    envelope(http.post(f"/onetouch/json/users/{authy_id}/approval_requests", json=body), 400)
    assert count(sqlite_provider, approval_requests, app[0]) == before


@pytest.mark.parametrize(
    "params",
    [
        {"phone_number": {"a": 1}, "country_code": 1},
        {"phone_number": ["5551234567"], "country_code": 1},
        {"phone_number": "5551234567", "country_code": [1]},
        {"phone_number": "5551234567", "country_code": True},
        {"phone_number": "5551234567", "country_code": 10**50},
        {"phone_number": "5551234567", "country_code": "²"},
        {"phone_number": "555\x001234567", "country_code": 1},
        {"phone_number": "5551234567", "country_code": 1, "code_length": "²"},
        {"phone_number": "5551234567", "country_code": 1, "code_length": {"a": 1}},
        {"phone_number": "5551234567", "country_code": 1, "via": ["sms"]},
        {"phone_number": "5551234567", "country_code": 1, "locale": {"x": 1}},
    ],
)
def test_wrong_types_on_phone_verification(http: httpx.Client, params: dict[str, Any]) -> None:
    envelope(http.post("/protected/json/phones/verification/start", json=params), 400)


@pytest.mark.parametrize(
    "query",
    [
        "phone_number=5551234567&country_code=1&verification_code=%00",
        "phone_number=5551234567&country_code=1&verification_code=" + "9" * 100,
        "phone_number[a]=1&country_code=1&verification_code=1234",
        "phone_number=5551234567&country_code[]=1&verification_code=1234",
        "phone_number=5551234567&country_code=1&verification_code[x]=1",
    ],
)
def test_wrong_types_on_verification_check(http: httpx.Client, query: str) -> None:
    envelope(http.get(f"/protected/json/phones/verification/check?{query}"))


@pytest.mark.parametrize(
    "query",
    [
        "force[a]=1",
        "force=%00",
        "action[x]=1",
        "action=" + "a" * 300,
        "action_message=😀" * 10,
    ],
)
def test_odd_sms_parameters(sqlite_provider: LiveProvider, http: httpx.Client, query: str) -> None:
    authy_id = new_user(sqlite_provider, http)
    response = http.get(f"/protected/json/sms/{authy_id}?{query}")
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        envelope(response, 400)


@pytest.mark.parametrize(
    "form",
    [
        b"a[" + b"[x]" * 100 + b"=1",
        b"&".join(b"k%d=v" % i for i in range(2000)),
        b"a=%ZZ&b=%",
        b"\xff\xfe=\xff",
        b"logos[][res]=default&logos[0][res]=low",
        b"user=1&user[email]=a@b.com",
        b"user[email]=a@b.com&user=1",
    ],
)
def test_strange_forms(http: httpx.Client, form: bytes) -> None:
    response = http.post(
        "/protected/json/users/new",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    envelope(response, None)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("key", ["k" * 10_000, "\x00", "' OR 1=1 --", "😀"])
def test_hostile_api_keys(sqlite_provider: LiveProvider, key: str) -> None:
    response = httpx.get(
        f"{sqlite_provider.url}/protected/json/app/details", params={"api_key": key}
    )
    envelope(response, 401)
    assert key not in response.text or len(key) < 3


def test_hostile_api_key_headers(sqlite_provider: LiveProvider) -> None:
    response = httpx.get(
        f"{sqlite_provider.url}/protected/json/app/details", headers={"X-Authy-API-Key": "k" * 8000}
    )
    envelope(response, 401)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=latin-1",
        "text/xml",
        "multipart/form-data; boundary=zz",
        "application/json;;",
        "",
    ],
)
def test_odd_content_types(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client, content_type: str
) -> None:
    before = count(sqlite_provider, users, app[0])
    response = http.post(
        "/protected/json/users/new", content=b"<x/>", headers={"Content-Type": content_type}
    )
    envelope(response, 400)
    assert count(sqlite_provider, users, app[0]) == before


def test_nothing_is_half_written_on_a_rejected_phone(
    sqlite_provider: LiveProvider, app: tuple[int, str], http: httpx.Client
) -> None:
    before = count(sqlite_provider, users, app[0])
    for _ in range(3):
        envelope(
            http.post(
                "/protected/json/users/new",
                json={"user": {"email": "ok@example.com", "cellphone": "12"}},
            ),
            400,
        )
    assert count(sqlite_provider, users, app[0]) == before
    new_user(sqlite_provider, http)
    assert count(sqlite_provider, users, app[0]) == before + 1
