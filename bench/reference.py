"""A bare reference for token verification: plain ASGI and raw ``sqlite3``, no framework.

It does the work twofa's ``GET /protected/json/verify/{token}/{authy_id}`` does, on the same
database rows: authenticate the API key (SHA-256 lookup, cached), load the user with their TOTP
secrets in one read, load unexpired SMS/voice codes for a code-length token, compare codes in
constant time, make a valid code single use with a conditional ``UPDATE``, and count failures per
user in memory. It answers with the same status codes and Authy error codes.

It is a yardstick, not a second product: ``bench/verify.py`` runs it against a copy of the
benchmark's database in the same run, so the cost of twofa's layers is measured as a ratio.
It skips what a bare reference needs not do (audit events, metrics, logs, lenient mode).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from twofa.crypto import Keyring
from twofa.otp import decode_secret, match_step

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

PREFIX = "/protected/json/verify/"
_USER = (
    "SELECT u.id, u.confirmed, s.id, s.secret_enc, s.digits, s.step, s.last_step "
    "FROM users u LEFT JOIN totp_secrets s ON s.user_id = u.id "
    "WHERE u.id = ? AND u.app_id = ?"
)
_CODES = "SELECT id, code_hash, used_at FROM sent_codes WHERE user_id = ? AND expires_at > ?"
_SPEND_STEP = "UPDATE totp_secrets SET last_step = ? WHERE id = ? AND last_step < ?"
_SPEND_CODE = "UPDATE sent_codes SET used_at = ? WHERE id = ? AND used_at IS NULL"
_SPEND_ALL = "UPDATE sent_codes SET used_at = ? WHERE user_id = ? AND used_at IS NULL"
_CONFIRM = "UPDATE users SET confirmed = 1 WHERE id = ? AND confirmed = 0"
_APP = "SELECT id FROM apps WHERE api_key_hash = ?"


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _error(message: str, code: str, **extra: Any) -> bytes:
    return _body(
        {
            "message": message,
            "success": False,
            **extra,
            "errors": {"message": message},
            "error_code": code,
        }
    )


VALID = _body(
    {
        "message": "Token is valid.",
        "token": "is valid",
        "success": "true",
        "device": {"id": None, "os_type": None},
    }
)
INVALID = _error("Token is invalid", "60020", token="is invalid")  # noqa: S106
REUSED = _error("Token is invalid", "60019", token="is invalid")  # noqa: S106
NO_KEY = _error("Invalid API key", "60001")
NO_USER = _error("User not found.", "60026")
LIMITED = _error("DoS protection", "60003")
NOT_FOUND = _error("Not found", "60000")


def _stamp(moment: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (comparable as text)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Reference:
    """The verification, as little code as the checks allow."""

    def __init__(
        self,
        db_path: str,
        secret_key: bytes,
        *,
        sms_code_length: int = 7,
        window: int = 1,
        max_failures: int = 10,
        failure_seconds: int = 600,
    ) -> None:
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._keyring = Keyring(secret_key)
        self._sms_length = sms_code_length
        self._window = window
        self._max_failures = max_failures
        self._failure_seconds = failure_seconds
        self._apps: dict[str, int] = {}
        self._failures: dict[tuple[int, int], tuple[int, float]] = {}

    def app_id(self, api_key: str) -> int | None:
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        app_id = self._apps.get(digest)
        if app_id is None:
            row = self._db.execute(_APP, (digest,)).fetchone()
            if row is None:
                return None
            app_id = self._apps[digest] = row[0]
        return app_id

    def verify(self, api_key: str, token: str, raw_id: str) -> tuple[int, bytes]:
        """The status and body twofa answers for this verification."""
        if not api_key or len(api_key) > 200:
            return 401, NO_KEY
        app_id = self.app_id(api_key)
        if app_id is None:
            return 401, NO_KEY
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 18):
            return 404, NO_USER
        user_id = int(raw_id)
        plausible = token.isascii() and token.isdigit() and 6 <= len(token) <= 12
        rows = self._db.execute(_USER, (user_id, app_id)).fetchall()
        if not rows:
            return 404, NO_USER
        subject = (app_id, user_id)
        now = time.time()
        failures, since = self._failures.get(subject, (0, now))
        if now - since >= self._failure_seconds:
            failures, since = 0, now
        if failures >= self._max_failures:
            return 429, LIMITED
        outcome = self._check(rows, user_id, token, now) if plausible else "invalid"
        if outcome == "valid":
            self._failures.pop(subject, None)
            return 200, VALID
        self._failures[subject] = (failures + 1, since)
        return 401, REUSED if outcome == "reused" else INVALID

    def _check(self, rows: list[Any], user_id: int, token: str, now: float) -> str:
        reused = False
        confirmed = rows[0][1]
        if len(token) == self._sms_length:
            moment = datetime.now(UTC)
            codes = self._db.execute(_CODES, (user_id, _stamp(moment))).fetchall()
            if codes:
                wanted = self._keyring.code_hash(f"user:{user_id}", token)
                for code_id, code_hash, used_at in codes:
                    if hmac.compare_digest(code_hash, wanted):
                        if used_at is None and self._spend_code(code_id, user_id, moment):
                            self._confirm(user_id, confirmed)
                            return "valid"
                        reused = True
        for _, _, secret_id, secret_enc, digits, step, last_step in rows:
            if secret_id is None or digits != len(token):
                continue
            key = decode_secret(self._keyring.decrypt(secret_enc))
            matched = match_step(key, token, int(now // step), digits=digits, window=self._window)
            if matched is None:
                continue
            if matched > last_step and self._spend_step(secret_id, matched):
                self._confirm(user_id, confirmed)
                return "valid"
            reused = True
        return "reused" if reused else "invalid"

    def _spend_step(self, secret_id: int, step: int) -> bool:
        return self._db.execute(_SPEND_STEP, (step, secret_id, step)).rowcount == 1

    def _spend_code(self, code_id: int, user_id: int, moment: datetime) -> bool:
        stamp = _stamp(moment)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if self._db.execute(_SPEND_CODE, (stamp, code_id)).rowcount != 1:
                return False
            self._db.execute(_SPEND_ALL, (stamp, user_id))
        return True

    def _confirm(self, user_id: int, confirmed: Any) -> None:
        if not confirmed:
            self._db.execute(_CONFIRM, (user_id,))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path: str = scope["path"]
        status, body = 404, NOT_FOUND
        if path == "/healthz":
            status, body = 200, b'{"status":"ok"}'
        elif scope["method"] == "GET" and path.startswith(PREFIX):
            parts = path[len(PREFIX) :].split("/")
            if len(parts) == 2:
                key = ""
                for name, value in scope["headers"]:
                    if name == b"x-authy-api-key":
                        key = value.decode("latin-1")
                        break
                status, body = self.verify(key, parts[0], parts[1])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    """Serve the reference on a port: ``python -m bench.reference --db PATH --port N``."""
    import os

    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLite file with twofa's schema and rows")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sms-code-length", type=int, default=7)
    parser.add_argument("--max-failures", type=int, default=10)
    options = parser.parse_args()
    key = os.environ["TWOFA_SECRET_KEY"].encode()
    app = Reference(
        options.db, key, sms_code_length=options.sms_code_length, max_failures=options.max_failures
    )
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
