"""An application (an Authy API key holder) as the provider's services see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twofa.storage.database import aware


@dataclass(frozen=True, slots=True)
class App:
    id: int
    public_id: str
    name: str
    callback_url: str | None
    callback_method: str
    lenient_verify: bool
    sms_enabled: bool
    calls_enabled: bool
    onetouch_enabled: bool
    generic_tokens_enabled: bool
    api_key_salt: str
    created_at: datetime
    number_choices: bool = False  # number matching offers 3 numbers to tap (not recommended)
    multi_device: bool = True  # further devices of a phone join with an existing one's approval
    number_matching: bool = False  # the default for requests that do not say
    onetouch_ttl: int | None = None  # seconds to expire for requests that do not say
    allowed_countries: str | None = None  # ISO codes, comma-separated; None: the deployment's
    sandbox: bool = False  # messages only to the outbox; Authy's test codes (apps/sandbox.py)

    @classmethod
    def from_row(cls, row: Any) -> App:
        return cls(
            id=row.id,
            public_id=row.public_id,
            name=row.name,
            callback_url=row.callback_url,
            callback_method=row.callback_method,
            lenient_verify=row.lenient_verify,
            sms_enabled=row.sms_enabled,
            calls_enabled=row.calls_enabled,
            onetouch_enabled=row.onetouch_enabled,
            generic_tokens_enabled=row.generic_tokens_enabled,
            api_key_salt=row.api_key_salt,
            created_at=aware(row.created_at),
            number_choices=bool(getattr(row, "number_choices", False)),
            multi_device=bool(getattr(row, "multi_device", True)),
            number_matching=bool(getattr(row, "number_matching", False)),
            onetouch_ttl=getattr(row, "onetouch_ttl", None),
            allowed_countries=getattr(row, "allowed_countries", None),
            sandbox=bool(getattr(row, "sandbox", False)),
        )


@dataclass(frozen=True, slots=True)
class CreatedApp:
    app: App
    api_key: str  # shown once, never stored
