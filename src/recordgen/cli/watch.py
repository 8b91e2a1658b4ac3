"""``recordgen watch``: parse the options, run :class:`recordgen.pipeline.watch.Watcher`, and turn an inbox
problem into a message and an exit code an operator (or systemd) can act on."""

from __future__ import annotations

import logging

import click

from recordgen.cli.context import clock_of, settings_of
from recordgen.cli.exit_codes import EXIT_INTERRUPTED, EXIT_SETTINGS, exit_code_for
from recordgen.errors import InboxError, SettingsError
from recordgen.pipeline.watch import (
    Watcher,
    WatchOptions,
    stop_on_signals,
)
from recordgen.services import open_services


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
    settings = settings_of(ctx)
    try:
        options = WatchOptions.from_settings(settings.watch, settle=settle, poll=poll,
                                             rescan=rescan)
    except SettingsError as exc:
        click.echo(f"recordgen: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
    # A service logs every file it processes, with or without --verbose.
    logging.getLogger("recordgen").setLevel(logging.INFO)
    try:
        with open_services(settings, clock_of(ctx)) as services:
            watcher = Watcher(services, options)
            with stop_on_signals(watcher):
                watcher.run()
    except InboxError as exc:
        click.echo(f"recordgen: {exc}", err=True)
        ctx.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        click.echo("recordgen: stopped at once; any file in hand is finished at the next start.",
                   err=True)
        ctx.exit(EXIT_INTERRUPTED)
