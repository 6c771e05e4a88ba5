"""Users and request paths for the verification benchmark.

Codes are single use (a TOTP time step is accepted once per secret), so the valid phase needs
many users: each user has two secrets, the app secret (7 digits) and the generic-authenticator
secret (6 digits), and each secret yields one code for time step T and one for T+1, where T is
the step when the phase starts. Both steps stay inside the provider's window for any phase
shorter than a step, and every lane sends all step-T codes before any step-T+1 code, so no valid
request is a replay.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any

from bench.servers import Provider

CODES_PER_USER = 4  # two secrets x steps T and T+1
VERIFY_PATH = "/protected/json/verify/{code}/{user}"


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: int
    app_secret: str
    app_digits: int
    app_step: int
    generic_secret: str


class Users:
    """Creates users straight through the provider's services (much faster than over HTTP)."""

    def __init__(self, running: Provider, app: Any) -> None:
        self._services = running.services
        self._app = app
        self._next = 0
        self.all: list[BenchUser] = []

    def create(self, count: int) -> list[BenchUser]:
        made = []
        for _ in range(count):
            n = self._next
            self._next += 1
            user = self._services.users.create(
                self._app.id,
                email=f"bench{n}@bench.example",
                cellphone=f"201-{200 + n // 10000:03d}-{n % 10000:04d}",
                country_code=1,
            )
            generic = self._services.codes.generic_secret(self._app, str(user.id), label=None)
            secret, digits, step = self._services.codes.app_secret(user.id)
            made.append(BenchUser(user.id, secret, digits, step, generic.secret))
        self.all.extend(made)
        return made


def _codes(user: BenchUser, step_index: int) -> tuple[str, str]:
    """The app code and the generic code of ``user`` for the absolute time step ``step_index``."""
    from twofa.otp import hotp

    return (
        hotp(user.app_secret, step_index, digits=user.app_digits),
        hotp(user.generic_secret, step_index, digits=6),
    )


def valid_lanes(users: list[BenchUser], lanes: int, step: int) -> list[list[str]]:
    """Per lane: every user's step-T codes, then every user's step-T+1 codes."""
    out: list[list[str]] = [[] for _ in range(lanes)]
    for offset in (0, 1):
        for index, user in enumerate(users):
            app_code, generic_code = _codes(user, step + offset)
            lane = out[index % lanes]
            lane.append(VERIFY_PATH.format(code=app_code, user=user.id))
            lane.append(VERIFY_PATH.format(code=generic_code, user=user.id))
    return out


def wrong_lanes(
    users: list[BenchUser], lanes: int, step: int, rng: random.Random, seconds: float
) -> list[list[str]]:
    """For every user a wrong 7-digit and a wrong 6-digit code (never one the window accepts)."""
    out: list[list[str]] = [[] for _ in range(lanes)]
    span = range(step - 2, step + 3 + math.ceil(seconds / 30))
    for index, user in enumerate(users):
        forbidden_app, forbidden_generic = set(), set()
        for s in span:
            app_code, generic_code = _codes(user, s)
            forbidden_app.add(app_code)
            forbidden_generic.add(generic_code)
        for digits, forbidden in ((user.app_digits, forbidden_app), (6, forbidden_generic)):
            code = f"{rng.randrange(10**digits):0{digits}d}"
            while code in forbidden:
                code = f"{rng.randrange(10**digits):0{digits}d}"
            out[index % lanes].append(VERIFY_PATH.format(code=code, user=user.id))
    return out


def current_step(step_seconds: int) -> int:
    return int(time.time() // step_seconds)
