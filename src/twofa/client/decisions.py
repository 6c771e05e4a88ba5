"""Wait for a push decision by callback *and* by asking the provider, so a lost callback only
costs one polling interval.

Callbacks are fast but not guaranteed: a receiver restart, a proxy timeout or a network split
can lose one, and the provider retries it only with back-off. Every integration should therefore
also read the approval request's status now and then; this helper does both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from twofa.client.errors import ProviderUnavailable, RateLimited

if TYPE_CHECKING:
    from twofa.client.client import Client

FINAL = frozenset({"approved", "denied", "expired"})
MIN_POLL_INTERVAL = 1.0  # the provider is asked at most once a second per waiting login
DEFAULT_POLL_INTERVAL = 3.0

CallbackWait = Callable[[float], "str | None"]


def wait_for_decision(
    client: Client,
    uuid: str,
    *,
    timeout: float,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    callback: CallbackWait | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The request's final status (``approved``, ``denied``, ``expired``), or ``pending`` when
    ``timeout`` seconds pass first.

    ``callback(seconds)`` waits up to ``seconds`` for your own callback endpoint to hear about
    ``uuid`` and returns the status it carried (None if it heard nothing). Between its waits the
    provider is asked every ``poll_interval`` seconds (never more often than once a second); with
    no ``callback`` it is asked at once and then at that interval. A provider that is unreachable
    or rate limits is simply asked again at the next interval.
    """
    interval = max(poll_interval, MIN_POLL_INTERVAL)
    start = clock()
    deadline = start + timeout
    next_ask = start + interval if callback is not None else start
    while True:
        now = clock()
        if now >= next_ask:
            try:
                status = client.get_approval_request(uuid).status
            except (ProviderUnavailable, RateLimited):
                status = "pending"
            if status in FINAL:
                return status
            next_ask = clock() + interval
        left = deadline - clock()
        if left <= 0:
            return "pending"
        pause = max(min(left, next_ask - clock()), 0.0)
        if callback is None:
            sleep(pause)
            continue
        heard = callback(pause)
        if heard in FINAL:
            return str(heard)
