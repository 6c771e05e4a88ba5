"""Web Push wake-ups for ``bench/push.py``: request created → encrypted push at the push service.

The push service is the test suite's fake (tests/fakepush.py) on loopback over https: it checks
each VAPID token and decrypts each message, as FCM or Mozilla's autopush would, so the figure is
the provider's whole path (queue, lease, encrypt, sign, POST) and not a shortcut. Also measured:
the CPU the provider spends per request plus its wake-up, and, in this process, the cost of the
encryption and signing alone.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.aio_http import HttpClient
from bench.servers import RELAXED_LIMITS, provider
from bench.stats import latency_summary
from bench.usage import CpuMeter

CREATE_PATH = "/onetouch/json/users/{user}/approval_requests"
SUBSCRIPTION_PATH = "/device/v1/webpush/subscription"


def crypto_cost(rounds: int = 300) -> float:
    """Microseconds to encrypt and sign one wake-up (RFC 8291 + a fresh VAPID JWT)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from twofa.provider.webpush.crypto import (
        SubscriptionKeys,
        encrypt,
        raw_public_key,
        vapid_jwt,
    )

    vapid = ec.generate_private_key(ec.SECP256R1())
    browser = ec.generate_private_key(ec.SECP256R1())
    keys = SubscriptionKeys(raw_public_key(browser), b"0123456789abcdef")
    payload = json.dumps({"t": "request", "uuid": "x" * 36}).encode()
    started = time.perf_counter()
    for _ in range(rounds):
        encrypt(payload, keys)
        vapid_jwt(vapid, aud="https://fcm.googleapis.com", subject="mailto:a@example.org")
    return (time.perf_counter() - started) / rounds * 1e6


async def webpush_phase(requests: int, concurrency: int) -> dict[str, Any]:
    """``requests`` creations over ``concurrency`` loops; create sent → push received."""
    from tests.fakepush import FakePushService, Push

    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[float]] = {}
    arrivals: dict[str, float] = {}

    def note(uuid: str, at: float) -> None:  # on the event loop
        arrivals[uuid] = at
        future = waiting.get(uuid)
        if future is not None and not future.done():
            future.set_result(at)

    def arrived(push: Push) -> None:  # in a push service thread
        if push.payload.get("t") == "request":
            loop.call_soon_threadsafe(note, str(push.payload.get("uuid")), push.arrived)

    push_service = FakePushService(Path(tempfile.mkdtemp(prefix="twofa-bench-push-")))
    push_service.on_push = arrived
    env = {
        **RELAXED_LIMITS,
        "TWOFA_WEBPUSH_ALLOW_LOOPBACK": "true",
        "TWOFA_WEBPUSH_CA_FILE": str(push_service.cert),
        "TWOFA_WORKER_POLL_INTERVAL": "0.5",
    }
    latencies: list[float] = []
    errors: dict[str, int] = {}
    try:
        with provider(env) as running:
            from bench.push import Population

            created = running.services.apps.create("bench webpush", callback_url=None)
            devices = Population(running.services, created.app, area=203).grow(concurrency)
            device_client = HttpClient(running.url)
            for device in devices:
                body = json.dumps(push_service.subscribe().json()).encode()
                headers = {
                    **device.signed_headers("PUT", SUBSCRIPTION_PATH, body),
                    "Content-Type": "application/json",
                }
                status, raw = await device_client.request("PUT", SUBSCRIPTION_PATH, body, headers)
                if status != 200:
                    raise RuntimeError(f"subscription refused: {status} {raw[:200]!r}")
            device_client.close()
            body = json.dumps({"message": "Login requested"}).encode()

            async def one(authy: HttpClient, user_id: int, record: bool) -> None:
                sent = time.perf_counter()
                status, raw = await authy.request(
                    "POST",
                    CREATE_PATH.format(user=user_id),
                    body,
                    {"Content-Type": "application/json"},
                )
                if status != 200:
                    errors[f"create {status}"] = errors.get(f"create {status}", 0) + 1
                    return
                uuid = json.loads(raw)["approval_request"]["uuid"]
                future = waiting.setdefault(uuid, loop.create_future())
                if uuid in arrivals:
                    future.set_result(arrivals[uuid])
                try:
                    at = await asyncio.wait_for(future, 15.0)
                except TimeoutError:
                    errors["push timeout"] = errors.get("push timeout", 0) + 1
                    return
                finally:
                    waiting.pop(uuid, None)
                    arrivals.pop(uuid, None)
                if record:
                    latencies.append((at - sent) * 1000)

            async def lane(user_id: int, count: int, record: bool) -> None:
                # One keep-alive connection per lane, as an application server would hold.
                authy = HttpClient(running.url, {"X-Authy-API-Key": created.api_key})
                try:
                    for _ in range(count):
                        await one(authy, user_id, record)
                finally:
                    authy.close()

            await asyncio.gather(*(lane(d.user_id, 3, False) for d in devices))  # warm-up
            meter = CpuMeter(running.pid)
            meter.start()
            started = time.perf_counter()
            per_lane = -(-requests // concurrency)
            await asyncio.gather(*(lane(d.user_id, per_lane, True) for d in devices))
            seconds = time.perf_counter() - started
            cores = meter.stop()
    finally:
        push_service.stop()
    done = len(latencies)
    return {
        "concurrency": concurrency,
        "latency": latency_summary(latencies),
        "seconds": round(seconds, 2),
        "server_cpu_ms_per_push": round(cores * seconds / done * 1000, 3)
        if cores and done
        else None,
        "crypto_us_per_push": round(crypto_cost(), 1),
        "protocol_errors": push_service.errors[:5],
        "errors": errors,
    }
