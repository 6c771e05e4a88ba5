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
import time
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Event = dict[str, Any]
QUEUE_SIZE = 256
SEEN_SECONDS = 120.0
SEEN_MAX = 20000
# After Redis answers again the database feed is still read this long: other processes find
# Redis at their own moment (each retries every second), and until they do their events
# reach this process only through the database.
RECOVERY_GRACE = 3.0


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
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def _duplicate(self, topic: str, event: Event) -> bool:
        """True if an event with the same ``key`` reached this topic in the last two minutes."""
        key = event.get("key")
        if not isinstance(key, str):
            return False
        now = time.monotonic()
        while self._seen and (
            len(self._seen) > SEEN_MAX or next(iter(self._seen.values())) < now - SEEN_SECONDS
        ):
            self._seen.popitem(last=False)
        if (topic, key) in self._seen:
            return True
        self._seen[(topic, key)] = now
        return False

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
        if topic not in self.topics or self._duplicate(topic, event):
            return
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


Feed = Callable[[float], list[tuple[str, Event]]]


class RedisBus:
    """Events cross processes through Redis pub/sub on channels ``<prefix><topic>``.

    If Redis stops answering, the bus keeps working in a degraded mode: events published here
    are delivered to local subscribers at once, and a ``feed`` (a function that reads recent
    changes from the database) is polled every ``poll_interval`` seconds to learn what other
    processes did. When Redis answers again the bus resubscribes, and keeps polling for
    ``RECOVERY_GRACE`` seconds so that nothing published while the processes were finding
    Redis again is lost. Events carry a ``key``; a short memory of keys drops the duplicates
    the two paths can produce.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "twofa:",
        feed: Feed | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        import redis
        import redis.asyncio as aioredis

        self._prefix = prefix
        self._sync = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._async = aioredis.Redis.from_url(url, socket_connect_timeout=1)
        self._pubsub = self._async.pubsub(ignore_subscribe_messages=True)
        self._hub = _RedisHub(self)
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._feed = feed
        self._poll_interval = poll_interval
        self.degraded = False
        self._recovered_at = float("-inf")  # time.monotonic() of the last recovery

    def publish(self, topic: str, event: Event) -> None:
        if not self.degraded:
            try:
                self._sync.publish(self._prefix + topic, json.dumps(event, separators=(",", ":")))
                return
            except Exception:
                self._degrade("publish")
        self._hub.deliver_threadsafe(topic, event)

    def subscribe(self, topic: str) -> Subscription:
        return Subscription(self._hub, topic)

    @property
    def open_subscriptions(self) -> int:
        return self._hub.open_subscriptions

    async def start(self) -> None:
        self._hub.loop = asyncio.get_running_loop()
        try:
            await self._pubsub.subscribe(self._prefix + "__bus__")
        except Exception:
            self._degrade("start")
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._poll())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._async.aclose()
        self._sync.close()

    def _degrade(self, where: str) -> None:
        if not self.degraded:
            log.warning(
                "redis unavailable (%s): event bus falls back to polling the database", where
            )
        self.degraded = True

    async def _redis_subscribe(self, topic: str) -> None:
        if self.degraded:
            return  # resubscribed with every other topic when Redis is back
        try:
            async with self._lock:
                await self._pubsub.subscribe(self._prefix + topic)
        except Exception:
            self._degrade("subscribe")

    async def _redis_unsubscribe(self, topic: str) -> None:
        if self.degraded:
            return
        try:
            async with self._lock:
                await self._pubsub.unsubscribe(self._prefix + topic)
        except Exception:
            self._degrade("unsubscribe")

    async def _recover(self) -> None:
        """Reconnect and resubscribe every topic that has local subscribers."""
        await self._async.ping()
        async with self._lock:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = self._async.pubsub(ignore_subscribe_messages=True)
            channels = [self._prefix + "__bus__", *(self._prefix + t for t in self._hub.topics)]
            await self._pubsub.subscribe(*channels)
        self._recovered_at = time.monotonic()
        self.degraded = False
        log.warning("redis is back: event bus uses pub/sub again")

    async def _read(self) -> None:
        cut = len(self._prefix)
        while True:
            if self.degraded:
                try:
                    await self._recover()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    await asyncio.sleep(1.0)
                continue
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._degrade("read")
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

    async def _poll(self) -> None:
        """While degraded (and shortly after), replay recent changes from the database to
        local subscribers."""
        if self._feed is None:
            return
        since = time.time()
        while True:
            await asyncio.sleep(self._poll_interval)
            if not self.degraded and time.monotonic() - self._recovered_at > RECOVERY_GRACE:
                since = time.time()
                continue
            started = time.time()
            try:
                changes = await asyncio.to_thread(self._feed, since - 2 * self._poll_interval)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("database feed failed")
                continue
            since = started
            for topic, event in changes:
                self._hub.deliver(topic, event)


def make_bus(redis_url: str | None, *, feed: Feed | None = None) -> InMemoryBus | RedisBus:
    """The bus the settings ask for; ``feed`` is the database fallback for Redis outages."""
    return RedisBus(redis_url, feed=feed) if redis_url else InMemoryBus()
