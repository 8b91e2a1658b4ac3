"""``recordgen regenerate``: remake documents after a template or a setting changes."""

from __future__ import annotations

import datetime as dt
import os

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from recordgen.cli.context import case_ref_option, clock_of, console, settings_of
from recordgen.cli.exit_codes import EXIT_INTERRUPTED, EXIT_PROBLEMS
from recordgen.documents.regenerate import Regenerated, Selection
from recordgen.documents.regenerate import regenerate as regenerate_documents
from recordgen.kinds import DOCUMENT_KINDS
from recordgen.returns.filing import regenerate_returns, stale_returns
from recordgen.services import Producers, open_producers

# What the command names one by one, and what it counts, in this order.
_NAMED = (Regenerated.WOULD_REGENERATE, Regenerated.SUPERSEDED, Regenerated.FAILED,
          Regenerated.LEFT_ALONE)


def _returns(services: Producers, selection: Selection, dry_run: bool,
             today: dt.date) -> list[str]:
    """The monitoring returns whose report template changed, remade (or, in a dry run, named);
    only when every document is being regenerated, not one case's or one kind's."""
    if selection != Selection(None, None, None, None):
        return []
    if dry_run:
        return [f"would regenerate: the {f.kind} return for {f.period.label} (template changed)"
                for f in stale_returns(services.store, services.settings)]
    return [f"regenerated: the {f.figures.period.label} {'quarterly' if f.figures.kpis else 'monthly'}"
            f" return, now version {f.version} (template changed)"
            for f in regenerate_returns(services.store, services.settings, today,
                                        services.converter)]


@click.command()
@click.option("--case", "case_ref", metavar="CASE_REF", callback=case_ref_option,
              help="Only this case.")
@click.option("--kind", type=click.Choice(sorted(DOCUMENT_KINDS)),
              help="Only this kind of document.")
@click.option("--from", "received_from", type=click.DateTime(["%Y-%m-%d"]),
              help="Only case files received on or after this date.")
@click.option("--to", "received_to", type=click.DateTime(["%Y-%m-%d"]),
              help="Only case files received on or before this date.")
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
@click.option("--workers", type=click.IntRange(min=1), help="Rendering processes (default: "
              "one per core).")
@click.pass_context
def regenerate(ctx: click.Context, case_ref: str | None, kind: str | None,
               received_from: dt.datetime | None, received_to: dt.datetime | None,
               dry_run: bool, workers: int | None) -> None:
    """Re-render documents with the current templates and settings; changed ones become new
    versions, unchanged ones are left alone."""
    settings = settings_of(ctx)
    selection = Selection(case_ref, kind, received_from.date() if received_from else None,
                          received_to.date() if received_to else None)
    out = console()
    processes = min(workers or os.cpu_count() or 1, os.cpu_count() or 1)
    with open_producers(settings, clock_of(ctx), pdf_processes=processes) as services:
        with Progress(TextColumn("Regenerating"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=out, transient=True,
                      disable=dry_run) as bar:
            task = bar.add_task("regenerate", total=None)
            try:
                results = regenerate_documents(
                    services, selection, dry_run=dry_run, workers=workers,
                    progress=lambda done, total: bar.update(task, completed=done, total=total))
            except KeyboardInterrupt:
                out.print("Stopped. Run the same command again to finish: what was done is "
                          "recorded, and nothing will be done twice.")
                ctx.exit(EXIT_INTERRUPTED)
        # What was done to the documents is said before the returns are looked at: if a return
        # stops the command, the documents already remade are not left unsaid.
        for result in results:
            if result.status in _NAMED:
                out.print(f"{result.status}: {result.case_ref} {result.series}"
                          + (f" ({result.reason})" if result.reason else ""))
        counts = {s: sum(1 for r in results if r.status is s) for s in Regenerated}
        out.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or
                  "No documents match.")
        for line in _returns(services, selection, dry_run, clock_of(ctx).now().date()):
            out.print(line)
    if counts[Regenerated.FAILED]:
        ctx.exit(EXIT_PROBLEMS)
