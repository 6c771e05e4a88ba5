"""The fraud guard, consulted before every message a code is sent in.

Three checks, cheapest first: the line type (no premium-rate, shared-cost, UAN or personal
numbers), the destination country (the deployment's list and the application's own), and SMS
pumping. Pumping is judged per (application, destination prefix): the sends to a prefix in the
recent window and how many of them led to a successful verification (conversion). Pumped traffic
never converts, so when a prefix has had ``fraud_min_sends`` sends and converts below
``fraud_min_conversion``, that application stops sending there for ``fraud_block_seconds``. Other
prefixes, and other applications, are untouched.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import timedelta

from sqlalchemy import Connection

from twofa.errors import DestinationBlocked, InvalidRequest, NotFound
from twofa.provider.audit.service import AuditLog
from twofa.provider.fraud.policy import (
    check_country,
    check_line_type,
    parse_countries,
    prefix_of,
    refused_line_type,
)
from twofa.provider.fraud.store import Block, FraudStore
from twofa.provider.observability import metrics
from twofa.provider.phone_numbers import Phone, phone_from_e164
from twofa.settings import Settings
from twofa.storage.database import Database, utcnow

log = logging.getLogger(__name__)
BUCKET_SECONDS = 60


class FraudGuard:
    """Decide whether a code may be sent to a destination, and learn from what converts."""

    def __init__(self, db: Database, settings: Settings, audit: AuditLog) -> None:
        self.store = FraudStore(db)
        self._audit = audit
        self._countries = parse_countries(settings.fraud_allowed_countries)
        self._detect = settings.fraud_pumping_detection
        self._digits = settings.fraud_prefix_digits
        self._window = settings.fraud_window
        self._min_sends = settings.fraud_min_sends
        self._min_conversion = settings.fraud_min_conversion
        self._block_seconds = settings.fraud_block_seconds
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()

    # Checks --------------------------------------------------------------------------------

    def check_number(self, phone: Phone) -> None:
        """At user creation: 400/60083 for a line type twofa never sends to."""
        check_line_type(phone)

    def may_send_unsolicited(self, phone: Phone) -> bool:
        """For sends nobody authenticated (device registration): known, ordinary, allowed.

        The caller answers the same either way, so this never raises."""
        if refused_line_type(phone) is not None:
            return False
        try:
            check_country(phone, self._countries)
        except Exception:
            return False
        return self.store.is_known_number(phone.e164)

    def before_send(self, app_id: int, phone: Phone) -> None:
        """Refuse (60083, 60013, 429/60003) or count the send toward the prefix's conversion."""
        try:
            check_line_type(phone)
            check_country(phone, self._countries, parse_countries(self.store.app_countries(app_id)))
        except Exception as exc:
            metrics.FRAUD_REFUSED.labels(type(exc).__name__).inc()
            raise
        if not self._detect:
            return
        prefix = prefix_of(phone, self._digits)
        now = utcnow()
        block = self.store.active_block(app_id, prefix, now)
        if block is not None:
            self._refuse(block)
        bucket = self._bucket(time.time())
        self.store.count("sends", app_id, prefix, bucket)
        sends, conversions = self.store.traffic(app_id, prefix, bucket - self._window)
        if sends >= self._min_sends and conversions < sends * self._min_conversion:
            until = now + timedelta(seconds=self._block_seconds)
            block = self.store.block(
                app_id, prefix, sends=sends, conversions=conversions, now=now, until=until
            )
            if block is not None:
                metrics.FRAUD_BLOCKS.inc()
                self._audit.record(
                    "fraud.blocked",
                    app_id=app_id,
                    subject=f"prefix:{prefix}",
                    data={"sends": sends, "conversions": conversions, "block_id": block.id},
                )
                log.warning(
                    "fraud guard: blocked %s for application %s (%s sends, %s conversions)",
                    prefix,
                    app_id,
                    sends,
                    conversions,
                )
            self._refuse(block)
        self._maybe_purge()

    def converted(self, app_id: int, phone: Phone, conn: Connection | None = None) -> None:
        """A code sent to ``phone`` was verified: the prefix's traffic is real."""
        if self._detect:
            prefix = prefix_of(phone, self._digits)
            self.store.count("conversions", app_id, prefix, self._bucket(time.time()), conn)

    def code_verified(self, app_id: int, user_id: int) -> None:
        """A sent code was verified by user ``user_id``: count a conversion for their prefix."""
        if not self._detect:
            return
        e164 = self.store.phone_of(user_id)
        if e164 is not None:
            self.converted(app_id, phone_from_e164(e164))

    # Operators -----------------------------------------------------------------------------

    def blocks(self, *, all_: bool = False) -> list[Block]:
        return self.store.blocks(now=None if all_ else utcnow())

    def unblock(self, block_id: int, *, actor: str | None = None) -> Block | None:
        block = self.store.lift(block_id, utcnow())
        if block is not None:
            self._audit.record(
                "fraud.unblocked",
                app_id=block.app_id,
                subject=f"prefix:{block.prefix}",
                data={"block_id": block.id},
                actor=actor,
            )
            self._audit.flush()  # the command line exits right after
        return block

    def set_countries(self, app_id: int, countries: str | None, *, actor: str | None) -> None:
        """Limit an application's destinations to ``countries`` (ISO codes, comma-separated;
        None: the deployment's list). A send must pass both lists."""
        parsed = parse_countries(countries)
        if parsed is not None and any(len(c) != 2 or not c.isalpha() for c in parsed):
            raise InvalidRequest("countries are two-letter ISO codes, comma-separated (US,CA)")
        value = None if parsed is None else ",".join(sorted(parsed))
        if not self.store.set_app_countries(app_id, value):
            raise NotFound(f"No application with id {app_id}")
        self._audit.record(
            "fraud.countries_set",
            app_id=app_id,
            subject=f"app:{app_id}",
            data={"countries": value},
            actor=actor,
        )
        self._audit.flush()

    # Helpers -------------------------------------------------------------------------------

    def _refuse(self, block: Block | None) -> None:
        metrics.FRAUD_REFUSED.labels("DestinationBlocked").inc()
        retry = self._block_seconds
        if block is not None:
            retry = max(1, math.ceil((block.expires_at - utcnow()).total_seconds()))
        raise DestinationBlocked(retry_after=retry)

    @staticmethod
    def _bucket(now: float) -> int:
        return int(now // BUCKET_SECONDS) * BUCKET_SECONDS

    def _maybe_purge(self) -> None:
        now = time.time()
        if now - self._last_purge < 3600 or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._last_purge = now
            self.store.purge(self._bucket(now) - self._window - BUCKET_SECONDS)
        except Exception:
            log.exception("purging old fraud-guard traffic failed")
        finally:
            self._purge_lock.release()
