"""The per-app bundle of services, reachable from views through :func:`services`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from twofa.client import Client
    from twofa.settings import Settings
    from twofa.site.account.service import AccountService
    from twofa.site.auth.service import AuthService
    from twofa.site.auth.signup import SignUpService
    from twofa.site.live import LiveStatus
    from twofa.site.streams import StreamBudget

EXTENSION = "twofa_site"


@dataclass(frozen=True, slots=True)
class SiteServices:
    settings: Settings
    auth: AuthService
    signup: SignUpService
    account: AccountService
    live: LiveStatus
    provider: Client
    streams: StreamBudget


def services() -> SiteServices:
    """The services of the current app."""
    return current_app.extensions[EXTENSION]
