"""What can go wrong in the site's own logic, each with the message a person should read."""

from __future__ import annotations

from twofa.client import ProviderError, ProviderUnavailable, RateLimited


class SiteError(Exception):
    """Root of the site's expected failures; ``message`` is safe to show."""

    message = "Something went wrong. Please try again."

    def __init__(self, message: str | None = None) -> None:
        if message:
            self.message = message
        super().__init__(self.message)


class BadCredentials(SiteError):
    # One message for an unknown e-mail and a wrong password, so neither is revealed.
    message = "Incorrect e-mail or password."


class AttemptGone(SiteError):
    message = "Your sign-in has expired or was cancelled. Please log in again."


class NotApproved(SiteError):
    message = "This sign-in has not been approved on your phone yet."


class WrongCode(SiteError):
    message = "That code is not valid. Check it and try again."


class TooManyFailures(SiteError):
    message = "Too many wrong codes. Please log in again."


class Cooldown(SiteError):
    """A new code was asked for too soon; ``seconds`` until the next one is allowed."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        super().__init__(f"Please wait {seconds} seconds before asking for another code.")


class Throttled(SiteError):
    """Too many failed passwords from this address: wait ``seconds`` before the next try."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        wait = f"{seconds} seconds" if seconds < 120 else f"{round(seconds / 60)} minutes"
        super().__init__(f"Too many failed sign-ins from here. Please wait {wait} and try again.")


class ChallengeNeeded(SiteError):
    message = (
        "This account has had many failed sign-ins. Your browser solves a short puzzle "
        "before each try: enter your password again."
    )


class SignUpFailed(SiteError):
    """Sign-up refused; ``fields`` maps form field names to messages."""

    message = "We could not create your account."

    def __init__(self, message: str | None = None, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class UnknownApproval(SiteError):
    message = "Unknown approval request."


class InvalidCallback(SiteError):
    message = "Invalid callback."


def provider_message(exc: ProviderError) -> str:
    """What to tell a person when the 2FA provider refused or failed a request."""
    if isinstance(exc, RateLimited):
        if exc.retry_after:
            minutes = max(1, round(exc.retry_after / 60))
            wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
            return f"Too many attempts. Please wait {wait} before trying again."
        return "Too many attempts. Please wait a few minutes before trying again."
    if isinstance(exc, ProviderUnavailable):
        return (
            "The verification service is not reachable right now. "
            "Please try again in a few minutes."
        )
    return "The verification service refused the request. Please try again later."
