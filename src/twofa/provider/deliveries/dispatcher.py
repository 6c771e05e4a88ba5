"""Deliver queued calls: lease, let the kind's sender sign, send, then record the outcome.

Each attempt's record, its breaker update and any audit entry commit in one transaction. A
receiver that keeps failing is paused (see ``policy``): its deliveries stay queued, one of them
is sent as a probe every ``delivery_probe_interval``, and the first answer resumes it and makes
everything it missed due at once. Nothing queued is dropped by a pause.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import ssl
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import httpx
from sqlalchemy import Connection

from twofa.errors import DatabaseBusy, NotFound
from twofa.provider.audit.service import AuditLog
from twofa.provider.deliveries import policy, store
from twofa.provider.deliveries.authy import KIND as AUTHY_KIND
from twofa.provider.deliveries.destination import (
    DestinationRefused,
    Resolver,
    pin,
    system_resolver,
)
from twofa.provider.deliveries.model import PAUSED, Delivery, Outcome, Sender, Settling
from twofa.provider.observability import metrics
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
BATCH = 20
STRAGGLER_SECONDS = 0.25  # how long a round's slowest receiver may hold back the next claim
ANSWERED_TARGETS = 10_000  # receivers whose last answer a worker remembers


@dataclass(frozen=True, slots=True)
class Receiver:
    """What an operator sees of a receiver: ``ok``, ``failing`` or ``paused``, and its backlog."""

    state: str
    pending: int
    failures: int = 0
    failing_since: datetime | None = None
    paused_at: datetime | None = None
    next_probe_at: datetime | None = None
    last_error: str | None = None

    @classmethod
    def of(cls, circuit: store.Circuit | None, pending: int) -> Receiver:
        if circuit is None:
            return cls("ok", pending)
        return cls(
            "paused" if circuit.state == PAUSED else "failing",
            pending,
            circuit.failures,
            circuit.failing_since,
            circuit.paused_at,
            circuit.probe_at if circuit.state == PAUSED else None,
            circuit.last_error,
        )

    def json(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "state": self.state,
            "pending": self.pending,
            "failures": self.failures,
            "failing_since": iso(self.failing_since),
            "paused_at": iso(self.paused_at),
            "next_probe_at": iso(self.next_probe_at),
            "last_error": self.last_error,
        }


class DeliveryDispatcher:
    """The worker loop of the delivery queue; one per provider process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        audit: AuditLog,
        senders: Mapping[str, Sender],
        *,
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._verify = verify  # extra trusted CAs, e.g. a self-hosted push service's
        self._db = db
        self._settings = settings
        self._audit = audit
        self._senders = dict(senders)
        self._resolver = resolver
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"
        # When each receiver last answered this worker (newest last), to tell a failure that
        # is news from one that predates the receiver's recovery (``record``).
        self._answered: dict[str, datetime] = {}

    def _lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.delivery_lease_seconds)

    def claim(self, limit: int = BATCH) -> list[Delivery]:
        """Lease up to ``limit`` due deliveries, plus one probe per paused receiver that is due."""
        now = utcnow()
        with self._db.write() as conn:
            probes, resumed, paused = store.claim_probes(
                conn,
                worker=self.worker_id,
                now=now,
                lease_until=self._lease_until(now),
                interval=self._settings.delivery_probe_interval,
                kinds=self._senders.keys(),
            )
            for target in resumed:
                self._audit_change(conn, "delivery.resumed", target, {"reason": "nothing queued"})
            batch = store.claim(
                conn,
                worker=self.worker_id,
                now=now,
                lease_until=self._lease_until(now),
                limit=limit,
                kinds=self._senders.keys(),
            )
        metrics.DELIVERY_PAUSED.set(paused)
        return probes + batch

    async def attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> Outcome:
        """Send one delivery once and read the answer with its kind's sender."""
        sender = self._senders[delivery.kind]
        try:
            outgoing = sender.prepare(delivery)
        except Exception as exc:  # a row this kind cannot sign will never be sendable
            log.exception("delivery %s cannot be prepared", delivery.id)
            return Outcome("refused", error=f"cannot prepare: {type(exc).__name__}", reached=False)
        if outgoing is None:  # the kind says it is no longer worth sending (expired)
            return Outcome("refused", error="no longer worth sending", reached=False)
        url, headers, extensions = delivery.url, dict(outgoing.headers), {}
        # A kind may decide for itself whether private receivers are allowed (Web Push does).
        allow_private = getattr(sender, "allow_private", self._settings.allow_private_callbacks)
        if not allow_private:
            try:
                pinned = await pin(delivery.url, self._resolver)
            except DestinationRefused as exc:
                return Outcome("refused", error=f"destination refused: {exc}", reached=False)
            except OSError as exc:
                return sender.judge(None, f"resolving failed: {exc}"[:500])
            url, extensions = pinned.url, pinned.extensions
            headers.update(pinned.headers)
        try:
            response = await client.request(
                outgoing.method, url, content=outgoing.body, headers=headers, extensions=extensions
            )
        except httpx.HTTPError as exc:
            return sender.judge(None, f"{type(exc).__name__}: {exc}"[:500])
        return sender.judge(response, None)

    def record(
        self, delivery: Delivery, outcome: Outcome, *, sent_at: datetime | None = None
    ) -> None:
        """Record one attempt, update the receiver's breaker, audit a pause or a resume.

        An unanswered attempt sent (``sent_at``) before the receiver answered another one is
        stale news: the receiver came back while it was in flight. It is sent again at once,
        neither backed off nor counted against the receiver.
        """
        now = utcnow()
        metrics.DELIVERIES.labels(delivery.kind, outcome.result).inc()
        if outcome.reached:
            self._answered.pop(delivery.target, None)  # to the end: the newest
            self._answered[delivery.target] = now
            if len(self._answered) > ANSWERED_TARGETS:  # forget the longest-known receiver
                del self._answered[next(iter(self._answered))]
        answered = self._answered.get(delivery.target)
        stale = (
            not outcome.reached
            and sent_at is not None
            and answered is not None
            and answered > sent_at
        )
        with self._db.write() as conn:
            if isinstance(sender := self._senders.get(delivery.kind), Settling):
                sender.settle(conn, delivery, outcome)
            if outcome.result == "delivered":
                store.delivered(conn, delivery, now)
            elif outcome.result == "refused":
                store.failed(conn, delivery, now, outcome.error or "refused", retry_at=None)
            if outcome.reached and store.healthy(conn, delivery.target, now):
                self._audit_change(conn, "delivery.resumed", delivery.target, {})
                log.warning("deliveries to %s resumed", delivery.target)
            if outcome.result != "retry":
                return
            error = outcome.error or "failed"
            if stale:
                store.failed(conn, delivery, now, error, retry_at=now)
                return
            paused = not outcome.reached and self._count_failure(conn, delivery, now, error)
            when = policy.retry_at(
                self._settings,
                attempts=delivery.attempts + 1,
                window_start=delivery.window_start,
                now=now,
                outcome=outcome,
            )
            if when is None and paused:
                when = now  # a paused receiver's deliveries wait for it, however long
            store.failed(conn, delivery, now, error, retry_at=when)

    def _count_failure(
        self, conn: Connection, delivery: Delivery, now: datetime, error: str
    ) -> bool:
        """Count an unanswered attempt against the receiver; True when it is (now) paused."""
        circuit = store.count_failure(
            conn, target=delivery.target, app_id=delivery.app_id, now=now, error=error
        )
        if circuit.state == PAUSED:
            return True
        if not policy.should_pause(self._settings, circuit, now):
            return False
        if store.pause(conn, delivery.target, now, self._settings.delivery_probe_interval):
            metrics.DELIVERY_PAUSES.inc()
            data = {"failures": circuit.failures, "last_error": error[:200]}
            self._audit_change(conn, "delivery.paused", delivery.target, data)
            log.warning(
                "deliveries to %s paused after %s failed attempts: %s",
                delivery.target,
                circuit.failures,
                error,
            )
        return True

    def _audit_change(
        self,
        conn: Connection,
        event: str,
        target: str,
        data: dict[str, object],
        *,
        actor: str | None = None,
    ) -> None:
        kind, _, ref = target.partition(":")
        app_id = int(ref) if kind == "app" and ref.isdigit() else None
        self._audit.record(event, app_id=app_id, subject=target, data=data, actor=actor, conn=conn)

    def receivers(self) -> dict[str, Receiver]:
        """Every receiver with deliveries waiting or failures counted, by target."""
        with self._db.read() as conn:
            circuits = store.circuits(conn)
            waiting = store.pending_by_target(conn)
        return {
            target: Receiver.of(circuits.get(target), waiting.get(target, 0))
            for target in sorted(set(circuits) | set(waiting))
        }

    def requeue(self, target: str, *, actor: str | None = None) -> int:
        """Send everything not delivered to ``target`` again, now; resumes a paused receiver."""
        now = utcnow()
        with self._db.write() as conn:
            count = store.requeue(conn, target=target, now=now)
            self._audit_change(
                conn, "delivery.requeued", target, {"deliveries": count}, actor=actor
            )
        return count

    def resume(self, target: str, *, actor: str | None = None) -> None:
        """Resume a paused receiver now: what waits for it is sent at once (failed ones stay
        failed; ``requeue`` sends those too)."""
        with self._db.write() as conn:
            store.resume(conn, target, utcnow())
            self._audit_change(
                conn, "delivery.resumed", target, {"reason": "operator"}, actor=actor
            )

    def retry(self, delivery_id: int, *, actor: str | None = None) -> str:
        """Send one delivery again now (a failed one too); its target. ``NotFound`` when there
        is no such delivery or it was delivered already."""
        with self._db.write() as conn:
            target = store.requeue_one(conn, delivery_id=delivery_id, now=utcnow())
            if target is not None:
                self._audit_change(
                    conn, "delivery.retried", target, {"delivery": delivery_id}, actor=actor
                )
        if target is None:
            raise NotFound(f"No undelivered delivery {delivery_id}")
        return target

    async def test_send(self, *, app_id: int, url: str, api_key_salt: str) -> Outcome:
        """Send a signed test callback to ``url`` once, outside the queue, and read the answer
        (the receiver's checks apply: no private address unless allowed)."""
        delivery = Delivery(
            id=0,
            kind=AUTHY_KIND,
            app_id=app_id,
            target=f"test:{app_id}",
            subject="test",
            url=url,
            body={"callback_action": "test", "status": "test", "uuid": str(uuidlib.uuid4())},
            attempts=0,
            created_at=utcnow(),
            window_start=utcnow(),
            app_key_salt=api_key_salt,
        )
        async with httpx.AsyncClient(
            timeout=self._settings.delivery_timeout, follow_redirects=False, verify=self._verify
        ) as client:
            return await self.attempt(client, delivery)

    async def deliver(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        """Send one claimed delivery and record its outcome as soon as it is known."""
        sent_at = utcnow()
        outcome = await self.attempt(client, delivery)
        await self._db.run(functools.partial(self.record, delivery, outcome, sent_at=sent_at))

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Claim one batch and deliver it; the number of deliveries attempted."""
        batch = await self._db.run(self.claim)
        await asyncio.gather(*(self.deliver(client, d) for d in batch))
        return len(batch)

    async def run(self, wake: asyncio.Event) -> None:
        """Deliver until cancelled, waking on ``wake`` or every poll interval.

        Deliveries go out in rounds, each sent and recorded on its own: the next claim waits
        until the round's answers are in, so what is queued meanwhile is claimed together (one
        write transaction for many), but never longer than ``STRAGGLER_SECONDS``: a slow
        receiver (up to the delivery timeout) holds back only its own deliveries, which stay
        in flight while the next rounds go out, up to ``BATCH`` at a time.
        """
        in_flight: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(
            timeout=self._settings.delivery_timeout, follow_redirects=False, verify=self._verify
        ) as client:
            try:
                while True:
                    # Clear before claiming: a change queued while we claim sets it again, so
                    # its delivery is picked up at once rather than after the poll interval.
                    wake.clear()
                    room = BATCH - len(in_flight)
                    batch = await self._claim_logged(room) if room > 0 else []
                    for delivery in batch:
                        task = asyncio.create_task(self._deliver_logged(client, delivery))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                    if batch:  # let the round answer, then claim what was queued meanwhile
                        await asyncio.wait(in_flight, timeout=STRAGGLER_SECONDS)
                        continue
                    await self._wait(wake, in_flight)
            finally:
                for task in in_flight:  # their leases lapse, and they are sent again later
                    task.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)

    async def _claim_logged(self, limit: int) -> list[Delivery]:
        try:
            return await self._db.run(functools.partial(self.claim, limit))
        except DatabaseBusy:
            log.warning("deliveries wait: the database's write lock is held elsewhere")
        except Exception:
            log.exception("claiming deliveries failed")
        return []

    async def _deliver_logged(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        try:
            await self.deliver(client, delivery)
        except asyncio.CancelledError:
            raise
        except Exception:  # the lease lapses and the delivery is tried again
            log.exception("delivery %s failed to complete", delivery.id)

    async def _wait(self, wake: asyncio.Event, busy: set[asyncio.Task[None]]) -> None:
        """Until woken, a poll interval passes, or one of ``busy`` (stragglers) ends."""
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait(
                {woken, *busy},
                timeout=self._settings.worker_poll_interval,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            woken.cancel()
