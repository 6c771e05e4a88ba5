"""A self-hosted proof of work: the browser spends a second of CPU before a costly request.

No third-party service and no script from elsewhere: the site signs a random challenge, the
browser (``static/challenge.js``) finds a counter such that ``SHA-256(token ":" counter)`` starts
with ``bits`` zero bits, and the site checks it with one hash. Each challenge is good for one
submission (its nonce is recorded as spent) and for ``TTL_SECONDS``; it names what it is for,
so a sign-up puzzle cannot be spent on a login. 18 bits is about 260,000 hashes: a second or
so in a browser, and a real cost for anyone sending thousands of requests.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from twofa.site.db import spent_challenges
from twofa.storage.database import Database

TTL_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the form carries: the signed token and the difficulty the browser must meet."""

    token: str
    bits: int


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits ``digest`` starts with."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def work(token: str, solution: str) -> int:
    """The zero bits a solution reaches for ``token``."""
    return leading_zero_bits(hashlib.sha256(f"{token}:{solution}".encode()).digest())


def solve(token: str, bits: int) -> str:
    """Find a solution (what the browser does; used by tests and the CLI-less clients)."""
    counter = 0
    while work(token, str(counter)) < bits:
        counter += 1
    return str(counter)


class SpentChallenges:
    """Nonces of challenges already used."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def spend(self, nonce: str, *, now: datetime, expires_at: datetime) -> bool:
        """Record ``nonce`` as used; False when it was used already."""
        try:
            with self.db.write() as conn:
                conn.execute(delete(spent_challenges).where(spent_challenges.c.expires_at < now))
                conn.execute(insert(spent_challenges).values(nonce=nonce, expires_at=expires_at))
        except IntegrityError:
            return False
        return True


class Challenges:
    """Issue and check proof-of-work challenges for one purpose each (``sign-up``, ``login``)."""

    def __init__(
        self, *, key: bytes, spent: SpentChallenges, clock: Callable[[], datetime]
    ) -> None:
        self._signer = URLSafeTimedSerializer(key, salt="twofa-site-challenge")
        self.spent = spent
        self.clock = clock

    def issue(self, purpose: str, bits: int) -> Challenge:
        token = self._signer.dumps({"p": purpose, "n": secrets.token_hex(16), "b": bits})
        return Challenge(token=token, bits=bits)

    def redeem(self, purpose: str, token: str | None, solution: str | None, *, bits: int) -> bool:
        """True once for a fresh, solved challenge of ``purpose`` of at least ``bits``."""
        if not token or not solution or len(solution) > 20 or not solution.isdigit():
            return False
        try:
            data = self._signer.loads(token, max_age=TTL_SECONDS)
        except BadData:
            return False
        if not isinstance(data, dict) or data.get("p") != purpose:
            return False
        wanted = data.get("b")
        if not isinstance(wanted, int) or wanted < bits or work(token, solution) < wanted:
            return False
        now = self.clock()
        return self.spent.spend(
            str(data.get("n")), now=now, expires_at=now + timedelta(seconds=TTL_SECONDS)
        )
