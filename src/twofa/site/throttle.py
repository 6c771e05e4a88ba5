"""Password-login throttling: back-off per account and address, and per address; never a lockout.

Three counts of failed passwords, each over its own sliding window:

* **account and address** (``TWOFA_SITE_LOGIN_LIMIT_PAIR``, 5 per 15 minutes): past it, that
  address must wait before trying that account again, 15 s doubling with each further failure
  up to ``TWOFA_SITE_LOGIN_BACKOFF_MAX``. Guessing one account from one place crawls.
* **address** (``TWOFA_SITE_LOGIN_LIMIT_IP``, 50 per 15 minutes): the same back-off for every
  account tried from that address (credential stuffing from one host).
* **account** (``TWOFA_SITE_LOGIN_LIMIT_ACCOUNT``, 10 per hour): past it, every login for that
  account needs a proof of work (:mod:`twofa.site.challenge`). This one is *soft* on purpose:
  a hard per-account lock would let anyone lock a victim out by typing wrong passwords for her
  address. The victim, from her own address, solves a puzzle of a second and gets in.

A right password clears the account-and-address count only. The check runs before the password
is verified, so a throttled request costs no Argon2 work and reveals nothing about the password.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, insert, select

from twofa.settings import Limit, Settings
from twofa.site.db import login_failures
from twofa.storage.database import Database, aware

BACKOFF_BASE_SECONDS = 15


def account_key(email: str) -> str:
    """How an account is counted: SHA-256 of the normalised address (known or not)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(ip: str | None) -> str:
    """How a client is counted: its IPv4 address, or its IPv6 /64 (one customer's network)."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a login from here for this account may do now."""

    wait: int = 0  # seconds before a password may be tried again
    challenge: bool = False  # a proof of work must come with the password


@dataclass(frozen=True, slots=True)
class _Count:
    failures: int
    last: datetime | None


class FailureStore:
    """Failed passwords, counted per account, address, or both, over a window."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, *, account: str, ip: str, now: datetime, keep: timedelta) -> None:
        with self.db.write() as conn:
            conn.execute(insert(login_failures).values(account_hash=account, ip=ip, created_at=now))
            conn.execute(delete(login_failures).where(login_failures.c.created_at < now - keep))

    def count(
        self, *, since: datetime, account: str | None = None, ip: str | None = None
    ) -> _Count:
        clauses = [login_failures.c.created_at >= since]
        if account is not None:
            clauses.append(login_failures.c.account_hash == account)
        if ip is not None:
            clauses.append(login_failures.c.ip == ip)
        query = select(func.count(), func.max(login_failures.c.created_at)).where(and_(*clauses))
        with self.db.read() as conn:
            failures, last = conn.execute(query).one()
        return _Count(int(failures), aware(last))

    def clear(self, *, account: str, ip: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                delete(login_failures).where(
                    and_(login_failures.c.account_hash == account, login_failures.c.ip == ip)
                )
            )


class LoginThrottle:
    """Decide, before any password check, whether a login may proceed."""

    def __init__(
        self, *, store: FailureStore, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.clock = clock
        self.pair = Limit.parse(settings.site_login_limit_pair)
        self.ip = Limit.parse(settings.site_login_limit_ip)
        self.account = Limit.parse(settings.site_login_limit_account)
        self.backoff_max = settings.site_login_backoff_max

    def check(self, *, email: str, ip: str | None) -> Verdict:
        now = self.clock()
        account, address = account_key(email), address_key(ip)
        wait = max(
            self._wait(
                self.pair,
                self.store.count(since=_since(now, self.pair), account=account, ip=address),
                now,
            ),
            self._wait(self.ip, self.store.count(since=_since(now, self.ip), ip=address), now),
        )
        spread = self.store.count(since=_since(now, self.account), account=account)
        return Verdict(wait=wait, challenge=spread.failures >= self.account.count)

    def failed(self, *, email: str, ip: str | None) -> None:
        keep = max(self.pair.seconds, self.ip.seconds, self.account.seconds)
        self.store.add(
            account=account_key(email),
            ip=address_key(ip),
            now=self.clock(),
            keep=timedelta(seconds=keep),
        )

    def succeeded(self, *, email: str, ip: str | None) -> None:
        self.store.clear(account=account_key(email), ip=address_key(ip))

    def _wait(self, limit: Limit, count: _Count, now: datetime) -> int:
        over = count.failures - limit.count
        if over < 0 or count.last is None:
            return 0
        delay = min(self.backoff_max, BACKOFF_BASE_SECONDS * 2 ** min(over, 20))
        left = (count.last + timedelta(seconds=delay) - now).total_seconds()
        return max(0, int(left + 0.999))


def _since(now: datetime, limit: Limit) -> datetime:
    return now - timedelta(seconds=limit.seconds)
