"""``recordgen status``: the status page's summary in a terminal, or as JSON for monitoring, with
an exit code a server's monitoring can alert on."""

from __future__ import annotations

import json

import click

from recordgen.cli.context import clock_of, settings_of
from recordgen.cli.exit_codes import EXIT_NOT_WATCHING, EXIT_OK, EXIT_PROBLEMS
from recordgen.records.opening import outbox_holdings
from recordgen.services import open_records
from recordgen.settings import Settings
from recordgen.status import gather
from recordgen.status.summary import Verdict, summary_json, summary_lines, verdict

_EXIT = {Verdict.ALL_WELL: EXIT_OK, Verdict.NEEDS_ATTENTION: EXIT_PROBLEMS,
         Verdict.NOT_WATCHING: EXIT_NOT_WATCHING}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for monitoring tools.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Say whether recordgen is working, what needs attention, what is due and what was produced
    this week: the summary of the status page.

    Exits 0 when a watcher is looking at the inbox and nothing needs attention, 1 when something
    needs attention, 7 when no watcher has looked at the inbox for more than a few minutes.
    """
    settings = settings_of(ctx)
    if _first_run(settings):
        report = gather(settings, None, clock_of(ctx))
    else:
        with open_records(settings, clock_of(ctx), may_create=False, seal=False) as store:
            report = gather(settings, store, clock_of(ctx))
    if as_json:
        click.echo(json.dumps(summary_json(report, settings.status_page), ensure_ascii=False,
                              indent=2))
    else:
        for line in summary_lines(report, settings.status_page, settings.folders.rejected):
            click.echo(line)
    ctx.exit(_EXIT[verdict(report)])


def _first_run(settings: Settings) -> bool:
    """No store has been made yet because nothing has been recorded: the SQLite file is missing
    and the outbox is empty. Only a SQLite store can be "not yet made": a PostgreSQL store is made
    by ``recordgen store init`` before any watcher starts, so it is always opened (and a database
    that holds none is reported, as every other command reports it)."""
    return (not settings.store.postgresql and not settings.folders.store.exists()
            and not outbox_holdings(settings.folders.outbox))
