"""A device's live event stream (Server-Sent Events), independent of the web framework.

Memory per open stream is what bounds how many phones one process can hold open, so a stream
keeps nothing but two bus subscriptions that share one small queue, and its generator frame.
Database work (rendering a request) runs in a worker thread, only when an event arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator

from twofa.events import EventBus
from twofa.provider.devices.model import EnrolledDevice
from twofa.provider.devices.service import DeviceService, StreamEvent
from twofa.provider.devices.streams import MAX_STREAMS, device_topic
from twofa.provider.observability import metrics
from twofa.provider.push.events import millis, phone_topic
from twofa.storage.database import utcnow

HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 64
RETRY_MS = 3000
LAST_EVENT_ID = re.compile(r"^[0-9]{1,13}$", re.ASCII)


@contextlib.asynccontextmanager
async def _counted() -> AsyncIterator[None]:
    """Count the stream in ``twofa_open_streams`` while it is open."""
    metrics.OPEN_STREAMS.inc()
    try:
        yield
    finally:
        metrics.OPEN_STREAMS.dec()


def encode(event: StreamEvent) -> bytes:
    """One SSE frame: ``id``, ``event`` and a single-line JSON ``data``."""
    data = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.event}\ndata: {data}\n\n".encode()


def parse_last_event_id(value: str | None) -> int | None:
    """The ``Last-Event-ID`` header as milliseconds, or None when absent or not ours.

    At most 13 ASCII digits (before the year 2287): a longer value would overflow the
    datetime it is turned into.
    """
    if value is None or not LAST_EVENT_ID.match(value.strip()):
        return None
    return int(value.strip())


async def device_events(
    service: DeviceService,
    bus: EventBus,
    device: EnrolledDevice,
    last_event_id: int | None,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    """Pending requests first, then live events until the device is revoked, a newer stream
    replaces this one, or the client goes.

    We subscribe before reading the pending list so nothing created in between is lost; an
    event may then arrive twice, and clients treat events by uuid, idempotently. At every
    heartbeat the stream asks the database whether it may go on, so it ends within one
    heartbeat of a revocation made on any process, even when no bus event reached this one.
    """
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(QUEUE_SIZE)
    phone_sub = bus.subscribe(phone_topic(device.phone_e164))
    device_sub = bus.subscribe(device_topic(device.uuid))
    phone_sub.queue = device_sub.queue = queue
    registry = service.streams
    async with phone_sub, device_sub, _counted():
        stream_id = await asyncio.to_thread(registry.open, device.id, device.uuid)
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            for event in await asyncio.to_thread(service.opening_events, device, last_event_id):
                yield encode(event)
            loop = asyncio.get_running_loop()
            next_beat = loop.time() + heartbeat
            while True:
                try:
                    # asyncio.timeout, not wait_for: no extra task per wait on every open stream.
                    async with asyncio.timeout_at(next_beat):
                        raw = await queue.get()
                except TimeoutError:
                    next_beat = loop.time() + heartbeat
                    state = await asyncio.to_thread(registry.liveness, stream_id)
                    if state != "open":
                        yield encode(ending(device, state))
                        return
                    yield b": keep-alive\n\n"
                    continue
                if raw.get("type") == "stream.closed":
                    if raw.get("stream") == stream_id:
                        yield encode(ending(device, "closed"))
                        return
                    continue
                found = await asyncio.to_thread(service.live_event, device, raw)
                if found is None:
                    continue
                yield encode(found)
                if found.event == "revoked":
                    return
        finally:
            # Not awaited: the client may be gone and this task cancelled.
            asyncio.get_running_loop().run_in_executor(None, registry.close, stream_id)


def ending(device: EnrolledDevice, state: str) -> StreamEvent:
    """The last frame of a stream: ``revoked``, or ``closed`` when a newer one replaced it."""
    if state == "revoked":
        return StreamEvent(millis(utcnow()), "revoked", {"uuid": device.uuid})
    return StreamEvent(
        millis(utcnow()),
        "closed",
        {"reason": f"this device opened more than {MAX_STREAMS} streams; the oldest closed"},
    )
