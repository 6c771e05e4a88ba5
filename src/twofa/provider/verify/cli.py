"""Verify credentials: ``twofa apps auth-token APP``, ``twofa apps keys create|list|revoke``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from twofa.errors import TwofaError


def register_app_commands(
    apps: click.Group, services: Callable[[], Any], fail: Callable[[str], None]
) -> None:
    """Add the Verify credential commands to the ``apps`` group."""

    def find(app: str) -> tuple[Any, Any]:
        found = services()
        try:
            return found, found.apps.find(app)
        except TwofaError as exc:
            fail(exc.message)
            raise

    @apps.command("auth-token")
    @click.argument("app")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def auth_token(app: str, as_json: bool) -> None:
        """Issue APP's Verify v2 auth token (and Account SID); the old token stops working."""
        found, target = find(app)
        issued = found.verify.accounts.issue_account(target.id)
        if as_json:
            click.echo(json.dumps({"account_sid": issued.sid, "auth_token": issued.secret}))
        else:
            click.echo(f"Account SID: {issued.sid}\nAuth token: {issued.secret}")

    @apps.group("keys")
    def keys() -> None:
        """Verify v2 API keys (SK… SID + secret) of an application."""

    @keys.command("create")
    @click.argument("app")
    @click.option("--name", "friendly_name", default=None, help="A label for the key.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def keys_create(app: str, friendly_name: str | None, as_json: bool) -> None:
        """Create an API key for APP and print its secret (shown this once only)."""
        found, target = find(app)
        try:
            issued = found.verify.accounts.create_key(target.id, friendly_name)
        except TwofaError as exc:
            fail(exc.message)
            return
        body = {"sid": issued.sid, "secret": issued.secret, "account_sid": issued.account_sid}
        if as_json:
            click.echo(json.dumps(body))
        else:
            click.echo(f"API key SID: {issued.sid}\nSecret: {issued.secret}")
            click.echo(f"Use it with the Account SID {issued.account_sid}.")

    @keys.command("list")
    @click.argument("app")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def keys_list(app: str, as_json: bool) -> None:
        """List APP's API keys (secrets are never shown)."""
        found, target = find(app)
        rows = [
            {
                "sid": k.sid,
                "friendly_name": k.friendly_name,
                "created_at": k.created_at.isoformat(),
                "revoked": k.revoked_at is not None,
            }
            for k in found.verify.accounts.keys(target.id)
        ]
        if as_json:
            click.echo(json.dumps(rows))
            return
        for row in rows:
            state = " (revoked)" if row["revoked"] else ""
            click.echo(f"{row['sid']}  {row['friendly_name'] or '-'}{state}")

    @keys.command("revoke")
    @click.argument("app")
    @click.argument("sid")
    def keys_revoke(app: str, sid: str) -> None:
        """Revoke APP's API key SID at once."""
        found, target = find(app)
        try:
            found.verify.accounts.revoke_key(target.id, sid)
        except TwofaError as exc:
            fail(exc.message)
            return
        click.echo(f"Revoked {sid}.")
