"""No secret setting's value reaches the effective-settings report, today's or a future one."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tests.provider.conftest import provider_settings
from twofa.provider.reports.effective import effective_settings, is_secret
from twofa.settings import Settings

# The settings that hold credentials today; the derivation must find every one of them.
KNOWN_SECRETS = {
    "secret_key",
    "twilio_auth_token",
    "smtp_password",
    "site_api_key",
    "site_secret_key",
    "twilio_account_sid",
}


def _text_field(annotation: Any) -> bool:
    return annotation in (str, SecretStr, SecretStr | None, str | None)


def test_every_secret_is_masked(tmp_path: Path, migrated: Path) -> None:
    planted: dict[str, str] = {}
    overrides: dict[str, Any] = {}
    for name, info in Settings.model_fields.items():
        if is_secret(name, info.annotation) and _text_field(info.annotation):
            planted[name] = overrides[name] = f"planted-{secrets.token_hex(20)}"
    assert set(planted) >= KNOWN_SECRETS
    password = f"pw{secrets.token_hex(12)}"
    overrides["database_url"] = f"postgresql+psycopg://twofa:{password}@db.internal:5432/twofa"
    overrides["redis_url"] = f"redis://:{password}@cache.internal:6379/0?token={password}"
    overrides["sms_http_url"] = f"https://sms.example/send?key={password}#{password}"
    settings = provider_settings(tmp_path, migrated, **overrides)

    rows = effective_settings(settings)
    assert [r.name for r in rows] == list(Settings.model_fields)
    page = repr(rows)
    for value in [*planted.values(), password]:
        assert value not in page
    shown = {r.name: r for r in rows}
    assert all(shown[name].secret for name in planted)
    assert shown["database_url"].value == "postgresql+psycopg://twofa:•••@db.internal:5432/twofa"
    assert shown["redis_url"].value == "redis://cache.internal:6379/0"
    assert shown["sms_http_url"].value == "https://sms.example/send"
    assert shown["sms_code_length"].value == "7" and not shown["sms_code_length"].secret
    assert shown["env"].value == "test" and not shown["env"].default
    assert shown["sms_code_ttl"].default
    assert shown["twilio_auth_token"].env == "TWOFA_TWILIO_AUTH_TOKEN"


class Future(Settings):
    """Settings as they might grow: the new secrets are masked without anyone listing them."""

    partner_api_key: str = ""
    archive_passphrase: str = ""
    vault: SecretStr = SecretStr("")
    signing_pin: str | None = None
    archive_url: str = ""


def test_a_new_secret_setting_is_masked_by_default(tmp_path: Path) -> None:
    values = {n: f"planted-{secrets.token_hex(16)}" for n in ("partner_api_key", "signing_pin")}
    future = Future(
        env="test",
        secret_key="k" * 40,
        data_dir=tmp_path,
        archive_passphrase="correct horse battery staple",
        vault=SecretStr("vault-value-123456"),
        archive_url="s3://backup:hunter2hunter2@bucket.example/twofa?sig=abc",
        **values,  # type: ignore[arg-type]
    )
    page = repr(effective_settings(future))
    for leaked in [*values.values(), "correct horse", "vault-value-123456", "hunter2", "sig=abc"]:
        assert leaked not in page
    assert "s3://backup:•••@bucket.example/twofa" in page
