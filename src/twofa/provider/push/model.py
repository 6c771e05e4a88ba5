"""Approval requests: the stored record, what creates one, a device's answer, the Authy JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twofa.provider.apps.model import App
from twofa.provider.users.model import User
from twofa.storage.database import aware


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: int
    uuid: str
    public_id: str
    app_id: int
    user_id: int
    message: str
    details: dict[str, str]
    hidden_details: dict[str, str]
    logos: list[dict[str, str]] | None
    seconds_to_expire: int
    status: str
    number: int | None
    created_at: datetime
    expires_at: datetime | None
    updated_at: datetime
    processed_at: datetime | None
    device_id: int | None

    @classmethod
    def from_row(cls, row: Any) -> ApprovalRequest:
        return cls(
            id=row.id,
            uuid=row.uuid,
            public_id=row.public_id,
            app_id=row.app_id,
            user_id=row.user_id,
            message=row.message,
            details=row.details or {},
            hidden_details=row.hidden_details or {},
            logos=row.logos,
            seconds_to_expire=row.seconds_to_expire,
            status=row.status,
            number=row.number,
            created_at=aware(row.created_at),
            expires_at=aware(row.expires_at),
            updated_at=aware(row.updated_at),
            processed_at=aware(row.processed_at),
            device_id=row.device_id,
        )

    def is_expired(self, now: datetime) -> bool:
        return self.status == "pending" and self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A validated ``POST .../approval_requests`` (the route parses, the service trusts)."""

    message: str
    details: dict[str, str]
    hidden_details: dict[str, str]
    logos: list[dict[str, str]] | None
    seconds_to_expire: int | None
    number_matching: bool | None = None  # None: the application's default


@dataclass(frozen=True, slots=True)
class Decision:
    """A device's answer, already verified by the device layer."""

    status: str  # approved or denied
    device_id: int
    device_uuid: str
    device_json: dict[str, Any]
    signature: str
    signing_time: int


# A request with the application and the user it belongs to: what every reader of a request
# needs, loaded in one query.
Addressed = tuple[ApprovalRequest, App, User]


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z``, as Authy wrote timestamps."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def authy_json(
    request: ApprovalRequest,
    *,
    app_name: str,
    app_public_id: str,
    user_public_id: str,
    user_email: str,
) -> dict[str, Any]:
    """The ``approval_request`` object of ``GET /onetouch/json/approval_requests/{uuid}``."""
    return {
        "_app_name": app_name,
        "_app_serial_id": request.app_id,
        "_authy_id": request.user_id,
        "_id": request.public_id,
        "_user_email": user_email,
        "app_id": app_public_id,
        "created_at": iso(request.created_at),
        "notified": False,
        "processed_at": iso(request.processed_at),
        "seconds_to_expire": request.seconds_to_expire,
        "status": request.status,
        "updated_at": iso(request.updated_at),
        "user_id": user_public_id,
        "uuid": request.uuid,
    }
