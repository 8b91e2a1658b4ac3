"""``recordgen report monthly`` and ``recordgen report quarterly``: the monitoring returns, counted
from the store and filed in the outbox's ``_returns`` folder."""

from __future__ import annotations

import datetime as dt

import click
from rich.table import Table

from recordgen.cli.context import clock_of, console, settings_of
from recordgen.dates import uk_date
from recordgen.records.seal import current_seal
from recordgen.records.seal import describe as describe_seal
from recordgen.returns.figures import MONEY_NOT_COUNTED
from recordgen.returns.filing import FiledReturn, file_return
from recordgen.returns.period import Period, between, month, quarter
from recordgen.services import open_converter, open_records
from recordgen.settings import Settings

_DAY = click.DateTime(["%Y-%m-%d"])


def _period(given: str | None, first: dt.datetime | None, last: dt.datetime | None,
            read: str, settings: Settings) -> Period:
    if given and (first or last):
        raise click.UsageError(f"Give either --{read} or --from and --to, not both.")
    if first or last:
        if not (first and last):
            raise click.UsageError("Give both --from and --to (YYYY-MM-DD), or neither.")
        try:
            return between(first.date(), last.date())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--from/--to") from None
    if not given:
        raise click.UsageError(f"Say which period: --{read} (for example --{read} "
                               f"{'2026-11' if read == 'month' else '2026-Q3'}), or --from and --to.")
    try:
        return month(given) if read == "month" else quarter(given, settings.returns.year_starts_in)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{read}") from None


def _run(ctx: click.Context, period: Period, quarterly: bool) -> None:
    settings = settings_of(ctx)
    today = clock_of(ctx).now().date()
    if period.first > today:
        raise click.UsageError(
            f"{period.label} has not begun: its first day is {uk_date(period.first)}, after today "
            f"({uk_date(today)}). There is nothing to count for it yet, so no return is filed.")
    with open_records(settings, clock_of(ctx), may_create=False) as store, \
            open_converter(settings) as converter:
        filed = file_return(store, settings, period, today, quarterly=quarterly,
                            converter=converter)
        seal = current_seal(store)
    _show(filed)
    if seal is not None:
        # The witness outside the store: kept with the return, it lets `recordgen verify` show
        # later that the records the return was counted from were not rewritten.
        click.echo(f"The records store's seal after filing it, {describe_seal(seal)}. Keep this "
                   "line with the return.")


def _show(filed: FiledReturn) -> None:
    found = filed.figures
    table = Table(title=f"{'Quarterly' if found.kpis else 'Monthly'} return: {found.period.label}")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    for figure in (*found.monthly, *found.quarterly):
        table.add_row(figure.name, figure.shown)  # as the report shows it: 1,234 and £1,234.50
    for kpi in found.kpis:
        # "3 of 4: 75.0% (missed)"; with no one to count, "0 of 0: no leavers", said once.
        result = "" if kpi.percentage is None else f" ({kpi.result})"
        table.add_row(f"{kpi.number} {kpi.name}",
                      f"{len(kpi.numerator):,} of {len(kpi.denominator):,}: "
                      f"{kpi.percentage_words}{result}")
    console().print(table)
    if found.so_far:
        click.echo(f"{found.period.label} has not ended: every figure is counted so far, up to "
                   f"today, {uk_date(found.as_of)}. File the return again after "
                   f"{uk_date(found.period.last)} for the whole period.")
    left = sum(f.value for f in found.monthly if f.name == MONEY_NOT_COUNTED)
    if left:
        awards = "award of money secured is" if left == 1 else "awards of money secured are"
        click.echo(f"{left:,} {awards} not counted, so the money totals may be short: the "
                   "internal workbook's Counted sheet gives each one's case and money reference "
                   "and why (an amount, a decision date, a type or a status that cannot be read "
                   "or is not one recordgen knows). Drop a corrected money_secured case file with "
                   "the same money reference into the inbox, then file the return again.")
    where = "already filed, unchanged" if filed.already_filed else "filed"
    click.echo(f"Version {filed.version}, {where}, in the outbox:")
    for name in filed.files:
        click.echo(f"  {name}")


@click.group()
def report() -> None:
    """The monitoring returns, counted from the records and filed in the outbox's _returns
    folder: a workbook for the commissioner (no names, no case references), an internal one (with
    the case references behind every figure), one per support worker, and CSV files."""


@report.command()
@click.option("--month", "given", metavar="YYYY-MM", help="The month, for example 2026-11.")
@click.option("--from", "first", type=_DAY, help="Any period's first day (YYYY-MM-DD).")
@click.option("--to", "last", type=_DAY, help="Its last day (YYYY-MM-DD).")
@click.pass_context
def monthly(ctx: click.Context, given: str | None, first: dt.datetime | None,
            last: dt.datetime | None) -> None:
    """The Service standard's monthly figures and the statutory clocks for a month."""
    _run(ctx, _period(given, first, last, "month", settings_of(ctx)), quarterly=False)


@report.command()
@click.option("--quarter", "given", metavar="YYYY-Qn",
              help="The quarter, for example 2026-Q3 ([returns] quarters says how they are "
                   "numbered).")
@click.option("--from", "first", type=_DAY, help="Any period's first day (YYYY-MM-DD).")
@click.option("--to", "last", type=_DAY, help="Its last day (YYYY-MM-DD).")
@click.pass_context
def quarterly(ctx: click.Context, given: str | None, first: dt.datetime | None,
              last: dt.datetime | None) -> None:
    """The Floating support specification's Appendix 1 against its targets, with the monthly
    figures and the statutory clocks, for a quarter."""
    _run(ctx, _period(given, first, last, "quarter", settings_of(ctx)), quarterly=True)
