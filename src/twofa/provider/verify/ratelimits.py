"""Programmable rate limits: a service's named limits and their buckets, and their enforcement.

A start that names ``RateLimits={"<unique_name>": "<value>"}`` counts one event per bucket of
that limit, keyed by the value (an IP address, a user id); more than ``max`` in ``interval``
seconds gives 429/20429. Counting goes through the provider's shared limiter, so the buckets
hold across processes when Redis is configured. Unknown names are ignored (contract §3.4).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from twofa.provider.ratelimit import Limits
from twofa.provider.verify.accounts import Account
from twofa.provider.verify.catalog import load_service
from twofa.provider.verify.errors import (
    BucketExists,
    InvalidParameter,
    MaxBuckets,
    MaxRateLimits,
    RateLimitExists,
    ResourceNotFound,
    TooManyRequests,
    UniqueNameInvalid,
)
from twofa.provider.verify.model import Bucket, Page, RateLimit, VerifyService
from twofa.provider.verify.wire import Form, PageRequest, canonical, is_sid, new_sid
from twofa.settings import Limit
from twofa.storage.database import Database, aware, utcnow
from twofa.storage.tables import verify_buckets as vb
from twofa.storage.tables import verify_rate_limits as vr

MAX_RATE_LIMITS = 10
MAX_BUCKETS = 10
MAX_INTERVAL = 86400
UNIQUE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _rate_limit(row: Row, service: VerifyService) -> RateLimit:
    return RateLimit(
        row.id,
        row.sid,
        service,
        row.unique_name,
        row.description,
        aware(row.created_at),
        aware(row.updated_at),
    )


def _bucket(row: Row, rate_limit: RateLimit) -> Bucket:
    return Bucket(
        row.id,
        row.sid,
        rate_limit,
        row.max,
        row.interval,
        aware(row.created_at),
        aware(row.updated_at),
    )


class BucketGuard:
    """Counts starts against the buckets the request names."""

    def __init__(self, db: Database, limits: Limits) -> None:
        self._db = db
        self._limits = limits

    def hit(self, service: VerifyService, values: dict[str, Any]) -> None:
        if not values:
            return
        names = [str(k)[:64] for k in values][:MAX_RATE_LIMITS]
        with self._db.read() as conn:
            rows = conn.execute(
                select(vr.c.unique_name, vb.c.sid, vb.c.max, vb.c.interval)
                .join(vb, vb.c.rate_limit_id == vr.c.id)
                .where(vr.c.service_id == service.id, vr.c.unique_name.in_(names))
            ).all()
        for row in rows:
            value = str(values.get(row.unique_name, ""))
            # The value may be personal data (an IP, a user id): only its hash is a key.
            digest = hashlib.sha256(value.encode()).hexdigest()[:32]
            decision = self._limits.windows.hit(
                f"verify-bucket:{row.sid}:{digest}", Limit(row.max, row.interval)
            )
            if not decision.allowed:
                raise TooManyRequests(retry_after=decision.retry_after)


class RateLimitService:
    """The RateLimits and Buckets resources."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _load(self, conn: Connection, account: Account, service_sid: str, sid: str) -> RateLimit:
        service = load_service(conn, account, service_sid)
        if not is_sid(sid, "RK"):
            raise ResourceNotFound()
        row = conn.execute(
            select(vr).where(vr.c.service_id == service.id, vr.c.sid == canonical(sid))
        ).first()
        if row is None:
            raise ResourceNotFound()
        return _rate_limit(row, service)

    def create(self, account: Account, service_sid: str, form: Form) -> RateLimit:
        name = form.text("UniqueName", max_length=200, required=True) or ""
        if not UNIQUE_NAME.match(name):
            raise UniqueNameInvalid()
        description = form.text("Description", max_length=1000)
        now = utcnow()
        sid = new_sid("RK")
        try:
            with self._db.write() as conn:
                service = load_service(conn, account, service_sid)
                count = conn.execute(
                    select(func.count()).select_from(vr).where(vr.c.service_id == service.id)
                ).scalar_one()
                if count >= MAX_RATE_LIMITS:
                    raise MaxRateLimits()
                conn.execute(
                    insert(vr).values(
                        sid=sid,
                        service_id=service.id,
                        unique_name=name,
                        description=description,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return self._load(conn, account, service_sid, sid)
        except IntegrityError as exc:
            raise RateLimitExists() from exc

    def fetch(self, account: Account, service_sid: str, sid: str) -> RateLimit:
        with self._db.read() as conn:
            return self._load(conn, account, service_sid, sid)

    def update(self, account: Account, service_sid: str, sid: str, form: Form) -> RateLimit:
        description = form.text("Description", max_length=1000)
        with self._db.write() as conn:
            found = self._load(conn, account, service_sid, sid)
            if description is not None:
                conn.execute(
                    update(vr)
                    .where(vr.c.id == found.id)
                    .values(description=description, updated_at=utcnow())
                )
            return self._load(conn, account, service_sid, sid)

    def delete(self, account: Account, service_sid: str, sid: str) -> None:
        with self._db.write() as conn:
            found = self._load(conn, account, service_sid, sid)
            conn.execute(delete(vb).where(vb.c.rate_limit_id == found.id))
            conn.execute(delete(vr).where(vr.c.id == found.id))

    def list(self, account: Account, service_sid: str, page: PageRequest) -> Page[RateLimit]:
        with self._db.read() as conn:
            service = load_service(conn, account, service_sid)
            rows = conn.execute(
                select(vr)
                .where(vr.c.service_id == service.id, vr.c.id > page.after)
                .order_by(vr.c.id)
                .limit(page.size + 1)
            ).all()
        items = [_rate_limit(r, service) for r in rows[: page.size]]
        return Page(items, items[-1].id if len(rows) > page.size else None)

    # Buckets -------------------------------------------------------------------------------

    def _bucket(
        self, conn: Connection, account: Account, service_sid: str, limit_sid: str, sid: str
    ) -> Bucket:
        rate_limit = self._load(conn, account, service_sid, limit_sid)
        if not is_sid(sid, "BL"):
            raise ResourceNotFound()
        row = conn.execute(
            select(vb).where(vb.c.rate_limit_id == rate_limit.id, vb.c.sid == canonical(sid))
        ).first()
        if row is None:
            raise ResourceNotFound()
        return _bucket(row, rate_limit)

    def create_bucket(
        self, account: Account, service_sid: str, limit_sid: str, form: Form
    ) -> Bucket:
        maximum = form.integer("Max", 1, 10**6)
        interval = form.integer("Interval", 1, MAX_INTERVAL)
        if maximum is None:
            raise InvalidParameter("Max")
        if interval is None:
            raise InvalidParameter("Interval")
        now = utcnow()
        sid = new_sid("BL")
        try:
            with self._db.write() as conn:
                rate_limit = self._load(conn, account, service_sid, limit_sid)
                existing = conn.execute(
                    select(vb.c.interval).where(vb.c.rate_limit_id == rate_limit.id)
                ).all()
                if any(r.interval == interval for r in existing):
                    raise BucketExists()
                if len(existing) >= MAX_BUCKETS:
                    raise MaxBuckets()
                conn.execute(
                    insert(vb).values(
                        sid=sid,
                        rate_limit_id=rate_limit.id,
                        max=maximum,
                        interval=interval,
                        created_at=now,
                        updated_at=now,
                    )
                )
                return self._bucket(conn, account, service_sid, limit_sid, sid)
        except IntegrityError as exc:
            raise BucketExists() from exc

    def fetch_bucket(self, account: Account, service_sid: str, limit_sid: str, sid: str) -> Bucket:
        with self._db.read() as conn:
            return self._bucket(conn, account, service_sid, limit_sid, sid)

    def update_bucket(
        self, account: Account, service_sid: str, limit_sid: str, sid: str, form: Form
    ) -> Bucket:
        maximum = form.integer("Max", 1, 10**6)
        interval = form.integer("Interval", 1, MAX_INTERVAL)
        try:
            with self._db.write() as conn:
                found = self._bucket(conn, account, service_sid, limit_sid, sid)
                conn.execute(
                    update(vb)
                    .where(vb.c.id == found.id)
                    .values(
                        max=maximum or found.max,
                        interval=interval or found.interval,
                        updated_at=utcnow(),
                    )
                )
                return self._bucket(conn, account, service_sid, limit_sid, sid)
        except IntegrityError as exc:
            raise BucketExists() from exc

    def delete_bucket(self, account: Account, service_sid: str, limit_sid: str, sid: str) -> None:
        with self._db.write() as conn:
            found = self._bucket(conn, account, service_sid, limit_sid, sid)
            conn.execute(delete(vb).where(vb.c.id == found.id))

    def list_buckets(
        self, account: Account, service_sid: str, limit_sid: str, page: PageRequest
    ) -> Page[Bucket]:
        with self._db.read() as conn:
            rate_limit = self._load(conn, account, service_sid, limit_sid)
            rows = conn.execute(
                select(vb)
                .where(vb.c.rate_limit_id == rate_limit.id, vb.c.id > page.after)
                .order_by(vb.c.id)
                .limit(page.size + 1)
            ).all()
        items = [_bucket(r, rate_limit) for r in rows[: page.size]]
        return Page(items, items[-1].id if len(rows) > page.size else None)
