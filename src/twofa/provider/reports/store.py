"""The dashboard's SQL: counts per hour, channel, country and receiver over a recent window.

Every figure is read from the record of the thing itself, never from a second count kept
beside it:

- verifications: the audit log's ``verification.passed`` / ``verification.failed`` (Authy
  tokens, with the channel the verifier matched or blamed) and ``verify.verification.approved``
  / ``verify.check.failed`` (Verify v2, joined to the verification for its channel). The
  ``usage`` table only counts successes per month, and ``sent_codes`` cannot tell which of a
  user's codes was typed (one use spends them all).
- pushes: ``approval_requests`` by creation hour and status; a pending request past its
  deadline counts as expired, as the API reports it.
- SMS by country: ``messages`` (one row per message handed to the gateway, sent or failed);
  conversion from the codes sent by SMS and whether they were used: ``sent_codes`` (Authy
  tokens), ``phone_verifications`` and ``verify_verifications``. The fraud guard's
  ``fraud_traffic`` is not used: it is kept only for its own window and only when detection
  is on.
- receivers: ``deliveries`` created in the window by target and status, and the breaker
  state from ``delivery_circuits``.

Numbers map to countries in Python (``masking.country``): the numbering plan is not SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from twofa.provider.reports.masking import country
from twofa.provider.reports.model import AppName, ChannelOutcome, CountryTraffic, ReceiverHealth
from twofa.storage.database import aware
from twofa.storage.tables import (
    approval_requests,
    apps,
    audit_log,
    deliveries,
    delivery_circuits,
    messages,
    phone_verifications,
    sent_codes,
    users,
    verify_verifications,
)

AUTHY_OK, AUTHY_FAILED = "verification.passed", "verification.failed"
VERIFY_OK, VERIFY_FAILED = "verify.verification.approved", "verify.check.failed"
PUSH_STATES = ("approved", "denied", "expired", "pending")

Counts = dict[tuple[datetime, str], int]


def hour_of(conn: Connection, column: Any) -> ColumnElement[Any]:
    """The hour a timestamp falls in, in UTC, as each dialect can group by it."""
    if conn.dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def as_hour(value: Any) -> datetime:
    """An ``hour_of`` value read back as an aware UTC datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    moment: datetime = value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def app_names(conn: Connection) -> list[AppName]:
    rows = conn.execute(select(apps.c.id, apps.c.name).order_by(apps.c.name, apps.c.id))
    return [AppName(r.id, r.name) for r in rows]


# Verifications ----------------------------------------------------------------------------


def verification_counts(conn: Connection, *, since: datetime) -> Counts:
    """Verifications per (hour, "ok:<channel>" or "failed:<channel>")."""
    hour = hour_of(conn, audit_log.c.created_at)
    outcome = case((audit_log.c.event.in_([AUTHY_OK, VERIFY_OK]), "ok"), else_="failed")
    authy_channel = func.coalesce(audit_log.c.data["channel"].as_string(), "unknown")
    authy = (
        select(hour.label("hour"), outcome.label("outcome"), authy_channel.label("channel"))
        .where(audit_log.c.event.in_([AUTHY_OK, AUTHY_FAILED]), audit_log.c.created_at >= since)
        .subquery()
    )
    verify = (
        select(
            hour.label("hour"),
            outcome.label("outcome"),
            (literal("verify:") + verify_verifications.c.channel).label("channel"),
        )
        .select_from(
            audit_log.join(verify_verifications, verify_verifications.c.sid == audit_log.c.subject)
        )
        .where(audit_log.c.event.in_([VERIFY_OK, VERIFY_FAILED]), audit_log.c.created_at >= since)
        .subquery()
    )
    counts: Counts = {}
    for sub in (authy, verify):
        rows = conn.execute(
            select(sub.c.hour, sub.c.outcome, sub.c.channel, func.count()).group_by(
                sub.c.hour, sub.c.outcome, sub.c.channel
            )
        )
        for hour_value, kind, channel, n in rows:
            key = (as_hour(hour_value), f"{kind}:{channel}")
            counts[key] = counts.get(key, 0) + n
    return counts


def channel_totals(counts: Counts) -> list[ChannelOutcome]:
    """The per-hour counts summed per channel, busiest channel first."""
    ok: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for (_, key), n in counts.items():
        kind, _, channel = key.partition(":")
        (ok if kind == "ok" else failed)[channel] += n
    channels = sorted(set(ok) | set(failed), key=lambda c: (-(ok[c] + failed[c]), c))
    return [ChannelOutcome(c, ok[c], failed[c]) for c in channels]


# Pushes -----------------------------------------------------------------------------------


def push_counts(conn: Connection, *, since: datetime, now: datetime) -> Counts:
    """Approval requests created per (hour, status); overdue pending ones count as expired."""
    ar = approval_requests.c
    overdue = and_(ar.status == "pending", ar.expires_at.is_not(None), ar.expires_at <= now)
    status = case((overdue, "expired"), else_=ar.status)
    hour = hour_of(conn, ar.created_at)
    rows = conn.execute(
        select(hour, status, func.count()).where(ar.created_at >= since).group_by(hour, status)
    )
    return {(as_hour(h), s): n for h, s, n in rows}


# SMS by country ---------------------------------------------------------------------------


def sms_by_country(conn: Connection, *, since: datetime) -> list[CountryTraffic]:
    """Text messages sent and failed, and SMS codes sent and verified, per country."""
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    verified: Counter[str] = Counter()
    rows = conn.execute(
        select(messages.c.to, messages.c.status, func.count())
        .where(messages.c.channel == "sms", messages.c.created_at >= since)
        .group_by(messages.c.to, messages.c.status)
    )
    for to, status, n in rows:
        (sent if status == "sent" else failed)[country(to) or "?"] += n
    for phone, total, used in _code_conversions(conn, since=since):
        where = country(phone) or "?"
        codes[where] += total
        verified[where] += used
    names = set(sent) | set(failed) | set(codes)
    ordered = sorted(names, key=lambda c: (-(sent[c] + failed[c]), -codes[c], c))
    return [CountryTraffic(c, sent[c], failed[c], codes[c], verified[c]) for c in ordered]


def _code_conversions(conn: Connection, *, since: datetime) -> list[tuple[str, int, int]]:
    """(number, codes sent by SMS, codes verified) from each place a code is kept."""
    used = func.count(sent_codes.c.used_at)
    authy = (
        select(users.c.phone_e164, func.count(), used)
        .select_from(sent_codes.join(users, users.c.id == sent_codes.c.user_id))
        .where(sent_codes.c.channel == "sms", sent_codes.c.created_at >= since)
        .group_by(users.c.phone_e164)
    )
    pv = phone_verifications.c
    phones = (
        select(pv.phone_e164, func.count(), func.count(pv.verified_at))
        .where(pv.via == "sms", pv.created_at >= since)
        .group_by(pv.phone_e164)
    )
    vv = verify_verifications.c
    approved = func.sum(case((vv.status == "approved", 1), else_=0))
    verify = (
        select(vv.to, func.count(), approved)
        .where(vv.channel == "sms", vv.created_at >= since)
        .group_by(vv.to)
    )
    found: list[tuple[str, int, int]] = []
    for query in (authy, phones, verify):
        found.extend((p, int(n), int(u or 0)) for p, n, u in conn.execute(query))
    return found


# Receivers --------------------------------------------------------------------------------


def receiver_health(conn: Connection, *, since: datetime) -> list[ReceiverHealth]:
    """Each receiver with deliveries in the window, or a breaker that is not closed."""
    d = deliveries.c
    recent = or_(d.created_at >= since, d.status == "pending")
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    owner: dict[str, int | None] = {}
    rows = conn.execute(
        select(d.target, d.app_id, d.status, func.count())
        .where(recent)
        .group_by(d.target, d.app_id, d.status)
    )
    for target, app_id, status, n in rows:
        tally[target][status] += n
        owner.setdefault(target, app_id)
    circuits = {r.target: r for r in conn.execute(select(delivery_circuits))}
    names = {a.id: a.name for a in app_names(conn)}
    found = []
    for target in sorted(set(tally) | set(circuits)):
        counts, circuit = tally.get(target, Counter()), circuits.get(target)
        app_id = owner.get(target, circuit.app_id if circuit is not None else None)
        state = "ok"
        if circuit is not None:
            state = "paused" if circuit.state == "paused" else "failing"
        found.append(
            ReceiverHealth(
                target=target,
                app_id=app_id,
                app_name=names.get(app_id) if app_id is not None else None,
                delivered=counts["delivered"],
                pending=counts["pending"],
                failed=counts["failed"],
                state=state,
                failures=circuit.failures if circuit is not None else 0,
                paused_at=aware(circuit.paused_at) if circuit is not None else None,
                probe_at=aware(circuit.probe_at) if circuit is not None else None,
                last_error=circuit.last_error if circuit is not None else None,
            )
        )
    order = {"paused": 0, "failing": 1, "ok": 2}
    return sorted(found, key=lambda r: (order[r.state], r.target))
