"""``recordgen due``: every open statutory clock, soonest first, with where each case stands."""

from __future__ import annotations

import datetime as dt

import click
from rich.table import Table

from recordgen.cli.context import case_ref_option, clock_of, console, settings_of
from recordgen.dates import uk_date
from recordgen.deadlines.clocks import ClockName
from recordgen.deadlines.due import due_csv, due_rows, with_case_status
from recordgen.records.case_status import case_statuses
from recordgen.services import open_records


@click.command()
@click.option("--overdue", is_flag=True, help="Only clocks already past their due date.")
@click.option("--within", type=click.IntRange(min=0), metavar="N",
              help="Only clocks due within N working days (overdue ones included).")
@click.option("--case", "case_ref", metavar="CASE_REF", callback=case_ref_option,
              help="Only this case.")
@click.option("--kind", "clock_name", type=click.Choice([c.value for c in ClockName]),
              help="Only this kind of clock.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for a spreadsheet.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True)
@click.pass_context
def due(ctx: click.Context, overdue: bool, within: int | None, case_ref: str | None,
        clock_name: str | None, as_csv: bool, today: dt.datetime | None) -> None:
    """List every open statutory clock, soonest first, with each case's status (the two-year
    support limit only from its warning weeks before it, unless asked for with --kind)."""
    settings = settings_of(ctx)
    now = clock_of(ctx).now()
    day = today.date() if today else now.date()
    with open_records(settings, clock_of(ctx), seal=False) as store:
        rows = due_rows(store.clocks(open_only=True),
                        settings.calendar, day, overdue_only=overdue,
                        within=within, case_ref=case_ref,
                        clock=ClockName(clock_name) if clock_name else None,
                        rules=settings.rules, now=None if today else now)  # --today: by day
        rows = with_case_status(rows, case_statuses(store, day, {r.case_ref for r in rows}))
    if as_csv:
        click.echo(due_csv(rows), nl=False)
        return
    if not rows:
        click.echo("Nothing is due: no open clocks match.")
        return
    table = Table(title=f"Open statutory clocks on {uk_date(day)}")
    for column in ("Case", "Case status", "What is due", "Due by", "Working days left"):
        table.add_column(column, overflow="fold")
    for row in rows:
        left = f"{row.working_days_left} (overdue)" if row.overdue else \
            str(row.working_days_left)
        table.add_row(row.case_ref, row.case_status, row.what_in_full, row.due_text, left)
    console().print(table)
