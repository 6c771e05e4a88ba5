"""The read-only pages in the console, for operators of each role: real content from a seeded
day, masks, roles, the CSV download, and hostile query strings."""

from __future__ import annotations

import csv
import html
import io
import re
import secrets
from pathlib import Path

import pytest

from tests.provider.conftest import provider_settings
from tests.provider.console.conftest import Clock, Console
from tests.provider.reports.seeding import Seeded
from twofa.provider.services import Services, build_services

PAGES = ("/console/dashboard", "/console/requests", "/console/messages", "/console/audit")


def test_every_role_reads_every_page(seeded: Seeded, console: Console) -> None:
    day = seeded.day
    for role in ("admin", "helpdesk", "read-only"):
        operator = console.operator(f"op-{role}", role)
        operator.start_session()
        home = operator.get("/console/")
        assert home.status_code == 303 and home.headers["location"] == "/console/dashboard"
        for path in (*PAGES, "/console/settings", f"/console/requests/{day.approved}"):
            page = operator.get(path)
            assert page.status_code == 200, (role, path, page.text[:300])
            assert "<script>" not in page.text and 'style="' not in page.text


@pytest.mark.usefixtures("seeded")
def test_dashboard_draws_the_day(console: Console) -> None:
    viewer = console.operator("wall", "read-only")
    viewer.start_session()
    page = viewer.get("/console/dashboard").text
    assert page.count("<svg") == 5
    for state in ("approved", "denied", "pending"):
        assert f'data-series="{state}" data-value="1"' in page
    assert "verify:sms: ok 1, failed 1" in page
    assert re.search(r"<th scope=\"row\">GB</th><td>2</td><td>0</td><td>2</td><td>0</td>", page)
    assert "HTTP 500" in page and "badge-failing" in page
    assert "intact" in page


def test_requests_and_timeline(seeded: Seeded, console: Console) -> None:
    day = seeded.day
    helpdesk = console.operator("help", "helpdesk")
    helpdesk.start_session()
    listed = helpdesk.get("/console/requests", params={"status": "denied"}).text
    assert day.denied in listed and day.approved not in listed
    story = html.unescape(helpdesk.get(f"/console/requests/{day.denied}").text)
    assert "Denied" in story and "by Bob's phone" in story
    assert "HTTP 500" in story and "Callback retrying" in story
    assert 'action="/console/deliveries/' in story, "helpdesk may retry a delivery"
    viewer = console.operator("viewer", "read-only")
    viewer.start_session()
    assert "/retry" not in viewer.get(f"/console/requests/{day.denied}").text
    assert helpdesk.get("/console/requests/nope").status_code == 404


def test_messages_page_is_masked(seeded: Seeded, console: Console, services: Services) -> None:
    day = seeded.day
    viewer = console.operator("viewer", "read-only")
    viewer.start_session()
    page = viewer.get("/console/messages", params={"limit": 500}).text
    assert "verification code is: •••••••" in html.unescape(page)
    for message in services.messaging.list():
        assert message.to not in page
        for code in re.findall(r"\b\d{6,7}\b", message.body):
            assert f": {code}" not in page
    found = viewer.get("/console/messages", params={"to": day.alice.phone}).text
    assert found.count("<tr>") == 1 + 1  # the header and alice's one text
    assert day.alice.phone not in found.replace(f'value="{day.alice.phone}"', "")


@pytest.mark.usefixtures("seeded")
def test_audit_page_export_and_chain(console: Console) -> None:
    admin = console.operator("root", "admin")
    admin.start_session()
    page = admin.get("/console/audit", params={"event": "verify."}).text
    assert "verify.check.failed" in page and "request.created" not in page
    assert 'href="/console/audit.csv?event=verify."' in page
    checked = admin.post("/console/audit/verify")
    assert checked.status_code == 200 and "chain intact" in checked.text
    assert admin.post("/console/audit/verify", origin="https://evil.example").status_code == 403
    export = admin.get("/console/audit.csv", params={"event": "request."})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:6] == ["seq", "created_at", "event", "app_id", "subject", "actor"]
    assert {r[2] for r in rows[1:]} == {"request.created", "request.answered"}
    viewer = console.operator("viewer", "read-only")
    viewer.start_session()
    assert "audit.csv" not in viewer.get("/console/audit").text
    assert viewer.get("/console/audit.csv").status_code == 403
    mine = admin.get("/console/audit", params={"actor": "cli"}).text
    assert "operator.created" in mine, "creating operators is audited with the actor cli"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/console/requests", {"user": "abc"}),
        ("/console/requests", {"user": "9" * 40}),
        ("/console/requests", {"status": "<script>"}),
        ("/console/requests", {"since": "yesterday"}),
        ("/console/requests", {"before": "-1"}),
        ("/console/messages", {"channel": "pigeon"}),
        ("/console/messages", {"to": "x" * 500}),
        ("/console/audit", {"app": "1e9"}),
        ("/console/audit", {"until": "2026-13-45"}),
    ],
)
def test_hostile_filters_are_refused_cleanly(
    console: Console, path: str, query: dict[str, str]
) -> None:
    viewer = console.operator("viewer", "read-only")
    viewer.start_session()
    answer = viewer.get(path, params=query)
    assert answer.status_code == 400, answer.text[:300]
    assert "<script>" not in answer.text


def test_settings_page_shows_no_secret(tmp_path: Path, migrated: Path, clock: Clock) -> None:
    planted = {
        name: f"planted-{secrets.token_hex(16)}"
        for name in ("twilio_auth_token", "smtp_password", "site_api_key", "site_secret_key")
    }
    key = f"key-{secrets.token_hex(24)}"
    settings = provider_settings(tmp_path, migrated, secret_key=key, **planted)
    services = build_services(settings)
    built = Console(settings, services, clock)
    try:
        admin = built.operator("root", "admin")
        admin.start_session()
        page = admin.get("/console/settings").text
        assert "TWOFA_TWILIO_AUTH_TOKEN" in page and "TWOFA_SMS_CODE_TTL" in page
        for value in [*planted.values(), key]:
            assert value not in page
    finally:
        built.close()
        services.close()
