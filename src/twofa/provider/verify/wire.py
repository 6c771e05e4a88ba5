"""The Verify wire format: PascalCase form parameters in, Twilio's SIDs, dates and pages out.

Parameters arrive form-encoded (arrays as repeated keys, nested names with dots, booleans as
``true``/``false``, some values as stringified JSON); parameters we do not know are ignored,
since newer clients send names older specs lack (contract §3.0).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from twofa.errors import InvalidEncoding
from twofa.provider.verify.errors import InvalidParameter

MAX_FIELDS = 256
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_SID = {prefix: re.compile(rf"^{prefix}[0-9a-fA-F]{{32}}$") for prefix in ("VA", "VE", "RK", "BL")}


def new_sid(prefix: str) -> str:
    """A SID: the two-letter resource prefix and 32 random lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def is_sid(value: str, prefix: str) -> bool:
    pattern = _SID.get(prefix) or re.compile(rf"^{prefix}[0-9a-fA-F]{{32}}$")
    return bool(pattern.match(value))


def canonical(sid: str) -> str:
    """A SID as we store it: the prefix as is, the hex digits in lower case."""
    return sid[:2] + sid[2:].lower()


def twilio_date(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC: the only form the Python client parses into a datetime."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Form:
    """The parameters of one request: the form body over the query string, repeated keys kept."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            self._values.setdefault(key, []).append(value)

    @classmethod
    def parse(cls, body: bytes, content_type: str, query: Iterable[tuple[str, str]]) -> Form:
        """Read a form-encoded body (other bodies contribute nothing) and the query string."""
        pairs: list[tuple[str, str]] = []
        media = content_type.split(";", 1)[0].strip().lower()
        if body.strip() and media == "application/x-www-form-urlencoded":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidEncoding() from exc
            try:
                pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
            except ValueError as exc:
                raise InvalidParameter("Body", "too many fields") from exc
        query = list(query)
        if len(query) > MAX_FIELDS:
            raise InvalidParameter("Query", "too many fields")
        return cls([*pairs, *query])

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def text(self, name: str, *, max_length: int = 1000, required: bool = False) -> str | None:
        """The first value of ``name``; absent gives None (or 60200 when required)."""
        values = self._values.get(name)
        if not values:
            if required:
                raise InvalidParameter(name)
            return None
        value = values[0]
        if len(value) > max_length or (required and not value.strip()):
            raise InvalidParameter(name)
        return value

    def texts(self, name: str, *, max_length: int = 1000) -> list[str]:
        values = self._values.get(name, [])
        if any(len(v) > max_length for v in values):
            raise InvalidParameter(name)
        return list(values)

    def flag(self, name: str) -> bool | None:
        """A boolean sent as ``true``/``false`` (any case); other text gives 60200."""
        value = self.text(name, max_length=10)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0"}:
            return False
        raise InvalidParameter(name)

    def integer(self, name: str, low: int, high: int) -> int | None:
        """An integer within ``low..high``; anything else gives 60200."""
        value = self.text(name, max_length=12)
        if value is None:
            return None
        digits = value.strip()
        if not (digits.isascii() and digits.lstrip("-").isdigit()):
            raise InvalidParameter(name)
        number = int(digits)
        if not low <= number <= high:
            raise InvalidParameter(name)
        return number

    def json_object(self, name: str, *, max_length: int = 4096) -> dict[str, Any] | None:
        """A parameter carrying a stringified JSON object (``RateLimits``, ``Metadata``, …)."""
        value = self.text(name, max_length=max_length)
        if value is None or not value.strip():
            return None
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise InvalidParameter(name) from exc
        if not isinstance(parsed, dict):
            raise InvalidParameter(name)
        return parsed


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``PageSize``, ``Page`` and the opaque ``PageToken`` of a list request."""

    size: int
    number: int
    after: int  # keyset cursor: list rows whose internal id is greater

    @classmethod
    def parse(cls, form: Form) -> PageRequest:
        size = form.integer("PageSize", 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        number = form.integer("Page", 0, 10**9) or 0
        token = form.text("PageToken", max_length=40)
        after = 0
        if token:
            # The token is the last row's id in hex behind a fixed prefix: opaque to clients,
            # stable when rows are inserted, and cheap (a keyset cursor, not an OFFSET).
            match = re.fullmatch(r"PA([0-9a-f]{1,15})", token)
            if not match:
                raise InvalidParameter("PageToken")
            after = int(match.group(1), 16)
        return cls(size, number, after)


def page_token(last_id: int) -> str:
    return f"PA{last_id:x}"


def page_meta(
    *,
    key: str,
    url: str,
    request: PageRequest,
    next_after: int | None,
    filters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``meta`` object; every URL is absolute on our public base and keeps the list's
    filters (the clients follow ``next_page_url`` verbatim, adding nothing)."""

    def link(number: int, token: str | None) -> str:
        query: dict[str, Any] = {**(filters or {}), "PageSize": request.size, "Page": number}
        if token:
            query["PageToken"] = token
        return f"{url}?{urlencode(query)}"

    current = page_token(request.after) if request.after else None
    return {
        "page": request.number,
        "page_size": request.size,
        "first_page_url": link(0, None),
        "previous_page_url": None,
        "url": link(request.number, current),
        "next_page_url": (
            link(request.number + 1, page_token(next_after)) if next_after is not None else None
        ),
        "key": key,
    }
