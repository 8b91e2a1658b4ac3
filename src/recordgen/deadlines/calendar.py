"""Working days and the statutory clocks of a housing-support service.

Everything here is pure: the calendar, the dates and the rules are arguments, and nothing reads the
clock, so "today" is always the caller's to give (DESIGN.md §4).

A working day is Monday to Friday, minus the bank holidays of the service's nation as the
``holidays`` package knows them (substitute days included), minus the service's own closure days.

Two ways of counting are used, because the sources use two:

* working-day clocks (exit letter, hard copy of the plan): day 1 is the first working day after the
  day the request arrived, whatever kind of day that was;
* calendar clocks (assessment, review, subject access): counted on the calendar from the day itself.
  Only the subject access clock moves off a weekend or bank holiday, because the ICO says so; the
  others are promises of "no later than" and are never pushed later;
* hour clocks (referral contact, serious incident): real hours from the moment, weekends included.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import Enum

import holidays

from recordgen.clock import UK
from recordgen.errors import SettingsError
from recordgen.settings import NATIONS, Interval, Rules, Settings

ONE_DAY = dt.timedelta(days=1)

# holidays' subdivisions of "GB". England and Wales have the same bank holidays; the package lists
# them separately (ENG and WLS), so England stands for both.
_SUBDIVISIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
NATION_NAMES = {
    "england-and-wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
}

# English names, not strftime's %A and %B, which follow the machine's locale.
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


# --- Dates as case files and the store write them -----------------------------------------------


def parse_date(value: object) -> dt.date | None:
    """A date written YYYY-MM-DD, or None for anything else (a missing or malformed value is the
    schema's to report)."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_local_datetime(value: object) -> dt.datetime | None:
    """A UK local date and time written YYYY-MM-DDTHH:MM[:SS], or None."""
    if not isinstance(value, str) or len(value) not in (16, 19) or value[10] != "T":
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_when(text: str) -> dt.date | dt.datetime:
    """A clock's start or due as the store keeps it: a date, or a date and time."""
    return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)


# --- Dates as people write them ----------------------------------------------------------------


def uk_date(day: dt.date) -> str:
    """``23 November 2026``: the day without a leading zero, the month in words."""
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def uk_long_date(day: dt.date) -> str:
    """``Monday 23 November 2026``."""
    return f"{_DAY_NAMES[day.weekday()]} {uk_date(day)}"


def uk_date_time(moment: dt.datetime) -> str:
    """``14:30 on Thursday 24 December 2026``: the 24-hour clock, as UK letters write it."""
    return f"{moment:%H:%M} on {uk_long_date(moment)}"


# --- The calendar --------------------------------------------------------------------------------


@functools.cache
def _bank_holidays(nation: str, year: int) -> frozenset[dt.date]:
    """The bank holidays of ``nation`` in ``year``, looked up once per nation and year."""
    table = holidays.country_holidays(
        "GB", subdiv=_SUBDIVISIONS[nation], years=year, observed=True, categories=holidays.PUBLIC
    )
    # Outside its years the package answers with no holidays at all, which would quietly turn every
    # weekday into a working day; refuse instead.
    if not table.start_year <= year <= table.end_year:
        raise SettingsError(
            f"recordgen knows the bank holidays of {NATION_NAMES[nation]} only for the years "
            f"{table.start_year} to {table.end_year}, and {year} is outside them. "
            "Check the date: it may have a mistyped year."
        )
    return frozenset(table)


@functools.cache
def covered_years() -> range:
    """The years whose bank holidays the installed ``holidays`` package knows."""
    table = holidays.country_holidays("GB")
    return range(table.start_year, table.end_year + 1)


@dataclass(frozen=True)
class ServiceCalendar:
    """The working days of one service: its nation's bank holidays and its own closure days."""

    nation: str
    closures: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        if self.nation not in NATIONS:
            raise SettingsError(
                f'The nation "{self.nation}" is not one recordgen knows; use one of {", ".join(NATIONS)}.'
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceCalendar:
        return cls(nation=settings.nation, closures=frozenset(settings.closure_days))

    def is_bank_holiday(self, day: dt.date) -> bool:
        """True on a bank holiday of the nation, including a substitute day for one at a weekend."""
        return day in _bank_holidays(self.nation, day.year)

    def is_working_day(self, day: dt.date) -> bool:
        """Monday to Friday, not a bank holiday of the nation, not a closure day of the service."""
        return day.weekday() < 5 and day not in self.closures and not self.is_bank_holiday(day)


# --- Counting working days -----------------------------------------------------------------------


def next_working_day(cal: ServiceCalendar, day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, otherwise the first working day after it."""
    while not cal.is_working_day(day):
        day += ONE_DAY
    return day


def add_working_days(cal: ServiceCalendar, start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start``: day 1 is the first working day after ``start``,
    whether or not ``start`` is itself a working day. ``n == 0`` gives ``start`` back."""
    if n < 0:
        raise ValueError(f"add_working_days counts forwards only; got n={n}")
    day = start
    for _ in range(n):
        day = next_working_day(cal, day + ONE_DAY)
    return day


def working_days_between(cal: ServiceCalendar, start: dt.date, end: dt.date) -> int:
    """The working days after ``start`` up to and including ``end``, negative when ``end`` is before
    ``start``; so ``working_days_between(cal, s, add_working_days(cal, s, n)) == n``."""
    if end < start:
        return -working_days_between(cal, end, start)
    span = (end - start).days
    return sum(cal.is_working_day(start + dt.timedelta(days=i)) for i in range(1, span + 1))


def working_days_left(cal: ServiceCalendar, today: dt.date, due: dt.date) -> int:
    """Working days from ``today`` to ``due``: 0 when it is due today (or only non-working days
    are left), and when overdue, minus the working days it is late by (see :func:`lateness`)."""
    if due >= today:
        return working_days_between(cal, today, due)
    return -_working_days_late(cal, due, today)


def _working_days_late(cal: ServiceCalendar, due: dt.date, produced: dt.date) -> int:
    # The working days after the due date up to and including the day it was produced; anything
    # late is at least one, so a letter due on Friday and dated Saturday is one working day late.
    return max(1, working_days_between(cal, due, produced))


# --- The ICO's calendar month --------------------------------------------------------------------


def _next_weekday_not_bank_holiday(cal: ServiceCalendar, day: dt.date) -> dt.date:
    # ICO, right of access, "How long do we have to comply?": "If the corresponding date falls on a
    # weekend or a public holiday, you have until the next working day to respond." A service's own
    # closure days are not public holidays: the legal clock keeps running while the office is shut.
    while day.weekday() >= 5 or cal.is_bank_holiday(day):
        day += ONE_DAY
    return day


def calendar_months_after(cal: ServiceCalendar, received: dt.date, months: int) -> dt.date:
    """The ICO's reckoning of ``months`` calendar months from ``received``.

    The day of receipt starts the clock, whether or not it is a working day; the limit is the
    corresponding date ``months`` later, or that month's last day when it has none (31 January ->
    28 or 29 February); a weekend or bank holiday moves it to the next working day.
    """
    # Interval.after gives the same day-of-month, or the month's last day when there is none.
    return _next_weekday_not_bank_holiday(cal, Interval(months, "months").after(received))


def one_calendar_month(cal: ServiceCalendar, received: dt.date) -> dt.date:
    """UK GDPR Article 12(3): "within one month of receipt", as the ICO counts it."""
    return calendar_months_after(cal, received, 1)


def sar_due(cal: ServiceCalendar, received: dt.date, extended: bool = False) -> dt.date:
    """When a subject access response is due. With ``extended``, Article 12(3)'s "further two
    months": the ICO says to "calculate the extension as three months from the original start
    date", so three months from receipt, not two from the first due date."""
    return calendar_months_after(cal, received, 3 if extended else 1)


# --- The clocks ----------------------------------------------------------------------------------


def hours_after(moment: dt.datetime, hours: int) -> dt.datetime:
    """``hours`` real hours after ``moment``. A time without a zone is UK local time, and the answer
    comes back the same way. Counted in UTC, so across the October clock change "24 hours" does
    not quietly become 25 on the wall clock (nor 23 in March)."""
    local = moment if moment.tzinfo else moment.replace(tzinfo=UK)
    later = (local.astimezone(dt.UTC) + dt.timedelta(hours=hours)).astimezone(local.tzinfo)
    return later if moment.tzinfo else later.replace(tzinfo=None)


def exit_letter_due(cal: ServiceCalendar, rules: Rules, received: dt.date) -> dt.date:
    # Service standard "When you leave or stop using the Housing Support Service": "We will write and
    # confirm receipt of the request within seven working days".
    return add_working_days(cal, received, rules.exit_letter_working_days)


def assessment_due(cal: ServiceCalendar, rules: Rules, entered: dt.date) -> dt.date:
    # Service standard "Housing support assessments and personal support plans": "finished within seven
    # days of you entering the service" - calendar days, and never later for a weekend.
    return entered + dt.timedelta(days=rules.assessment_days)


def referral_contact_due(cal: ServiceCalendar, rules: Rules, referred: dt.datetime) -> dt.datetime:
    # Floating support specification §4.3.1: "contact individuals referred into the service within
    # 48 hours": hours, not working days, so weekends and bank holidays count.
    return hours_after(referred, rules.referral_contact_hours)


def review_due(cal: ServiceCalendar, rules: Rules, plan_date: dt.date) -> dt.date:
    # Service standard: review "no later than every 12 weeks"; Support planning policy §5.11: every
    # six or 12 months. The service's interval is the latest allowed date, so it is never moved
    # later.
    return rules.max_review_interval.after(plan_date)


def hard_copy_due(cal: ServiceCalendar, rules: Rules, requested: dt.date) -> dt.date:
    # Support planning policy §5.10: a hard copy of the support plan "will be provided ... within 5
    # working days".
    return add_working_days(cal, requested, rules.hard_copy_working_days)


def incident_notification_due(cal: ServiceCalendar, rules: Rules, occurred: dt.datetime) -> dt.datetime:
    # Employment development project specification "Additional reporting": serious incidents
    # reported "as soon as it is practical"; the hours that means are the commissioner's, so a
    # setting.
    return hours_after(occurred, rules.incident_notification_hours)


class ClockName(Enum):
    """Every statutory clock recordgen keeps; the value is the name the CLI uses."""

    EXIT_LETTER = "exit-letter"
    SAR = "sar"
    ASSESSMENT = "assessment"
    REVIEW = "review"
    HARD_COPY = "hard-copy"
    INCIDENT = "incident"
    REFERRAL = "referral"

    @property
    def description(self) -> str:
        """What is due, in the words a member of staff would use."""
        return _DESCRIPTIONS[self]

    @property
    def counts_hours(self) -> bool:
        """True for clocks that run in hours from a moment, not in days from a date."""
        return self in (ClockName.INCIDENT, ClockName.REFERRAL)


_DESCRIPTIONS = {
    ClockName.EXIT_LETTER: "exit confirmation letter",
    ClockName.SAR: "subject access response",
    ClockName.ASSESSMENT: "needs and risk assessment",
    ClockName.REVIEW: "support plan review",
    ClockName.HARD_COPY: "hard copy of the support plan",
    ClockName.INCIDENT: "serious incident notification",
    ClockName.REFERRAL: "first contact after a referral",
}


def _counted(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def allowance(clock: ClockName, rules: Rules, extended: bool = False) -> str:
    """The time a clock allows, in words: "7 working days", "one calendar month", "24 hours"."""
    match clock:
        case ClockName.EXIT_LETTER:
            return _counted(rules.exit_letter_working_days, "working day")
        case ClockName.SAR:
            return "three calendar months" if extended else "one calendar month"
        case ClockName.ASSESSMENT:
            return _counted(rules.assessment_days, "day")
        case ClockName.REVIEW:
            return str(rules.max_review_interval)
        case ClockName.HARD_COPY:
            return _counted(rules.hard_copy_working_days, "working day")
        case ClockName.INCIDENT:
            return _counted(rules.incident_notification_hours, "hour")
        case ClockName.REFERRAL:
            return _counted(rules.referral_contact_hours, "hour")


def deadline_for(
    clock: ClockName,
    cal: ServiceCalendar,
    rules: Rules,
    when: dt.date,
    extended: bool = False,
) -> dt.date:
    """The due date of ``clock`` started at ``when``.

    ``when`` is a datetime for the clocks that count hours (and a datetime comes back); for the
    others a date (a datetime is taken as its date). ``extended`` applies to subject access only.
    """
    if extended and clock is not ClockName.SAR:
        raise ValueError(f"only a subject access clock can be extended, not {clock.value}")
    match clock:
        case ClockName.EXIT_LETTER:
            return exit_letter_due(cal, rules, _day(when))
        case ClockName.SAR:
            return sar_due(cal, _day(when), extended)
        case ClockName.ASSESSMENT:
            return assessment_due(cal, rules, _day(when))
        case ClockName.REVIEW:
            return review_due(cal, rules, _day(when))
        case ClockName.HARD_COPY:
            return hard_copy_due(cal, rules, _day(when))
        case ClockName.INCIDENT:
            return incident_notification_due(cal, rules, _moment(clock, when))
        case ClockName.REFERRAL:
            return referral_contact_due(cal, rules, _moment(clock, when))


def _day(when: dt.date) -> dt.date:
    return when.date() if isinstance(when, dt.datetime) else when


def _moment(clock: ClockName, when: dt.date) -> dt.datetime:
    if not isinstance(when, dt.datetime):
        raise TypeError(f"the {clock.value} clock counts hours and needs a datetime, not a date")
    return when


# --- Was it on time? -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lateness:
    """Whether something was produced by its due date, and if not, how late in working days."""

    due: dt.date
    produced: dt.date
    working_days_late: int

    @property
    def met(self) -> bool:
        return self.working_days_late == 0


def lateness(cal: ServiceCalendar, due: dt.date, produced: dt.date) -> Lateness:
    """Judge ``produced`` against ``due``: two datetimes (an hour clock) are compared to the minute,
    anything else by date. Late work counts the working days after ``due`` up to and including
    the day it was produced, and at least one."""
    both_moments = isinstance(due, dt.datetime) and isinstance(produced, dt.datetime)
    due_day, produced_day = _day(due), _day(produced)
    on_time = produced <= due if both_moments else produced_day <= due_day
    if on_time:
        return Lateness(due, produced, 0)
    return Lateness(due, produced, _working_days_late(cal, due_day, produced_day))
