"""``twofa users import APP FILE``: move users in from Authy, keeping their ids."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Any, NoReturn

import click

from twofa.errors import TwofaError
from twofa.provider.users.model import ImportReport
from twofa.text import terminal_safe

SHOWN_ERRORS = 50  # listed on a terminal; --json carries every reported one


class _Counted:
    """A binary file that tells a progress bar how far it has been read (every 256 KiB: a
    bar redrawn per line would cost more than reading it)."""

    STEP = 256 * 1024

    def __init__(self, stream: IO[bytes], advance: Any) -> None:
        self._stream = stream
        self._advance = advance
        self._unreported = 0

    def readline(self, limit: int = -1) -> bytes:
        line = self._stream.readline(limit)
        self._unreported += len(line)
        if self._unreported >= self.STEP or not line:
            self._advance(self._unreported)
            self._unreported = 0
        return line


@contextlib.contextmanager
def _bar(label: str, length: int | None) -> Iterator[Any]:
    """A progress bar on standard error when it is a terminal; otherwise nothing at all."""
    if not length or not sys.stderr.isatty():
        yield lambda _: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def _fail(message: str) -> NoReturn:
    click.echo(f"twofa: {message}", err=True)
    sys.exit(1)


@click.group("users")
def users_group() -> None:
    """Application users (Authy ids)."""


@users_group.command("import")
@click.argument("app")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Check everything and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def users_import(app: str, file: str, dry_run: bool, as_json: bool) -> None:
    """Import users exported from Authy into APP, keeping their Authy ids.

    FILE is CSV with a header (authy_id,email,country_code,phone[,name]) or JSON lines with
    those keys; "-" reads standard input. All or nothing: with any bad row nothing is written,
    and the exit status is 1. Running it again changes nothing.
    """
    from twofa.provider.services import build_services
    from twofa.provider.users.importer import read_import
    from twofa.settings import load_settings

    services = build_services(load_settings())
    try:
        found = services.apps.find(app)
    except TwofaError as exc:
        _fail(exc.message)
    try:
        stream: IO[bytes] = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
    with stream:
        size = os.fstat(stream.fileno()).st_size if file != "-" else None
        with _bar("Checking the file", size) as advance:
            parsed = read_import(_Counted(stream, advance), filename=file)  # type: ignore[arg-type]
    with _bar("Importing" if not dry_run else "Comparing", len(parsed.rows)) as advance:
        done = 0

        def progress(rows: int) -> None:
            nonlocal done
            advance(rows - done)
            done = rows

        try:
            report = services.importer.run(
                app=found,
                parsed=parsed,
                dry_run=dry_run,
                actor=f"cli:{getpass.getuser()}",
                progress=progress,
            )
        except TwofaError as exc:  # the database busy or away: nothing was written
            _fail(f"{exc.message}; nothing was imported")
        finally:
            services.close()
    if as_json:
        click.echo(json.dumps(report.json()))
    else:
        _print(report, found.name)
    if report.error_count:
        sys.exit(1)


def _print(report: ImportReport, app_name: str) -> None:
    target = terminal_safe(app_name)
    for error in report.errors[:SHOWN_ERRORS]:
        where = f"line {error.line}" if error.line else "file"
        who = f" (authy_id {terminal_safe(error.authy_id)})" if error.authy_id else ""
        click.echo(f"{where}{who}: {terminal_safe(error.reason)}", err=True)
    hidden = report.error_count - min(len(report.errors), SHOWN_ERRORS)
    if hidden > 0:
        click.echo(f"... and {hidden:,} more (--json lists up to {len(report.errors):,})", err=True)
    if report.error_count:
        refused = (
            f"{report.error_count:,} of {report.total:,} records refused"
            if report.total
            else "the file was refused"
        )
        click.echo(f"{refused}: nothing was imported into {target!r}.", err=True)
        return
    verb = "would be created" if report.dry_run else "created"
    timing = f"{report.seconds:.1f} s"
    if report.written:
        timing += f", {report.write_seconds:.1f} s of it writing"
    click.echo(
        f"{report.total:,} records for {target!r}: {report.created:,} users {verb}, "
        f"{report.unchanged:,} already imported ({timing})."
        + (" Dry run: nothing was written." if report.dry_run else "")
    )
