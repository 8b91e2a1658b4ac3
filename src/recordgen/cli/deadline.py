"""``recordgen deadline``: the answer to "when is this due?", asked on the phone.

Each subcommand starts one clock from a date (or a date and time), prints one line a person reads
(or, with ``--json``, one JSON object), and counts the working days left from today. The date logic
is all in :mod:`recordgen.calendar`; this module only parses, calls and words the answer.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import click

from recordgen.calendar import NATIONS, ServiceCalendar, covered_years, working_days_left
from recordgen.cli.context import clock_of
from recordgen.dates import uk_date_time, uk_long_date, working_days_words
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
        return f"{subject} was due by {_when(due)} ({rule}); it is {working_days_words(-left)} overdue."
    if due_day == today:
        return f"{subject} is due by {_when(due)} ({rule}; that is today)."
    if left > 0:
        return f"{subject} is due by {_when(due)} ({rule}; {working_days_words(left)} from today)."
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


@dataclass(frozen=True)
class _Question:
    """One ``recordgen deadline`` subcommand: the clock, the option giving its start, and its help
    (the first line is the one ``recordgen deadline --help`` lists)."""

    command: str
    clock: ClockName
    option: str
    starts: _DateParam | _DateTimeParam
    option_help: str
    help: str
    extendable: bool = False  # the ICO's two-month extension (--extended)


_QUESTIONS = (
    _Question("exit-letter", ClockName.EXIT_LETTER, "--received", DATE,
              "The day the request to leave arrived.",
              "Exit confirmation letter, from the request to leave.\n\nDue the set number of "
              "working days after the request arrived (7 in Service standard)."),
    _Question("sar", ClockName.SAR, "--received", DATE, "The day the request arrived.",
              "Subject access response, from the request.\n\nDue one calendar month from receipt, "
              "or three with the extension, as the ICO counts them.", extendable=True),
    _Question("assessment", ClockName.ASSESSMENT, "--entered", DATE,
              "The day the person entered the service.",
              "Needs and risk assessment, from entering the service.\n\nDue the set number of days "
              "after the person entered the service (7 in Service standard)."),
    _Question("review", ClockName.REVIEW, "--plan-date", DATE, "The date of the current plan.",
              "Support plan review, from the plan's date.\n\nDue no later than the service's review "
              "interval (12 weeks in the Service standard; the Support planning policy allows 6 or "
              "12 months)."),
    _Question("hard-copy", ClockName.HARD_COPY, "--requested", DATE,
              "The day the hard copy was asked for.",
              "Hard copy of the support plan, from the request.\n\nDue the set number of working "
              "days after the request (5 in Support planning policy §5.10)."),
    _Question("incident", ClockName.INCIDENT, "--occurred", DATETIME, "When the incident happened.",
              "Serious incident notification, from the incident.\n\nDue to the commissioning team "
              'within the set number of hours ("as soon as practical", Employment development '
              'project specification, "Additional reporting").'),
    _Question("referral", ClockName.REFERRAL, "--received", DATETIME,
              "When the referral arrived.",
              "First contact after a referral, from the referral.\n\nDue within the set number of "
              "hours (48 in Floating support specification §4.3.1)."),
    _Question("crisis", ClockName.CRISIS, "--received", DATETIME, "When the referral arrived.",
              "Crisis support after a referral, from the referral.\n\nDue within the set number of "
              "hours (24 in the Service standard)."),
    _Question("plan", ClockName.PLAN, "--entered", DATE, "The day the person entered the service.",
              "First support plan, from entering the service.\n\nDue the set number of days after "
              "the person entered the service (7 in the Service standard; the Support planning "
              "policy §5.1 gives 4 weeks)."),
    _Question("regular-review", ClockName.REGULAR_REVIEW, "--since", DATE,
              "The date of the plan or of the last review.",
              "Regular review, from the plan or the last review, where the service sets one.\n\n"
              "Due the service's regular review interval later (\"a minimum period of every four "
              'weeks" in the Service standard).'),
    _Question("support-limit", ClockName.SUPPORT_LIMIT, "--started", DATE,
              "The day support started.",
              "End of the support time limit, from the start of support.\n\nThe set number of years "
              "after support started (2 in Floating support specification §1.8); staff are warned "
              "the set number of weeks before it."),
    _Question("outcomes-form", ClockName.OUTCOMES_FORM, "--ended", DATE,
              "The day support ended (or the day the service learned of it, if later).",
              "Leaver's outcomes form, from the end of support.\n\nDue the set number of working "
              "days after support ended (a setting: 10 by default)."),
)


def _command(question: _Question) -> click.Command:
    """The subcommand asking ``question``: its start option, then the options every clock takes."""

    @click.pass_context
    def answer(ctx: click.Context, started: dt.date, nation: str | None, today: dt.date | None,
               as_json: bool, extended: bool = False) -> None:
        _answer(ctx, question.clock, started, nation, today, as_json, extended=extended)

    params: list[click.Parameter] = [
        click.Option([question.option, "started"], type=question.starts, required=True,
                     help=question.option_help)]
    if question.extendable:
        params.append(click.Option(["--extended"], is_flag=True,
                                   help="The person was told of the two-month extension in time."))
    params += [
        click.Option(["--nation"], type=click.Choice(NATIONS), default=None,
                     help="Use this nation's bank holidays instead of the one in the settings."),
        click.Option(["--json", "as_json"], is_flag=True,
                     help="Print a JSON object instead of a sentence."),
        click.Option(["--today"], type=DATE, default=None, hidden=True,
                     help="Count working days left from this date instead of today (for tests)."),
    ]
    return click.Command(question.command, callback=answer, params=params, help=question.help)


for _question in _QUESTIONS:
    deadline.add_command(_command(_question))
