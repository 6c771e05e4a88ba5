"""The list pages' query strings, read into the reports layer's filters.

Every field is optional and checked: a number that is not one, a time that is not a time or a
status that does not exist is a 400 page, never a 500 and never a filter silently dropped (an
operator who filters must see what was filtered). Times are UTC, as the pages print them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import HTTPException

from twofa.provider.reports.model import AuditFilter, MessageFilter, RequestFilter

MAX_TEXT = 200
MAX_ID = 2**62
REQUEST_STATES = ("pending", "approved", "denied", "expired")
MESSAGE_CHANNELS = ("sms", "call", "email")
MESSAGE_STATES = ("sent", "failed")


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise HTTPException(400, f"The filter {name!r} is too long.")
    return value or None


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = _text(params, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        raise HTTPException(400, f"The filter {name!r} must be a number.")
    return int(value)


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(params, name)
    if value is not None and value not in allowed:
        raise HTTPException(400, f"The filter {name!r} must be one of {', '.join(allowed)}.")
    return value


def _time(params: Mapping[str, str], name: str) -> datetime | None:
    """``2026-11-02``, ``2026-11-02T14:30`` (an ``<input type="datetime-local">``) or ISO."""
    value = _text(params, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"The filter {name!r} must be a date and time.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _limit(params: Mapping[str, str]) -> int:
    value = _int(params, "limit")
    return 50 if value is None else max(1, min(value, 500))


def request_filter(params: Mapping[str, str]) -> RequestFilter:
    return RequestFilter(
        app_id=_int(params, "app"),
        status=_choice(params, "status", REQUEST_STATES),
        user_id=_int(params, "user"),
        since=_time(params, "since"),
        until=_time(params, "until"),
        before_id=_int(params, "before"),
        limit=_limit(params),
    )


def _address(value: str | None) -> str | None:
    """A number as typed (``+1 201-555 0100``) in the E.164 form messages are stored in."""
    if value is None or "@" in value:
        return value
    compact = "".join(c for c in value if c not in " -().")
    return compact if compact.startswith("+") else f"+{compact}"


def message_filter(params: Mapping[str, str]) -> MessageFilter:
    return MessageFilter(
        app_id=_int(params, "app"),
        channel=_choice(params, "channel", MESSAGE_CHANNELS),
        status=_choice(params, "status", MESSAGE_STATES),
        to=_address(_text(params, "to")),
        since=_time(params, "since"),
        until=_time(params, "until"),
        before_id=_int(params, "before"),
        limit=_limit(params),
    )


def audit_filter(params: Mapping[str, str]) -> AuditFilter:
    return AuditFilter(
        event=_text(params, "event"),
        subject=_text(params, "subject"),
        actor=_text(params, "actor"),
        app_id=_int(params, "app"),
        since=_time(params, "since"),
        until=_time(params, "until"),
        before_id=_int(params, "before"),
        limit=_limit(params),
    )


def form_values(params: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The filter fields as the operator typed them, to fill the form in again."""
    return {name: params.get(name, "") for name in names}


def next_page(params: Mapping[str, str], names: tuple[str, ...], before: int | None) -> str | None:
    """The query string of the next (older) page, or None on the last."""
    if before is None:
        return None
    kept = {name: params[name] for name in names if params.get(name)}
    return "?" + urlencode({**kept, "before": before})
