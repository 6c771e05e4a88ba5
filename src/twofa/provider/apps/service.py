"""Create applications, authenticate API keys, manage callbacks and report usage."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Row

from twofa.crypto import Keyring, api_key_hash, new_salt, public_id
from twofa.errors import InvalidApiKey, InvalidRequest, NotFound
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import apps, messages, usage, users
from twofa.text import clean

AUTH_CACHE_SECONDS = 5.0
_BY_KEY_HASH = select(apps).where(apps.c.api_key_hash == bindparam("digest"))


@dataclass(frozen=True, slots=True)
class App:
    id: int
    public_id: str
    name: str
    callback_url: str | None
    callback_method: str
    callback_disabled_at: datetime | None
    callback_disabled_reason: str | None
    lenient_verify: bool
    sms_enabled: bool
    calls_enabled: bool
    onetouch_enabled: bool
    generic_tokens_enabled: bool
    api_key_salt: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> App:
        return cls(
            id=row.id,
            public_id=row.public_id,
            name=row.name,
            callback_url=row.callback_url,
            callback_method=row.callback_method,
            callback_disabled_at=aware(row.callback_disabled_at),
            callback_disabled_reason=row.callback_disabled_reason,
            lenient_verify=row.lenient_verify,
            sms_enabled=row.sms_enabled,
            calls_enabled=row.calls_enabled,
            onetouch_enabled=row.onetouch_enabled,
            generic_tokens_enabled=row.generic_tokens_enabled,
            api_key_salt=row.api_key_salt,
            created_at=aware(row.created_at),
        )


@dataclass(frozen=True, slots=True)
class CreatedApp:
    app: App
    api_key: str  # shown once, never stored


def validate_callback_url(url: str) -> str:
    """Accept only absolute http(s) URLs for callbacks."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(url) > 2000:
        raise InvalidRequest("callback URL must be an absolute http(s) URL")
    return url


class AppService:
    """Applications and their API keys."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring
        self._auth_cache: dict[str, tuple[App, float]] = {}

    def create(self, name: str, *, callback_url: str | None = None) -> CreatedApp:
        """A new application with a fresh API key (returned once)."""
        name = clean(name).strip()  # shown on devices and terminals: no controls, no bidi
        if not name or len(name) > 100:
            raise InvalidRequest("application name must be 1 to 100 characters")
        salt = new_salt()
        key = self._keyring.api_key(salt)
        with self._db.write() as conn:
            row = conn.execute(
                insert(apps)
                .values(
                    public_id=public_id(),
                    name=name,
                    api_key_hash=api_key_hash(key),
                    api_key_salt=salt,
                    callback_url=validate_callback_url(callback_url) if callback_url else None,
                    callback_method="POST",
                    callback_failures=0,
                    lenient_verify=False,
                    sms_enabled=True,
                    calls_enabled=True,
                    onetouch_enabled=True,
                    generic_tokens_enabled=True,
                    created_at=utcnow(),
                )
                .returning(*apps.c)
            ).one()
        return CreatedApp(App.from_row(row), key)

    def authenticate(self, api_key: str | None) -> App:
        """The application owning ``api_key``; 401/60001 otherwise.

        Answers are cached for ``AUTH_CACHE_SECONDS``: every API call authenticates, and the
        cache saves a query on each. Changes made through this service clear it at once; other
        processes see a rotated key or a new callback URL within that many seconds.
        """
        if not api_key or len(api_key) > 200:
            raise InvalidApiKey()
        digest = api_key_hash(api_key)
        cached = self._auth_cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        with self._db.read() as conn:
            row = conn.execute(_BY_KEY_HASH, {"digest": digest}).first()
        if row is None:
            raise InvalidApiKey()
        app = App.from_row(row)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[digest] = (app, now + AUTH_CACHE_SECONDS)
        return app

    def api_key(self, app: App) -> str:
        """Recompute the application's API key (the HMAC key of its callbacks)."""
        return self._keyring.api_key(app.api_key_salt)

    def get(self, app_id: int) -> App:
        with self._db.read() as conn:
            row = conn.execute(select(apps).where(apps.c.id == app_id)).first()
        if row is None:
            raise NotFound(f"No application with id {app_id}")
        return App.from_row(row)

    def find(self, ref: str) -> App:
        """An application by numeric id, public id or exact name."""
        query = select(apps).where(
            (apps.c.public_id == ref)
            | (apps.c.name == ref)
            | (apps.c.id == (int(ref) if ref.isascii() and ref.isdigit() else -1))
        )
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        if len(rows) != 1:
            raise NotFound(f"No single application matches {ref!r}")
        return App.from_row(rows[0])

    def all(self) -> list[App]:
        with self._db.read() as conn:
            return [App.from_row(r) for r in conn.execute(select(apps).order_by(apps.c.id))]

    def set_callback(self, app_id: int, url: str | None) -> App:
        """Set (or clear) the callback URL; re-enables a callback disabled after failures."""
        self._auth_cache.clear()
        with self._db.write() as conn:
            conn.execute(
                update(apps)
                .where(apps.c.id == app_id)
                .values(
                    callback_url=validate_callback_url(url) if url else None,
                    callback_failures=0,
                    callback_disabled_at=None,
                    callback_disabled_reason=None,
                )
            )
        return self.get(app_id)

    def set_options(self, app_id: int, **options: bool) -> App:
        """Switch application features (lenient verify, SMS, calls, OneTouch, generic tokens)."""
        self._auth_cache.clear()
        allowed = {
            "lenient_verify",
            "sms_enabled",
            "calls_enabled",
            "onetouch_enabled",
            "generic_tokens_enabled",
        }
        unknown = set(options) - allowed
        if unknown:
            raise InvalidRequest(f"unknown option(s): {', '.join(sorted(unknown))}")
        with self._db.write() as conn:
            conn.execute(update(apps).where(apps.c.id == app_id).values(**options))
        return self.get(app_id)

    def rotate_key(self, app_id: int) -> CreatedApp:
        """Replace the API key; the old one stops working at once here, and within
        ``AUTH_CACHE_SECONDS`` in other provider processes."""
        self._auth_cache.clear()
        salt = new_salt()
        key = self._keyring.api_key(salt)
        with self._db.write() as conn:
            result = conn.execute(
                update(apps)
                .where(apps.c.id == app_id)
                .values(api_key_hash=api_key_hash(key), api_key_salt=salt)
            )
        if result.rowcount != 1:
            raise NotFound(f"No application with id {app_id}")
        return CreatedApp(self.get(app_id), key)

    def stats(self, app_id: int) -> tuple[list[dict[str, object]], int]:
        """Monthly rows of the seven Authy statistics keys, and the total user count."""
        with self._db.read() as conn:
            counters = conn.execute(
                select(usage.c.month, usage.c.kind, usage.c.count).where(usage.c.app_id == app_id)
            ).all()
            sent = conn.execute(
                select(messages.c.channel, messages.c.created_at).where(
                    messages.c.app_id == app_id, messages.c.status == "sent"
                )
            ).all()
            created = conn.execute(select(users.c.created_at).where(users.c.app_id == app_id)).all()
            total = conn.execute(
                select(func.count()).select_from(users).where(users.c.app_id == app_id)
            ).scalar_one()
        months: dict[str, dict[str, int]] = {}

        def bucket(month: str) -> dict[str, int]:
            return months.setdefault(
                month,
                {
                    "api_calls_count": 0,
                    "auths_count": 0,
                    "calls_count": 0,
                    "sms_count": 0,
                    "users_count": 0,
                },
            )

        for month, kind, count in counters:
            if kind == "auths":
                bucket(month)["auths_count"] += int(count)
        for channel, when in sent:
            key = "sms_count" if channel == "sms" else "calls_count"
            bucket(aware(when).strftime("%Y-%m"))[key] += 1
        for (when,) in created:
            bucket(aware(when).strftime("%Y-%m"))["users_count"] += 1
        if not months:
            bucket(utcnow().strftime("%Y-%m"))
        rows: list[dict[str, object]] = []
        for month in sorted(months):
            counts = months[month]
            counts["api_calls_count"] = (
                counts["auths_count"]
                + counts["sms_count"]
                + counts["calls_count"]
                + counts["users_count"]
            )
            year, number = month.split("-")
            rows.append({**counts, "month": calendar.month_name[int(number)], "year": int(year)})
        return rows, int(total)
