"""Twilio's error codes for the Verify dialect, and the legacy four-field error body.

Each class carries its HTTP status and Twilio's numeric code. Errors from the shared tree
(rate limits, bad input, missing resources) are mapped onto Twilio's generic codes when they
surface under ``/v2``, so one request never mixes the Authy and the Twilio envelopes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twofa.errors import (
    CallNotStarted,
    CountryNotAllowed,
    DestinationBlocked,
    InvalidEncoding,
    InvalidRequest,
    LineTypeRefused,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    SmsNotSent,
    TwofaError,
)

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


class TwilioError(TwofaError):
    """Root of the Verify dialect's errors."""

    status = 400
    twilio_code: ClassVar[int] = 60200
    default_message = "Invalid parameter"


class AuthenticationFailed(TwilioError):
    status = 401
    twilio_code = 20003
    default_message = "Authenticate"


class ResourceNotFound(TwilioError):
    """A SID that is unknown, deleted or (for verifications) no longer pending.

    The message names the request path, as Twilio's does; it is filled in when rendered.
    """

    status = 404
    twilio_code = 20404
    default_message = "The requested resource was not found"


class NotAllowed(TwilioError):
    status = 405
    twilio_code = 20004
    default_message = "Method not allowed"


class TooManyRequests(TwilioError):
    status = 429
    twilio_code = 20429
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidParameter(TwilioError):
    status = 400
    twilio_code = 60200

    def __init__(self, name: str, reason: str | None = None) -> None:
        super().__init__(f"Invalid parameter: {name}" + (f" ({reason})" if reason else ""))
        self.name = name


class MaxCheckAttempts(TwilioError):
    status = 429
    twilio_code = 60202
    default_message = "Max check attempts reached"


class MaxSendAttempts(TwilioError):
    status = 429
    twilio_code = 60203
    default_message = "Max send attempts reached"


class FeatureNotSupported(TwilioError):
    status = 403
    twilio_code = 60204
    default_message = "Service does not support this feature"


class LandlineNotSupported(TwilioError):
    status = 403
    twilio_code = 60205
    default_message = "SMS is not supported by landline phone number"


class Psd2ParamsRequired(TwilioError):
    status = 400
    twilio_code = 60206
    default_message = "'Amount' & 'Payee' params are required"


class MaxRateLimits(TwilioError):
    twilio_code = 60207
    default_message = "Max rate limits per service reached"


class RateLimitExists(TwilioError):
    twilio_code = 60208
    default_message = "Rate limit with that UniqueName already exists"


class UniqueNameInvalid(TwilioError):
    twilio_code = 60209
    default_message = "UniqueName format is invalid"


class MaxBuckets(TwilioError):
    twilio_code = 60210
    default_message = "Max Buckets per Rate limit reached"


class BucketExists(TwilioError):
    twilio_code = 60211
    default_message = "Bucket with the given Interval already exists"


class ConcurrentRequests(TwilioError):
    status = 429
    twilio_code = 60212
    default_message = "Too many concurrent requests for phone number"


class MessagingConfigurationExists(TwilioError):
    status = 409
    twilio_code = 60213
    default_message = "A Messaging Configuration already exists for the given country"


class ChannelDisabled(TwilioError):
    status = 400
    twilio_code = 60223

    def __init__(self, channel: str) -> None:
        super().__init__(f"Delivery channel disabled: {channel.upper()}")


class FactorVerificationFailed(TwilioError):
    status = 403
    twilio_code = 60311
    default_message = "Factor verification failed"


class MaxFactorAttempts(TwilioError):
    status = 429
    twilio_code = 60310
    default_message = "Max verification attempts reached for this factor"


class MaxChallengeAttempts(TwilioError):
    status = 429
    twilio_code = 60308
    default_message = "Max verification attempts reached for this challenge"


class DeliveryFailed(TwilioError):
    status = 503
    twilio_code = 20503
    default_message = "Service unavailable: the message could not be delivered"


def _mapped(error: TwofaError) -> tuple[int, int, str]:
    """(HTTP status, Twilio code, message) for any error raised under ``/v2``."""
    if isinstance(error, TwilioError):
        return error.status, error.twilio_code, error.message
    if isinstance(error, DestinationBlocked):  # the fraud guard's pumping block
        return 403, 60410, "Verification delivery attempt blocked"
    if isinstance(error, CountryNotAllowed | LineTypeRefused):
        return 403, 60605, "Verification delivery attempt blocked"
    if isinstance(error, RateLimited):
        return 429, 20429, TooManyRequests.default_message
    if isinstance(error, PayloadTooLarge):
        return 413, 60200, error.message
    if isinstance(error, InvalidRequest | InvalidEncoding):
        return 400, 60200, f"Invalid parameter ({error.message})"
    if isinstance(error, NotFound):
        return 404, 20404, ResourceNotFound.default_message
    if isinstance(error, MethodNotAllowed):
        return 405, 20004, NotAllowed.default_message
    if isinstance(error, SmsNotSent | CallNotStarted | ServiceUnavailable):
        return 503, 20503, "Service unavailable"
    if error.status >= 500:
        return 500, 20500, "Internal server error"
    return error.status, 60200, error.message


def twilio_body(error: TwofaError, *, path: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the four-field body (never ``type``/``title``: contract §3.0).

    ``path`` is the request path below ``/v2``; a 20404 names it, as Twilio's message does.
    """
    status, code, message = _mapped(error)
    if code == 20404:
        message = f"The requested resource {path} was not found"
    return status, {
        "code": code,
        "message": message,
        "more_info": MORE_INFO.format(code=code),
        "status": status,
    }
