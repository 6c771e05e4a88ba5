"""Settings: secrets required outside dev, limits parsed, values typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from twofa.settings import Limit, SettingsError, load_settings

STRONG = "k" * 40


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("TWOFA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file


@pytest.mark.parametrize("env", ["test", "prod"])
@pytest.mark.parametrize("key", [None, "", "short", "not-so-secret", "x" * 31])
def test_refuses_outside_dev_without_a_strong_key(env: str, key: str | None) -> None:
    with pytest.raises(SettingsError, match="TWOFA_SECRET_KEY"):
        load_settings(env=env, secret_key=key)


@pytest.mark.parametrize("key", ["CHANGEME", "Secret", "DEV"])
def test_known_weak_keys_are_refused_whatever_their_case(key: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(env="prod", secret_key=key)


def test_a_long_random_key_is_accepted_outside_dev() -> None:
    assert load_settings(env="prod", secret_key=STRONG).key == STRONG.encode()


def test_refuses_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFA_ENV", "prod")
    monkeypatch.setenv("TWOFA_SECRET_KEY", "weak")
    with pytest.raises(SettingsError):
        load_settings()
    monkeypatch.setenv("TWOFA_SECRET_KEY", STRONG)
    settings = load_settings()
    assert settings.env == "prod"
    assert settings.key == STRONG.encode()


def test_dev_creates_and_keeps_a_random_key(tmp_path: Path) -> None:
    first = load_settings(env="dev", data_dir=tmp_path / "data")
    second = load_settings(env="dev", data_dir=tmp_path / "data")
    assert len(first.key) >= 32
    assert first.key == second.key
    assert (tmp_path / "data" / "dev-secret-key").stat().st_mode & 0o077 == 0
    other = load_settings(env="dev", data_dir=tmp_path / "other")
    assert other.key != first.key


def test_settings_are_frozen() -> None:
    settings = load_settings(env="dev")
    with pytest.raises(ValueError):
        settings.env = "prod"  # type: ignore[misc]


def test_unknown_env_is_refused() -> None:
    with pytest.raises(SettingsError):
        load_settings(env="staging")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10/600", Limit(10, 600)), ("0/1", Limit(0, 1)), (" 3 / 60 ", Limit(3, 60))],
)
def test_limit_parse(text: str, expected: Limit) -> None:
    assert Limit.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "10", "10/", "/60", "a/b", "10/0", "-1/60", "10/-5", "1.5/60"]
)
def test_limit_parse_refuses(text: str) -> None:
    with pytest.raises(SettingsError):
        Limit.parse(text)


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFA_LIMIT_VERIFY_FAILURES_PER_USER", "3/600")
    monkeypatch.setenv("TWOFA_LIMIT_SMS_PER_PHONE", "2/60")
    settings = load_settings()
    assert settings.limit("verify_failures_per_user") == Limit(3, 600)
    assert settings.limit("sms_per_phone") == Limit(2, 60)
    assert settings.limit("push_per_user") == Limit(10, 600)


def test_bad_limit_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOFA_LIMIT_PUSH_PER_USER", "lots")
    with pytest.raises(SettingsError, match="COUNT/SECONDS"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sms_code_length", 5),
        ("sms_code_length", 11),
        ("totp_window", 4),
        ("sms_code_ttl", 0),
        ("delivery_pause_after_attempts", 0),
        ("delivery_retry_base", 0),
    ],
)
def test_out_of_range_values_are_refused(name: str, value: int) -> None:
    with pytest.raises(SettingsError):
        load_settings(**{name: value})


def test_database_urls_default_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.provider_database_url == f"sqlite:///{tmp_path / 'provider.db'}"
    assert settings.site_db_url == f"sqlite:///{tmp_path / 'site.db'}"
    assert load_settings(database_url="postgresql://x/y").provider_database_url == (
        "postgresql://x/y"
    )


def test_delivery_settings_read_their_older_callback_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWOFA_CALLBACK_TIMEOUT", "2.5")
    monkeypatch.setenv("TWOFA_CALLBACK_LEASE_SECONDS", "9")
    settings = load_settings()
    assert (settings.delivery_timeout, settings.delivery_lease_seconds) == (2.5, 9.0)
    monkeypatch.setenv("TWOFA_DELIVERY_TIMEOUT", "3")
    assert load_settings().delivery_timeout == 3.0


def test_a_lease_must_outlive_a_delivery_attempt() -> None:
    with pytest.raises(SettingsError, match="TWOFA_DELIVERY_LEASE_SECONDS"):
        load_settings(delivery_timeout=5, delivery_lease_seconds=5)


@pytest.mark.parametrize(("env", "allowed"), [("dev", True), ("test", False), ("prod", False)])
def test_private_callbacks_are_allowed_by_default_only_in_dev(env: str, allowed: bool) -> None:
    settings = load_settings(env=env, secret_key="k" * 40)
    assert settings.allow_private_callbacks is allowed
    assert load_settings(
        env=env, secret_key="k" * 40, callback_allow_private=True
    ).allow_private_callbacks
