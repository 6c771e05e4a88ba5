"""The operator types the console and the ``twofa operators`` commands share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twofa.storage.database import aware

ROLES = ("admin", "helpdesk", "read-only")


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    has_totp: bool

    @property
    def actor(self) -> str:
        """How the audit log names this operator."""
        return f"operator:{self.name}"

    @classmethod
    def from_row(cls, row: Any) -> Operator:
        return cls(
            id=row.id,
            name=row.name,
            role=row.role,
            created_at=aware(row.created_at),
            disabled_at=aware(row.disabled_at),
            has_totp=row.totp_secret_enc is not None,
        )


@dataclass(frozen=True, slots=True)
class CreatedOperator:
    operator: Operator
    totp_secret: str  # shown once, at creation
    totp_uri: str


@dataclass(frozen=True, slots=True)
class Credential:
    """A WebAuthn credential (security key or passkey) of an operator."""

    id: int
    operator_id: int
    credential_id: str  # base64url
    public_key: str  # base64url COSE key
    sign_count: int
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Credential:
        return cls(
            id=row.id,
            operator_id=row.operator_id,
            credential_id=row.credential_id,
            public_key=row.public_key,
            sign_count=int(row.sign_count),
            name=row.name,
            created_at=aware(row.created_at),
            last_used_at=aware(row.last_used_at),
        )


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in console session, read with its operator."""

    id: int
    operator: Operator
    created_at: datetime
    seen_at: datetime
    verified_at: datetime  # the last second factor


class SignInFailed(Exception):
    """Wrong name, password or code, or a disabled operator: one answer for all of them."""


class SignInThrottled(Exception):
    """Too many sign-in attempts for this operator or from this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class OperatorError(ValueError):
    """An operator command that cannot be carried out (a taken name, a weak password...)."""
