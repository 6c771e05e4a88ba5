"""Users moved in from Authy keep their ids and work on every route; an import is all or
nothing, a re-run changes nothing, and ids twofa hands out later never collide with them.

On SQLite and PostgreSQL: the bulk write and the id sequence differ between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.provider.conftest import Authy, User, provider_settings
from tests.servers import postgres_database
from twofa import otp
from twofa.provider.apps.model import App
from twofa.provider.services import Services
from twofa.provider.users.importer import ImportReport, read_import
from twofa.provider.users_cli import users_group
from twofa.settings import Settings
from twofa.storage.engine import upgrade
from twofa.storage.tables import audit_log, totp_secrets, users

BIG = 700_000_000  # Authy ids run into the hundreds of millions


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, migrated: Path) -> Iterator[Settings]:
    """The conftest's settings, on each backend in turn."""
    if request.param == "sqlite":
        yield provider_settings(tmp_path, migrated)
        return
    with postgres_database() as url:
        upgrade(url)
        yield provider_settings(tmp_path, migrated, database_url=url)


def csv_file(*rows: tuple[int, str, str], country_code: int = 1) -> str:
    lines = ["authy_id,email,country_code,phone,name"]
    lines += [f"{authy_id},{email},{country_code},{phone}," for authy_id, email, phone in rows]
    return "\n".join(lines) + "\n"


def run(
    services: Services, app_id: int, data: str, *, dry_run: bool = False, **kwargs: Any
) -> ImportReport:
    app = services.apps.get(app_id)
    return services.importer.run(
        app=app, parsed=read_import(data), dry_run=dry_run, actor="test", **kwargs
    )


def snapshot(services: Services) -> list[tuple[Any, ...]]:
    with services.db.read() as conn:
        rows = conn.execute(
            select(
                users.c.id, users.c.app_id, users.c.email, users.c.phone_e164, users.c.name
            ).order_by(users.c.id)
        ).all()
        secrets = conn.execute(select(func.count()).select_from(totp_secrets)).scalar_one()
    return [tuple(row) for row in rows] + [("secrets", secrets)]


def test_imported_users_work_on_every_route(authy: Authy, services: Services) -> None:
    data = csv_file(
        (BIG + 1, "alice@example.com", "201-555-0101"),
        (BIG + 2, "bob@example.com", "201-555-0102"),
    )
    report = run(services, authy.app_id, data)
    assert (report.ok, report.written, report.created, report.unchanged) == (True, True, 2, 0)
    alice = User(BIG + 1, "201-555-0101")

    status = authy.get(f"/protected/json/users/{alice.id}/status")
    assert status.status_code == 200, status.text
    assert status.json()["status"]["authy_id"] == alice.id
    assert status.json()["status"]["confirmed"] is True

    assert authy.sms(alice, force="true").status_code == 200
    assert authy.verify(alice, authy.last_code(alice.phone)).json()["token"] == "is valid"

    # The authenticator shows the imported user's account; its codes verify like any other.
    phone = authy.enrol(alice)
    (account,) = [a for a in phone.accounts() if a.authy_id == alice.id]
    code = otp.totp(account.secret, time.time(), digits=account.digits, step=account.period)
    assert authy.verify(alice, code).json()["token"] == "is valid"

    uuid = authy.push(alice, "Log in to Shop?")
    assert phone.approve(uuid) == "approved"
    assert authy.status(uuid)["status"] == "approved"
    # Another application does not see them.
    other = Authy(authy.http, services, callback_url=None)
    assert other.get(f"/protected/json/users/{alice.id}/status").status_code == 404


def test_a_second_run_changes_nothing(authy: Authy, services: Services) -> None:
    data = csv_file(*[(BIG + n, f"u{n}@example.com", f"201-555-{n:04d}") for n in range(1, 40)])
    first = run(services, authy.app_id, data)
    before = snapshot(services)
    again = run(services, authy.app_id, data)
    assert (again.ok, again.created, again.unchanged) == (True, 0, 39)
    assert snapshot(services) == before
    assert first.created == 39


def test_one_bad_row_imports_nothing_and_is_named(authy: Authy, services: Services) -> None:
    rows = [(BIG + n, f"u{n}@example.com", f"201-555-{n:04d}") for n in range(1, 30)]
    rows[16] = (BIG + 17, "not an address", "201-555-0017")
    before = snapshot(services)
    report = run(services, authy.app_id, csv_file(*rows))
    assert not report.ok and not report.written
    assert report.error_count == 1
    (error,) = report.errors
    assert (error.line, error.authy_id) == (18, str(BIG + 17)) and "email" in error.reason
    assert snapshot(services) == before
    assert authy.get(f"/protected/json/users/{BIG + 1}/status").status_code == 404


def test_conflicts_with_stored_users_are_refused(authy: Authy, services: Services) -> None:
    created = authy.new_user(national="201-555-0300")  # twofa's own id
    other = Authy(authy.http, services, callback_url=None)
    assert run(services, other.app_id, csv_file((BIG + 50, "x@example.com", "201-555-0350"))).ok
    assert run(services, authy.app_id, csv_file((BIG + 60, "y@example.com", "201-555-0360"))).ok
    before = snapshot(services)
    report = run(
        services,
        authy.app_id,
        csv_file(
            (BIG + 70, "fine@example.com", "201-555-0370"),  # line 2: would be fine
            (created.id, "z@example.com", "201-555-0301"),
            (BIG + 50, "x@example.com", "201-555-0350"),
            (BIG + 60, "changed@example.com", "201-555-0360"),
            (BIG + 80, "w@example.com", "201-555-0300"),  # the phone of twofa's user
        ),
    )
    found = {error.line: error.reason for error in report.errors}
    assert set(found) == {3, 4, 5, 6} and not report.written
    assert "user twofa created itself" in found[3]
    assert "another application" in found[4]
    assert "imported before with another email" in found[5]
    assert f"belongs to user {created.id} of this application" in found[6]
    assert (report.created, report.unchanged) == (1, 0)  # what would have happened
    assert snapshot(services) == before


def test_a_conflict_late_in_a_big_file_undoes_the_rows_before_it(
    authy: Authy, services: Services
) -> None:
    """Thousands of rows are fine, the last is not: none of them is written."""
    taken = authy.new_user(national="201-599-9999")
    rows = [(BIG + n, f"u{n}@example.com", f"201-{500 + n // 10000}-{n % 10000:04d}")
            for n in range(7000)]  # fmt: skip
    rows[-1] = (taken.id, "late@example.com", "201-598-0000")
    before = snapshot(services)
    report = run(services, authy.app_id, csv_file(*rows))
    assert [(e.line, e.authy_id) for e in report.errors] == [(7001, str(taken.id))]
    assert not report.written and snapshot(services) == before


def test_a_change_while_the_import_runs_refuses_it_whole(authy: Authy, services: Services) -> None:
    """The comparison takes no write lock; a user created meanwhile with a phone of the file
    is caught by the table's constraint, and the import writes nothing."""
    data = csv_file(*[(BIG + n, f"u{n}@example.com", f"201-555-{n:04d}") for n in range(1, 4)])

    def meanwhile(done: int) -> None:
        services.users.create(
            authy.app_id, email="quick@example.com", cellphone="201-555-0002", country_code=1
        )

    report = run(services, authy.app_id, data, progress=meanwhile)
    assert not report.written and report.error_count == 1
    assert report.errors[0].line == 0 and "changed while the import ran" in report.errors[0].reason
    assert authy.get(f"/protected/json/users/{BIG + 1}/status").status_code == 404
    again = run(services, authy.app_id, data)
    assert [(e.line, e.authy_id) for e in again.errors] == [(3, str(BIG + 2))]


def test_a_dry_run_writes_nothing(authy: Authy, services: Services) -> None:
    before = snapshot(services)
    report = run(
        services, authy.app_id, csv_file((BIG + 5, "a@example.com", "2015550105")), dry_run=True
    )
    assert (report.ok, report.dry_run, report.written, report.created) == (True, True, False, 1)
    assert snapshot(services) == before


def test_new_users_never_take_an_imported_id(authy: Authy, services: Services) -> None:
    first = authy.new_user()
    assert first.id < BIG
    assert run(services, authy.app_id, csv_file((BIG + 900, "a@example.com", "2015550900"))).ok
    after = authy.new_user()
    assert after.id > BIG + 900
    # An id below the sequence that twofa never handed out (or whose user is gone) is free.
    assert run(services, authy.app_id, csv_file((first.id + 1, "b@example.com", "2015550901"))).ok
    assert authy.new_user().id > after.id


def test_one_audit_event_per_import(authy: Authy, services: Services) -> None:
    data = csv_file(*[(BIG + n, f"u{n}@example.com", f"201-555-{n:04d}") for n in range(1, 12)])
    run(services, authy.app_id, data, dry_run=True)
    run(services, authy.app_id, data)
    run(services, authy.app_id, data + "bad,row,1,2,\n")
    services.audit.flush()
    with services.db.read() as conn:
        events = conn.execute(
            select(audit_log.c.event, audit_log.c.data, audit_log.c.actor)
            .where(audit_log.c.event.like("users.import%"))
            .order_by(audit_log.c.id)
        ).all()
    assert [(e.event, e.data["created"], e.data["errors"]) for e in events] == [
        ("users.imported", 11, 0),
        ("users.import_refused", 0, 1),
    ]
    assert events[0].actor == "test" and events[0].data["total"] == 11
    with services.db.read() as conn:
        created = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.event == "user.created")
        ).scalar_one()
    assert created == 0  # not one event per user


def test_progress_reaches_every_row(authy: Authy, services: Services) -> None:
    count = 12_001  # three chunks
    data = csv_file(*[(BIG + n, f"u{n}@example.com", f"201-{500 + n // 10000}-{n % 10000:04d}")
                      for n in range(count)])  # fmt: skip
    seen: list[int] = []
    report = run(services, authy.app_id, data, progress=seen.append)
    assert report.created == count
    assert seen == sorted(seen) and seen[-1] == count and len(seen) == 3


def test_sandbox_applications_take_imports_too(services: Services) -> None:
    sandbox: App = services.apps.create("Sandbox", sandbox=True).app
    report = run(services, sandbox.id, csv_file((BIG + 3, "s@example.com", "2015550103")))
    assert report.ok and report.created == 1


def test_the_command_line(authy: Authy, services: Services, settings: Settings) -> None:
    env = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": settings.key.decode(),
        "TWOFA_DATABASE_URL": settings.provider_database_url,
        "TWOFA_DATA_DIR": str(settings.data_dir),
    }
    good = settings.data_dir / "users.csv"
    good.write_text(csv_file((BIG + 1, "a@example.com", "2015550101")))
    runner = CliRunner()
    app = str(authy.app_id)
    dry = runner.invoke(users_group, ["import", app, str(good), "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert '"dry_run": true' in dry.stdout and '"created": 1' in dry.stdout
    done = runner.invoke(users_group, ["import", app, str(good)], env=env)
    assert done.exit_code == 0, done.output
    assert "1 users created" in done.stdout
    assert "\r" not in done.stderr and "Importing" not in done.stderr  # no bar off a terminal
    assert authy.get(f"/protected/json/users/{BIG + 1}/status").status_code == 200

    bad = settings.data_dir / "bad.csv"
    bad.write_bytes(b"authy_id,email,country_code,phone\n1,a@example.com,1,2015550111\n\xff\n")
    refused = runner.invoke(users_group, ["import", app, str(bad)], env=env)
    assert refused.exit_code == 1
    assert "line 3: line is not UTF-8 text" in refused.stderr
    assert "nothing was imported" in refused.stderr and "Traceback" not in refused.output
    missing = runner.invoke(users_group, ["import", "no-such-app", str(good)], env=env)
    assert missing.exit_code == 1 and missing.stderr.startswith("twofa: ")


def test_hostile_files_through_the_command_line(authy: Authy, settings: Settings) -> None:
    env = {
        "TWOFA_ENV": "test",
        "TWOFA_SECRET_KEY": settings.key.decode(),
        "TWOFA_DATABASE_URL": settings.provider_database_url,
        "TWOFA_DATA_DIR": str(settings.data_dir),
    }
    long_line = settings.data_dir / "long.csv"
    with long_line.open("wb") as out:
        out.write(b"authy_id,email,country_code,phone,name\n1,a@example.com,1,2015550101,")
        out.write(b"A" * (10 * 1024 * 1024) + b"\n")
    binary = settings.data_dir / "users.xlsx"
    binary.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 100)
    formula = settings.data_dir / "formula.csv"
    formula.write_text(
        "authy_id,email,country_code,phone,name\n"
        "1,a@example.com,1,2015550101,\"=cmd|' /C calc'!A0\"\n"
    )
    runner = CliRunner()
    expected = {
        long_line: "line 2: line is longer than 4096 bytes",
        binary: "line 1: the file is not UTF-8 text",
        formula: "line 2 (authy_id 1): name must not start with =",
    }
    for path, message in expected.items():
        done = runner.invoke(users_group, ["import", str(authy.app_id), str(path)], env=env)
        assert done.exit_code == 1, done.output
        assert message in done.stderr
        assert "Traceback" not in done.output and len(done.output) < 2000
    assert snapshot(authy.services)[:-1] == []
