"""The ``twofa`` command: a thin layer that gathers each part's commands.

Each part's commands are imported only when that part is asked for, so ``twofa authenticator``
on a user's machine starts in a fraction of the time the provider's whole stack takes to load.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import click

from twofa.errors import SettingsError

# The module whose ``register(cli)`` adds a command; commands not named here are the provider's.
PARTS = {
    "authenticator": "twofa.authenticator.cli",
    "site": "twofa.site.cli",
    "serve": "twofa.serve",
}
PROVIDER = "twofa.provider.cli"


class Parts(click.Group):
    """A group that loads a part's commands on first use (``--help`` loads them all)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def _load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            import_module(module).register(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._load(PARTS.get(cmd_name, PROVIDER))
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in (PROVIDER, *PARTS.values()):
            self._load(module)
        return super().list_commands(ctx)


@click.group(cls=Parts)
@click.version_option(package_name="twofa")
def cli() -> None:
    """twofa: self-hosted two-factor authentication."""


def main() -> None:
    """Entry point of the console script."""
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"twofa: configuration error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
