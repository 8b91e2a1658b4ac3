"""When each statutory clock falls due, in words and in dates, and whether it was met.

Three ways of counting are used, because the policies use three:

* working-day clocks (exit letter, hard copy of the plan): day 1 is the first working day after the
  day the request arrived, whatever kind of day that was;
* calendar clocks (assessment, review, subject access): counted on the calendar from the day itself.
  Only the subject access clock moves off a weekend or bank holiday, because the ICO says so; the
  others are promises of "no later than" and are never pushed later;
* hour clocks (referral contact, serious incident): real hours from the moment, weekends included.

Everything here is pure: the calendar, the rules and "today" are the caller's to give.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from recordgen.calendar import (
    ServiceCalendar,
    add_working_days,
    sar_due,
    working_days_late,
)
from recordgen.clock import UK
from recordgen.dates import day_of
from recordgen.settings import Rules

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
            return exit_letter_due(cal, rules, day_of(when))
        case ClockName.SAR:
            return sar_due(cal, day_of(when), extended)
        case ClockName.ASSESSMENT:
            return assessment_due(cal, rules, day_of(when))
        case ClockName.REVIEW:
            return review_due(cal, rules, day_of(when))
        case ClockName.HARD_COPY:
            return hard_copy_due(cal, rules, day_of(when))
        case ClockName.INCIDENT:
            return incident_notification_due(cal, rules, _needs_moment(clock, when))
        case ClockName.REFERRAL:
            return referral_contact_due(cal, rules, _needs_moment(clock, when))


def _needs_moment(clock: ClockName, when: dt.date) -> dt.datetime:
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
    due_day, produced_day = day_of(due), day_of(produced)
    on_time = produced <= due if both_moments else produced_day <= due_day
    if on_time:
        return Lateness(due, produced, 0)
    return Lateness(due, produced, working_days_late(cal, due_day, produced_day))

