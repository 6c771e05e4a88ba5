"""``twofa authenticator``: a phone-app equivalent in the terminal.

Every refusal exits non-zero with one line ``twofa: <reason>`` on stderr, so scripts can rely
on the exit status and people can read the reason.
"""

from __future__ import annotations

import functools
import json
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, NoReturn, TypeVar

import click

from twofa import otp
from twofa.authenticator import keys
from twofa.authenticator.device import (
    ApprovalRequest,
    DeviceApiError,
    DeviceClient,
    Event,
    PendingDevice,
    confirm_registration,
    start_registration,
)
from twofa.authenticator.state import State, key_path
from twofa.text import terminal_safe as safe

F = TypeVar("F", bound=Callable[..., Any])
RECONNECT_SECONDS = 2.0
APPROVAL_POLL_SECONDS = 1.0
APPROVAL_WAIT_SECONDS = 600.0


def fail(message: str) -> NoReturn:
    click.echo(f"twofa: {safe(message)}", err=True)
    sys.exit(1)


def refusals(func: F) -> F:
    """Turn provider refusals and bad local state into ``twofa: …`` and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DeviceApiError as exc:
            code = f" ({exc.code})" if exc.code else ""
            fail(f"{exc.message}{code}")
        except (OSError, ValueError) as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _client() -> tuple[DeviceClient, State]:
    state = State.load()
    if not state.provider_url or not state.device_uuid:
        fail("this authenticator is not registered; run `twofa authenticator register` first")
    path = key_path()
    if not path.exists():
        fail(f"the device key {path} is missing; register again")
    return DeviceClient(state.provider_url, state.device_uuid, keys.load(path)), state


def _emit_json(value: Any) -> None:
    click.echo(json.dumps(value, separators=(",", ":")))


@click.group("authenticator")
def authenticator_group() -> None:
    """Register this machine as a device, show codes, approve or deny logins."""


@authenticator_group.command("register")
@click.option("--provider", "provider_url", required=True, help="The provider's base URL.")
@click.option("--country-code", required=True)
@click.option("--phone", required=True, help="The phone number, national format.")
@click.option("--via", type=click.Choice(["sms", "call"]), default="sms", show_default=True)
@refusals
def register_command(provider_url: str, country_code: str, phone: str, via: str) -> None:
    """Send a registration code to the phone."""
    state = State.load()
    if state.device_uuid:
        fail(f"already registered as device {state.device_uuid}; `revoke` it first")
    started = start_registration(
        provider_url, country_code=country_code, phone_number=phone, via=via
    )
    state.provider_url = provider_url.rstrip("/")
    state.registration_id = started.registration_id
    state.save()
    click.echo(
        f"Code sent by {via}. It expires in {started.seconds_to_expire // 60} minutes; "
        "run `twofa authenticator confirm CODE`."
    )


@authenticator_group.command("confirm")
@click.argument("code")
@click.option("--name", default=None, help="A name for this device (default: the host name).")
@click.option(
    "--wait/--no-wait",
    default=True,
    help="Wait for an existing device to approve this one (when the phone has one).",
)
@refusals
def confirm_command(code: str, name: str | None, wait: bool) -> None:
    """Finish registering with the code that was sent."""
    state = State.load()
    if not state.provider_url or not state.registration_id:
        fail("no registration in progress; run `twofa authenticator register` first")
    path = key_path()
    if path.exists():
        key = keys.load(path)  # kept from an earlier, unfinished attempt
    else:
        key = keys.generate()
        keys.save(key, path)
    device = confirm_registration(
        state.provider_url,
        state.registration_id,
        code=code.strip(),
        name=(name or f"CLI on {socket.gethostname()}")[:100],
        os_type="cli",
        public_key=keys.public_jwk(key),
    )
    state.device_uuid = device["uuid"]
    state.phone = device["phone"]
    state.registration_id = None
    state.save()
    if device.get("state") == "pending":
        number = device.get("approval", {}).get("number")
        click.echo(
            f"This phone already has an authenticator. On it, approve {safe(device['name'])!r} "
            f"by typing the number {safe(number)}."
        )
        if not wait:
            return
        _wait_for_approval(state)
    click.echo(
        f"Registered device {safe(device['uuid'])} ({safe(device['name'])}) "
        f"for {safe(device['phone'])}."
    )


def _wait_for_approval(state: State) -> None:
    """Poll until an existing device approves this one; a denial forgets the key."""
    client = DeviceClient(state.provider_url or "", state.device_uuid or "", keys.load(key_path()))
    deadline = time.monotonic() + APPROVAL_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if client.me()["device"].get("state") == "active":
                return
        except DeviceApiError as exc:
            if exc.status == 401:
                state.device_uuid = None
                state.save()
                key_path().unlink(missing_ok=True)
                fail("this device was denied (or its approval ran out); register again")
            if exc.status != 0:
                raise
        time.sleep(APPROVAL_POLL_SECONDS)
    fail("no approval yet; run `twofa authenticator status` to check again")


@authenticator_group.command("codes")
@click.option("--json", "as_json", is_flag=True)
@refusals
def codes_command(as_json: bool) -> None:
    """Show the current code of every account (computed here, from the synced secrets)."""
    client, _ = _client()
    now = time.time()
    rows = [
        {
            "app_name": a.app_name,
            "authy_id": a.authy_id,
            "code": otp.totp(a.secret, now, digits=a.digits, step=a.period),
            "seconds_left": otp.seconds_left(now, step=a.period),
        }
        for a in client.accounts()
    ]
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("No accounts for this phone yet.")
    for row in rows:
        click.echo(
            f"{row['code']}  {safe(row['app_name'])} (authy id {row['authy_id']}), "
            f"{row['seconds_left']} s left"
        )


def _request_json(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "uuid": request.uuid,
        "app_name": request.app_name,
        "message": request.message,
        "details": request.details,
        "expires_at": request.expires_at,
        **({"numbers": request.numbers} if request.numbers else {}),
        **({"number_matching": True} if request.number_matching else {}),
    }


def _describe(request: ApprovalRequest) -> str:
    lines = [f"{safe(request.uuid)}  {safe(request.app_name)}: {safe(request.message)}"]
    lines += [f"    {safe(label)}: {safe(value)}" for label, value in request.details.items()]
    if request.numbers:
        lines.append(f"    Pick the number shown on the login page: {request.numbers}")
    elif request.number_matching:
        lines.append("    Type the number shown on the login page to approve.")
    return "\n".join(lines)


@authenticator_group.command("pending")
@click.option("--json", "as_json", is_flag=True)
@refusals
def pending_command(as_json: bool) -> None:
    """List pending approval requests, oldest first."""
    client, _ = _client()
    pending = client.pending()
    if as_json:
        _emit_json([_request_json(r) for r in pending])
        return
    if not pending:
        click.echo("No pending requests.")
    for request in pending:
        click.echo(_describe(request))


@authenticator_group.command("approve")
@click.argument("uuid")
@click.option("--number", type=int, default=None, help="The number the login page shows.")
@refusals
def approve_command(uuid: str, number: int | None) -> None:
    """Approve a request (with --number when it asks for number matching)."""
    client, _ = _client()
    request = client.request(uuid)
    if request.numbers and number is None:
        fail(f"this request needs --number (one of {', '.join(map(str, request.numbers))})")
    if request.number_matching and number is None:
        fail("this request needs --number: the number shown on the login page")
    status = client.decide(uuid, approve=True, number=number)
    if status != "approved":
        fail(f"the request was {status}: the number did not match")
    click.echo(f"Approved {uuid}.")


@authenticator_group.command("deny")
@click.argument("uuid")
@refusals
def deny_command(uuid: str) -> None:
    """Deny a request."""
    client, _ = _client()
    client.decide(uuid, approve=False)
    click.echo(f"Denied {uuid}.")


def _answer_interactively(client: DeviceClient, request: ApprovalRequest) -> None:
    click.echo(_describe(request))
    choice = click.prompt("Approve, deny or skip?", type=click.Choice(["a", "d", "s"]), default="s")
    if choice == "s":
        return
    number = None
    if choice == "a" and request.numbers:
        number = click.prompt("Number", type=click.Choice([str(n) for n in request.numbers]))
    elif choice == "a" and request.number_matching:
        number = click.prompt("Number shown on the login page", type=str)
        if not number.strip().isdigit() or len(number.strip()) > 3:
            number = "0"  # not a number the page shows: the provider records a denial
    try:
        status = client.decide(
            request.uuid, approve=choice == "a", number=int(number) if number else None
        )
    except DeviceApiError as exc:
        click.echo(f"twofa: {safe(exc.message)}", err=True)
        return
    click.echo(f"Request {safe(request.uuid)}: {safe(status)}.")


def _handle(client: DeviceClient, event: Event, as_json: bool) -> None:
    if as_json:
        _emit_json({"event": event.event, "id": event.id, "data": event.data})
    elif event.event == "request":
        _answer_interactively(client, ApprovalRequest.from_json(event.data))
    elif event.event == "device.request":
        click.echo(_describe_pending(PendingDevice(**event.data)))
        click.echo(f"  run `twofa authenticator approve-device {safe(event.data.get('uuid'))}`")
    elif event.event == "accounts.changed":
        click.echo("The secrets of this phone were renewed; `codes` shows the new codes.")
    elif event.event in ("device.added", "device.revoked"):
        what = "added" if event.event == "device.added" else "revoked"
        click.echo(f"Device {safe(event.data.get('name'))!r} was {what}.")
    elif event.event == "request.ended":
        click.echo(
            f"Request {safe(event.data.get('uuid'))} ended: {safe(event.data.get('status'))}."
        )
    if event.event == "revoked":
        fail("this device was revoked")
    if event.event == "closed":
        fail("stopped: this device opened a newer stream elsewhere (at most 3 at once)")


@authenticator_group.command("watch")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event and line.")
@refusals
def watch_command(as_json: bool) -> None:
    """Follow approval requests live; reconnects and resumes after a dropped connection."""
    client, _ = _client()
    last_id: str | None = None
    while True:
        try:
            for event in client.events(last_id):
                last_id = event.id or last_id
                _handle(client, event, as_json)
        except DeviceApiError as exc:
            if exc.status != 0:
                raise
        time.sleep(RECONNECT_SECONDS)


@authenticator_group.command("status")
@refusals
def status_command() -> None:
    """Show whether this device is active or still waiting for approval."""
    client, _ = _client()
    device = client.me()["device"]
    click.echo(f"{safe(device['uuid'])}  {safe(device.get('state', 'active'))}")


def _describe_pending(device: PendingDevice) -> str:
    where = f" from {safe(device.registered_from)}" if device.registered_from else ""
    return (
        f"{safe(device.uuid)}  new {safe(device.os_type)} device {safe(device.name)!r}{where}; "
        "approve it by typing the number it shows"
    )


@authenticator_group.command("devices")
@click.option("--json", "as_json", is_flag=True)
@click.option("--pending", is_flag=True, help="Only devices waiting for this one's approval.")
@refusals
def devices_command(as_json: bool, pending: bool) -> None:
    """List the devices registered for this phone (or those asking to join)."""
    client, _ = _client()
    if pending:
        waiting = client.pending_devices()
        if as_json:
            _emit_json([asdict(d) for d in waiting])
            return
        if not waiting:
            click.echo("No device is waiting for approval.")
        for waiting_device in waiting:
            click.echo(_describe_pending(waiting_device))
        return
    found = client.devices()
    if as_json:
        _emit_json(
            [
                {
                    "uuid": d.uuid,
                    "name": d.name,
                    "os_type": d.os_type,
                    "created_at": d.created_at,
                    "last_seen_at": d.last_seen_at,
                    "current": d.current,
                }
                for d in found
            ]
        )
        return
    for d in found:
        mark = "*" if d.current else " "
        click.echo(f"{mark} {safe(d.uuid)}  {safe(d.os_type):4}  {safe(d.name)}")


@authenticator_group.command("approve-device")
@click.argument("uuid")
@click.option("--number", type=int, default=None, help="The number the new device shows.")
@refusals
def approve_device_command(uuid: str, number: int | None) -> None:
    """Let a new device of this phone in, by typing the number it shows."""
    client, _ = _client()
    if number is None:
        number = click.prompt("Number shown on the new device", type=int)
    status = client.decide_device(uuid, approve=True, number=number)
    if status != "approved":
        fail("the number did not match: the new device was denied")
    click.echo(f"Approved device {safe(uuid)}.")


@authenticator_group.command("deny-device")
@click.argument("uuid")
@refusals
def deny_device_command(uuid: str) -> None:
    """Refuse a new device of this phone."""
    client, _ = _client()
    client.decide_device(uuid, approve=False)
    click.echo(f"Denied device {safe(uuid)}.")


@authenticator_group.command("revoke")
@click.argument("uuid", required=False)
@refusals
def revoke_command(uuid: str | None) -> None:
    """Revoke a device of this phone (default: this one, which then forgets its key)."""
    client, state = _client()
    target = uuid or client.device_uuid
    client.revoke(target)
    if target == state.device_uuid:
        state.device_uuid = None
        state.save()
        key_path().unlink(missing_ok=True)
    click.echo(f"Revoked {target}.")


def register(cli: click.Group) -> None:
    """Add ``twofa authenticator`` to the main command."""
    cli.add_command(authenticator_group)
