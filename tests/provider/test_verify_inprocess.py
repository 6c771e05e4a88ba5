"""Verify v2 in-process: the dev outbox shows e-mail codes; the public base URL comes from
``TWOFA_PUBLIC_URL`` and never from the Host header; Twilio's error body under /v2 only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.provider.conftest import BASE_URL, provider_settings
from twofa.provider.app import create_app
from twofa.provider.services import build_services


def client_for(tmp_path: Path, migrated: Path, **overrides: object) -> Iterator[TestClient]:
    settings = provider_settings(tmp_path, migrated, **overrides)
    services = build_services(settings)
    try:
        with TestClient(create_app(settings, services, workers=False), base_url=BASE_URL) as c:
            app_id = services.apps.create("In-process").app.id
            issued = services.verify.accounts.issue_account(app_id)
            c.auth = (issued.sid, issued.secret)
            yield c
    finally:
        services.close()


@pytest.fixture
def dev(tmp_path: Path, migrated: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path, migrated, env="dev")


@pytest.fixture
def proxied(tmp_path: Path, migrated: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path, migrated, public_url="https://2fa.example.com/base/")


def test_dev_outbox_shows_email_codes(dev: TestClient) -> None:
    service = dev.post("/v2/Services", data={"FriendlyName": "Shop"}).json()["sid"]
    started = dev.post(
        f"/v2/Services/{service}/Verifications", data={"To": "eve@example.com", "Channel": "email"}
    )
    assert started.status_code == 201, started.text
    page = dev.get("/outbox", auth=None)
    assert page.status_code == 200
    assert "eve@example.com" in page.text and "Your Shop verification code" in page.text
    listed = [m for m in dev.get("/outbox.json", auth=None).json() if m["channel"] == "email"]
    assert re.search(r"\b\d{6}\b", listed[-1]["body"])


def test_urls_use_the_public_url_not_the_host_header(proxied: TestClient) -> None:
    headers = {"Host": "evil.example.net", "X-Forwarded-Host": "evil.example.net"}
    for name in ("A", "B"):
        proxied.post("/v2/Services", data={"FriendlyName": name}, headers=headers)
    made = proxied.post("/v2/Services", data={"FriendlyName": "C"}, headers=headers).json()
    assert made["url"].startswith("https://2fa.example.com/base/v2/Services/VA")
    page = proxied.get("/v2/Services", params={"PageSize": 2}, headers=headers).json()
    assert page["meta"]["next_page_url"].startswith("https://2fa.example.com/base/v2/Services?")
    assert "evil" not in str(page)


def test_error_shapes_stay_apart(dev: TestClient) -> None:
    verify = dev.get("/v2/Services/VA" + "0" * 32)
    assert verify.json() == {
        "code": 20404,
        "message": f"The requested resource /Services/VA{'0' * 32} was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    authy = dev.get("/protected/json/app/details", auth=None)
    assert authy.status_code == 401 and authy.json()["error_code"] == "60001"
    unknown = dev.get("/v2/Nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == 20404
    wrong_method = dev.request("PUT", "/v2/Services")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == 20004


@pytest.fixture
def us_only(tmp_path: Path, migrated: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path, migrated, fraud_allowed_countries="US")


def test_fraud_guard_geo_permissions(us_only: TestClient) -> None:
    service = us_only.post("/v2/Services", data={"FriendlyName": "Geo"}).json()["sid"]
    url = f"/v2/Services/{service}/Verifications"
    refused = us_only.post(url, data={"To": "+447911123456", "Channel": "sms"})
    assert refused.status_code == 403 and refused.json()["code"] == 60605
    allowed = us_only.post(url, data={"To": "+12015550123", "Channel": "sms"})
    assert allowed.status_code == 201
    mail = us_only.post(url, data={"To": "uk@example.co.uk", "Channel": "email"})
    assert mail.status_code == 201  # geo permissions concern phone numbers


@pytest.fixture
def watchful(tmp_path: Path, migrated: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path, migrated, fraud_min_sends=3, fraud_min_conversion=0.5)


def test_fraud_guard_blocks_a_pumped_prefix(watchful: TestClient) -> None:
    service = watchful.post("/v2/Services", data={"FriendlyName": "Pump"}).json()["sid"]
    url = f"/v2/Services/{service}/Verifications"
    answers = [
        watchful.post(url, data={"To": f"+1201555010{i}", "Channel": "sms"}) for i in range(4)
    ]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    blocked = answers[-1]
    assert blocked.status_code == 403 and blocked.json()["code"] == 60410
    other_prefix = watchful.post(url, data={"To": "+13125550100", "Channel": "sms"})
    assert other_prefix.status_code == 201
