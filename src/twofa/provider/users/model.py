"""Application users (Authy ids) and the devices of their phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from twofa.provider.phone_numbers import Phone

MAX_AUTHY_ID = 2**53


@dataclass(frozen=True, slots=True)
class User:
    id: int
    public_id: str
    app_id: int
    email: str
    phone: Phone
    confirmed: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Device:
    id: int
    uuid: str
    name: str
    os_type: str
    created_at: datetime
    last_seen_at: datetime | None


@dataclass(frozen=True, slots=True)
class AppAccount:
    """A user's TOTP account in the authenticator; the secret still encrypted."""

    user_id: int
    app_name: str
    secret_enc: str
    digits: int
    step: int


def parse_authy_id(raw: str | int) -> int | None:
    """A path id as an integer, or None for anything that cannot be one of ours."""
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        return None
    value = int(text)
    return value if 0 < value < MAX_AUTHY_ID else None


@dataclass(frozen=True, slots=True)
class FoundUser:
    """A user as an operator's search finds them, with their application's name."""

    user: User
    app_name: str


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """Any device of a phone, revoked and waiting ones included (the operator's view)."""

    uuid: str
    name: str
    os_type: str
    state: str  # active, pending, denied or revoked
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A code sent to a user: when and how, never the code."""

    channel: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """An approval request made for a user."""

    uuid: str
    message: str
    status: str
    created_at: datetime


# Moving users in from Authy (``users/importer.py``) ----------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    """Why a line of an import file was refused (a problem with the file as a whole, such as
    its header or its encoding, names the line where it showed); line 0: no line of the file
    (the database changed while the import ran)."""

    line: int
    authy_id: str | None  # as written in the file, when one could be read
    reason: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One valid line of an import file: a user to create with the Authy id they had."""

    line: int
    authy_id: int
    email: str  # normalized
    phone: Phone
    name: str | None


@dataclass(frozen=True, slots=True)
class ParsedImport:
    """An import file read and checked on its own (nothing compared with the database yet)."""

    format: str  # "csv" or "jsonl"
    total: int  # records read, valid or not (blank lines and a CSV header are not records)
    rows: tuple[ImportRow, ...]  # the valid ones, in file order
    errors: tuple[RowError, ...]  # the first ``MAX_REPORTED_ERRORS``
    error_count: int  # all of them

    @property
    def ok(self) -> bool:
        return self.error_count == 0


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or (``dry_run``, or any error) would do: with an error, nothing."""

    app_id: int
    total: int
    created: int  # users new to twofa (created, or that would be)
    unchanged: int  # already imported with the same id, phone, e-mail and name
    errors: tuple[RowError, ...]
    error_count: int
    dry_run: bool
    written: bool  # True only when the users were committed
    seconds: float
    write_seconds: float = 0.0  # of which in the write transaction (SQLite: its lock held)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def json(self) -> dict[str, object]:
        return {
            "app_id": self.app_id,
            "total": self.total,
            "created": self.created,
            "unchanged": self.unchanged,
            "error_count": self.error_count,
            "errors": [
                {"line": e.line, "authy_id": e.authy_id, "reason": e.reason} for e in self.errors
            ],
            "dry_run": self.dry_run,
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "write_seconds": round(self.write_seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user already stored under an id an import file names: what the import compares."""

    id: int
    app_id: int
    email: str
    phone_e164: str
    name: str | None
    imported: bool
