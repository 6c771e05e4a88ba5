"""``twofa site``: serve the site with waitress, a production-grade threaded WSGI server."""

from __future__ import annotations

import click

from twofa.settings import load_settings


def register(cli: click.Group) -> None:
    """Add the site's commands to the ``twofa`` group."""
    cli.add_command(site)


@click.command("site")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--migrate-only", is_flag=True, help="Apply the site's database migrations and exit.")
def site(host: str, port: int, migrate_only: bool) -> None:
    """Serve the demo site (sign-up, login with push or code, account)."""
    settings = load_settings()
    if migrate_only:
        from twofa.site.db import upgrade

        upgrade(settings.site_db_url)
        click.echo("site database is up to date")
        return
    from waitress import serve

    from twofa.site.app import create_app

    app = create_app(settings)
    click.echo(f"twofa site on http://{host}:{port}/ (provider {settings.site_provider_url})")
    # Event streams hold a thread each while open, hence more threads than waitress' default 4.
    proxy: dict[str, object] = {}
    if settings.site_trusted_proxy:
        # Client address and scheme come from the proxy's headers, only when it sent them.
        proxy = {
            "trusted_proxy": settings.site_trusted_proxy,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
            "clear_untrusted_proxy_headers": True,
        }
    serve(app, host=host, port=port, threads=settings.site_threads, ident="twofa-site", **proxy)
