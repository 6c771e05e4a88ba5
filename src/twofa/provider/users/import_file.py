"""Read an Authy export: CSV with a header, or JSON lines; every record checked on its own.

One record per line, so a line number names each problem. Each line is read with a length cap
(a 10 MB line costs one bounded read and one error, not 10 MB of memory), decoded as UTF-8,
then checked by the rules ``POST /protected/json/users/new`` applies (``validate_new_user``:
``email-validator``, ``phonenumbers``, the refused line types) plus the id and the name. The
standard library's ``csv`` and ``json`` parse the records; what is ours is the line framing
and the rules.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any

from twofa.errors import TwofaError
from twofa.provider.users.model import ImportRow, ParsedImport, RowError, parse_authy_id
from twofa.provider.users.service import validate_new_user
from twofa.text import UNSAFE

MAX_LINE = 4096  # bytes (characters for text input) per record
MAX_ROWS = 2_000_000  # records per file; split a larger export (a re-run is a no-op)
MAX_REPORTED_ERRORS = 1000  # errors listed in full; the rest are counted
COLUMNS = ("authy_id", "email", "country_code", "phone", "name")
REQUIRED = COLUMNS[:4]
FORMULA_START = ("=", "+", "-", "@")  # a spreadsheet would run such a cell as a formula
TOO_LONG = object()  # the marker of a line over MAX_LINE


class _Collector:
    """Rows and errors, the errors capped in number."""

    def __init__(self) -> None:
        self.rows: list[ImportRow] = []
        self.errors: list[RowError] = []
        self.error_count = 0
        self.total = 0

    def error(self, line: int, authy_id: Any, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            shown = str(authy_id)[:20] if authy_id not in (None, "") else None
            self.errors.append(RowError(line, shown, reason))

    def parsed(self, kind: str) -> ParsedImport:
        return ParsedImport(
            kind, self.total, tuple(self.rows), tuple(self.errors), self.error_count
        )


def _stream(data: bytes | str | IO[bytes] | IO[str]) -> IO[bytes] | IO[str]:
    if isinstance(data, bytes):
        return io.BytesIO(data)
    if isinstance(data, str):
        return io.StringIO(data)
    return data


def _lines(stream: IO[Any]) -> Iterator[tuple[int, Any]]:
    """(line number, content without its line break), or ``TOO_LONG`` for an oversized line,
    never holding more than ``MAX_LINE`` of it in memory."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        newline = "\n" if isinstance(line, str) else b"\n"
        if len(line) > MAX_LINE and not line.endswith(newline):
            while True:  # skip the rest of the line, a bounded piece at a time
                rest = stream.readline(65536)
                if not rest or rest.endswith(newline):
                    break
            yield number, TOO_LONG
            continue
        yield number, line.rstrip("\r\n" if isinstance(line, str) else b"\r\n")


def _text(raw: Any, first: bool) -> str | None:
    """A line as text; None when it is not UTF-8 or holds a NUL (a binary file)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if "\x00" in raw:
        return None
    return raw.removeprefix("\ufeff") if first else raw


def _kind(first: str, filename: str | None) -> str:
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if first.lstrip().startswith("{") else "csv"


def read_import(
    data: bytes | str | IO[bytes] | IO[str], *, filename: str | None = None
) -> ParsedImport:
    """Parse and check an import file (nothing is compared with the database here).

    The format is the file name's (``.csv``; ``.jsonl``, ``.ndjson``, ``.json``), else JSON
    lines when the first record starts with ``{``, else CSV. Columns or keys: ``authy_id``,
    ``email``, ``country_code``, ``phone``, and optionally ``name``. Errors carry line numbers;
    a problem with the file as a whole (not text, a bad header) stops the reading.
    """
    out = _Collector()
    kind: str | None = None
    header: list[str] | None = None
    seen_ids: dict[int, int] = {}
    seen_phones: dict[str, tuple[int, int]] = {}
    for number, raw in _lines(_stream(data)):
        if raw is TOO_LONG:
            if kind is None:
                out.error(number, None, f"the first line is longer than {MAX_LINE} bytes")
                return out.parsed("csv")
            out.total += 1
            out.error(number, None, f"line is longer than {MAX_LINE} bytes")
            continue
        text = _text(raw, first=kind is None)
        if text is None:
            if kind is None:
                out.error(number, None, "the file is not UTF-8 text (CSV or JSON lines)")
                return out.parsed("csv")
            out.total += 1
            out.error(number, None, "line is not UTF-8 text")
            continue
        if not text.strip():
            continue
        if kind is None:
            kind = _kind(text, filename)
            if kind == "csv":
                header, problem = _header(text)
                if problem:
                    out.error(number, None, problem)
                    return out.parsed(kind)
                continue
        out.total += 1
        if out.total > MAX_ROWS:
            out.error(number, None, f"more than {MAX_ROWS:,} records: split the file")
            break
        fields, problem = _csv_record(text, header) if header else _json_record(text)
        if problem or fields is None:
            out.error(number, (fields or {}).get("authy_id"), problem or "not a record")
            continue
        checked = _checked(number, fields)
        if isinstance(checked, RowError):
            out.error(number, checked.authy_id, checked.reason)
            continue
        earlier = seen_ids.setdefault(checked.authy_id, number)
        if earlier != number:
            out.error(number, checked.authy_id, f"authy_id is also on line {earlier}")
            continue
        holder = seen_phones.setdefault(checked.phone.e164, (number, checked.authy_id))
        if holder[0] != number:
            out.error(
                number,
                checked.authy_id,
                f"phone {checked.phone.e164} is also on line {holder[0]} "
                f"(authy_id {holder[1]}): one user per phone in an application",
            )
            continue
        out.rows.append(checked)
    return out.parsed(kind or "csv")


def _header(text: str) -> tuple[list[str], str | None]:
    try:
        names = [name.strip().lower() for name in next(csv.reader([text], strict=True))]
    except (csv.Error, StopIteration):
        return [], "the CSV header cannot be read"
    missing = [name for name in REQUIRED if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        expected = ", ".join(REQUIRED) + " and optionally name"
        found = ", ".join(repr(name[:40]) for name in names[:10])
        return names, f"the CSV header must name the columns {expected} (found {found})"
    return names, None


def _csv_record(text: str, header: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    try:
        values = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        return None, f"not a CSV record: {exc}"
    if len(values) != len(header):
        return None, f"{len(values)} fields where the header names {len(header)}"
    fields = dict(zip(header, values, strict=True))
    return fields, None


def _json_record(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return None, "not a JSON object"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    unknown = [key for key in record if key not in COLUMNS]
    if unknown:
        return record, f"unknown key {str(unknown[0])[:40]!r} (keys: {', '.join(COLUMNS)})"
    return record, None


def _scalar(value: Any) -> str | None:
    """A field as text: strings and whole numbers are; anything else (lists, booleans) is not."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _checked(line: int, fields: dict[str, Any]) -> ImportRow | RowError:
    """The record as a row, or the first thing wrong with it."""
    raw_id = fields.get("authy_id")
    shown_id = _scalar(raw_id)
    values = {column: _scalar(fields.get(column)) for column in REQUIRED}
    for column in REQUIRED:
        if not values[column]:
            return RowError(line, shown_id, f"{column} is missing or not text")
        if len(values[column] or "") > 320:
            return RowError(line, shown_id, f"{column} is longer than 320 characters")
    authy_id = parse_authy_id(values["authy_id"] or "")
    if authy_id is None:
        return RowError(line, shown_id, "authy_id must be a whole number from 1 to 2^53")
    given = fields.get("name")
    if given is not None and not isinstance(given, str):
        return RowError(line, shown_id, "name must be text")
    name = (given or "").strip() or None
    problem = _name_problem(name) if name is not None else None
    if problem:
        return RowError(line, shown_id, problem)
    country = (values["country_code"] or "").removeprefix("+")
    if not (country.isascii() and country.isdigit() and len(country) <= 3):
        return RowError(line, shown_id, "country_code must be 1 to 3 digits")
    try:
        email, phone = validate_new_user(values["email"], values["phone"], country)
    except TwofaError as exc:
        if not exc.fields:  # the number is possible, but of a line type never sent to
            return RowError(line, shown_id, f"phone refused: {exc.message}")
        reasons = []
        if "email" in exc.fields:
            reasons.append("email is not a valid address")
        if "cellphone" in exc.fields:
            reasons.append(f"phone is not a possible number with country code {country}")
        return RowError(line, shown_id, "; ".join(reasons))
    return ImportRow(line, authy_id, email, phone, name)


def _name_problem(name: str) -> str | None:
    if len(name) > 100:
        return "name is longer than 100 characters"
    if UNSAFE.search(name):
        return "name holds control or bidirectional-override characters"
    if name.startswith(FORMULA_START):
        return "name must not start with =, +, - or @ (a spreadsheet would run it as a formula)"
    return None
