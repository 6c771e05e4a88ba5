"""The effective settings, as an operator may read them: every secret masked.

What counts as secret is derived, not listed, so that a setting added later is masked unless it
is plainly harmless: a field is secret when its type is a pydantic secret (``SecretStr``,
``SecretBytes``) or when any word of its name is one that secrets are named by (key, token,
password, secret, sid, ...). Numbers, booleans and ``None`` are shown whatever the name (they
cannot carry a credential). Any value that is a URL is shown without its user name, password,
query or fragment, since those are where connection strings and webhooks keep credentials.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union

from pydantic import SecretBytes, SecretStr
from pydantic_settings import BaseSettings

from twofa.provider.reports.masking import mask_url
from twofa.provider.reports.model import SettingRow

MASK = "••••••••"
SECRET_WORDS = frozenset(
    {
        "auth",
        "cert",
        "cookie",
        "credential",
        "credentials",
        "dsn",
        "key",
        "keys",
        "pass",
        "passphrase",
        "passwd",
        "password",
        "pin",
        "private",
        "pwd",
        "salt",
        "secret",
        "secrets",
        "sid",
        "signature",
        "token",
        "tokens",
    }
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")


def _secret_type(annotation: Any) -> bool:
    """Whether the annotation is, or is a union containing, a pydantic secret type."""
    if annotation in (SecretStr, SecretBytes):
        return True
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_secret_type(arg) for arg in typing.get_args(annotation))
    return False


def is_secret(name: str, annotation: Any) -> bool:
    """A setting to mask: a secret type, or a name made with a word secrets are named by."""
    words = set(name.lower().split("_"))
    return _secret_type(annotation) or bool(words & SECRET_WORDS)


def shown_value(value: Any, *, secret: bool) -> str:
    """The text the page shows for one setting's value."""
    if value is None:
        return "(not set)"
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, SecretStr | SecretBytes):
        return MASK if value.get_secret_value() else "(empty)"
    if secret:
        return MASK if str(value) else "(empty)"
    text = str(value)
    if _URL.match(text):
        return mask_url(text)
    return text


def effective_settings(settings: BaseSettings) -> list[SettingRow]:
    """Every field of the settings object, in declaration order, masked where secret."""
    fields = type(settings).model_fields
    prefix = str(type(settings).model_config.get("env_prefix", ""))
    rows = []
    for name, info in fields.items():
        value = getattr(settings, name)
        secret = is_secret(name, info.annotation)
        rows.append(
            SettingRow(
                name=name,
                env=f"{prefix}{name}".upper(),
                value=shown_value(value, secret=secret),
                secret=secret,
                default=name not in settings.model_fields_set,
            )
        )
    return rows
