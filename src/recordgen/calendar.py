"""The working days of a housing-support service, and the calendar arithmetic its deadlines use.

Everything here is pure: the calendar and the dates are arguments, and nothing reads the clock, so
"today" is always the caller's to give (docs/design.md §4).

A working day is Monday to Friday, minus the bank holidays of the service's nation as the
``holidays`` package knows them (substitute days included), minus the service's own closure days.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from calendar import monthrange
from dataclasses import dataclass

import holidays

from recordgen.errors import SettingsError

ONE_DAY = dt.timedelta(days=1)

NATIONS = ("england-and-wales", "scotland", "northern-ireland")
NATION_NAMES = {
    "england-and-wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
}
# holidays' subdivisions of "GB". England and Wales have the same bank holidays; the package lists
# them separately (ENG and WLS), so England stands for both.
_SUBDIVISIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}


@dataclass(frozen=True)
class Interval:
    """A review interval such as "12 weeks" or "6 months" (the Service standard and the Support
    planning policy §5.11 differ)."""

    count: int
    unit: str  # "weeks" or "months"

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = re.fullmatch(r"\s*(\d+)\s*(week|weeks|month|months)\s*", text)
        if not match or int(match.group(1)) < 1:
            raise SettingsError(
                f'"{text}" is not an interval recordgen understands. '
                'Write it as a number of weeks or months, for example "12 weeks" or "6 months".'
            )
        unit = match.group(2)
        return cls(int(match.group(1)), unit if unit.endswith("s") else unit + "s")

    def after(self, start: dt.date) -> dt.date:
        """The last date allowed by this interval from ``start``."""
        if self.unit == "weeks":
            return start + dt.timedelta(weeks=self.count)
        month_index = start.month - 1 + self.count
        year, month = start.year + month_index // 12, month_index % 12 + 1
        # The same day of the month, or the month's last day when it has none (31 January -> 28
        # or 29 February).
        return dt.date(year, month, min(start.day, monthrange(year, month)[1]))

    def __str__(self) -> str:
        return f"{self.count} {self.unit if self.count != 1 else self.unit[:-1]}"


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
    return -working_days_late(cal, due, today)


def working_days_late(cal: ServiceCalendar, due: dt.date, produced: dt.date) -> int:
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

