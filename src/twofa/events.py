"""The event bus: in-process by default, Redis pub/sub when ``TWOFA_REDIS_URL`` is set.

Publishing is a plain call that is safe from any thread (domain services run in worker threads);
subscribing is async (event streams). Both backends fan out to local subscribers through one
asyncio queue each, so ten thousand open streams cost ten thousand small queues, not ten thousand
Redis connections: the Redis backend keeps one pub/sub connection per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

Event = dict[str, Any]
QUEUE_SIZE = 256


class EventBus(Protocol):
    """Publish events to a topic; subscribe to a topic's events."""

    def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, topic: str) -> Subscription: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Subscription:
    """An async iterator over one topic's events; use as ``async with bus.subscribe(t) as sub``."""

    def __init__(self, hub: _LocalHub, topic: str) -> None:
        self._hub = hub
        self.topic = topic
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    async def __aenter__(self) -> Subscription:
        await self._hub.add(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._hub.remove(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class _LocalHub:
    """Topic → local subscriptions, delivered on the event loop that owns them."""

    def __init__(self) -> None:
        self.topics: dict[str, set[Subscription]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None

    async def add(self, sub: Subscription) -> None:
        self.loop = asyncio.get_running_loop()
        self.topics[sub.topic].add(sub)

    async def remove(self, sub: Subscription) -> None:
        subs = self.topics.get(sub.topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.topics[sub.topic]

    def deliver(self, topic: str, event: Event) -> None:
        """Deliver on the loop thread; must be called from the loop."""
        for sub in list(self.topics.get(topic, ())):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("dropping event for slow subscriber on %s", topic)

    def deliver_threadsafe(self, topic: str, event: Event) -> None:
        loop = self.loop
        if loop is None or topic not in self.topics:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.deliver(topic, event)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self.deliver, topic, event)

    @property
    def open_subscriptions(self) -> int:
        return sum(len(subs) for subs in self.topics.values())


class InMemoryBus:
    """Events stay inside this process: the default for one provider process."""

    def __init__(self) -> None:
        self._hub = _LocalHub()

    def publish(self, topic: str, event: Event) -> None:
        self._hub.deliver_threadsafe(topic, event)

    def subscribe(self, topic: str) -> Subscription:
        return Subscription(self._hub, topic)

    @property
    def open_subscriptions(self) -> int:
        return self._hub.open_subscriptions

    async def start(self) -> None:
        self._hub.loop = asyncio.get_running_loop()

    async def close(self) -> None:
        return None


class _RedisHub(_LocalHub):
    """A local hub that (un)subscribes the shared Redis connection as topics come and go."""

    def __init__(self, bus: RedisBus) -> None:
        super().__init__()
        self.bus = bus

    async def add(self, sub: Subscription) -> None:
        first = sub.topic not in self.topics
        await super().add(sub)
        if first:
            await self.bus._redis_subscribe(sub.topic)

    async def remove(self, sub: Subscription) -> None:
        await super().remove(sub)
        if sub.topic not in self.topics:
            await self.bus._redis_unsubscribe(sub.topic)


class RedisBus:
    """Events cross processes through Redis pub/sub on channels ``<prefix><topic>``."""

    def __init__(self, url: str, *, prefix: str = "twofa:") -> None:
        import redis
        import redis.asyncio as aioredis

        self._url = url
        self._prefix = prefix
        self._sync = redis.Redis.from_url(url)
        self._async = aioredis.Redis.from_url(url)
        self._pubsub = self._async.pubsub(ignore_subscribe_messages=True)
        self._hub = _RedisHub(self)
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def publish(self, topic: str, event: Event) -> None:
        self._sync.publish(self._prefix + topic, json.dumps(event, separators=(",", ":")))

    def subscribe(self, topic: str) -> Subscription:
        return Subscription(self._hub, topic)

    @property
    def open_subscriptions(self) -> int:
        return self._hub.open_subscriptions

    async def start(self) -> None:
        self._hub.loop = asyncio.get_running_loop()
        await self._pubsub.subscribe(self._prefix + "__bus__")
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._async.aclose()
        self._sync.close()

    async def _redis_subscribe(self, topic: str) -> None:
        async with self._lock:
            await self._pubsub.subscribe(self._prefix + topic)

    async def _redis_unsubscribe(self, topic: str) -> None:
        async with self._lock:
            await self._pubsub.unsubscribe(self._prefix + topic)

    async def _read(self) -> None:
        cut = len(self._prefix)
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus read failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            topic = (channel.decode() if isinstance(channel, bytes) else channel)[cut:]
            try:
                event = json.loads(message["data"])
            except ValueError:
                continue
            self._hub.deliver(topic, event)


def make_bus(redis_url: str | None) -> InMemoryBus | RedisBus:
    """The bus the settings ask for."""
    return RedisBus(redis_url) if redis_url else InMemoryBus()
