"""``twofa fraud``: see and lift SMS-pumping blocks, set an application's destination countries."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from twofa.errors import TwofaError


def _services() -> Any:
    from twofa.provider.services import build_services
    from twofa.settings import load_settings

    return build_services(load_settings())


def _fail(message: str) -> None:
    click.echo(f"twofa: {message}", err=True)
    sys.exit(1)


@click.group("fraud")
def fraud_group() -> None:
    """The fraud guard: pumping blocks and geo permissions."""


@fraud_group.command("list")
@click.option("--all", "all_", is_flag=True, help="Include expired and lifted blocks.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def fraud_list(all_: bool, as_json: bool) -> None:
    """Destination prefixes blocked for an application (in force unless --all)."""
    blocks = _services().fraud.blocks(all_=all_)
    if as_json:
        click.echo(json.dumps([block.json() for block in blocks]))
        return
    if not blocks:
        click.echo("No blocks.")
    for b in blocks:
        state = "lifted" if b.lifted_at else f"until {b.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        click.echo(
            f"{b.id:>5}  app {b.app_id:<5} {b.prefix:<12} {b.conversions}/{b.sends} verified  "
            f"{state}"
        )


@fraud_group.command("unblock")
@click.argument("block_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def fraud_unblock(block_id: int, as_json: bool) -> None:
    """Lift block BLOCK_ID (and forget its prefix's traffic, so sends are judged afresh)."""
    block = _services().fraud.unblock(block_id, actor="cli")
    if block is None:
        _fail(f"no block {block_id}")
        return
    if as_json:
        click.echo(json.dumps({"unblocked": block.json()}))
    else:
        click.echo(f"Lifted block {block.id}: {block.prefix} for application {block.app_id}")


@fraud_group.command("countries")
@click.argument("app")
@click.argument("countries", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def fraud_countries(app: str, countries: str | None, as_json: bool) -> None:
    """Show APP's destination countries, or set them: ``US,CA`` (ISO codes); ``-`` for the
    deployment's list. A send must pass both the deployment's list and the application's."""
    services = _services()
    try:
        found = services.apps.find(app)
    except TwofaError as exc:
        _fail(exc.message)
        return
    if countries is not None:
        try:
            services.fraud.set_countries(
                found.id, None if countries == "-" else countries, actor="cli"
            )
        except TwofaError:
            _fail("countries are two-letter ISO codes, comma-separated (e.g. US,CA)")
    own = services.fraud.store.app_countries(found.id)
    deployment = services.settings.fraud_allowed_countries
    if as_json:
        click.echo(json.dumps({"app_id": found.id, "countries": own, "deployment": deployment}))
    else:
        click.echo(f"{found.name}: {own or 'the deployment list'} (deployment: {deployment})")
