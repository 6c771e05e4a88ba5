"""``twofa operators``: the people who may sign in to the console at ``/console``."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import click

from twofa.provider.operators.model import ROLES, OperatorError


def _services() -> Any:
    from twofa.provider.services import build_services
    from twofa.settings import load_settings

    return build_services(load_settings())


def _fail(message: str) -> None:
    click.echo(f"twofa: {message}", err=True)
    sys.exit(1)


@click.group("operators")
def operators_group() -> None:
    """Console operators: create, list, disable."""


@operators_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What they may do.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the TOTP secret).")
def operators_create(name: str, role: str, as_json: bool) -> None:
    """Create operator NAME; asks for their password and prints their TOTP enrolment once.

    The password is read from the terminal (or, without one, two lines of standard input).
    Scan the QR code (or type the secret) into an authenticator app: its codes are the second
    factor at the console's sign-in until a security key is added there.
    """
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, err=True, show_default=False
    )
    services = _services()
    try:
        created = services.operators.create(name, role=role, password=password, actor="cli")
    except OperatorError as exc:
        _fail(str(exc))
        return
    finally:
        services.close()
    operator = created.operator
    if as_json:
        click.echo(
            json.dumps(
                {
                    "name": operator.name,
                    "role": operator.role,
                    "totp_secret": created.totp_secret,
                    "totp_uri": created.totp_uri,
                }
            )
        )
        return
    import segno

    qr = io.StringIO()
    segno.make(created.totp_uri, error="m").terminal(out=qr, compact=True)
    click.echo(f"Operator {operator.name!r} created ({operator.role}).")
    click.echo("Add this to their authenticator app now; it is not shown again:")
    click.echo(qr.getvalue())
    click.echo(f"  {created.totp_uri}")
    click.echo(f"  secret: {created.totp_secret}")


@operators_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def operators_list(as_json: bool) -> None:
    """Every operator, with their role and whether they are disabled."""
    services = _services()
    try:
        found = services.operators.all()
        keys = {o.id: len(services.passkeys.credentials(o.id)) for o in found}
    finally:
        services.close()
    rows = [
        {
            "name": o.name,
            "role": o.role,
            "created_at": o.created_at.isoformat(),
            "disabled": o.disabled_at is not None,
            "totp": o.has_totp,
            "security_keys": keys[o.id],
        }
        for o in found
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("No operators.")
    for row in rows:
        state = "disabled" if row["disabled"] else "active"
        click.echo(
            f"{row['name']:<24} {row['role']:<10} {state:<9} {row['security_keys']} security key(s)"
        )


@operators_group.command("disable")
@click.argument("name")
def operators_disable(name: str) -> None:
    """Disable operator NAME: they cannot sign in, and their sessions end now."""
    services = _services()
    try:
        operator = services.operators.disable(name, actor="cli")
    except OperatorError as exc:
        _fail(str(exc))
        return
    finally:
        services.close()
    click.echo(f"Operator {operator.name!r} disabled; their sessions have ended.")
