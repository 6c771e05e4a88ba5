"""A callback that never arrives: the wait page's stream asks the provider itself, so the login
completes within one polling interval instead of hanging until the push expires."""

from __future__ import annotations

import time

from flask import Flask

from tests.live.site.conftest import Browser
from tests.servers import LiveProvider, RecordedPath


def test_a_lost_callback_still_completes_the_login_within_the_polling_interval(
    app: Flask, live: LiveProvider, relay: RecordedPath
) -> None:
    site = Browser(app, live)
    _, device = site.app_user()
    site.login()
    uuid, number = site.uuid(), site.status()["number"]
    interval = app.extensions["twofa_site"].settings.site_decision_poll_interval
    assert interval == 3.0  # the default

    stream = site.get("/login/events", buffered=False)
    frames = iter(stream.response)
    assert next(frames).startswith(b"retry:")
    assert b'"pending"' in next(frames)
    assert device.approve(uuid, number) == "approved"
    approved_at = time.monotonic()
    body = b"".join(frames).decode()  # the stream ends at the first final status
    waited = time.monotonic() - approved_at
    stream.close()

    assert body.rstrip().endswith('data: {"status": "approved"}')
    assert waited <= interval + 2.0, waited
    relay.wait_for(1)  # the provider did send it; it is this site that never got it
    done = site.post("/login/complete")
    assert done.headers["Location"] == "/account"
    assert site.get("/account").status_code == 200
