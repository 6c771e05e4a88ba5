"""The ``twofa`` command: a thin layer that gathers each part's commands."""

from __future__ import annotations

import sys

import click

from twofa.settings import SettingsError


@click.group()
@click.version_option(package_name="twofa")
def cli() -> None:
    """twofa: self-hosted two-factor authentication."""


def _register() -> None:
    from twofa.provider.cli import register as register_provider

    register_provider(cli)
    from twofa.serve import serve_command

    cli.add_command(serve_command)
    from twofa.authenticator.cli import register as register_authenticator
    from twofa.site.cli import register as register_site

    register_site(cli)
    register_authenticator(cli)


def main() -> None:
    """Entry point of the console script."""
    _register()
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"twofa: configuration error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
