"""``twofa serve``: the whole demo from one command.

Migrates the provider's database, creates the demo application on first start (its callback
pointing at the site), then runs the provider (with the authenticator web app) and the site as
two processes. The site talks to the provider over HTTP like any other integration.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import click

from twofa import process
from twofa.process import twofa_command
from twofa.settings import load_settings

DEMO_APP = "twofa demo"


def _demo_key(site_url: str) -> str:
    """The demo application's API key, creating the application on first start.

    Keys are derived from the master secret, so the provider can give the key back without ever
    having stored it.
    """
    from twofa.errors import NotFound
    from twofa.provider.services import build_services

    services = build_services(load_settings())
    try:
        callback = f"{site_url}/authy/callback"
        try:
            app = services.apps.find(DEMO_APP)
            if app.callback_url != callback:
                app = services.apps.set_callback(app.id, callback)
        except NotFound:
            app = services.apps.create(DEMO_APP, callback_url=callback).app
        return services.apps.api_key(app)
    finally:
        services.close()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--site-port", default=5000, show_default=True, type=int)
@click.option("--provider-port", default=5001, show_default=True, type=int)
def serve_command(host: str, site_port: int, provider_port: int) -> None:
    """Run the demo: provider, authenticator and site."""
    from twofa.storage.engine import upgrade

    settings = load_settings()
    upgrade(settings.provider_database_url)
    site_url = f"http://{host}:{site_port}"
    provider_url = f"http://{host}:{provider_port}"
    env = dict(os.environ)
    env["TWOFA_SITE_API_KEY"] = _demo_key(site_url)
    env["TWOFA_SITE_PROVIDER_URL"] = provider_url
    procs = [
        process.spawn(
            twofa_command("provider", "--host", host, "--port", str(provider_port), "--no-migrate"),
            env=env,
        ),
        process.spawn(twofa_command("site", "--host", host, "--port", str(site_port)), env=env),
    ]
    try:
        for url in (f"{provider_url}/healthz", f"{site_url}/"):
            process.wait_until_up(url, *procs)
    except process.ProcessFailed:
        pass  # a process that died is reported below; one that is slow shows up later
    click.echo("")
    click.echo(f"  Site            {site_url}/")
    click.echo(f"  Authenticator   {provider_url}/authenticator/")
    if settings.env == "dev" and settings.sms_gateway == "outbox":
        click.echo(f"  Outbox (phone)  {provider_url}/outbox   (or: twofa outbox)")
    click.echo(f"  Provider API    {provider_url}/docs")
    click.echo(f"  Demo API key    {env['TWOFA_SITE_API_KEY']}")
    click.echo("")
    click.echo("  Sign up on the site, register your phone in the authenticator with the code")
    click.echo("  from the outbox, then log in and approve. Ctrl-C stops everything.")
    click.echo("  Notifications while the authenticator is closed: its Devices tab, Notifications.")
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:  # both at once: the site need not outlive the provider
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            process.stop(proc)
    failed = [p.returncode for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
    if failed:
        sys.exit(1)


def register(cli: click.Group) -> None:
    """Add ``serve`` to the ``twofa`` group."""
    cli.add_command(serve_command)
