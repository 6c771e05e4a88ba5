"""Attacks on a default provider, each with a fixed budget of requests; every goal is 0.

* **unsolicited**: device registrations (no key needed) to rotating unknown, premium-rate (US 900,
  UK 09) and +882 numbers, by voice: calls placed.
* **guesses**: rounds of 40 concurrent wrong codes for one user: codes compared beyond the
  limit (``TWOFA_LIMIT_VERIFY_FAILURES_PER_USER``); the right code afterwards must be refused too.
* **cross-tenant**: one application spends its SMS budget on a phone another application's
  user has; then that user asks for codes: messages the victim lost.
* **pumping**: SMS to rotating numbers of one prefix (+44 7700 9…) that never convert, while
  legitimate users of the same application (+1 201) log in by SMS: logins refused.

The provider runs with its default limits and fraud-guard settings, on SQLite (in-process
limits), or on PostgreSQL + Redis with ``--attacks-database-url`` and ``--attacks-redis-url``.
"""

from __future__ import annotations

import argparse
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.report import print_table, print_verdicts
from bench.servers import Provider, provider

DESCRIPTION = "SMS pumping, concurrent guessing and cross-tenant lockout, fixed request budgets"
GUESSERS = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("attacks")
    group.add_argument(
        "--attack-requests",
        type=int,
        default=240,
        help="requests per attack (default 240)",
    )
    group.add_argument("--attacks-database-url", default=None, help="default: a fresh SQLite")
    group.add_argument("--attacks-redis-url", default=None, help="default: no Redis")


class Api:
    """One application's calls, as its server makes them."""

    def __init__(self, running: Provider, name: str) -> None:
        created = running.services.apps.create(f"{name} {secrets.token_hex(3)}")
        self.running = running
        self.headers = {"X-Authy-API-Key": created.api_key}
        self.client = httpx.Client(base_url=running.url, headers=self.headers, timeout=30)

    def user(self, national: str, country_code: int = 1) -> int:
        answer = self.client.post(
            "/protected/json/users/new",
            json={
                "user": {
                    "email": "b@example.com",
                    "cellphone": national,
                    "country_code": country_code,
                }
            },
        )
        answer.raise_for_status()
        return int(answer.json()["user"]["id"])

    def sms(self, authy_id: int) -> int:
        return self.client.get(
            f"/protected/json/sms/{authy_id}", params={"force": "true"}
        ).status_code

    def verify(self, authy_id: int, token: str) -> int:
        return self.client.get(f"/protected/json/verify/{token}/{authy_id}").status_code


def _phone(n: int) -> str:
    return f"201-{200 + n // 10000 % 800:03d}-{n % 10000:04d}"


def _code(running: Provider, e164: str, digits: int = 7) -> str:
    body = running.services.messaging.list(to=e164)[-1].body
    return str(re.findall(rf"\b(\d{{{digits}}})\b", body)[-1])


def _wrong(code: str, n: int) -> str:
    return f"{(int(code) + 1 + n) % 10 ** len(code):0{len(code)}d}"


def _together(calls: list[Callable[[], int]]) -> list[int]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], int]) -> int:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def unsolicited(running: Provider, budget: int) -> dict[str, Any]:
    before = len(running.services.messaging.list(limit=100000))
    targets = []
    for n in range(budget):
        kind = n % 4
        if kind == 0:
            targets.append(("1", f"900 555 {n % 10000:04d}"))  # US premium rate
        elif kind == 1:
            targets.append(("44", f"909 879 {n % 10000:04d}"))  # UK premium rate
        elif kind == 2:
            targets.append(("882", f"123456{n % 10000:04d}"))  # international network
        else:
            targets.append(("1", _phone(50000 + n)))  # unknown, rotating
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=running.url, timeout=30) as client:
        for country, national in targets:
            status = client.post(
                "/device/v1/registrations",
                json={"country_code": country, "phone_number": national, "via": "call"},
            ).status_code
            statuses[status] = statuses.get(status, 0) + 1
    placed = len(running.services.messaging.list(limit=100000)) - before
    return {"requests": budget, "answers": statuses, "measured": placed}


def guesses(running: Provider, budget: int) -> dict[str, Any]:
    limit = running.services.settings.limit("verify_failures_per_user").count
    api = Api(running, "Guessed")
    rounds = max(1, budget // GUESSERS)
    beyond = compared_total = right_refused = 0
    for r in range(rounds):
        national = _phone(100000 + r)
        authy_id = api.user(national)
        api.sms(authy_id)
        code = _code(running, "+1" + re.sub(r"\D", "", national))
        statuses = _together(
            [
                lambda n=n, who=authy_id, right=code: api.verify(who, _wrong(right, n))
                for n in range(GUESSERS)
            ]
        )
        compared = sum(1 for s in statuses if s != 429)
        compared_total += compared
        beyond += max(0, compared - limit)
        right_refused += api.verify(authy_id, code) == 429
    return {
        "requests": rounds * (GUESSERS + 1),
        "rounds": rounds,
        "limit": limit,
        "compared": compared_total,
        "right_code_refused": right_refused,
        "measured": beyond + (rounds - right_refused),
    }


def cross_tenant(running: Provider, budget: int) -> dict[str, Any]:
    national = _phone(200000)
    attacker, victim = Api(running, "Attacker"), Api(running, "Victim")
    attacker_user, victim_user = attacker.user(national), victim.user(national)
    spent = [attacker.sms(attacker_user) for _ in range(budget)]
    wanted = 3  # the victim's own logins, well inside its per-application budget
    lost = sum(1 for _ in range(wanted) if victim.sms(victim_user) != 200)
    return {
        "requests": budget + wanted,
        "attacker_sent": spent.count(200),
        "measured": lost,
    }


def pumping(running: Provider, budget: int) -> dict[str, Any]:
    api = Api(running, "Pumped")
    legit_every = 8
    refused_logins = logins = pumped_sent = 0
    for n in range(budget):
        if n % legit_every == 0:
            national = _phone(300000 + n)
            authy_id = api.user(national)
            logins += 1
            ok = api.sms(authy_id) == 200 and (
                api.verify(authy_id, _code(running, "+1" + re.sub(r"\D", "", national))) == 200
            )
            refused_logins += not ok
            continue
        victim = api.user(f"7700 9{n:05d}", country_code=44)
        pumped_sent += api.sms(victim) == 200
    blocks = running.services.fraud.blocks()
    return {
        "requests": budget,
        "legitimate_logins": logins,
        "pumped_sms_sent": pumped_sent,
        "blocks": [b.prefix for b in blocks],
        "measured": refused_logins,
    }


ATTACKS: dict[str, tuple[str, Callable[[Provider, int], dict[str, Any]]]] = {
    "unsolicited": ("calls/SMS to unknown, premium, rotating numbers", unsolicited),
    "guesses": ("codes compared beyond the limit (40 concurrent)", guesses),
    "cross-tenant": ("messages a tenant made another's user lose", cross_tenant),
    "pumping": ("legitimate logins refused during pumping", pumping),
}


def run(options: argparse.Namespace) -> dict[str, Any]:
    env: dict[str, str] = {}
    if options.attacks_redis_url:
        env["TWOFA_REDIS_URL"] = options.attacks_redis_url
    results: dict[str, dict[str, Any]] = {}
    with provider(env, database_url=options.attacks_database_url) as running:
        for name, (_, attack) in ATTACKS.items():
            results[name] = attack(running, options.attack_requests)
    rows = [
        [name, ATTACKS[name][0], r["requests"], r["measured"], 0] for name, r in results.items()
    ]
    print_table("Attacks (goal: 0 each)", ["attack", "what", "requests", "measured", "goal"], rows)
    verdicts = {name: {"measured 0": r["measured"] == 0} for name, r in results.items()}
    print_verdicts(verdicts)
    return {
        "backend": "postgresql+redis" if options.attacks_redis_url else "sqlite",
        "attacks": results,
        "pass": all(all(v.values()) for v in verdicts.values()),
    }
