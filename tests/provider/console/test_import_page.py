"""Importing Authy users from the console: upload, dry-run report, then the same file again to
import it; on SQLite and PostgreSQL. Only admins; the operator is named in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.provider.conftest import Authy, provider_settings
from tests.provider.console.conftest import Console, Operator
from tests.servers import postgres_database
from twofa.settings import Settings
from twofa.storage.engine import upgrade

BIG = 640_000_000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, migrated: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield provider_settings(tmp_path, migrated)
        return
    with postgres_database() as url:
        upgrade(url)
        yield provider_settings(tmp_path, migrated, database_url=url)


def export(first: int, count: int) -> bytes:
    lines = ["authy_id,email,country_code,phone,name"]
    for n in range(count):
        lines.append(f"{first + n},user{n}@example.com,1,201-{300 + n // 10000}-{n % 10000:04d},")
    return ("\n".join(lines) + "\n").encode()


def upload(
    op: Operator, app_id: int, data: bytes, *, checked: str = "", name: str = "authy.csv"
) -> httpx.Response:
    op.get("/console/import")
    return op.http.post(
        "/console/import",
        data={"csrf_token": op.csrf, "app_id": str(app_id), "checked": checked},
        files={"file": (name, data, "text/csv")},
        headers={"Origin": "https://testserver"},
    )


def checked_digest(page: str) -> str:
    found = re.search(r'name="checked" value="([0-9a-f]*)"', page)
    assert found, page
    return found.group(1)


def test_dry_run_then_import(console: Console, authy: Authy) -> None:
    alice = console.operator("alice")
    alice.start_session()
    data = export(BIG, 3)
    report = upload(alice, authy.app_id, data)
    assert report.status_code == 200, report.text
    assert "Dry run: nothing was written" in report.text
    assert re.search(r"data-created>3<", report.text)
    assert authy.get(f"/protected/json/users/{BIG}/status").status_code == 404
    digest = checked_digest(report.text)
    assert digest

    done = upload(alice, authy.app_id, data, checked=digest)
    assert done.status_code == 200
    assert "Imported" in done.text
    assert authy.get(f"/protected/json/users/{BIG + 2}/status").status_code == 200
    again = upload(alice, authy.app_id, data)
    assert re.search(r"data-unchanged>3<", again.text)  # a re-run changes nothing

    console.services.audit.flush_all()
    imported = console.services.audit.entries(event="users.imported")
    assert [(e.app_id, e.actor) for e in imported] == [(authy.app_id, "operator:alice")]


def test_only_the_checked_file_into_the_checked_application(console: Console, authy: Authy) -> None:
    alice = console.operator("alice")
    alice.start_session()
    data = export(BIG + 100, 2)
    digest = checked_digest(upload(alice, authy.app_id, data).text)
    other = upload(alice, authy.app_id, export(BIG + 200, 2), checked=digest)
    assert other.status_code == 400
    assert "not the file that was checked" in other.text
    other_app = console.services.apps.create("Other", actor="cli").app
    elsewhere = upload(alice, other_app.id, data, checked=digest)
    assert elsewhere.status_code == 400
    assert authy.get(f"/protected/json/users/{BIG + 100}/status").status_code == 404


def test_a_file_with_errors_lists_them_and_offers_no_import(console: Console, authy: Authy) -> None:
    alice = console.operator("alice")
    alice.start_session()
    bad = export(BIG + 300, 2) + b"not-a-number,x@example.com,1,201-555-0100,\n=cmd|x,a@b.c,1,1,\n"
    report = upload(alice, authy.app_id, bad)
    assert report.status_code == 200
    assert re.search(r"data-errors>2<", report.text)
    assert "<td>4</td>" in report.text  # the line number of the first bad record
    assert checked_digest(report.text) == ""
    for hostile in (b"\xff\xfe\x00garbage", b"", b"{" * 10_000):
        assert upload(alice, authy.app_id, hostile, name="x.jsonl").status_code == 200


def test_larger_files_than_the_api_accepts_are_taken(console: Console, authy: Authy) -> None:
    alice = console.operator("alice")
    alice.start_session()
    data = export(BIG + 1000, 2000)
    assert len(data) > console.settings.max_body_bytes
    report = upload(alice, authy.app_id, data)
    assert report.status_code == 200
    assert re.search(r"data-created>2000<", report.text)


@pytest.mark.parametrize("role", ["helpdesk", "read-only"])
def test_only_admins_import(console: Console, authy: Authy, role: str) -> None:
    bob = console.operator("bob", role)
    bob.start_session()
    assert bob.get("/console/import").status_code == 403
    bob.get("/console/apps")
    refused = upload(bob, authy.app_id, export(BIG + 500, 1))
    assert refused.status_code == 403
    assert authy.get(f"/protected/json/users/{BIG + 500}/status").status_code == 404


def test_a_sandbox_application_from_the_console(console: Console) -> None:
    alice = console.operator("alice")
    alice.start_session()
    alice.get("/console/apps/new")
    created = alice.post("/console/apps/new", {"name": "Test bench", "sandbox": "on"})
    assert created.status_code == 200
    app = next(a for a in console.services.apps.all() if a.name == "Test bench")
    assert app.sandbox
    assert "sandbox" in alice.get(f"/console/apps/{app.id}").text
