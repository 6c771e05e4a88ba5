"""An enrolled device as the device API and the application callback show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from twofa.provider.push.view import unix
from twofa.storage.database import aware


@dataclass(frozen=True, slots=True)
class EnrolledDevice:
    """An active device and its verification key."""

    id: int
    uuid: str
    phone_e164: str
    name: str
    os_type: str
    public_key: ec.EllipticCurvePublicKey
    created_at: datetime
    last_seen_at: datetime | None
    state: str = "active"  # or "pending": a further device waiting for an existing one
    approval_number: int | None = None

    @property
    def active(self) -> bool:
        return self.state == "active"

    @classmethod
    def from_row(cls, row: Any, key: ec.EllipticCurvePublicKey) -> EnrolledDevice:
        return cls(
            id=row.id,
            uuid=row.uuid,
            phone_e164=row.phone_e164,
            name=row.name,
            os_type=row.os_type,
            public_key=key,
            created_at=aware(row.created_at),
            last_seen_at=aware(row.last_seen_at),
            state=row.state,
            approval_number=row.approval_number,
        )

    def json(self) -> dict[str, Any]:
        """The device as registration and ``/me`` show it."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "os_type": self.os_type,
            "phone": self.phone_e164,
            "created_at": unix(self.created_at),
            "state": self.state,
        }

    def callback_json(self) -> dict[str, Any]:
        """The ``device`` object of the application callback (contract section 4.2)."""
        return {
            "id": self.uuid,
            "os_type": self.os_type,
            "name": self.name,
            "registration_date": unix(self.created_at),
            "last_sync_date": unix(self.last_seen_at or self.created_at),
            "city": None,
            "country": None,
            "region": None,
            "ip": None,
        }
