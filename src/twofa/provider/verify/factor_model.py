"""Entities, factors and challenges (Verify's second scope) as twofa holds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twofa.provider.verify.model import VerifyService


@dataclass(frozen=True, slots=True)
class Entity:
    id: int
    sid: str
    service: VerifyService
    identity: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Factor:
    id: int
    sid: str
    entity: Entity
    factor_type: str
    friendly_name: str
    status: str  # unverified | verified
    config: dict[str, Any]  # totp: alg, skew, code_length, time_step
    metadata: dict[str, str] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewFactor:
    """A factor just created, with the binding shown this once (secret and otpauth URI)."""

    factor: Factor
    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class Challenge:
    id: int
    sid: str
    entity: Entity
    factor: Factor
    status: str  # pending | approved | denied | expired
    responded_reason: str
    details: dict[str, Any]
    hidden_details: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    responded_at: datetime | None
    expires_at: datetime
