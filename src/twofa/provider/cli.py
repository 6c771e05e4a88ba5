"""Provider commands: ``provider``, ``apps``, ``outbox``, ``db``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from twofa.errors import TwofaError
from twofa.settings import Settings, load_settings


def _settings() -> Settings:
    return load_settings()


def _services() -> Any:
    from twofa.provider.services import build_services

    return build_services(_settings())


def _fail(message: str) -> None:
    click.echo(f"twofa: {message}", err=True)
    sys.exit(1)


@click.command("provider")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-migrate", is_flag=True, help="Do not apply migrations at start.")
def provider_command(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Serve the Authy-compatible provider API."""
    import uvicorn

    from twofa.storage.engine import upgrade

    settings = _settings()
    if not no_migrate:
        upgrade(settings.provider_database_url)
    uvicorn.run("twofa.provider.asgi:create", factory=True, host=host, port=port,
                workers=workers, log_level="info", proxy_headers=True)


@click.group("apps")
def apps_group() -> None:
    """Manage applications and their API keys."""


def _app_json(app: Any, api_key: str | None = None) -> dict[str, Any]:
    body = {"app_id": app.id, "name": app.name}
    if api_key is not None:
        body["api_key"] = api_key
    return body


@apps_group.command("create")
@click.argument("name")
@click.option("--callback-url", default=None, help="Where OneTouch decisions are POSTed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apps_create(name: str, callback_url: str | None, as_json: bool) -> None:
    """Create an application and print its API key (shown this once only)."""
    try:
        created = _services().apps.create(name, callback_url=callback_url)
    except TwofaError as exc:
        _fail(exc.message)
    if as_json:
        click.echo(json.dumps(_app_json(created.app, created.api_key)))
        return
    click.echo(f"Application {created.app.name!r} created (app_id {created.app.id}).")
    click.echo(f"API key: {created.api_key}")
    click.echo("Store it now: only its hash is kept, it cannot be shown again.")


@apps_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apps_list(as_json: bool) -> None:
    """List applications (keys are never shown)."""
    apps = _services().apps.list()
    rows = [
        {**_app_json(a), "callback_url": a.callback_url,
         "callback_disabled": a.callback_disabled_at is not None,
         "callback_disabled_reason": a.callback_disabled_reason}
        for a in apps
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        state = " (callback DISABLED)" if row["callback_disabled"] else ""
        click.echo(f"{row['app_id']:>4}  {row['name']}  {row['callback_url'] or '-'}{state}")


@apps_group.command("set-callback")
@click.argument("app")
@click.argument("url", required=False)
def apps_set_callback(app: str, url: str | None) -> None:
    """Set APP's callback URL (omit URL to remove it); re-enables a disabled callback."""
    services = _services()
    try:
        found = services.apps.find(app)
        services.apps.set_callback(found.id, url)
    except TwofaError as exc:
        _fail(exc.message)
    click.echo(f"Callback of {found.name!r}: {url or 'none'}")


@apps_group.command("rotate-key")
@click.argument("app")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apps_rotate_key(app: str, as_json: bool) -> None:
    """Replace APP's API key; the old key stops working immediately."""
    services = _services()
    try:
        created = services.apps.rotate_key(services.apps.find(app).id)
    except TwofaError as exc:
        _fail(exc.message)
    if as_json:
        click.echo(json.dumps(_app_json(created.app, created.api_key)))
    else:
        click.echo(f"New API key for {created.app.name!r}: {created.api_key}")


@click.command("outbox")
@click.option("--to", default=None, help="Only messages to this E.164 number.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def outbox_command(to: str | None, as_json: bool) -> None:
    """Messages sent through the gateway, oldest first (the outbox is the demo's phone)."""
    messages = _services().messaging.list(to=to)
    if as_json:
        click.echo(json.dumps([
            {"to": m.to, "channel": m.channel, "body": m.body,
             "created_at": m.created_at.isoformat()}
            for m in messages
        ]))
        return
    if not messages:
        click.echo("No messages.")
    for m in messages:
        click.echo(f"{m.created_at:%Y-%m-%d %H:%M:%S}  {m.channel:<4} {m.to}  {m.body}")


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the provider's migrations."""
    from twofa.storage.engine import upgrade

    settings = _settings()
    upgrade(settings.provider_database_url)
    click.echo("Database is up to date.")


def register(cli: click.Group) -> None:
    """Add the provider's commands to the ``twofa`` group."""
    for command in (provider_command, apps_group, outbox_command, db_group):
        cli.add_command(command)
