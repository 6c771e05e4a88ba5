"""The dashboard's figures match a day of traffic made through the API, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.provider.reports.seeding import Seeded
from twofa.provider.reports import svg
from twofa.provider.reports.model import ChannelOutcome
from twofa.provider.services import Services
from twofa.storage.database import utcnow


def test_dashboard_counts_the_day(seeded: Seeded, services: Services) -> None:
    board = services.reports.dashboard(now=utcnow() + timedelta(seconds=5))

    channels = {c.channel: c for c in board.channels}
    assert channels["sms"] == ChannelOutcome("sms", ok=1, failed=1)
    assert channels["app"] == ChannelOutcome("app", ok=1, failed=0)
    assert channels["verify:sms"] == ChannelOutcome("verify:sms", ok=1, failed=1)
    assert board.verifications.get("ok").total == 3
    assert board.verifications.get("failed").total == 2
    assert sum(board.verifications.get("ok").values[-2:]) == 3, "counted in the current hour"

    push = {s.name: s.total for s in board.push.series}
    assert push == {"approved": 1, "denied": 1, "expired": 1, "pending": 1}

    countries = {c.country: c for c in board.countries}
    texts = [m for m in services.messaging.list() if m.channel == "sms"]
    uk_texts = [m for m in texts if m.to.startswith("+44")]
    assert countries["GB"].sent == len(uk_texts) == 2
    assert countries["US"].sent == len(texts) - 2
    assert (countries["GB"].codes, countries["GB"].verified) == (2, 0)
    assert countries["GB"].conversion == 0.0
    # alice's Authy code and the Verify v2 code, both typed; the device enrolment code is not
    # a login code and is not counted.
    assert (countries["US"].codes, countries["US"].verified) == (2, 2)

    callbacks_health = next(r for r in board.receivers if r.target == f"app:{seeded.app_id}")
    assert (callbacks_health.delivered, callbacks_health.pending) == (1, 1)
    assert callbacks_health.state == "failing"
    assert callbacks_health.last_error == "HTTP 500"
    assert callbacks_health.app_name is not None and callbacks_health.app_name.startswith("Test")

    assert board.chain.ok and board.chain.checked > 0 and board.chain.unchained == 0


@pytest.mark.usefixtures("seeded")
def test_the_charts_carry_the_numbers(services: Services) -> None:
    board = services.reports.dashboard(now=utcnow() + timedelta(seconds=5))
    pushes = svg.stacked_hours(board.push, title="Push outcomes")
    assert pushes.startswith("<svg") and 'role="img"' in pushes
    assert "<title" in pushes and "approved 1, denied 1, expired 1, pending 1" in pushes
    for state in ("approved", "denied", "expired", "pending"):
        assert f'data-series="{state}" data-value="1"' in pushes
    by_channel = svg.bars(
        [svg.Bar(c.channel, (("ok", c.ok), ("failed", c.failed))) for c in board.channels],
        title="Verifications by channel",
    )
    assert "verify:sms: ok 1, failed 1" in by_channel
    assert "<script" not in pushes + by_channel and "style=" not in pushes + by_channel
