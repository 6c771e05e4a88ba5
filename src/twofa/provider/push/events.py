"""What the event bus carries about approval requests, and the topics it carries them on.

Devices' streams and the change feed that stands in for Redis build the same events from here,
so a stream cannot tell which one delivered an event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from twofa.provider.apps.model import App
from twofa.provider.push.model import ApprovalRequest
from twofa.provider.push.view import request_view
from twofa.provider.users.model import User


def millis(value: datetime) -> int:
    """An event id: the event's stored time in milliseconds."""
    return int(value.timestamp() * 1000)


def phone_topic(phone_e164: str) -> str:
    """Every device of this phone listens here."""
    return f"phone:{phone_e164}"


def request_topic(uuid: str) -> str:
    """Whoever waits for this one request's end listens here."""
    return f"request:{uuid}"


def new_request_event(request: ApprovalRequest, app: App, user: User, key: bytes) -> dict[str, Any]:
    """The bus event for a new request; ``view`` never holds hidden details or the answer."""
    return {
        "type": "request",
        "key": f"request:{request.uuid}",
        "id": millis(request.created_at),
        "uuid": request.uuid,
        "view": request_view(request, app, user, number_key=key, now=request.created_at),
    }


def ended_event(uuid: str, status: str, at: datetime) -> dict[str, Any]:
    """The bus event for a request that was answered or expired at ``at``."""
    return {
        "type": "request.ended",
        "key": f"ended:{uuid}",
        "id": millis(at),
        "uuid": uuid,
        "status": status,
    }
