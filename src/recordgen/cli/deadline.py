"""``recordgen deadline``: the answer to "when is this due?", asked on the phone.

Each subcommand starts one clock from a date (or a date and time), prints one line a person reads
(or, with ``--json``, one JSON object), and counts the working days left from today. The date logic
is all in :mod:`recordgen.calendar`; this module only parses, calls and words the answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import click

from recordgen.calendar import NATIONS, ServiceCalendar, covered_years, working_days_left
from recordgen.cli.context import clock_of
from recordgen.dates import uk_date_time, uk_long_date
from recordgen.deadlines.clocks import ClockName, allowance, deadline_for
from recordgen.errors import RecordgenError
from recordgen.settings import Rules, Settings

# No example date here: a message that names a fixed date ages (it reads as a hint about today).
_DATE_HELP = ("Write dates as YYYY-MM-DD: four digits for the year, then two for the month and two "
              "for the day.")
_DATETIME_HELP = ("Write a date and time as YYYY-MM-DD HH:MM: the date as four digits for the year and "
                  "two each for the month and the day, then the time on the 24-hour clock.")

# click 8.4 made ParamType generic; older clicks, which pyproject allows, cannot subscript it.
if TYPE_CHECKING:
    _DateParamBase = click.ParamType[dt.date]
    _DateTimeParamBase = click.ParamType[dt.datetime]
else:
    _DateParamBase = _DateTimeParamBase = click.ParamType


class _DateParam(_DateParamBase):
    """A calendar date written YYYY-MM-DD, and nothing looser (no 24/12/2026: it is ambiguous)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(f'"{text}" is not a date recordgen can read. {_DATE_HELP}', param, ctx)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text} is not a real date: check the month and the day. {_DATE_HELP}", param, ctx)


class _DateTimeParam(_DateTimeParamBase):
    """A date and a 24-hour time, YYYY-MM-DD HH:MM (a T instead of the space is fine)."""

    name = "DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
            self.fail(f'"{text}" is not a date and time recordgen can read. {_DATETIME_HELP}', param, ctx)
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text} is not a real date and time. {_DATETIME_HELP}", param, ctx)


DATE = _DateParam()
DATETIME = _DateTimeParam()

# How each clock's starting point reads in a sentence.
_STARTED_BY = {
    ClockName.EXIT_LETTER: "for a request received on {}",
    ClockName.SAR: "for a request received on {}",
    ClockName.ASSESSMENT: "for someone who entered the service on {}",
    ClockName.REVIEW: "for a plan dated {}",
    ClockName.HARD_COPY: "requested on {}",
    ClockName.INCIDENT: "for an incident at {}",
    ClockName.REFERRAL: "received at {}",
    ClockName.CRISIS: "for a referral received at {}",
    ClockName.PLAN: "for someone who entered the service on {}",
    ClockName.REGULAR_REVIEW: "after a plan or review dated {}",
    ClockName.SUPPORT_LIMIT: "for support that started on {}",
    ClockName.OUTCOMES_FORM: "for support that ended on {}",
}

F = TypeVar("F", bound=Callable[..., Any])


def _clock_options(command: F) -> F:
    """The options every clock takes: --nation, --json, and the hidden --today."""
    command = click.option(
        "--today",
        type=DATE,
        default=None,
        hidden=True,
        help="Count working days left from this date instead of today (for tests).",
    )(command)
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print a JSON object instead of a sentence."
    )(command)
    command = click.option(
        "--nation",
        type=click.Choice(NATIONS),
        default=None,
        help="Use this nation's bank holidays instead of the one in the settings.",
    )(command)
    return command


@click.group()
def deadline() -> None:
    """When a document is due: give the date a clock started, get the due date and the working
    days left. Bank holidays are those of the service's nation, plus its closure days."""


def _calendar_and_rules(ctx: click.Context, nation: str | None) -> tuple[ServiceCalendar, Rules]:
    settings = ctx.find_object(Settings)
    if settings is None:
        if nation is None:
            raise click.UsageError(
                "No settings were loaded, so recordgen does not know which nation's bank holidays "
                f"to use. Give --nation, one of {', '.join(NATIONS)}.",
                ctx,
            )
        return ServiceCalendar(nation), Rules()
    calendar = settings.calendar
    return (replace(calendar, nation=nation) if nation else calendar), settings.rules


def _when(moment: dt.date) -> str:
    return uk_date_time(moment) if isinstance(moment, dt.datetime) else uk_long_date(moment)


def _working_days(n: int) -> str:
    return f"{n} working day" if n == 1 else f"{n} working days"


def describe(
    clock: ClockName,
    started: dt.date,
    due: dt.date,
    rule: str,
    today: dt.date,
    left: int,
    extended: bool = False,
) -> str:
    """The one line ``recordgen deadline`` prints."""
    what = clock.description[0].upper() + clock.description[1:]
    subject = f"{what} {_STARTED_BY[clock].format(_when(started))}"
    if extended:
        subject += ", with the two-month extension,"
    due_day = due.date() if isinstance(due, dt.datetime) else due
    if due_day < today:
        return f"{subject} was due by {_when(due)} ({rule}); it is {_working_days(-left)} overdue."
    if due_day == today:
        return f"{subject} is due by {_when(due)} ({rule}; that is today)."
    if left > 0:
        return f"{subject} is due by {_when(due)} ({rule}; {_working_days(left)} from today)."
    days = (due_day - today).days
    if days == 1:
        return f"{subject} is due by {_when(due)} ({rule}; that is tomorrow)."
    return f"{subject} is due by {_when(due)} ({rule}; in {days} days, none of them a working day)."


def _answer(
    ctx: click.Context,
    clock: ClockName,
    started: dt.date,
    nation: str | None,
    today: dt.date | None,
    as_json: bool,
    extended: bool = False,
) -> None:
    """Work out one clock and print the answer; errors become a plain message and exit code 2."""
    calendar, rules = _calendar_and_rules(ctx, nation)
    today = today or clock_of(ctx).now().date()  # the library never reads the clock itself
    years = covered_years()
    if started.year not in years:
        raise click.UsageError(
            f"{started.year} is not a year recordgen can count in: the bank holidays it uses run "
            f"from {years[0]} to {years[-1]}. Check the year of the date.",
            ctx,
        )
    try:
        due = deadline_for(clock, calendar, rules, started, extended=extended)
        due_day = due.date() if isinstance(due, dt.datetime) else due
        left = working_days_left(calendar, today, due_day)
    except RecordgenError as exc:
        raise click.UsageError(str(exc), ctx) from exc
    rule = allowance(clock, rules, extended)
    if as_json:
        answer = {
            "clock": clock.value,
            "description": clock.description,
            "nation": calendar.nation,
            "started": started.isoformat(),
            "extended": extended,
            "allowance": rule,
            "due": due.isoformat(),
            "today": today.isoformat(),
            "working_days_left": left,
            "overdue": due_day < today,
        }
        click.echo(json.dumps(answer))
    else:
        click.echo(describe(clock, started, due, rule, today, left, extended))


@deadline.command("exit-letter")
@click.option("--received", type=DATE, required=True, help="The day the request to leave arrived.")
@_clock_options
@click.pass_context
def exit_letter(
    ctx: click.Context, received: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """Exit confirmation letter, from the request to leave.

    Due the set number of working days after the request arrived (7 in Service standard)."""
    _answer(ctx, ClockName.EXIT_LETTER, received, nation, today, as_json)


@deadline.command("sar")
@click.option("--received", type=DATE, required=True, help="The day the request arrived.")
@click.option("--extended", is_flag=True, help="The person was told of the two-month extension in time.")
@_clock_options
@click.pass_context
def sar(
    ctx: click.Context,
    received: dt.date,
    extended: bool,
    nation: str | None,
    today: dt.date | None,
    as_json: bool,
) -> None:
    """Subject access response, from the request.

    Due one calendar month from receipt, or three with the extension, as the ICO counts them."""
    _answer(ctx, ClockName.SAR, received, nation, today, as_json, extended=extended)


@deadline.command("assessment")
@click.option("--entered", type=DATE, required=True, help="The day the person entered the service.")
@_clock_options
@click.pass_context
def assessment(
    ctx: click.Context, entered: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """Needs and risk assessment, from entering the service.

    Due the set number of days after the person entered the service (7 in Service standard)."""
    _answer(ctx, ClockName.ASSESSMENT, entered, nation, today, as_json)


@deadline.command("review")
@click.option("--plan-date", type=DATE, required=True, help="The date of the current plan.")
@_clock_options
@click.pass_context
def review(
    ctx: click.Context, plan_date: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """Support plan review, from the plan's date.

    Due no later than the service's review interval (12 weeks in the Service standard; the Support
    planning policy allows 6 or 12 months)."""
    _answer(ctx, ClockName.REVIEW, plan_date, nation, today, as_json)


@deadline.command("hard-copy")
@click.option("--requested", type=DATE, required=True, help="The day the hard copy was asked for.")
@_clock_options
@click.pass_context
def hard_copy(
    ctx: click.Context, requested: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """Hard copy of the support plan, from the request.

    Due the set number of working days after the request (5 in Support planning policy §5.10)."""
    _answer(ctx, ClockName.HARD_COPY, requested, nation, today, as_json)


@deadline.command("incident")
@click.option("--occurred", type=DATETIME, required=True, help="When the incident happened.")
@_clock_options
@click.pass_context
def incident(
    ctx: click.Context,
    occurred: dt.datetime,
    nation: str | None,
    today: dt.date | None,
    as_json: bool,
) -> None:
    """Serious incident notification, from the incident.

    Due to the commissioning team within the set number of hours ("as soon as practical",
    Employment development project specification, "Additional reporting")."""
    _answer(ctx, ClockName.INCIDENT, occurred, nation, today, as_json)


@deadline.command("referral")
@click.option("--received", type=DATETIME, required=True, help="When the referral arrived.")
@_clock_options
@click.pass_context
def referral(
    ctx: click.Context,
    received: dt.datetime,
    nation: str | None,
    today: dt.date | None,
    as_json: bool,
) -> None:
    """First contact after a referral, from the referral.

    Due within the set number of hours (48 in Floating support specification §4.3.1)."""
    _answer(ctx, ClockName.REFERRAL, received, nation, today, as_json)


@deadline.command("crisis")
@click.option("--received", type=DATETIME, required=True, help="When the referral arrived.")
@_clock_options
@click.pass_context
def crisis(
    ctx: click.Context,
    received: dt.datetime,
    nation: str | None,
    today: dt.date | None,
    as_json: bool,
) -> None:
    """Crisis support after a referral, from the referral.

    Due within the set number of hours (24 in the Service standard)."""
    _answer(ctx, ClockName.CRISIS, received, nation, today, as_json)


@deadline.command("plan")
@click.option("--entered", type=DATE, required=True, help="The day the person entered the service.")
@_clock_options
@click.pass_context
def plan(
    ctx: click.Context, entered: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """First support plan, from entering the service.

    Due the set number of days after the person entered the service (7 in the Service standard;
    the Support planning policy §5.1 gives 4 weeks)."""
    _answer(ctx, ClockName.PLAN, entered, nation, today, as_json)


@deadline.command("regular-review")
@click.option("--since", "held", type=DATE, required=True,
              help="The date of the plan or of the last review.")
@_clock_options
@click.pass_context
def regular_review(
    ctx: click.Context, held: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """Regular review, from the plan or the last review, where the service sets one.

    Due the service's regular review interval later ("a minimum period of every four weeks" in the
    Service standard)."""
    _answer(ctx, ClockName.REGULAR_REVIEW, held, nation, today, as_json)


@deadline.command("support-limit")
@click.option("--started", type=DATE, required=True, help="The day support started.")
@_clock_options
@click.pass_context
def support_limit(
    ctx: click.Context, started: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """End of the support time limit, from the start of support.

    The set number of years after support started (2 in Floating support specification §1.8);
    staff are warned the set number of weeks before it."""
    _answer(ctx, ClockName.SUPPORT_LIMIT, started, nation, today, as_json)


@deadline.command("outcomes-form")
@click.option("--ended", type=DATE, required=True,
              help="The day support ended (or the day the service learned of it, if later).")
@_clock_options
@click.pass_context
def outcomes_form(
    ctx: click.Context, ended: dt.date, nation: str | None, today: dt.date | None, as_json: bool
) -> None:
    """Leaver's outcomes form, from the end of support.

    Due the set number of working days after support ended (a setting: 10 by default)."""
    _answer(ctx, ClockName.OUTCOMES_FORM, ended, nation, today, as_json)
