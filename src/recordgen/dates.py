"""Dates and times: the one place that reads them as case files and the store write them, and
writes them as people read them.

Case files write a date ``YYYY-MM-DD`` and a moment ``YYYY-MM-DDTHH:MM`` (UK local time); the
store writes the same, or a moment with its offset. People read "23 November 2026", "Monday
23 November 2026" and "2:30pm on Monday 23 November 2026", in documents and messages alike: the day
without a leading zero, the month in words (English names, not strftime's, which follow the
machine's locale), and times as GOV.UK's style writes them ("9:40am", "2pm", "midday",
"midnight"). Nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import functools

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

When = dt.date | dt.datetime  # a clock starts and falls due on a date, or at a moment


# --- reading ------------------------------------------------------------------------------------


# The years a case file's dates may fall in. Outside them a year is mistyped (2206 for 2026), and
# a deadline counted from it would need bank holidays no one has published (the holidays package
# knows them to 2100; a deadline may fall a few weeks after the date it is counted from).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2099


def mistyped_year(value: object) -> int | None:
    """The year of a real date or date and time written the right way (``2206-11-30``) but
    outside :data:`EARLIEST_YEAR` to :data:`LATEST_YEAR`; None otherwise."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        year = dt.date.fromisoformat(value[:10]).year
    except ValueError:
        return None
    return None if EARLIEST_YEAR <= year <= LATEST_YEAR else year


def parse_date(value: object) -> dt.date | None:
    """A date written YYYY-MM-DD in the years a case file's dates may fall in, or None for
    anything else (a missing or malformed value, or a mistyped year, is the schema's to report)."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    return _date_of(value)


@functools.lru_cache(maxsize=4096)
def _date_of(text: str) -> dt.date | None:
    """The date ``text`` (ten characters) writes, read once however often it is met: a return
    reads a few days, written hundreds of thousands of times, and holds one object for each."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST_YEAR <= day.year <= LATEST_YEAR else None


def parse_moment(value: object) -> dt.datetime | None:
    """A UK local date and time written YYYY-MM-DDTHH:MM[:SS], or None (for anything else: a time
    with a UTC offset, which is not UK local time as written, or a mistyped year, too)."""
    if not isinstance(value, str) or len(value) not in (16, 19) or value[10] != "T":
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    return moment


def date_field(value: object) -> dt.date:
    """A date from a case file that has passed validation; ValueError if it is not one."""
    day = parse_date(value)
    if day is None:
        raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")
    return day


def moment_field(value: object) -> dt.datetime:
    """A date and time from a case file that has passed validation; ValueError if it is not one."""
    moment = parse_moment(value)
    if moment is None:
        raise ValueError(f"{value!r} is not a date and time written YYYY-MM-DDTHH:MM")
    return moment


def parse_when(text: str) -> When:
    """A date, or a date and time, as the store keeps a clock's start and due."""
    return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)


def day_of(when: When) -> dt.date:
    """The date of a date or of a moment."""
    return when.date() if isinstance(when, dt.datetime) else when


# --- writing ------------------------------------------------------------------------------------


def uk_date(day: dt.date) -> str:
    """``23 November 2026``."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def uk_long_date(day: dt.date) -> str:
    """``Monday 23 November 2026``."""
    return f"{DAY_NAMES[day.weekday()]} {uk_date(day)}"


def uk_time(moment: dt.datetime | dt.time) -> str:
    """``9:40am``, ``2pm``, ``midday``, ``midnight``."""
    if moment.minute == 0 and moment.hour in (0, 12):
        return "midnight" if moment.hour == 0 else "midday"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def uk_date_time(moment: dt.datetime) -> str:
    """``2:30pm on Monday 23 November 2026``."""
    return f"{uk_time(moment)} on {uk_long_date(moment.date())}"


def working_days_words(count: int) -> str:
    """``1 working day``, ``3 working days``."""
    return f"{count} working day{'s' if count != 1 else ''}"


def uk_when(when: When) -> str:
    """A date as :func:`uk_date`, a moment as :func:`uk_date_time`."""
    return uk_date_time(when) if isinstance(when, dt.datetime) else uk_date(when)
