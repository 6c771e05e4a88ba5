"""The SDK's wait-for-decision helper on a fake clock: callback first, the provider asked at a
bounded interval, a lost callback costing one interval and nothing more."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from twofa.client import Client, ProviderUnavailable
from twofa.client.decisions import wait_for_decision


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Provider:
    """Answers ``get_approval_request`` with the status it holds, counting the questions."""

    def __init__(self, clock: Clock, *, decided_at: float, status: str = "approved") -> None:
        self.clock = clock
        self.decided_at = decided_at
        self.status = status
        self.asked: list[float] = []
        self.down = False

    def get_approval_request(self, uuid: str) -> Any:
        self.asked.append(self.clock.now)
        if self.down:
            raise ProviderUnavailable("down")
        status = self.status if self.clock.now >= self.decided_at else "pending"
        return type("Request", (), {"status": status, "uuid": uuid})()


def waiting(clock: Clock, heard_at: float | None, status: str = "approved") -> Any:
    """A callback listener that hears ``status`` at ``heard_at`` (never, when None)."""

    def heard(seconds: float) -> str | None:
        if heard_at is not None and clock.now + seconds >= heard_at:
            clock.now = max(clock.now, heard_at)
            return status
        clock.now += seconds
        return None

    return heard


def test_the_callback_answers_first_and_the_provider_is_not_asked() -> None:
    clock = Clock()
    provider = Provider(clock, decided_at=1002.0)
    got = wait_for_decision(
        provider,  # type: ignore[arg-type]
        "u",
        timeout=15,
        poll_interval=3,
        callback=waiting(clock, 1002.0),
        clock=clock,
    )
    assert got == "approved" and provider.asked == [] and clock.now == 1002.0


def test_a_lost_callback_costs_one_polling_interval() -> None:
    clock = Clock()
    provider = Provider(clock, decided_at=1001.0)
    got = wait_for_decision(
        provider,  # type: ignore[arg-type]
        "u",
        timeout=15,
        poll_interval=3,
        callback=waiting(clock, None),
        clock=clock,
    )
    assert got == "approved"
    assert provider.asked == [1003.0]  # decided at 1 s, known at the first question, 3 s


def test_pending_after_the_timeout_with_questions_at_the_interval() -> None:
    clock = Clock()
    provider = Provider(clock, decided_at=10**9)
    got = wait_for_decision(
        provider,  # type: ignore[arg-type]
        "u",
        timeout=10,
        poll_interval=3,
        callback=waiting(clock, None),
        clock=clock,
    )
    assert got == "pending"
    assert provider.asked == [1003.0, 1006.0, 1009.0]
    assert clock.now == 1010.0


def test_without_a_callback_the_provider_is_asked_at_once_then_at_the_interval() -> None:
    clock = Clock()
    provider = Provider(clock, decided_at=1004.0, status="denied")
    got = wait_for_decision(
        provider,  # type: ignore[arg-type]
        "u",
        timeout=30,
        poll_interval=2,
        clock=clock,
        sleep=clock.sleep,
    )
    assert got == "denied" and provider.asked == [1000.0, 1002.0, 1004.0]


def test_the_interval_has_a_floor_and_an_unreachable_provider_is_asked_again() -> None:
    clock = Clock()
    provider = Provider(clock, decided_at=1000.0)
    provider.down = True
    got = wait_for_decision(
        provider,  # type: ignore[arg-type]
        "u",
        timeout=3.5,
        poll_interval=0.01,
        clock=clock,
        sleep=clock.sleep,
    )
    assert got == "pending"
    assert provider.asked == [1000.0, 1001.0, 1002.0, 1003.0]  # once a second at most


@pytest.mark.parametrize("status", ["approved", "denied", "expired"])
def test_the_client_method_asks_over_http(status: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/onetouch/json/approval_requests/abc"
        return httpx.Response(
            200, json={"approval_request": {"uuid": "abc", "status": status}, "success": True}
        )

    with Client("key", "http://provider", transport=httpx.MockTransport(answer)) as client:
        assert client.wait_for_decision("abc", timeout=5) == status
