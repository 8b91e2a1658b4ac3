"""When each statutory clock falls due, in words and in dates, and whether it was met.

Three ways of counting are used, because the policies use three:

* working-day clocks (exit letter, hard copy of the plan, outcomes form): day 1 is the first
  working day after the day the request arrived, whatever kind of day that was;
* calendar clocks (assessment, plan, reviews, the two-year limit, subject access): counted on the
  calendar from the day itself. Only the subject access clock moves off a weekend or bank holiday,
  because the ICO says so; the others are promises of "no later than" and are never pushed later;
* hour clocks (referral contact, crisis support, serious incident): real hours from the moment,
  weekends included.

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
from recordgen.errors import SettingsError
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


def crisis_support_due(cal: ServiceCalendar, rules: Rules, referred: dt.datetime) -> dt.datetime:
    # Service standard "When you leave or stop using the Housing Support Service": "housing support
    # is provided within 24 hours of a referral when required, for example in a crisis situation".
    return hours_after(referred, rules.crisis_support_hours)


def plan_due(cal: ServiceCalendar, rules: Rules, entered: dt.date) -> dt.date:
    # Service standard: "assessments/support plans finished within seven days of you entering the
    # service"; Support planning policy §5.1 gives 4 weeks. Calendar days, never moved later.
    return entered + dt.timedelta(days=rules.plan_days)


def regular_review_due(cal: ServiceCalendar, rules: Rules, last: dt.date) -> dt.date:
    # Service standard: plans reviewed "at a minimum period of every four weeks", where the service
    # sets that interval (rules.review_at_least_every).
    if rules.review_at_least_every is None:
        raise SettingsError("This service sets no regular review interval: [rules] "
                            'review_at_least_every is not set (for example "4 weeks").')
    return rules.review_at_least_every.after(last)


def support_limit_due(cal: ServiceCalendar, rules: Rules, started: dt.date) -> dt.date:
    # Floating support specification §1.8 and §5.1.2: support "time limited to two years"; the
    # same day that many years on (28 February for a start on 29 February).
    year = started.year + rules.max_support_years
    try:
        return started.replace(year=year)
    except ValueError:
        return started.replace(year=year, day=28)


def outcomes_form_due(cal: ServiceCalendar, rules: Rules, ended: dt.date) -> dt.date:
    # Employment development project specification, "National Supporting People Outcomes
    # Framework": a short-term outcomes form "for every person who leaves the service"; the working
    # days allowed are the service's setting.
    return add_working_days(cal, ended, rules.outcomes_form_working_days)


class ClockName(Enum):
    """Every statutory clock recordgen keeps; the value is the name the CLI uses."""

    EXIT_LETTER = "exit-letter"
    SAR = "sar"
    ASSESSMENT = "assessment"
    REVIEW = "review"
    HARD_COPY = "hard-copy"
    INCIDENT = "incident"
    REFERRAL = "referral"
    CRISIS = "crisis"
    PLAN = "plan"
    REGULAR_REVIEW = "regular-review"
    SUPPORT_LIMIT = "support-limit"
    OUTCOMES_FORM = "outcomes-form"

    @property
    def description(self) -> str:
        """What is due, in the words a member of staff would use."""
        return _DESCRIPTIONS[self]

    @property
    def counts_hours(self) -> bool:
        """True for clocks that run in hours from a moment, not in days from a date."""
        return self in (ClockName.INCIDENT, ClockName.REFERRAL, ClockName.CRISIS)


_DESCRIPTIONS = {
    ClockName.EXIT_LETTER: "exit confirmation letter",
    ClockName.SAR: "subject access response",
    ClockName.ASSESSMENT: "needs and risk assessment",
    ClockName.REVIEW: "support plan review",
    ClockName.HARD_COPY: "hard copy of the support plan",
    ClockName.INCIDENT: "serious incident notification",
    ClockName.REFERRAL: "first contact after a referral",
    ClockName.CRISIS: "crisis support after a referral",
    ClockName.PLAN: "first support plan",
    ClockName.REGULAR_REVIEW: "regular review of the support plan",
    ClockName.SUPPORT_LIMIT: "end of the two-year support limit",
    ClockName.OUTCOMES_FORM: "leaver's outcomes form",
}


def known_clock(name: str) -> ClockName | str:
    """The clock a store's row names, or the name as it stands when this version of recordgen
    does not know it (a store written by a later version, or altered): such a clock is still
    shown, in :func:`clock_words`, never dropped and never a crash."""
    try:
        return ClockName(name)
    except ValueError:
        return name


def clock_words(clock: ClockName | str) -> str:
    """What a clock is for, in words; a clock this version does not know is named as stored."""
    if isinstance(clock, ClockName):
        return clock.description
    return f'"{clock}" (a deadline this version of recordgen does not know; run recordgen verify)'


def warns_from(clock: ClockName, rules: Rules, due: dt.date) -> dt.date | None:
    """The day from which an open clock is worth showing, for a clock that runs too long to list
    from its start: the two-year support limit, from the service's warning weeks before it
    (Floating support specification §1.8-1.10: time to plan the move-on or agree more time)."""
    if clock is ClockName.SUPPORT_LIMIT:
        return due - dt.timedelta(weeks=rules.support_limit_warning_weeks)
    return None


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
        case ClockName.CRISIS:
            return _counted(rules.crisis_support_hours, "hour")
        case ClockName.PLAN:
            return _counted(rules.plan_days, "day")
        case ClockName.REGULAR_REVIEW:
            return str(rules.review_at_least_every or "no interval set")
        case ClockName.SUPPORT_LIMIT:
            return _counted(rules.max_support_years, "year")
        case ClockName.OUTCOMES_FORM:
            return _counted(rules.outcomes_form_working_days, "working day")


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
        case ClockName.CRISIS:
            return crisis_support_due(cal, rules, _needs_moment(clock, when))
        case ClockName.PLAN:
            return plan_due(cal, rules, day_of(when))
        case ClockName.REGULAR_REVIEW:
            return regular_review_due(cal, rules, day_of(when))
        case ClockName.SUPPORT_LIMIT:
            return support_limit_due(cal, rules, day_of(when))
        case ClockName.OUTCOMES_FORM:
            return outcomes_form_due(cal, rules, day_of(when))


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

