"""The OneTouch callback signature (contract section 4.4), shared by signer and verifier.

``NONCE|METHOD|URL|PARAMS`` is signed with HMAC-SHA256 under the application's API key, where
PARAMS is the body flattened to bracketed keys, percent-encoded the way Python's ``quote`` does,
the ``key=value`` pairs sorted and then the list indices erased. Every receiver we know of (the
official Python, Java and Node validators) rebuilds exactly this string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

_LIST_INDEX = re.compile(r"%5B\d+%5D")


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    else:
        out.append((prefix, _scalar(value)))


def _encode(text: str) -> str:
    return quote(text, safe="").replace("%20", "+")


def canonical_params(params: Mapping[str, Any]) -> str:
    """The PARAMS part of the signed string: flattened, encoded, sorted, indices erased.

    Sorting comes before erasing the list indices, as in the official validators and in
    Authy's recorded callbacks: the pairs of ``logos[0]`` stay ahead of those of ``logos[1]``.
    """
    pairs: list[tuple[str, str]] = []
    _flatten("", params, pairs)
    encoded = sorted(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    return "&".join(_LIST_INDEX.sub("%5B%5D", pair) for pair in encoded)


def signed_string(nonce: str, method: str, url: str, params: Mapping[str, Any]) -> str:
    """``NONCE|METHOD|URL|PARAMS`` exactly as it is fed to HMAC."""
    return f"{nonce}|{method.upper()}|{url}|{canonical_params(params)}"


def sign(*, key: str, nonce: str, method: str, url: str, params: Mapping[str, Any]) -> str:
    """The base64 HMAC-SHA256 signature for the ``X-Authy-Signature`` header."""
    message = signed_string(nonce, method, url, params).encode()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def verify(
    *,
    key: str,
    signature: str,
    nonce: str,
    method: str,
    url: str,
    params: Mapping[str, Any],
    max_age: float | None = None,
    now: float | None = None,
) -> bool:
    """True when ``signature`` matches and, if ``max_age`` is given, the nonce is that fresh.

    The nonce is the signing time in unix seconds; a stale or non-numeric nonce fails when an
    age limit is asked for, which stops an attacker replaying a captured callback later.
    """
    if not signature or not nonce or method.upper() not in {"GET", "POST"}:
        return False
    if max_age is not None:
        try:
            age = (time.time() if now is None else now) - float(nonce)
        except ValueError:
            return False
        if not -max_age <= age <= max_age:
            return False
    expected = sign(key=key, nonce=nonce, method=method, url=url, params=params)
    return hmac.compare_digest(expected.encode(), signature.encode())
