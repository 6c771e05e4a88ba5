"""``twofa devices``: the operator's side of device trust.

The recovery path when a phone's owner has lost every device: the owner registers a new one
(it waits, ``pending``, since the phone's old devices still count), the operator checks who
they are by a channel of their own, revokes the lost devices and approves the new one. An SMS
code alone never adds a device to a phone that has one.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlalchemy import select

from twofa.errors import TwofaError
from twofa.storage.tables import devices


def _services() -> Any:
    from twofa.provider.services import build_services
    from twofa.settings import load_settings

    return build_services(load_settings())


def _fail(message: str) -> None:
    click.echo(f"twofa: {message}", err=True)
    sys.exit(1)


@click.group("devices")
def devices_group() -> None:
    """List, approve and revoke the authenticator devices of a phone (operator recovery)."""


@devices_group.command("list")
@click.argument("phone")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def devices_list(phone: str, as_json: bool) -> None:
    """Every device of PHONE (E.164, e.g. +12015550123), with its state."""
    services = _services()
    with services.db.read() as conn:
        rows = conn.execute(
            select(devices).where(devices.c.phone_e164 == phone).order_by(devices.c.id)
        ).all()
    found = [
        {
            "uuid": r.uuid,
            "name": r.name,
            "os_type": r.os_type,
            "state": "revoked" if r.revoked_at and r.state == "active" else r.state,
            "registered_from": r.registered_ip,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(found))
        return
    for d in found:
        click.echo(f"{d['uuid']}  {d['state']:8} {d['os_type']:4} {d['name']!r}")


@devices_group.command("approve")
@click.argument("uuid")
def devices_approve(uuid: str) -> None:
    """Approve the waiting device UUID (after checking who asks); the phone is told by SMS."""
    services = _services()
    try:
        view = services.devices.approvals.operator_approve(uuid)
    except TwofaError as exc:
        _fail(exc.message)
    click.echo(f"Approved {view['uuid']} ({view['name']!r}).")


@devices_group.command("revoke")
@click.argument("uuid")
def devices_revoke(uuid: str) -> None:
    """Revoke device UUID (a lost one); its streams end and the phone is told."""
    services = _services()
    try:
        services.devices.operator_revoke(uuid, actor="cli")
    except TwofaError as exc:
        _fail(exc.message)
    click.echo(f"Revoked {uuid}.")


@click.command("multi-device")
@click.argument("app")
@click.argument("setting", type=click.Choice(["on", "off"]))
def apps_multi_device(app: str, setting: str) -> None:
    """Allow (on, the default) or refuse (off) further devices for APP's users' phones."""
    services = _services()
    try:
        found = services.apps.find(app)
    except TwofaError as exc:
        _fail(exc.message)
    services.apps.set_options(found.id, multi_device=setting == "on", actor="cli")
    click.echo(f"Multi-device for {found.name!r}: {setting}")


@click.command("number-choices")
@click.argument("app")
@click.argument("setting", type=click.Choice(["on", "off"]))
def apps_number_choices(app: str, setting: str) -> None:
    """Offer three numbers to tap (on) instead of asking to type the one shown (off, default).

    Tapping one of three lets a user who approves at random in one time out of three.
    """
    services = _services()
    try:
        found = services.apps.find(app)
    except TwofaError as exc:
        _fail(exc.message)
    services.apps.set_options(found.id, number_choices=setting == "on", actor="cli")
    click.echo(f"Number choices for {found.name!r}: {setting}")
