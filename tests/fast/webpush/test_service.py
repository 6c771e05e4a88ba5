"""The deployment's VAPID key: made once, shared by every process, unusable under another secret."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.fakepush import b64d, check_vapid
from twofa.crypto import Keyring
from twofa.errors import ServiceUnavailable
from twofa.provider.webpush.service import WebPushService
from twofa.provider.webpush.store import WebPushStore
from twofa.settings import SettingsError, load_settings
from twofa.storage.database import Database
from twofa.storage.engine import make_engine

SECRET = b"a" * 40


@pytest.fixture
def database(tmp_path: Path, migrated: Path) -> Database:
    shutil.copyfile(migrated, tmp_path / "provider.db")
    return Database(make_engine(f"sqlite:///{tmp_path / 'provider.db'}"))


def service(db: Database, secret: bytes = SECRET, **settings: object) -> WebPushService:
    return WebPushService(WebPushStore(db), Keyring(secret), load_settings(**settings))


def test_one_key_for_every_process(database: Database) -> None:
    first, second = service(database), service(database)
    assert first.public_key() == second.public_key()
    assert len(b64d(first.public_key())) == 65


def test_another_secret_cannot_use_the_key(database: Database) -> None:
    service(database).public_key()
    with pytest.raises(ServiceUnavailable):
        service(database, b"b" * 40).public_key()


def test_authorization_is_reused_per_push_service(database: Database) -> None:
    push = service(database, webpush_subject="mailto:ops@example.org")
    now = time.time()
    fcm = push.authorization("https://fcm.googleapis.com/fcm/send/a", now)
    assert push.authorization("https://fcm.googleapis.com/fcm/send/b", now + 60) == fcm
    assert push.authorization("https://fcm.googleapis.com/fcm/send/b", now + 3700) != fcm
    mozilla = push.authorization("https://updates.push.services.mozilla.com/wpush/v2/x", now)
    claims, key = check_vapid(mozilla, aud="https://updates.push.services.mozilla.com", now=now)
    assert claims["sub"] == "mailto:ops@example.org"
    assert key == b64d(push.public_key())


def test_subject_defaults() -> None:
    assert load_settings(public_url="https://2fa.example.org/").vapid_subject == (
        "https://2fa.example.org"
    )
    assert load_settings(public_url="http://127.0.0.1:5001").vapid_subject.startswith("mailto:")


def test_loopback_push_services_are_refused_in_production() -> None:
    with pytest.raises(SettingsError, match="WEBPUSH_ALLOW_LOOPBACK"):
        load_settings(env="prod", secret_key="s" * 40, webpush_allow_loopback=True)
    assert load_settings(env="test", secret_key="s" * 40, webpush_allow_loopback=True)
