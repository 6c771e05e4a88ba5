"""Deliver queued callbacks: lease, sign, POST, then record success or schedule a retry.

Leases make delivery safe with any number of provider processes: a worker claims due rows with
one conditional UPDATE (``lease_until`` in the past or empty), so each row is sent by one
worker at a time; a worker that dies mid-delivery loses its lease and another picks the row up.
After ``callback_max_failures`` consecutive failures for an application its callback is
disabled and the reason recorded, as Authy did.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import socket
import time
import uuid as uuidlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from twofa import signing
from twofa.crypto import Keyring
from twofa.provider.observability import metrics
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow
from twofa.storage.tables import apps, callback_deliveries

log = logging.getLogger(__name__)
BATCH = 20


def _refused(error: str) -> bool:
    """True for an answer like ``HTTP 404``: the receiver saw the callback and said no."""
    if not error.startswith("HTTP 4") or len(error) != 8:
        return False
    return error[5:] not in {"408", "429"}


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    app_id: int
    url: str
    body: dict[str, Any]
    attempts: int
    api_key_salt: str


class CallbackDispatcher:
    def __init__(self, db: Database, keyring: Keyring, settings: Settings) -> None:
        self._db = db
        self._keyring = keyring
        self._settings = settings
        self._worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"

    def claim(self) -> list[Delivery]:
        """Lease up to ``BATCH`` due deliveries for this worker."""
        now = utcnow()
        lease_until = now + timedelta(seconds=self._settings.callback_lease_seconds)
        with self._db.write() as conn:
            due = (
                conn.execute(
                    select(callback_deliveries.c.id)
                    .where(
                        callback_deliveries.c.status == "pending",
                        callback_deliveries.c.next_attempt_at <= now,
                        (callback_deliveries.c.lease_until.is_(None))
                        | (callback_deliveries.c.lease_until < now),
                    )
                    .order_by(callback_deliveries.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if not due:
                return []
            conn.execute(
                update(callback_deliveries)
                .where(
                    callback_deliveries.c.id.in_(due),
                    (callback_deliveries.c.lease_until.is_(None))
                    | (callback_deliveries.c.lease_until < now),
                )
                .values(lease_until=lease_until, leased_by=self._worker_id)
            )
            rows = conn.execute(
                select(callback_deliveries, apps.c.api_key_salt)
                .join(apps, apps.c.id == callback_deliveries.c.app_id)
                .where(
                    callback_deliveries.c.id.in_(due),
                    callback_deliveries.c.leased_by == self._worker_id,
                )
            ).all()
        return [Delivery(r.id, r.app_id, r.url, r.body, r.attempts, r.api_key_salt) for r in rows]

    def signed_request(self, delivery: Delivery) -> tuple[bytes, dict[str, str]]:
        """The body bytes and headers of one attempt; the nonce is the send time."""
        nonce = f"{time.time():.6f}"
        key = self._keyring.api_key(delivery.api_key_salt)
        signature = signing.sign(
            key=key, nonce=nonce, method="POST", url=delivery.url, params=delivery.body
        )
        headers = {
            "Content-Type": "application/json",
            "X-Authy-Signature": signature,
            "X-Authy-Signature-Nonce": nonce,
            "User-Agent": "twofa-callbacks/1",
        }
        return json.dumps(delivery.body, separators=(",", ":")).encode(), headers

    def record(self, delivery: Delivery, error: str | None) -> None:
        """Mark delivered, or count a failure and schedule the retry (or disable the callback)."""
        now = utcnow()
        (metrics.CALLBACKS_DELIVERED if error is None else metrics.CALLBACK_FAILURES).inc()
        with self._db.write() as conn:
            if error is None:
                conn.execute(
                    update(callback_deliveries)
                    .where(callback_deliveries.c.id == delivery.id)
                    .values(
                        status="delivered",
                        delivered_at=now,
                        attempts=delivery.attempts + 1,
                        lease_until=None,
                        last_error=None,
                    )
                )
                conn.execute(
                    update(apps).where(apps.c.id == delivery.app_id).values(callback_failures=0)
                )
                return
            attempts = delivery.attempts + 1
            failures = conn.execute(
                update(apps)
                .where(apps.c.id == delivery.app_id)
                .values(callback_failures=apps.c.callback_failures + 1)
                .returning(apps.c.callback_failures)
            ).scalar_one()
            if failures >= self._settings.callback_max_failures:
                reason = (
                    f"disabled after {failures} consecutive failed deliveries; last error: {error}"
                )[:1000]
                conn.execute(
                    update(apps)
                    .where(apps.c.id == delivery.app_id)
                    .values(callback_disabled_at=now, callback_disabled_reason=reason)
                )
                conn.execute(
                    update(callback_deliveries)
                    .where(
                        callback_deliveries.c.app_id == delivery.app_id,
                        callback_deliveries.c.status == "pending",
                    )
                    .values(status="abandoned", lease_until=None, last_error=error[:1000])
                )
                log.warning("callback of app %s disabled: %s", delivery.app_id, reason)
                return
            # A receiver that refuses the callback (a 4xx other than timeout or rate limit) will
            # refuse it again: the attempt counts as a failure, but is not retried.
            final = attempts >= self._settings.callback_max_attempts or _refused(error)
            delay = self._settings.callback_retry_base**attempts
            conn.execute(
                update(callback_deliveries)
                .where(callback_deliveries.c.id == delivery.id)
                .values(
                    status="failed" if final else "pending",
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=delay),
                    lease_until=None,
                    last_error=error[:1000],
                )
            )

    async def deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> str | None:
        """One attempt; the error text, or None when the receiver answered 2xx."""
        body, headers = self.signed_request(delivery)
        try:
            response = await client.post(delivery.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Claim and deliver one batch; the number of deliveries attempted."""
        batch = await self._db.run(self.claim)
        if not batch:
            return 0
        errors = await asyncio.gather(*(self.deliver(client, d) for d in batch))
        for delivery, error in zip(batch, errors, strict=True):
            await self._db.run(functools.partial(self.record, delivery, error))
        return len(batch)

    async def run(self, wake: asyncio.Event) -> None:
        """Deliver until cancelled, waking on ``wake`` or every poll interval."""
        async with httpx.AsyncClient(
            timeout=self._settings.callback_timeout, follow_redirects=False
        ) as client:
            while True:
                # Clear before claiming: a decision queued while we claim sets it again, so
                # its callback is picked up at once rather than after the poll interval.
                wake.clear()
                try:
                    delivered = await self.run_once(client)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("callback delivery round failed")
                    delivered = 0
                if delivered:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self._settings.worker_poll_interval)
