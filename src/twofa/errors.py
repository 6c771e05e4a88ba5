"""The one error tree. Each error carries its HTTP status and its Authy ``error_code``.

Domain code raises these; one handler per web app renders them (the provider as the Authy JSON
envelope, the site as a form message). Messages marked verbatim in the contract stay verbatim:
clients compare them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SettingsError(ValueError):
    """The configuration cannot be used (for example a missing secret key in production)."""


class TwofaError(Exception):
    """Root of every error twofa raises on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "60000"
    default_message: ClassVar[str] = "An error occurred"

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.fields = fields or {}
        self.extra = extra or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The Authy failure envelope: message, success, errors (with message), error_code."""
        body: dict[str, Any] = {"message": self.message, "success": False}
        body.update(self.extra)
        body["errors"] = {**self.fields, "message": self.message}
        body.update(self.fields)
        body["error_code"] = self.code
        return body


class InvalidRequest(TwofaError):
    code = "60002"
    default_message = "Invalid request"


class PayloadTooLarge(InvalidRequest):
    status = 413
    default_message = "Request body is too large"


class InvalidEncoding(TwofaError):
    code = "60005"
    default_message = "Invalid encoding"


class InvalidApiKey(TwofaError):
    status = 401
    code = "60001"
    default_message = "Invalid API key"


class SandboxRefused(InvalidApiKey):
    """A sandbox application's key where the operator allows none (production)."""

    default_message = "Sandbox API keys are not accepted by this deployment"


class RateLimited(TwofaError):
    status = 429
    code = "60003"
    default_message = "DoS protection"

    def __init__(self, message: str | None = None, *, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MissingParameter(TwofaError):
    code = "60004"

    def __init__(self, name: str, reason: str = "Parameter is required") -> None:
        super().__init__(f"Invalid parameter: {name} - {reason}")
        self.name = name


class ServiceUnavailable(TwofaError):
    status = 503
    code = "60000"
    default_message = "Service temporarily unavailable, please retry"


class DatabaseBusy(ServiceUnavailable):
    """Another process held the database's write lock for longer than the lock timeout."""

    default_message = "Service busy, please retry"


class CallsDisabled(TwofaError):
    code = "60006"
    default_message = "Calls add-on disabled"


class SmsDisabled(TwofaError):
    code = "60007"
    default_message = "SMS disabled"


class CallNotStarted(TwofaError):
    status = 503
    code = "60014"
    default_message = "Call not started"


class SmsNotSent(TwofaError):
    status = 503
    code = "60015"
    default_message = "SMS not sent"


class TokenReused(TwofaError):
    status = 401
    code = "60019"
    default_message = "Token is invalid"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, extra={"token": "is invalid"})


class TokenInvalid(TwofaError):
    status = 401
    code = "60020"
    default_message = "Token is invalid"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, extra={"token": "is invalid"})


class VerificationIncorrect(TwofaError):
    status = 401
    code = "60022"
    default_message = "Verification code is incorrect"


class NoPendingVerification(TwofaError):
    status = 404
    code = "60023"

    def __init__(self, phone: str) -> None:
        super().__init__(f"No pending verifications for {phone} found.")


class UserNotFound(TwofaError):
    status = 404
    code = "60026"
    default_message = "User not found."


class UserInvalid(TwofaError):
    code = "60027"
    default_message = "User was not valid"


class PhoneInvalid(TwofaError):
    code = "60033"
    default_message = "Phone number is invalid"


class ApprovalRequestNotFound(TwofaError):
    status = 404
    code = "60049"

    def __init__(self, uuid: str) -> None:
        super().__init__(f"Approval request not found: {uuid}")


class UserNotRegistered(TwofaError):
    code = "60050"
    default_message = "User is not registered for OneTouch"


class DeviceNotApproved(TwofaError):
    """A further device of a phone that an existing device has not approved (yet)."""

    status = 403
    code = "60031"
    default_message = "This device is waiting for approval on another device of this phone"


class MultiDeviceDisabled(TwofaError):
    """An application turned multi-device off: its users' phones keep the one device they have."""

    status = 403
    code = "60031"
    default_message = (
        "Adding a device is turned off for this phone; revoke the existing device first or ask "
        "the operator"
    )


class DeviceNotFound(TwofaError):
    status = 404
    code = "60051"
    default_message = "Device not found"


class ApprovalRequestNotPending(TwofaError):
    code = "60079"
    default_message = "Approval request is not pending"


class InvalidSignature(TwofaError):
    status = 401
    code = "60087"
    default_message = "Invalid signature"


class QrCodeDisabled(TwofaError):
    code = "60123"
    default_message = "Generic authenticator tokens are disabled for this application"


class NotFound(TwofaError):
    status = 404
    code = "60000"
    default_message = "Not found"


class MethodNotAllowed(TwofaError):
    status = 405
    code = "60002"
    default_message = "Method not allowed"


class DecisionSignatureInvalid(InvalidSignature):
    """A device's decision whose signature or signing time does not check out.

    The request itself was authenticated (401 would tell the device to re-register); it is the
    signed decision inside it that is refused, so this one is a 400.
    """

    status = 400


class RegistrationNotFound(NoPendingVerification):
    """A device registration that is unknown, used, ended by wrong codes, or expired."""

    def __init__(self) -> None:
        TwofaError.__init__(self, "No pending registration found.")


class LineTypeRefused(TwofaError):
    """Premium-rate, shared-cost, UAN and personal numbers: each message costs the operator."""

    code = "60083"
    default_message = "Phone number not provisioned"

    def __init__(self, kind: str) -> None:
        super().__init__(f"Phone numbers of this type ({kind}) are not accepted")


class CountryNotAllowed(TwofaError):
    """The destination country is outside the deployment's or the application's list."""

    code = "60013"
    default_message = "Banned country"

    def __init__(self, country: str) -> None:
        super().__init__(f"Banned country: {country} is not an allowed destination")


class DestinationBlocked(RateLimited):
    """Sends to a destination prefix are paused after the fraud guard saw SMS pumping."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "DoS protection: messages to this destination are paused", retry_after=retry_after
        )
