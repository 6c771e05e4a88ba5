"""Create applications, authenticate API keys, manage callbacks and report usage."""

from __future__ import annotations

import calendar
import time
from urllib.parse import urlsplit

from sqlalchemy import Connection

from twofa.crypto import Keyring, api_key_hash, is_sandbox_key, new_salt, public_id
from twofa.errors import InvalidApiKey, InvalidRequest, NotFound, SandboxRefused
from twofa.provider.apps import store
from twofa.provider.apps.model import App, CreatedApp
from twofa.provider.audit.service import AuditLog
from twofa.provider.deliveries import destination
from twofa.provider.deliveries import store as delivery_store
from twofa.provider.deliveries.authy import KIND as CALLBACK_KIND
from twofa.provider.deliveries.authy import app_target
from twofa.provider.deliveries.destination import DestinationRefused
from twofa.storage.database import Database, aware, utcnow
from twofa.text import clean

AUTH_CACHE_SECONDS = 5.0


def validate_callback_url(url: str, *, allow_private: bool = False) -> str:
    """Accept only absolute http(s) URLs for callbacks, on public addresses unless allowed."""
    try:
        parts = urlsplit(url)  # raises on a malformed IPv6 host such as "http://[::1"
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname) and len(url) <= 2000
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        raise InvalidRequest("callback URL must be an absolute http(s) URL")
    if not allow_private:
        try:
            destination.check_url(url)
        except DestinationRefused as exc:
            raise InvalidRequest(
                f"callback URL must reach a public address: {exc} "
                "(set TWOFA_CALLBACK_ALLOW_PRIVATE=true to allow private receivers)"
            ) from exc
    return url


class AppService:
    """Applications and their API keys."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        *,
        allow_private_callbacks: bool = False,
        allow_sandbox: bool = True,
        audit: AuditLog | None = None,
    ) -> None:
        self._db = db
        self._keyring = keyring
        self._allow_private = allow_private_callbacks
        self.allow_sandbox = allow_sandbox
        self._audit = audit or AuditLog(db)
        self._auth_cache: dict[str, tuple[App, float]] = {}

    def _record(
        self, conn: Connection, event: str, app_id: int, actor: str | None, **data: object
    ) -> None:
        self._audit.record(
            event, app_id=app_id, subject=f"app:{app_id}", data=data, actor=actor, conn=conn
        )

    def create(
        self,
        name: str,
        *,
        callback_url: str | None = None,
        sandbox: bool = False,
        actor: str | None = None,
    ) -> CreatedApp:
        """A new application with a fresh API key (returned once).

        A sandbox application (``apps/sandbox.py``) only where the deployment allows them.
        """
        name = clean(name).strip()  # shown on devices and terminals: no controls, no bidi
        if not name or len(name) > 100:
            raise InvalidRequest("application name must be 1 to 100 characters")
        if sandbox and not self.allow_sandbox:
            raise InvalidRequest(
                "sandbox applications are not allowed on this deployment "
                "(TWOFA_ALLOW_SANDBOX=false, the default when TWOFA_ENV=prod)"
            )
        salt = new_salt(sandbox=sandbox)
        key = self._keyring.api_key(salt)
        with self._db.write() as conn:
            app = store.insert_app(
                conn,
                name=name,
                api_key_digest=api_key_hash(key),
                api_key_salt=salt,
                callback_url=self._checked(callback_url),
                public_id=public_id(),
                now=utcnow(),
                sandbox=sandbox,
            )
            self._record(conn, "app.created", app.id, actor, name=name, sandbox=sandbox)
        return CreatedApp(app, key)

    def authenticate(self, api_key: str | None) -> App:
        """The application owning ``api_key``; 401/60001 otherwise.

        Answers are cached for ``AUTH_CACHE_SECONDS``: every API call authenticates, and the
        cache saves a query on each. Changes made through this service clear it at once; other
        processes see a rotated key or a new callback URL within that many seconds.

        Where sandboxes are not allowed, a sandbox application's key answers 401/60001 with
        its own message, so nobody mistakes a test integration for a broken one.
        """
        if not api_key or len(api_key) > 200:
            raise InvalidApiKey()
        if not self.allow_sandbox and is_sandbox_key(api_key):
            raise SandboxRefused()
        digest = api_key_hash(api_key)
        cached = self._auth_cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        with self._db.read() as conn:
            app = store.by_key_digest(conn, digest)
        if app is None:
            raise InvalidApiKey()
        if app.sandbox and not self.allow_sandbox:
            raise SandboxRefused()
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[digest] = (app, now + AUTH_CACHE_SECONDS)
        return app

    def api_key(self, app: App) -> str:
        """Recompute the application's API key (the HMAC key of its callbacks)."""
        return self._keyring.api_key(app.api_key_salt)

    def get(self, app_id: int) -> App:
        with self._db.read() as conn:
            app = store.by_id(conn, app_id)
        if app is None:
            raise NotFound(f"No application with id {app_id}")
        return app

    def find(self, ref: str) -> App:
        """An application by numeric id, public id or exact name."""
        with self._db.read() as conn:
            found = store.matching(conn, ref)
        if len(found) != 1:
            raise NotFound(f"No single application matches {ref!r}")
        return found[0]

    def all(self) -> list[App]:
        with self._db.read() as conn:
            return store.all_apps(conn)

    def _checked(self, url: str | None) -> str | None:
        return validate_callback_url(url, allow_private=self._allow_private) if url else None

    def set_callback(self, app_id: int, url: str | None, *, actor: str | None = None) -> App:
        """Set (or clear) the callback URL; callbacks still queued follow it to the new URL."""
        self._auth_cache.clear()
        checked = self._checked(url)
        with self._db.write() as conn:
            store.set_callback(conn, app_id, checked)
            delivery_store.retarget(
                conn, target=app_target(app_id), kind=CALLBACK_KIND, url=checked, now=utcnow()
            )
            self._record(conn, "app.callback_set", app_id, actor, url=checked)
        return self.get(app_id)

    def set_options(self, app_id: int, *, actor: str | None = None, **options: bool) -> App:
        """Switch application features (lenient verify, SMS, calls, OneTouch, generic tokens,
        further devices, number matching by default, three numbers to tap)."""
        self._auth_cache.clear()
        allowed = {
            "lenient_verify",
            "sms_enabled",
            "calls_enabled",
            "onetouch_enabled",
            "generic_tokens_enabled",
            "multi_device",
            "number_matching",
            "number_choices",
        }
        unknown = set(options) - allowed
        if unknown:
            raise InvalidRequest(f"unknown option(s): {', '.join(sorted(unknown))}")
        with self._db.write() as conn:
            store.set_options(conn, app_id, options)
            self._record(conn, "app.options_set", app_id, actor, **options)
        return self.get(app_id)

    def set_onetouch_ttl(self, app_id: int, ttl: int | None, *, actor: str | None = None) -> App:
        """Seconds a OneTouch request lives when its creator does not say (None: the
        deployment's ``TWOFA_ONETOUCH_DEFAULT_TTL``; 0: no expiry, as Authy allowed)."""
        if ttl is not None and not 0 <= ttl <= 30 * 86400:
            raise InvalidRequest("time to expire must be 0 to 2592000 seconds")
        self._auth_cache.clear()
        with self._db.write() as conn:
            store.set_onetouch_ttl(conn, app_id, ttl)
            self._record(conn, "app.options_set", app_id, actor, onetouch_ttl=ttl)
        return self.get(app_id)

    def delete(self, app_id: int, *, actor: str | None = None) -> None:
        """Delete an application with its users, requests and queued callbacks."""
        self._auth_cache.clear()
        with self._db.write() as conn:
            if not store.delete_app(conn, app_id):
                raise NotFound(f"No application with id {app_id}")
            self._record(conn, "app.deleted", app_id, actor)

    def rotate_key(self, app_id: int, *, actor: str | None = None) -> CreatedApp:
        """Replace the API key; the old one stops working at once here, and within
        ``AUTH_CACHE_SECONDS`` in other provider processes."""
        self._auth_cache.clear()
        with self._db.read() as conn:
            current = store.by_id(conn, app_id)
        if current is None:
            raise NotFound(f"No application with id {app_id}")
        salt = new_salt(sandbox=current.sandbox)  # a sandbox stays one
        key = self._keyring.api_key(salt)
        with self._db.write() as conn:
            replaced = store.set_api_key(conn, app_id, digest=api_key_hash(key), salt=salt)
            if replaced:
                self._record(conn, "app.key_rotated", app_id, actor)
        if not replaced:
            raise NotFound(f"No application with id {app_id}")
        return CreatedApp(self.get(app_id), key)

    def stats(self, app_id: int) -> tuple[list[dict[str, object]], int]:
        """Monthly rows of the seven Authy statistics keys, and the total user count."""
        with self._db.read() as conn:
            counters, sent, created, total = store.usage_rows(conn, app_id)
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
        return rows, total


__all__ = ["App", "AppService", "CreatedApp", "validate_callback_url"]
