"""The client's one exception tree, built from the provider's Authy error envelope.

Callers branch on a few cases (a wrong code, an unknown user, a rate limit, an unreachable
provider); everything else is a plain :class:`ProviderError` carrying the status and the Authy
``error_code`` so it can still be logged or shown.
"""

from __future__ import annotations

from typing import Any


class ProviderError(Exception):
    """A refused request; ``error_code`` is the Authy code as a string (``"60026"``)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        error_code: str = "",
        fields: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.fields = fields or {}
        self.body = body or {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, error_code={self.error_code!r}, "
            f"message={self.message!r})"
        )


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, timed out, or failed on its side (5xx, not JSON)."""


class InvalidApiKey(ProviderError):
    """60001: the API key is missing or unknown (a configuration problem, not a user's)."""


class RateLimited(ProviderError):
    """60003 and the SMS/call limits: wait before retrying (``retry_after`` seconds, if known)."""

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InvalidToken(ProviderError):
    """60020 (wrong code) or 60019 (a code that was already used)."""


class TokenReused(InvalidToken):
    """60019: the code was right once and has been used already."""


class UserNotFound(ProviderError):
    """60026: no such authy id in this application."""


class InvalidUser(ProviderError):
    """60027: user creation data was refused; ``fields`` names the offending fields."""


class InvalidPhone(ProviderError):
    """60033: the phone number is not valid."""


class VerificationFailed(ProviderError):
    """60022 (wrong phone verification code) or 60023 (none pending)."""


class ApprovalRequestNotFound(ProviderError):
    """60049: no approval request with that uuid."""


class UserNotRegistered(ProviderError):
    """60050: the user has no authenticator app registered, so no push can be sent."""


_BY_CODE: dict[str, type[ProviderError]] = {
    "60001": InvalidApiKey,
    "60003": RateLimited,
    "60009": RateLimited,
    "60010": RateLimited,
    "60011": RateLimited,
    "60012": RateLimited,
    "60120": RateLimited,
    "60014": ProviderUnavailable,
    "60015": ProviderUnavailable,
    "60019": TokenReused,
    "60020": InvalidToken,
    "60022": VerificationFailed,
    "60023": VerificationFailed,
    "60026": UserNotFound,
    "60016": UserNotFound,
    "60027": InvalidUser,
    "60033": InvalidPhone,
    "60049": ApprovalRequestNotFound,
    "60050": UserNotRegistered,
}


def error_for(
    status: int, body: dict[str, Any], *, retry_after: int | None = None
) -> ProviderError:
    """The exception for a failure response ``body`` received with HTTP ``status``."""
    errors = body.get("errors")
    errors = errors if isinstance(errors, dict) else {}
    message = str(body.get("message") or errors.get("message") or f"HTTP {status}")
    code = str(body.get("error_code") or "")
    fields = {str(k): str(v) for k, v in errors.items() if k != "message"}
    cls = _BY_CODE.get(code)
    if cls is None:
        if status == 429:
            cls = RateLimited
        elif status >= 500:
            cls = ProviderUnavailable
        else:
            cls = ProviderError
    kwargs: dict[str, Any] = {"status": status, "error_code": code, "fields": fields, "body": body}
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
