"""The period a return covers: a month, a quarter, or any run of days, in UK local dates.

Every date in a case file is a UK local date (and every moment a UK local time), so a period is a
first and a last day, both included: the quarter July to September 2026 runs from 1 July to 30
September, and a case closed at 23:30 on 30 September counts in it, whatever the clocks say in
UTC. Quarters are calendar quarters (2026-Q3 is July to September 2026) unless the service numbers
them by financial year (``[returns] quarters = "financial"``: 2026-Q1 is April to June 2026, and
2026-Q4 is January to March 2027).

A period that has not ended is counted so far (:func:`so_far`): up to today, never beyond, so that
nothing still to come (a leaving date next week, tonight in hospital, a deadline later in the
month) is counted as if it had happened.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from recordgen.dates import MONTH_NAMES, uk_date

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[Qq]([1-4])")


@dataclass(frozen=True)
class Period:
    """The days a return covers, both ends included, and how it is named."""

    first: dt.date
    last: dt.date
    label: str  # "November 2026", "2026-Q3 (July to September 2026)"
    key: str  # "2026-11", "2026-Q3", "2026-09-01_2026-09-30": for file names
    # Counted so far (:func:`so_far`): ``last`` is today, a day not over yet, and the period goes
    # on after it. False: every day of the period is over.
    so_far: bool = False

    def holds(self, day: dt.date | None) -> bool:
        return day is not None and self.first <= day <= self.last


def so_far(period: Period, today: dt.date) -> Period:
    """The days of ``period`` that can be counted on ``today``: all of them once it has ended
    (today is after its last day); otherwise its days up to today, with its label and key, marked
    ``so_far`` (today is not over). A period that has not begun holds no day so far."""
    if today > period.last:
        return period
    return Period(period.first, today, period.label, period.key, so_far=True)


def month(text: str) -> Period:
    """``2026-11`` -> November 2026. ValueError, in plain English, for anything else."""
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f'"{text}" is not a month. Write the year and the month, for example '
                         "2026-11 for November 2026.")
    year, number = int(found.group(1)), int(found.group(2))
    return month_of(year, number)


def month_of(year: int, number: int) -> Period:
    first = dt.date(year, number, 1)
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return Period(first, following - dt.timedelta(days=1), f"{MONTH_NAMES[number - 1]} {year}",
                  f"{year}-{number:02d}")


def quarter(text: str, year_starts_in: int = 1) -> Period:
    """``2026-Q3`` -> the third quarter of 2026 as the service numbers quarters: July to
    September 2026 in calendar quarters (``year_starts_in`` 1), October to December 2026 in
    financial-year quarters (``year_starts_in`` 4). ValueError for anything else."""
    found = _QUARTER.fullmatch(text.strip())
    if not found:
        raise ValueError(f'"{text}" is not a quarter. Write the year, Q and the quarter\'s number, '
                         "for example 2026-Q3.")
    return quarter_of(int(found.group(1)), int(found.group(2)), year_starts_in)


def quarter_of(year: int, number: int, year_starts_in: int = 1) -> Period:
    start_month = year_starts_in + 3 * (number - 1)
    first = dt.date(year + (start_month - 1) // 12, (start_month - 1) % 12 + 1, 1)
    last_month = month_of(*_add_months(first.year, first.month, 2))
    words = f"{MONTH_NAMES[first.month - 1]} to {last_month.label}"
    if first.year != last_month.first.year:
        words = f"{MONTH_NAMES[first.month - 1]} {first.year} to {last_month.label}"
    return Period(first, last_month.last, f"{year}-Q{number} ({words})", f"{year}-Q{number}")


def quarter_containing(day: dt.date, year_starts_in: int = 1) -> Period:
    """The quarter, as the service numbers them, that ``day`` falls in."""
    months_in = (day.month - year_starts_in) % 12
    year = day.year if day.month >= year_starts_in else day.year - 1
    return quarter_of(year, months_in // 3 + 1, year_starts_in)


def quarters_before(period: Period, count: int, year_starts_in: int = 1) -> list[Period]:
    """The ``count`` quarters up to and including the one ``period`` ends in, oldest first."""
    found = [quarter_containing(period.last, year_starts_in)]
    while len(found) < count:
        found.insert(0, quarter_containing(found[0].first - dt.timedelta(days=1), year_starts_in))
    return found


def months_before(period: Period, count: int) -> list[Period]:
    """The ``count`` months up to and including the one ``period`` ends in, oldest first."""
    year, number = period.last.year, period.last.month
    return [month_of(*_add_months(year, number, -back)) for back in range(count - 1, -1, -1)]


def year_start(day: dt.date, year_starts_in: int = 1) -> dt.date:
    """The first day of the reporting year ``day`` falls in."""
    year = day.year if day.month >= year_starts_in else day.year - 1
    return dt.date(year, year_starts_in, 1)


def between(first: dt.date, last: dt.date) -> Period:
    """Any run of days, both included. ValueError when it ends before it starts."""
    if last < first:
        raise ValueError(f"The period ends ({uk_date(last)}) before it starts ({uk_date(first)}). "
                         "Give --from the earlier date.")
    return Period(first, last, f"{uk_date(first)} to {uk_date(last)}",
                  f"{first.isoformat()}_{last.isoformat()}")


def _add_months(year: int, number: int, months: int) -> tuple[int, int]:
    index = year * 12 + number - 1 + months
    return index // 12, index % 12 + 1
