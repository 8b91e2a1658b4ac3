"""The command line: each command parses options, calls one library function, and turns recordgen's
errors into a plain message and a non-zero exit code. The commands live beside this module, one
module a subject; this one is the group that reads the settings and hands them on.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import click

from recordgen import __version__
from recordgen.cli.context import keep_clock
from recordgen.cli.exit_codes import EXIT_SETTINGS, exit_code_for
from recordgen.errors import RecordgenError
from recordgen.settings import DEFAULT_SETTINGS_NAME, load_settings

# Each command by the name typed: the module beside this one that holds it, and its name there.
# A command's module (and all it needs: the returns' spreadsheets, LibreOffice's driver, the
# subject access bundle) is imported only when that command runs, so each command starts without
# loading every other's (about 0.3 s of every start); `recordgen --help` imports them all.
COMMANDS: dict[str, tuple[str, str]] = {
    "process": ("recordgen.cli.process", "process"),
    "validate": ("recordgen.cli.process", "validate"),
    "watch": ("recordgen.cli.watch", "watch"),
    "status": ("recordgen.cli.status", "status"),
    "due": ("recordgen.cli.due", "due"),
    "deadline": ("recordgen.cli.deadline", "deadline"),
    "regenerate": ("recordgen.cli.regenerate", "regenerate"),
    "history": ("recordgen.cli.records", "history"),
    "verify": ("recordgen.cli.records", "verify"),
    "store": ("recordgen.cli.records", "store_group"),
    "templates": ("recordgen.cli.templates", "templates"),
    "report": ("recordgen.cli.report", "report"),
}


class RecordgenGroup(click.Group):
    """Turns recordgen's own errors into a message and an exit code, never a traceback; loads
    each command when it is asked for (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

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


def main() -> None:
    cli(prog_name="recordgen")
