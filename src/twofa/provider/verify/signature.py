"""``X-Twilio-Signature``: how Twilio signs webhooks, so its official validators accept ours.

The signed string is the full URL followed by every form parameter's name and value, sorted by
name (the distinct values of one name in sorted order); the signature is the base64 HMAC-SHA1 of it
under the account's auth token (contract §6.1, as ``twilio.request_validator`` checks it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence


def twilio_signature(url: str, params: Mapping[str, str | Sequence[str]], auth_token: str) -> str:
    """The ``X-Twilio-Signature`` header value of a form POST of ``params`` to ``url``."""
    signed = url
    for name in sorted(params):
        value = params[name]
        values = [value] if isinstance(value, str) else sorted(set(value))
        signed += "".join(name + item for item in values)
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
