"""The audit log as CSV that a spreadsheet opens as text, never as formulas.

A spreadsheet application treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in
some, a tab or carriage return) as a formula; an attacker who can put text into the log (a
subject, an e-mail address, a device name) could then run a formula on the machine of the
operator who opens the export (OWASP "CSV injection"). Such cells are prefixed with a single
quote, which spreadsheets show as text and do not display. The ``csv`` module does the quoting.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from twofa.provider.reports.model import AuditRow

COLUMNS = ("seq", "created_at", "event", "app_id", "subject", "actor", "data", "prev_hash", "hash")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _line(cells: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return buffer.getvalue()


def audit_csv(rows: Iterable[AuditRow]) -> Iterator[str]:
    """The header line, then one line per entry (streamed: an export may be long)."""
    yield _line(COLUMNS)
    for row in rows:
        yield _line(
            (
                row.seq,
                row.created_at.isoformat(),
                row.event,
                row.app_id,
                row.subject,
                row.actor,
                json.dumps(row.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                row.prev_hash,
                row.hash,
            )
        )
