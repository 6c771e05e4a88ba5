"""The account page's data: the user, their factors from the provider, recent sign-ins."""

from __future__ import annotations

from dataclasses import dataclass

from twofa.client import Client, ProviderError, UserStatus
from twofa.site.errors import provider_message
from twofa.site.store import AttemptStore, LoginAttempt, User


@dataclass(frozen=True, slots=True)
class AccountOverview:
    user: User
    status: UserStatus | None
    status_error: str | None
    sign_ins: list[LoginAttempt]


class AccountService:
    def __init__(self, *, attempts: AttemptStore, provider: Client) -> None:
        self.attempts = attempts
        self.provider = provider

    def overview(self, user: User) -> AccountOverview:
        """Everything the account page shows; a provider outage only hides the factor list."""
        try:
            status: UserStatus | None = self.provider.user_status(user.authy_id)
            error = None
        except ProviderError as exc:
            status, error = None, provider_message(exc)
        return AccountOverview(user, status, error, self.attempts.recent_for_user(user.id))
