"""Verify credentials: each application's Account SID and auth token, and its API keys.

The Verify wire carries HTTP Basic credentials only (contract §2): an Account SID with its auth
token, or an API key SID with its secret. Both map to one twofa application. Secrets are shown
once; the database keeps a random salt and the secret's SHA-256, and the secret itself is
re-derived from the master key when the provider must sign a webhook with the auth token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from twofa.crypto import Keyring, api_key_hash, new_salt
from twofa.errors import InvalidRequest, NotFound
from twofa.provider.verify.errors import AuthenticationFailed
from twofa.provider.verify.wire import is_sid, new_sid
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import apps, verify_credentials

AUTH_CACHE_SECONDS = 5.0
MAX_API_KEYS = 20


@dataclass(frozen=True, slots=True)
class Account:
    """Who a Verify request is from: an application, its Account SID, the SID that signed in."""

    app_id: int
    app_name: str
    account_sid: str
    credential_sid: str


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new Account SID + auth token or API key SID + secret; the secret is shown once."""

    sid: str
    secret: str
    account_sid: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    sid: str
    friendly_name: str | None
    created_at: datetime
    revoked_at: datetime | None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` header, or None."""
    if not header or len(header) > 1000:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class VerifyAccounts:
    """Issue, list, revoke and check Verify credentials."""

    def __init__(self, db: Database, keyring: Keyring, *, allow_sandbox: bool = True) -> None:
        self._db = db
        self._keyring = keyring
        self._allow_sandbox = allow_sandbox
        self._cache: dict[tuple[str, str], tuple[Account, float]] = {}

    def issue_account(self, app_id: int) -> IssuedSecret:
        """Give the application an Account SID and a fresh auth token (the SID stays if it
        exists; the old token stops working)."""
        self._cache.clear()
        salt = new_salt()
        token = self._keyring.hex_token(salt)
        now = utcnow()
        with self._db.write() as conn:
            if conn.execute(select(apps.c.id).where(apps.c.id == app_id)).first() is None:
                raise NotFound(f"No application with id {app_id}")
            row = conn.execute(
                select(verify_credentials.c.sid).where(
                    verify_credentials.c.app_id == app_id,
                    verify_credentials.c.kind == "account",
                )
            ).first()
            if row is None:
                sid = new_sid("AC")
                conn.execute(
                    insert(verify_credentials).values(
                        sid=sid,
                        app_id=app_id,
                        kind="account",
                        secret_salt=salt,
                        secret_hash=api_key_hash(token),
                        created_at=now,
                    )
                )
            else:
                sid = row.sid
                conn.execute(
                    update(verify_credentials)
                    .where(verify_credentials.c.sid == sid)
                    .values(secret_salt=salt, secret_hash=api_key_hash(token))
                )
        return IssuedSecret(sid, token, sid)

    def account_sid(self, app_id: int) -> str | None:
        with self._db.read() as conn:
            row = conn.execute(
                select(verify_credentials.c.sid).where(
                    verify_credentials.c.app_id == app_id,
                    verify_credentials.c.kind == "account",
                )
            ).first()
        return row.sid if row else None

    def auth_token(self, account_sid: str) -> str:
        """The account's current auth token, re-derived (the HMAC key of its webhooks)."""
        with self._db.read() as conn:
            row = conn.execute(
                select(verify_credentials.c.secret_salt).where(
                    verify_credentials.c.sid == account_sid,
                    verify_credentials.c.kind == "account",
                )
            ).first()
        if row is None:
            raise NotFound(f"No account {account_sid}")
        return self._keyring.hex_token(row.secret_salt)

    def create_key(self, app_id: int, friendly_name: str | None = None) -> IssuedSecret:
        """A new API key (``SK…`` + secret) for the application."""
        if friendly_name is not None and len(friendly_name) > 64:
            raise InvalidRequest("friendly name must be at most 64 characters")
        account = self.account_sid(app_id)
        if account is None:
            raise NotFound("the application has no Account SID yet (twofa apps auth-token APP)")
        salt = new_salt()
        secret = self._keyring.hex_token(salt)
        sid = new_sid("SK")
        with self._db.write() as conn:
            active = conn.execute(
                select(verify_credentials.c.id).where(
                    verify_credentials.c.app_id == app_id,
                    verify_credentials.c.kind == "api_key",
                    verify_credentials.c.revoked_at.is_(None),
                )
            ).all()
            if len(active) >= MAX_API_KEYS:
                raise InvalidRequest(f"at most {MAX_API_KEYS} active API keys per application")
            conn.execute(
                insert(verify_credentials).values(
                    sid=sid,
                    app_id=app_id,
                    kind="api_key",
                    friendly_name=friendly_name,
                    secret_salt=salt,
                    secret_hash=api_key_hash(secret),
                    created_at=utcnow(),
                )
            )
        return IssuedSecret(sid, secret, account)

    def keys(self, app_id: int) -> list[ApiKey]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(verify_credentials)
                .where(
                    verify_credentials.c.app_id == app_id,
                    verify_credentials.c.kind == "api_key",
                )
                .order_by(verify_credentials.c.id)
            ).all()
        return [
            ApiKey(r.sid, r.friendly_name, aware(r.created_at), aware(r.revoked_at)) for r in rows
        ]

    def revoke_key(self, app_id: int, sid: str) -> None:
        """Revoke an API key at once here, within ``AUTH_CACHE_SECONDS`` elsewhere."""
        self._cache.clear()
        with self._db.write() as conn:
            result = conn.execute(
                update(verify_credentials)
                .where(
                    verify_credentials.c.app_id == app_id,
                    verify_credentials.c.sid == sid,
                    verify_credentials.c.kind == "api_key",
                    verify_credentials.c.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow())
            )
        if result.rowcount != 1:
            raise NotFound(f"No active API key {sid}")

    def authenticate(self, header: str | None) -> Account:
        """The account behind HTTP Basic credentials; 401/20003 for anything else (a sandbox
        application's too, where sandboxes are not allowed).

        Answers are cached briefly: every call authenticates, and this saves a query on each.
        """
        pair = basic_credentials(header)
        if pair is None:
            raise AuthenticationFailed()
        user, password = pair
        if not (is_sid(user, "AC") or is_sid(user, "SK")) or not 0 < len(password) <= 200:
            raise AuthenticationFailed()
        digest = api_key_hash(password)
        now = time.monotonic()
        cached = self._cache.get((user, digest))
        if cached is not None and cached[1] > now:
            return cached[0]
        with self._db.read() as conn:
            row = conn.execute(
                select(verify_credentials, apps.c.name, apps.c.sandbox)
                .join(apps, apps.c.id == verify_credentials.c.app_id)
                .where(verify_credentials.c.sid == user)
            ).first()
            account_row = None
            if row is not None:
                account_row = conn.execute(
                    select(verify_credentials.c.sid).where(
                        verify_credentials.c.app_id == row.app_id,
                        verify_credentials.c.kind == "account",
                    )
                ).first()
        if (
            row is None
            or account_row is None
            or row.revoked_at is not None
            or not hmac.compare_digest(row.secret_hash, digest)
        ):
            raise AuthenticationFailed()
        if row.sandbox and not self._allow_sandbox:
            # A sandbox application's credentials where sandboxes are refused (production).
            raise AuthenticationFailed("Sandbox credentials are not accepted by this deployment")
        account = Account(row.app_id, row.name, account_row.sid, row.sid)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(user, digest)] = (account, now + AUTH_CACHE_SECONDS)
        return account
