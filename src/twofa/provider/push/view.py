"""An approval request as a device sees it, with its number-matching choices."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from twofa.crypto import derive
from twofa.provider.apps.model import App
from twofa.provider.push.model import ApprovalRequest
from twofa.provider.users.model import User
from twofa.settings import Settings

NUMBER_LOW, NUMBER_HIGH = 10, 99  # the range PushService draws the shown number from
CHOICES = 3


def number_key(settings: Settings) -> bytes:
    """The key behind number-matching choices (the same on every process)."""
    return derive(settings.key, "twofa:number-matching")


def unix(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def number_choices(key: bytes, uuid: str, right: int) -> list[int]:
    """The right number and two distinct distractors, ascending.

    Distractors come from an HMAC of the request uuid, so every device and every fetch sees the
    same three numbers (a refresh cannot be used to spot the one that never changes), and
    nobody without the provider's key can tell which of the three is the real one.
    """
    span = NUMBER_HIGH - NUMBER_LOW + 1
    chosen = {right}
    counter = 0
    while len(chosen) < CHOICES:
        digest = hmac.new(key, f"{uuid}:{counter}".encode(), hashlib.sha256).digest()
        for offset in range(0, len(digest), 2):
            candidate = NUMBER_LOW + int.from_bytes(digest[offset : offset + 2], "big") % span
            chosen.add(candidate)
            if len(chosen) == CHOICES:
                break
        counter += 1
    return sorted(chosen)


def effective_status(request: ApprovalRequest, now: datetime) -> str:
    """The status, reading a pending request past its deadline as expired."""
    return "expired" if request.is_expired(now) else request.status


def request_view(
    request: ApprovalRequest, app: App, user: User, *, number_key: bytes, now: datetime
) -> dict[str, Any]:
    """A request as a device sees it: never the hidden details, never which number is right."""
    view: dict[str, Any] = {
        "uuid": request.uuid,
        "app_name": app.name,
        "authy_id": user.id,
        "message": request.message,
        "details": request.details,
        "logos": request.logos or [],
        "created_at": unix(request.created_at),
        "expires_at": unix(request.expires_at),
        "status": effective_status(request, now),
    }
    if request.number is not None:
        # The user types the number the login page shows: a tired user tapping at random
        # approves 1 time in 3 when offered three. Choices only where the app asks for them.
        view["number_matching"] = True
        if app.number_choices:
            view["numbers"] = number_choices(number_key, request.uuid, request.number)
    return view
