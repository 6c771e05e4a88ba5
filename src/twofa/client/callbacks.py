"""Checking a OneTouch callback that the provider sent to the application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twofa import signing

DEFAULT_MAX_AGE = 300


def validate_callback(
    *,
    api_key: str,
    signature: str | None,
    nonce: str | None,
    method: str,
    url: str,
    params: Mapping[str, Any] | None,
    max_age: float | None = DEFAULT_MAX_AGE,
) -> bool:
    """True when ``X-Authy-Signature`` matches the request and the nonce is at most ``max_age`` old.

    ``url`` must be the callback URL exactly as configured at the provider, without the query
    string; ``params`` is the decoded JSON body (POST) or query (GET). Missing headers or a body
    that is not an object simply fail, so a receiver can answer 400 without special cases.
    """
    if not isinstance(signature, str) or not isinstance(nonce, str):
        return False
    if not isinstance(params, Mapping):
        return False
    return signing.verify(
        key=api_key,
        signature=signature,
        nonce=nonce,
        method=method,
        url=url,
        params=params,
        max_age=max_age,
    )
