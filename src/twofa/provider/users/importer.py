"""Move users in from Authy with the ids they had: ``twofa users import`` and the console.

The integration keeps the Authy ids it stored, so once its base URL points at twofa, its
verify, SMS and OneTouch calls name the same users. Reading the file (``read_import``) checks
each record alone; ``UserImporter.run`` then compares the valid ones with the database and,
only when nothing at all is wrong, writes them in one transaction: an import is all or
nothing, and running it again changes nothing (a user already imported with the same id,
phone, e-mail and name is counted ``unchanged``).

Refused, with the line number: an id that belongs to another application, or to a user twofa
created itself; an id imported before with other details; a phone another user of the
application has. Before writing, the id sequence is moved past the largest imported id, so
users twofa creates later never take an imported id.

Each imported user gets what a created one has (an app TOTP secret, encrypted), so every
route works for them alike. They count as confirmed: they have been verifying codes at Authy,
and an application that opted into lenient verification must not accept any code from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from twofa.crypto import Keyring, public_id
from twofa.otp import random_secret
from twofa.provider.apps.model import App
from twofa.provider.audit.service import AuditLog
from twofa.provider.users import store
from twofa.provider.users.import_file import MAX_REPORTED_ERRORS, read_import
from twofa.provider.users.model import (
    ImportReport,
    ImportRow,
    ParsedImport,
    RowError,
    StoredUser,
)
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow

CHUNK = 5000  # rows per lookup and per INSERT: bounded statements, a progress step each

Progress = Callable[[int], None]


class _Errors:
    def __init__(self, parsed: ParsedImport) -> None:
        self.listed = list(parsed.errors)
        self.count = parsed.error_count

    def add(self, line: int, authy_id: int | None, reason: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_REPORTED_ERRORS:
            self.listed.append(RowError(line, None if authy_id is None else str(authy_id), reason))


def _conflict(app: App, row: ImportRow, found: StoredUser) -> str | None:
    """Why ``row`` cannot be the user already stored under its id; None when it is that user."""
    if found.app_id != app.id:
        return "authy_id belongs to a user of another application"
    if not found.imported:
        return "authy_id belongs to a user twofa created itself (not imported)"
    differs = [
        name
        for name, stored, given in (
            ("phone", found.phone_e164, row.phone.e164),
            ("email", found.email, row.email),
            ("name", found.name, row.name),
        )
        if stored != given
    ]
    if differs:
        return f"authy_id was imported before with another {' and '.join(differs)}"
    return None


class UserImporter:
    """Checks an import against the database and writes it, all or nothing."""

    def __init__(self, db: Database, keyring: Keyring, settings: Settings, audit: AuditLog) -> None:
        self._db = db
        self._keyring = keyring
        self._settings = settings
        self._audit = audit

    def run(
        self,
        *,
        app: App,
        parsed: ParsedImport,
        dry_run: bool,
        actor: str,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import ``parsed`` into ``app``, or with ``dry_run`` only report what would happen.

        Every valid row is compared with the database even when the file has errors, so one
        report lists every problem. ``progress`` is called with the number of rows compared
        so far. One audit event per import that writes (``users.imported``) or is refused
        (``users.import_refused``), naming ``actor`` (``cli:<login>``, ``operator:<name>``);
        a dry run records none.

        The comparison reads without a write lock; only the new rows' INSERTs run in the
        write transaction (on SQLite, the time other writers wait). What changes in between
        is caught there by the table's constraints (an id or a phone taken meanwhile: the
        whole import is refused, and a re-run reports the row).
        """
        started = time.monotonic()
        errors = _Errors(parsed)
        rows = parsed.rows
        write = not dry_run and parsed.ok and bool(rows)
        fresh: list[ImportRow] = []
        unchanged = 0
        written = False
        write_seconds = 0.0
        try:
            if write:
                with self._db.write() as conn:
                    # Before anything else: a user created from now on gets an id past the
                    # file's. Should the import be refused, the ids skipped are only a gap.
                    store.advance_user_ids(conn, max(row.authy_id for row in rows))
            with self._db.read() as conn:
                unchanged = self._compare(conn, app, rows, errors, fresh, progress)
            if write and not errors.count:
                writing = time.monotonic()
                with self._db.write() as conn:
                    for start in range(0, len(fresh), CHUNK):
                        self._insert(conn, app, fresh[start : start + CHUNK], utcnow())
                    self._audit.record(
                        "users.imported",
                        app_id=app.id,
                        subject=f"app:{app.id}",
                        data=self._summary(parsed, (len(fresh), unchanged), errors),
                        conn=conn,
                        actor=actor[:100],
                    )
                written = True
                write_seconds = time.monotonic() - writing
                if len(fresh) >= CHUNK:
                    with self._db.write() as conn:
                        store.refresh_statistics(conn)
        except IntegrityError:
            errors.add(
                0, None, "users changed while the import ran; nothing was imported: run it again"
            )
        if not dry_run and not written:
            self._audit.record(
                "users.import_refused",
                app_id=app.id,
                subject=f"app:{app.id}",
                data=self._summary(parsed, (len(fresh), unchanged), errors),
                actor=actor[:100],
            )
        return ImportReport(
            app_id=app.id,
            total=parsed.total,
            created=len(fresh),
            unchanged=unchanged,
            errors=tuple(sorted(errors.listed, key=lambda error: error.line)),
            error_count=errors.count,
            dry_run=dry_run,
            written=written,
            seconds=time.monotonic() - started,
            write_seconds=write_seconds,
        )

    @staticmethod
    def _summary(parsed: ParsedImport, counts: tuple[int, int], errors: _Errors) -> dict[str, Any]:
        return {
            "total": parsed.total,
            "created": counts[0],
            "unchanged": counts[1],
            "errors": errors.count,
        }

    @staticmethod
    def _compare(
        conn: Connection,
        app: App,
        rows: Sequence[ImportRow],
        errors: _Errors,
        fresh: list[ImportRow],
        progress: Progress | None,
    ) -> int:
        """Compare ``rows`` with the database a chunk at a time: errors added, new rows
        appended to ``fresh``; the number of rows already imported alike."""
        unchanged = 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            stored = store.stored_users(conn, [row.authy_id for row in chunk])
            holders = store.phone_holders(conn, app.id, [row.phone.e164 for row in chunk])
            for row in chunk:
                found = stored.get(row.authy_id)
                if found is not None:
                    problem = _conflict(app, row, found)
                    if problem:
                        errors.add(row.line, row.authy_id, problem)
                    else:
                        unchanged += 1
                    continue
                holder = holders.get(row.phone.e164)
                if holder is not None:
                    errors.add(
                        row.line,
                        row.authy_id,
                        f"phone {row.phone.e164} belongs to user {holder} of this application",
                    )
                    continue
                fresh.append(row)
            if progress is not None:
                progress(start + len(chunk))
        return unchanged

    def _insert(self, conn: Connection, app: App, fresh: list[ImportRow], now: datetime) -> None:
        """The chunk's new users and their secrets (columns: ``store.IMPORTED_USER`` and
        ``store.IMPORTED_SECRET``)."""
        digits, step = self._settings.totp_digits, self._settings.totp_step
        encrypt = self._keyring.encrypt
        store.insert_imported(
            conn,
            [
                (
                    row.authy_id,
                    public_id(),
                    app.id,
                    row.email,
                    row.phone.country_code,
                    row.phone.e164,
                    True,
                    row.name,
                )
                for row in fresh
            ],
            [(row.authy_id, "app", encrypt(random_secret()), digits, step, 0) for row in fresh],
            now=now,
        )


__all__ = [
    "ImportReport",
    "ImportRow",
    "ParsedImport",
    "RowError",
    "UserImporter",
    "read_import",
]
