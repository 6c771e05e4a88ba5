"""The console's read side: figures, lists and timelines over the provider's own records.

Reads only, each in one read transaction; nothing here changes a row, so every page built on
it is safe for a read-only operator. Masking happens in the stores (see ``masking``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from twofa.provider.audit.service import AuditLog, Verification
from twofa.provider.reports import store
from twofa.provider.reports.csv_export import audit_csv
from twofa.provider.reports.effective import effective_settings
from twofa.provider.reports.history import store as history
from twofa.provider.reports.model import (
    AppName,
    AuditFilter,
    AuditRow,
    Dashboard,
    DeliveryRow,
    Hourly,
    MessageFilter,
    MessageRow,
    Page,
    RequestFilter,
    RequestRow,
    Series,
    SettingRow,
    Timeline,
    TimelineEvent,
)
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow

CHAIN_MAX_AGE = 600.0  # the dashboard re-walks the audit chain at most this often
KIND_NAMES = {
    "authy_callback": "Callback",
    "verify_webhook": "Webhook",
    "webpush": "Wake-up",
    "webpush_ended": "Ended wake-up",
    "webpush_device": "Device notice",
}


def _hourly(counts: store.Counts, names: tuple[str, ...], start: datetime, hours: int) -> Hourly:
    index = {start + timedelta(hours=i): i for i in range(hours)}
    values = {name: [0] * hours for name in names}
    for (hour, name), n in counts.items():
        if hour in index and name in values:
            values[name][index[hour]] += n
    return Hourly(start, hours, tuple(Series(n, tuple(values[n])) for n in names))


class ReportService:
    """What the console's read-only pages ask for."""

    def __init__(self, db: Database, audit: AuditLog, settings: Settings) -> None:
        self._db = db
        self._audit = audit
        self._settings = settings
        self._chain: tuple[float, Verification] | None = None
        self._chain_lock = threading.Lock()

    # Dashboard ----------------------------------------------------------------------------

    def dashboard(self, *, now: datetime | None = None, hours: int = 24) -> Dashboard:
        """The last ``hours`` whole and current hours (UTC) of traffic, and the chain's state."""
        now = now or utcnow()
        start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
        with self._db.read() as conn:
            verifications = store.verification_counts(conn, since=start)
            pushes = store.push_counts(conn, since=start, now=now)
            countries = store.sms_by_country(conn, since=start)
            receivers = store.receiver_health(conn, since=start)
        ok_failed: store.Counts = {}
        for (hour, key), n in verifications.items():
            outcome = key.partition(":")[0]
            ok_failed[(hour, outcome)] = ok_failed.get((hour, outcome), 0) + n
        return Dashboard(
            now=now,
            hours=hours,
            verifications=_hourly(ok_failed, ("ok", "failed"), start, hours),
            channels=tuple(store.channel_totals(verifications)),
            push=_hourly(pushes, store.PUSH_STATES, start, hours),
            countries=tuple(countries),
            receivers=tuple(receivers),
            chain=self.chain(max_age=CHAIN_MAX_AGE),
        )

    def chain(self, *, max_age: float = 0.0) -> Verification:
        """The audit chain verified from its start; a result younger than ``max_age`` seconds
        is reused, so a dashboard left open does not re-walk a long log on every refresh."""
        with self._chain_lock:
            if self._chain is not None and time.monotonic() - self._chain[0] < max_age:
                return self._chain[1]
            result = self._audit.verify()
            self._chain = (time.monotonic(), result)
            return result

    def apps(self) -> list[AppName]:
        with self._db.read() as conn:
            return store.app_names(conn)

    # Approval requests --------------------------------------------------------------------

    def requests(self, wanted: RequestFilter) -> Page[RequestRow]:
        with self._db.read() as conn:
            return history.requests(conn, wanted, now=utcnow())

    def timeline(self, uuid: str) -> Timeline | None:
        """A request's story: creation, wake-ups, device answers, decision, callbacks."""
        now = utcnow()
        with self._db.read() as conn:
            request = history.request(conn, uuid, now=now)
            if request is None:
                return None
            sent = history.deliveries_about(conn, uuid)
            audited = history.request_audit(conn, app_id=request.app_id, uuid=uuid)
            # A device that typed the wrong number (number matching) is named in the entry.
            refused = [
                (e.created_at, history.device_name(conn, e.subject.partition(":")[2]))
                for e in audited
                if e.event == "request.number_mismatch"
            ]
        events = [
            TimelineEvent(request.created_at, "Request created", request.message[:200]),
        ]
        for at, device in refused:
            events.append(
                TimelineEvent(at, "Wrong number typed", f"on {device or 'a device'}", "bad")
            )
        if request.processed_at is not None and request.status in ("approved", "denied"):
            tone = "ok" if request.status == "approved" else "bad"
            by = f"by {request.device}" if request.device else ""
            events.append(TimelineEvent(request.processed_at, request.status.title(), by, tone))
        elif request.status == "expired":
            at = request.processed_at or request.expires_at or now
            events.append(TimelineEvent(at, "Expired", "no device answered in time", "warn"))
        for delivery in sent:
            events.extend(_delivery_events(delivery))
        events.sort(key=lambda e: e.at)
        return Timeline(request, tuple(events), tuple(sent))

    # Messages and the audit log -----------------------------------------------------------

    def messages(self, wanted: MessageFilter) -> Page[MessageRow]:
        with self._db.read() as conn:
            return history.messages_page(conn, wanted)

    def audit(self, wanted: AuditFilter) -> Page[AuditRow]:
        with self._db.read() as conn:
            return history.audit_page(conn, wanted)

    def audit_export(self, wanted: AuditFilter) -> Iterator[str]:
        """CSV lines of every matching entry, oldest first; a read transaction per batch, so a
        long export holds no snapshot (or SQLite reader) open while the client reads."""

        def rows() -> Iterator[AuditRow]:
            after = 0
            while True:
                with self._db.read() as conn:
                    batch = history.audit_batch(conn, wanted, after=after)
                yield from batch
                if len(batch) < history.EXPORT_BATCH:
                    return
                after = batch[-1].id

        return audit_csv(rows())

    # Settings -----------------------------------------------------------------------------

    def settings(self) -> list[SettingRow]:
        return effective_settings(self._settings)


def _delivery_events(delivery: DeliveryRow) -> list[TimelineEvent]:
    name = KIND_NAMES.get(delivery.kind, delivery.kind)
    tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    events = [TimelineEvent(delivery.created_at, f"{name} queued", delivery.url)]
    if delivery.status == "delivered" and delivery.finished_at is not None:
        events.append(TimelineEvent(delivery.finished_at, f"{name} delivered", tries, "ok"))
    elif delivery.status == "failed" and delivery.finished_at is not None:
        detail = f"{tries}; {delivery.last_error or 'refused'}"
        events.append(TimelineEvent(delivery.finished_at, f"{name} given up", detail, "bad"))
    elif delivery.attempts and delivery.next_attempt_at is not None:
        detail = f"{tries}; last: {delivery.last_error or 'no answer'}; next try queued"
        events.append(TimelineEvent(delivery.next_attempt_at, f"{name} retrying", detail, "warn"))
    return events
