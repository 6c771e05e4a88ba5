"""Each process gets its own secret: the site starts in prod without the provider's key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twofa.settings import SettingsError, load_settings

STRONG = "k" * 40
SITE = "s" * 40


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TWOFA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_site_runs_in_prod_with_only_its_own_key() -> None:
    settings = load_settings(env="prod", site_secret_key=SITE)
    assert settings.site_key == SITE.encode()
    with pytest.raises(SettingsError, match="TWOFA_SECRET_KEY is required"):
        _ = settings.key  # the provider's key is simply not there


def test_the_site_in_prod_needs_its_own_key_even_beside_the_providers() -> None:
    settings = load_settings(env="prod", secret_key=STRONG)
    with pytest.raises(SettingsError, match="TWOFA_SITE_SECRET_KEY is required"):
        _ = settings.site_key


@pytest.mark.parametrize("weak", ["short", "changeme", "x" * 31])
def test_a_weak_site_key_is_refused(weak: str) -> None:
    with pytest.raises(SettingsError, match="TWOFA_SITE_SECRET_KEY"):
        load_settings(env="prod", secret_key=STRONG, site_secret_key=weak)


def test_outside_prod_the_site_key_is_derived_and_distinct() -> None:
    settings = load_settings(env="test", secret_key=STRONG)
    assert len(settings.site_key) >= 32 and settings.site_key != settings.key


def test_the_stream_budget_must_leave_threads_for_pages() -> None:
    with pytest.raises(SettingsError, match="TWOFA_SITE_MAX_STREAMS"):
        load_settings(site_threads=8, site_max_streams=5)
    assert load_settings(site_threads=8, site_max_streams=4).site_max_streams == 4
