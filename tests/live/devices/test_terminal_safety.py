"""Application text cannot drive the authenticator's terminal.

The attack: an application (or whoever controls its messages) puts escape sequences in a push
message, its details or its own name; printed raw, they set the terminal title, clear the
screen, hide text or overwrite the application name the user relies on.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import update

from tests.live.devices.test_cli import register
from tests.servers import LiveProvider
from twofa.storage.tables import approval_requests, apps

ATTACK = "\x1b]0;pwned\x07\x1b[2J\rBank\u202elanigiro\x9b8m"


def test_provider_stores_no_controls(sqlite_provider: LiveProvider) -> None:
    _, key = sqlite_provider.new_app("Evil\x1b[2J\u202eApp")
    national = sqlite_provider.new_phone()
    user = httpx.post(
        sqlite_provider.url + "/protected/json/users/new",
        headers={"X-Authy-API-Key": key},
        json={"user": {"email": "t@example.com", "cellphone": national, "country_code": 1}},
        timeout=10,
    ).json()["user"]["id"]
    device = sqlite_provider.enroll_device("1", national)
    created = httpx.post(
        f"{sqlite_provider.url}/onetouch/json/users/{user}/approval_requests",
        headers={"X-Authy-API-Key": key},
        json={"message": ATTACK, "details": {"IP\x1b[8m": ATTACK}, "hidden_details": {"a": "\x00"}},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    [seen] = device.pending()
    for text in (seen.app_name, seen.message, *seen.details, *seen.details.values()):
        assert text.isprintable(), repr(text)
    assert seen.message == "]0;pwned[2J Banklanigiro8m"
    assert seen.app_name.startswith("Evil[2JApp")


def test_cli_escapes_what_is_already_stored(sqlite_provider: LiveProvider, tmp_path: Path) -> None:
    """Rows written before the provider cleaned text (or by anything else) print escaped."""
    cli, account = register(sqlite_provider, tmp_path / "home")
    uuid = account.push("placeholder")["uuid"]
    with sqlite_provider.services.db.write() as conn:
        conn.execute(
            update(approval_requests)
            .where(approval_requests.c.uuid == uuid)
            .values(message=ATTACK, details={"IP": ATTACK})
        )
        app_id = (
            conn.execute(approval_requests.select().where(approval_requests.c.uuid == uuid))
            .one()
            .app_id
        )
        conn.execute(update(apps).where(apps.c.id == app_id).values(name="App\x1b]0;t\x07"))
    shown = cli.run("pending").stdout
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\x9b" not in shown and "\r" not in shown
    assert "\\x1b]0;pwned\\x07" in shown and "\\u202e" in shown and "App\\x1b]0;t\\x07" in shown
