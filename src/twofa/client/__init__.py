"""A typed Python SDK for the provider's Authy-compatible API.

from twofa.client import Client, InvalidToken

with Client(api_key, "http://127.0.0.1:5001") as provider:
    user = provider.create_user(email="a@example.com", cellphone="555-123-4567", country_code=1)
    provider.request_sms(user.authy_id)
"""

from twofa.client.callbacks import validate_callback
from twofa.client.client import Client
from twofa.client.errors import (
    ApprovalRequestNotFound,
    InvalidApiKey,
    InvalidPhone,
    InvalidToken,
    InvalidUser,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    TokenReused,
    UserNotFound,
    UserNotRegistered,
    VerificationFailed,
)
from twofa.client.models import (
    AppDetails,
    ApprovalRequest,
    CallResult,
    Device,
    PhoneVerification,
    SmsResult,
    TokenCheck,
    User,
    UserStatus,
)

__all__ = [
    "AppDetails",
    "ApprovalRequest",
    "ApprovalRequestNotFound",
    "CallResult",
    "Client",
    "Device",
    "InvalidApiKey",
    "InvalidPhone",
    "InvalidToken",
    "InvalidUser",
    "PhoneVerification",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "SmsResult",
    "TokenCheck",
    "TokenReused",
    "User",
    "UserNotFound",
    "UserNotRegistered",
    "UserStatus",
    "VerificationFailed",
    "validate_callback",
]
