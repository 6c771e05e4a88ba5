"""Provider commands: ``provider``, ``apps``, ``outbox``, ``db``."""

from __future__ import annotations

import contextlib
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
    import os
    import tempfile

    import uvicorn

    from twofa.provider.observability import logs
    from twofa.storage.engine import upgrade

    settings = _settings()
    if not no_migrate:
        upgrade(settings.provider_database_url)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics here; /metrics on any worker sums them.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="twofa-metrics-")
    logs.configure(settings.log_level.upper(), json_output=settings.json_logs)
    _raise_open_file_limit()
    options: dict[str, Any] = {
        "app": "twofa.provider.asgi:create",
        "factory": True,
        "host": host,
        "port": port,
        "log_config": None,
        # twofa writes its own access log; uvicorn's, though disabled, would still format the
        # client address and the quoted path of every request for a logger that drops them.
        "access_log": False,
        # X-Forwarded-For/-Proto are believed only from TWOFA_TRUSTED_PROXY (per-address
        # budgets depend on it); anyone else could write any address there.
        "proxy_headers": bool(settings.trusted_proxy),
        "forwarded_allow_ips": settings.trusted_proxy or None,
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        uvicorn.run(**options)
        return
    from twofa.provider.workers import serve

    serve(
        host=host,
        port=port,
        workers=workers,
        options=options,
        log_level=settings.log_level.upper(),
        json=settings.json_logs,
    )


def _raise_open_file_limit() -> None:
    """Let the process use every file descriptor it may: each open device stream holds one,
    and the usual default of 1,024 would cap a provider near a thousand phones."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        # On refusal the inherited limit stays; docs/operations.md explains how to raise it.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@click.group("apps")
def apps_group() -> None:
    """Manage applications and their API keys."""


def _app_json(app: Any, api_key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"app_id": app.id, "name": app.name, "sandbox": app.sandbox}
    if api_key is not None:
        body["api_key"] = api_key
    return body


@apps_group.command("create")
@click.argument("name")
@click.option("--callback-url", default=None, help="Where OneTouch decisions are POSTed.")
@click.option(
    "--sandbox",
    is_flag=True,
    help="A test application: messages only to the outbox, Authy's test codes 0000000 and "
    "0000 accepted (refused where TWOFA_ALLOW_SANDBOX is off, the default in prod).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apps_create(name: str, callback_url: str | None, sandbox: bool, as_json: bool) -> None:
    """Create an application and print its API key (shown this once only)."""
    services = _services()
    try:
        created = services.apps.create(
            name, callback_url=callback_url, sandbox=sandbox, actor="cli"
        )
    except TwofaError as exc:
        _fail(exc.message)
    account = services.verify.accounts.issue_account(created.app.id)
    if as_json:
        body = _app_json(created.app, created.api_key)
        body.update(account_sid=account.sid, auth_token=account.secret)
        click.echo(json.dumps(body))
        return
    kind = "Sandbox application" if created.app.sandbox else "Application"
    click.echo(f"{kind} {created.app.name!r} created (app_id {created.app.id}).")
    if created.app.sandbox:
        click.echo("[sandbox] no message reaches a phone; tokens 0000000 and 0000 are accepted.")
    click.echo(f"API key: {created.api_key}")
    click.echo(f"Verify v2 Account SID: {account.sid}  auth token: {account.secret}")
    click.echo("Store them now: only their hashes are kept, they cannot be shown again.")


@apps_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apps_list(as_json: bool) -> None:
    """List applications (keys are never shown)."""
    from twofa.provider.deliveries.authy import app_target
    from twofa.provider.deliveries.dispatcher import Receiver

    services = _services()
    receivers = services.deliveries.receivers()
    rows = [
        {
            **_app_json(a),
            "callback_url": a.callback_url,
            "callback": receivers.get(app_target(a.id), Receiver("ok", 0)).json(),
        }
        for a in services.apps.all()
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        callback = row["callback"]
        state = ""
        if callback["state"] != "ok" or callback["pending"]:
            state = f"  (callback {callback['state']}, {callback['pending']} waiting)"
        mark = "[sandbox] " if row["sandbox"] else ""
        click.echo(f"{row['app_id']:>4}  {mark}{row['name']}  {row['callback_url'] or '-'}{state}")


@apps_group.command("set-callback")
@click.argument("app")
@click.argument("url", required=False)
def apps_set_callback(app: str, url: str | None) -> None:
    """Set APP's callback URL (omit URL to remove it); queued callbacks follow it."""
    services = _services()
    try:
        found = services.apps.find(app)
        services.apps.set_callback(found.id, url, actor="cli")
    except TwofaError as exc:
        _fail(exc.message)
    click.echo(f"Callback of {found.name!r}: {url or 'none'}")


@apps_group.command("retry-callbacks")
@click.argument("app")
def apps_retry_callbacks(app: str) -> None:
    """Send APP's undelivered callbacks again now (failed ones too); resumes a paused receiver."""
    from twofa.provider.deliveries.authy import app_target

    services = _services()
    try:
        found = services.apps.find(app)
    except TwofaError as exc:
        _fail(exc.message)
    count = services.deliveries.requeue(app_target(found.id), actor="cli")
    click.echo(f"{count} callback(s) of {found.name!r} queued again.")


@apps_group.command("rotate-key")
@click.argument("app")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apps_rotate_key(app: str, as_json: bool) -> None:
    """Replace APP's API key; the old key stops working immediately."""
    services = _services()
    try:
        created = services.apps.rotate_key(services.apps.find(app).id, actor="cli")
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
        click.echo(
            json.dumps(
                [
                    {
                        "to": m.to,
                        "channel": m.channel,
                        "body": m.body,
                        "gateway": m.gateway,
                        "created_at": m.created_at.isoformat(),
                    }
                    for m in messages
                ]
            )
        )
        return
    if not messages:
        click.echo("No messages.")
    for m in messages:
        mark = "[sandbox] " if m.gateway == "sandbox" else ""
        click.echo(f"{m.created_at:%Y-%m-%d %H:%M:%S}  {m.channel:<4} {m.to}  {mark}{m.body}")


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the provider's migrations (the site's: ``twofa site --migrate-only``)."""
    from twofa.storage.engine import upgrade

    settings = _settings()
    upgrade(settings.provider_database_url)
    click.echo("Database is up to date.")


@db_group.command("purge")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def db_purge(as_json: bool) -> None:
    """Delete expired and old rows now (the provider also does it every retention interval)."""
    services = _services()
    try:
        purged = services.retention.purge()
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps(purged.counts))
        return
    for table, count in purged.counts.items():
        click.echo(f"{table:<22} {count}")


@click.group("audit", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000))
@click.option("--event", default=None, help="Only this event (e.g. verification.failed).")
@click.pass_context
def audit_group(ctx: click.Context, as_json: bool, limit: int, event: str | None) -> None:
    """The audit log of security events, oldest first (``audit verify`` checks the chain)."""
    if ctx.invoked_subcommand is not None:
        return
    services = _services()
    services.audit.flush_all()
    services.audit.chain_all()
    entries = services.audit.entries(limit=limit, event=event)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "seq": e.seq,
                        "created_at": e.created_at.isoformat(),
                        "event": e.event,
                        "app_id": e.app_id,
                        "subject": e.subject,
                        "data": e.data,
                        "actor": e.actor,
                        "hash": e.hash,
                    }
                    for e in entries
                ]
            )
        )
        return
    for e in entries:
        seq = e.seq if e.seq is not None else "-"
        click.echo(
            f"{seq!s:>6}  {e.created_at:%Y-%m-%d %H:%M:%S}  {e.event:<22} "
            f"{e.subject}  {json.dumps(e.data) if e.data else ''}"
            f"{f'  by {e.actor}' if e.actor else ''}"
        )


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_verify(as_json: bool) -> None:
    """Recompute the hash chain; exit 1 if any entry was altered or removed."""
    services = _services()
    services.audit.flush_all()
    services.audit.chain_all()
    result = services.audit.verify()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "checked": result.checked,
                    "unchained": result.unchained,
                    "head": result.head,
                    "broken_at": result.broken_at,
                    "reason": result.reason,
                }
            )
        )
    else:
        click.echo(f"{result.reason}: {result.checked} entries checked, head {result.head}")
    if not result.ok:
        sys.exit(1)


def register(cli: click.Group) -> None:
    """Add the provider's commands to the ``twofa`` group."""
    from twofa.provider.devices_cli import apps_multi_device, apps_number_choices, devices_group
    from twofa.provider.fraud_cli import fraud_group
    from twofa.provider.operators_cli import operators_group
    from twofa.provider.users_cli import users_group
    from twofa.provider.verify.cli import register_app_commands

    register_app_commands(apps_group, _services, _fail)
    apps_group.add_command(apps_multi_device)
    apps_group.add_command(apps_number_choices)
    for command in (
        provider_command,
        apps_group,
        outbox_command,
        db_group,
        audit_group,
        devices_group,
    ):
        cli.add_command(command)
    cli.add_command(fraud_group)
    cli.add_command(operators_group)
    cli.add_command(users_group)
