"""``recordgen watch``: parse the options, run :class:`recordgen.watch.Watcher`, and turn an inbox
problem into a message and an exit code an operator (or systemd) can act on."""

from __future__ import annotations

import logging

import click

from recordgen.clock import SystemClock
from recordgen.errors import InboxError, SettingsError
from recordgen.inbox import open_services
from recordgen.settings import Settings
from recordgen.watch import (
    CannotWatch,
    InboxMissing,
    InboxNotWritable,
    Watcher,
    WatchOptions,
    stop_on_signals,
)

# Beside cli.py's 0-3 (listed in README.md): one code per thing the operator has to fix. cli.py
# imports this module to register the command, so its EXIT_SETTINGS is repeated, not imported.
EXIT_SETTINGS = 2
EXIT_INBOX_MISSING, EXIT_INBOX_NOT_WRITABLE, EXIT_CANNOT_WATCH = 4, 5, 6
EXIT_INTERRUPTED = 130  # a second Ctrl-C: stopped at once
_EXIT_CODES: tuple[tuple[type[InboxError], int], ...] = (
    (InboxMissing, EXIT_INBOX_MISSING),
    (InboxNotWritable, EXIT_INBOX_NOT_WRITABLE),
    (CannotWatch, EXIT_CANNOT_WATCH),
)


def exit_code_for(error: InboxError) -> int | None:
    return next((code for kind, code in _EXIT_CODES if isinstance(error, kind)), None)


@click.command()
@click.option("--poll", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Look for new files every SECONDS instead of using file events; use this for "
                   "a network share. 0 means file events. [default: [watch] poll_seconds]")
@click.option("--settle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Take a file once its size and time have not changed for SECONDS. "
                   "[default: [watch] settle_seconds]")
@click.option("--rescan", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Look at the whole inbox, and retry held files, every "
                                      "SECONDS. [default: [watch] rescan_seconds]")
@click.pass_context
def watch(ctx: click.Context, poll: float | None, settle: float | None,
          rescan: float | None) -> None:
    """Process each case file dropped into the inbox once it is complete, until stopped.

    Files already in the inbox, and any left half-done by a crash, are processed first. Ctrl-C or
    SIGTERM finishes the file in hand, then stops.
    """
    settings = ctx.find_object(Settings)
    assert settings is not None
    try:
        options = WatchOptions.from_settings(settings.watch, settle=settle, poll=poll,
                                             rescan=rescan)
    except SettingsError as exc:
        click.echo(f"recordgen: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
    # A service logs every file it processes, with or without --verbose.
    logging.getLogger("recordgen").setLevel(logging.INFO)
    try:
        with open_services(settings, SystemClock()) as services:
            watcher = Watcher(services, options)
            with stop_on_signals(watcher):
                watcher.run()
    except InboxError as exc:
        code = exit_code_for(exc)
        if code is None:
            raise  # the command group reports it as a fault
        click.echo(f"recordgen: {exc}", err=True)
        ctx.exit(code)
    except KeyboardInterrupt:
        click.echo("recordgen: stopped at once; any file in hand is finished at the next start.",
                   err=True)
        ctx.exit(EXIT_INTERRUPTED)
