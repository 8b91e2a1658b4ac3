"""The command line: each command parses options, calls one library function, and turns recordgen's
errors into a plain message and a non-zero exit code. The commands live beside this module, one
module a subject; this one is the group that reads the settings and hands them on.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from recordgen import __version__
from recordgen.cli.context import keep_clock
from recordgen.cli.deadline import deadline
from recordgen.cli.due import due
from recordgen.cli.exit_codes import EXIT_SETTINGS, exit_code_for
from recordgen.cli.process import process, validate
from recordgen.cli.records import history, store_group, verify
from recordgen.cli.regenerate import regenerate
from recordgen.cli.status import status
from recordgen.cli.templates import templates
from recordgen.cli.watch import watch
from recordgen.errors import RecordgenError
from recordgen.settings import DEFAULT_SETTINGS_NAME, load_settings


class RecordgenGroup(click.Group):
    """Turns recordgen's own errors into a message and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except RecordgenError as exc:
            click.echo(f"recordgen: {exc}", err=True)
            ctx.exit(EXIT_SETTINGS if ctx.obj is None else exit_code_for(exc))


@click.group(cls=RecordgenGroup)
@click.version_option(__version__, prog_name="recordgen")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"The settings file (default: ./{DEFAULT_SETTINGS_NAME}).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each file processed.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: bool) -> None:
    """recordgen: statutory documents and records for housing-support services."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    keep_clock(ctx)
    ctx.obj = load_settings(config)


for command in (process, validate, watch, status, due, deadline, regenerate, history, verify,
                store_group, templates):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="recordgen")
