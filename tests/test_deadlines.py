"""recordgen.calendar against calendars checked by hand.

Every expected date here was counted on a printed calendar with the bank holidays GOV.UK lists for
each nation, not copied from what the code prints. The count is written beside the hard cases.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recordgen.calendar import (
    NATIONS,
    Interval,
    ServiceCalendar,
    add_working_days,
    next_working_day,
    one_calendar_month,
    sar_due,
    working_days_between,
    working_days_left,
)
from recordgen.clock import UK
from recordgen.dates import uk_date, uk_date_time, uk_long_date
from recordgen.deadlines.clocks import (
    ClockName,
    allowance,
    assessment_due,
    deadline_for,
    exit_letter_due,
    hard_copy_due,
    hours_after,
    incident_notification_due,
    lateness,
    referral_contact_due,
    review_due,
)
from recordgen.errors import SettingsError
from recordgen.settings import Rules, settings_from_mapping

EW = ServiceCalendar("england-and-wales")
SCOT = ServiceCalendar("scotland")
NI = ServiceCalendar("northern-ireland")
RULES = Rules()


# --- Bank holidays per nation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "day", "working"),
    [
        # Christmas 2026: Friday 25th; Boxing Day is a Saturday, so Monday 28th is its substitute.
        (EW, date(2026, 12, 24), True),
        (EW, date(2026, 12, 25), False),
        (EW, date(2026, 12, 28), False),
        (EW, date(2026, 12, 29), True),
        (SCOT, date(2026, 12, 28), False),
        (NI, date(2026, 12, 28), False),
        # New Year: 2 January is a bank holiday in Scotland only.
        (EW, date(2026, 1, 1), False),
        (EW, date(2026, 1, 2), True),
        (NI, date(2026, 1, 2), True),
        (SCOT, date(2026, 1, 2), False),
        # 2 January 2027 is a Saturday: Scotland's substitute is Monday 4 January.
        (SCOT, date(2027, 1, 4), False),
        (EW, date(2027, 1, 4), True),
        # Easter 2026 is 5 April: Good Friday everywhere, Easter Monday not in Scotland.
        (EW, date(2026, 4, 3), False),
        (SCOT, date(2026, 4, 3), False),
        (EW, date(2026, 4, 6), False),
        (NI, date(2026, 4, 6), False),
        (SCOT, date(2026, 4, 6), True),
        # Easter 2027 is 28 March.
        (EW, date(2027, 3, 26), False),
        (EW, date(2027, 3, 29), False),
        (SCOT, date(2027, 3, 29), True),
        # St Patrick's Day, Northern Ireland only: Tuesday 2026, Wednesday 2027.
        (NI, date(2026, 3, 17), False),
        (NI, date(2027, 3, 17), False),
        (EW, date(2026, 3, 17), True),
        (SCOT, date(2026, 3, 17), True),
        # Battle of the Boyne: 12 July 2026 is a Sunday, so Monday 13th; 2027 on the Monday itself.
        (NI, date(2026, 7, 13), False),
        (EW, date(2026, 7, 13), True),
        (NI, date(2027, 7, 12), False),
        (SCOT, date(2027, 7, 12), True),
        # Christmas 2027 is a Saturday: substitutes Monday 27th (Christmas), Tuesday 28th (Boxing Day).
        (EW, date(2027, 12, 24), True),
        (EW, date(2027, 12, 27), False),
        (EW, date(2027, 12, 28), False),
        (EW, date(2027, 12, 29), True),
        (SCOT, date(2027, 12, 27), False),
        (NI, date(2027, 12, 28), False),
        # Scotland's one-off bank holiday, Monday 15 June 2026.
        (SCOT, date(2026, 6, 15), False),
        (EW, date(2026, 6, 15), True),
        (NI, date(2026, 6, 15), True),
        # Summer bank holidays: first Monday of August in Scotland, last Monday elsewhere.
        (SCOT, date(2026, 8, 3), False),
        (EW, date(2026, 8, 3), True),
        (EW, date(2026, 8, 31), False),
        (SCOT, date(2026, 8, 31), True),
        # St Andrew's Day, Monday 30 November 2026, Scotland only.
        (SCOT, date(2026, 11, 30), False),
        (EW, date(2026, 11, 30), True),
        # A weekend is never a working day.
        (EW, date(2026, 9, 5), False),
        (EW, date(2026, 9, 6), False),
    ],
)
def test_working_days_follow_each_nations_bank_holidays(
    cal: ServiceCalendar, day: date, working: bool
) -> None:
    assert cal.is_working_day(day) is working


def test_closure_days_from_settings_are_not_working_days(tmp_path: Path) -> None:
    service = settings_from_mapping(
        {"service": {"nation": "scotland", "closure_days": ["2026-12-29", "2026-12-30"]}},
        base_dir=tmp_path,
    )
    cal = service.calendar
    assert cal.nation == "scotland"
    assert not cal.is_working_day(date(2026, 12, 29))
    assert not cal.is_working_day(date(2026, 12, 30))
    assert cal.is_working_day(date(2026, 12, 31))
    assert not cal.is_bank_holiday(date(2026, 12, 29))


def test_an_unknown_nation_is_refused() -> None:
    with pytest.raises(SettingsError, match="england-and-wales"):
        ServiceCalendar("wales")


def test_a_year_the_holidays_package_does_not_cover_is_refused_not_guessed() -> None:
    # Bank holidays began with the Bank Holidays Act 1871; before that the package knows none, and
    # silently treating every weekday as a working day would be wrong.
    with pytest.raises(SettingsError, match="1800"):
        EW.is_working_day(date(1800, 1, 6))


# --- Counting working days -----------------------------------------------------------------------


def test_next_working_day_is_the_day_itself_when_working() -> None:
    assert next_working_day(EW, date(2026, 12, 24)) == date(2026, 12, 24)


def test_next_working_day_skips_a_weekend_christmas_and_its_substitutes() -> None:
    # Sat 25, Sun 26, Mon 27 (substitute), Tue 28 (substitute) December 2027.
    assert next_working_day(EW, date(2027, 12, 25)) == date(2027, 12, 29)


def test_next_working_day_after_new_year_differs_in_scotland() -> None:
    # Fri 1 January 2027; Scotland also has Mon 4 January for Saturday 2 January.
    assert next_working_day(EW, date(2027, 1, 1)) == date(2027, 1, 4)
    assert next_working_day(SCOT, date(2027, 1, 1)) == date(2027, 1, 5)


def test_adding_working_days_over_easter() -> None:
    # From Thursday 2 April 2026: Good Friday, then Easter Monday outside Scotland.
    assert add_working_days(EW, date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert add_working_days(SCOT, date(2026, 4, 2), 1) == date(2026, 4, 6)


def test_adding_no_working_days_gives_the_start_back() -> None:
    assert add_working_days(EW, date(2026, 9, 5), 0) == date(2026, 9, 5)


def test_adding_a_negative_number_of_working_days_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="forwards"):
        add_working_days(EW, date(2026, 9, 5), -1)


@pytest.mark.parametrize(
    ("cal", "start", "end", "count"),
    [
        # Tue 29, Wed 30, Thu 31 December; Mon 4, Tue 5, Wed 6, Thu 7 January.
        (EW, date(2026, 12, 24), date(2027, 1, 7), 7),
        (EW, date(2027, 1, 7), date(2026, 12, 24), -7),
        # Saturday to the substitute Boxing Day holiday: no working day in between.
        (EW, date(2026, 12, 26), date(2026, 12, 28), 0),
        (EW, date(2026, 12, 24), date(2026, 12, 24), 0),
        # 24-30 November: 5; December: 23 weekdays less 25th and 28th = 21; 4-7 January: 4.
        (EW, date(2026, 11, 23), date(2027, 1, 7), 30),
        # Scotland: 30 November and 4 January are holidays too: 4 + 21 + 4 (5-8 January).
        (SCOT, date(2026, 11, 23), date(2027, 1, 8), 29),
    ],
)
def test_working_days_between(cal: ServiceCalendar, start: date, end: date, count: int) -> None:
    assert working_days_between(cal, start, end) == count


@pytest.mark.parametrize(
    ("today", "left"),
    [
        (date(2026, 11, 23), 30),
        (date(2027, 1, 6), 1),
        (date(2027, 1, 7), 0),
        (date(2027, 1, 8), -1),
        (date(2027, 1, 9), -1),  # Saturday: only Friday 8th has been missed
        (date(2027, 1, 11), -2),  # Friday 8th and Monday 11th
    ],
)
def test_working_days_left_is_negative_when_overdue(today: date, left: int) -> None:
    assert working_days_left(EW, today, date(2027, 1, 7)) == left


def test_a_friday_deadline_is_one_working_day_overdue_on_saturday() -> None:
    assert working_days_left(SCOT, date(2027, 1, 9), date(2027, 1, 8)) == -1


# --- The exit confirmation letter (Service standard: seven working days) --------------------------------


@pytest.mark.parametrize(
    ("cal", "received", "due"),
    [
        # Issue 4's example. E&W and NI: Tue 29, Wed 30, Thu 31 Dec, Mon 4, Tue 5, Wed 6, Thu 7 Jan.
        (EW, date(2026, 12, 24), date(2027, 1, 7)),
        (NI, date(2026, 12, 24), date(2027, 1, 7)),
        # Scotland loses Monday 4 January (substitute for 2 January): Friday 8 January.
        (SCOT, date(2026, 12, 24), date(2027, 1, 8)),
        # Received on a Saturday: day 1 is Monday 7 September, day 7 Tuesday 15 September...
        (EW, date(2026, 9, 5), date(2026, 9, 15)),
        # ... the same as a request received on the Friday before.
        (EW, date(2026, 9, 4), date(2026, 9, 15)),
        # Received on Good Friday 2026: Easter Monday is not a working day in E&W but is in Scotland.
        (EW, date(2026, 4, 3), date(2026, 4, 15)),
        (SCOT, date(2026, 4, 3), date(2026, 4, 14)),
        # Received on the bank holiday Monday 31 August 2026: Tue 1 ... Wed 9 September.
        (EW, date(2026, 8, 31), date(2026, 9, 9)),
        # Friday 12 June 2026: Scotland skips Monday 15 June.
        (SCOT, date(2026, 6, 12), date(2026, 6, 24)),
        (EW, date(2026, 6, 12), date(2026, 6, 23)),
        # Monday 16 March 2026: Northern Ireland skips St Patrick's Day.
        (NI, date(2026, 3, 16), date(2026, 3, 26)),
        (EW, date(2026, 3, 16), date(2026, 3, 25)),
        # Friday 10 July 2026: Northern Ireland skips Monday 13 July.
        (NI, date(2026, 7, 10), date(2026, 7, 22)),
        (EW, date(2026, 7, 10), date(2026, 7, 21)),
    ],
)
def test_exit_letter_due(cal: ServiceCalendar, received: date, due: date) -> None:
    assert exit_letter_due(cal, RULES, received) == due


def test_exit_letter_skips_closure_days(tmp_path: Path) -> None:
    service = settings_from_mapping(
        {"service": {"closure_days": ["2026-12-29", "2026-12-30", "2026-12-31"]}},
        base_dir=tmp_path,
    )
    cal = service.calendar
    # Closed 29-31 December, 1 January a bank holiday: Mon 4 ... Fri 8, Mon 11, Tue 12 January.
    assert exit_letter_due(cal, service.rules, date(2026, 12, 24)) == date(2027, 1, 12)


def test_exit_letter_uses_the_services_number_of_working_days() -> None:
    assert exit_letter_due(EW, Rules(exit_letter_working_days=3), date(2026, 12, 24)) == date(2026, 12, 31)


# --- The other clocks ----------------------------------------------------------------------------


def test_hard_copy_over_christmas_2027_and_new_year_2028() -> None:
    # 1 January 2028 is a Saturday: E&W substitute Monday 3rd; Scotland Monday 3rd and Tuesday 4th.
    # E&W: Wed 29, Thu 30, Fri 31 Dec, Tue 4, Wed 5 Jan.
    assert hard_copy_due(EW, RULES, date(2027, 12, 24)) == date(2028, 1, 5)
    assert hard_copy_due(SCOT, RULES, date(2027, 12, 24)) == date(2028, 1, 6)


@pytest.mark.parametrize(
    ("entered", "due"),
    [
        (date(2026, 12, 24), date(2026, 12, 31)),
        (date(2028, 2, 28), date(2028, 3, 6)),  # across 29 February 2028
        (date(2026, 12, 26), date(2027, 1, 2)),  # a Saturday, and it stays a Saturday
    ],
)
def test_assessment_due_seven_calendar_days_after_entering(entered: date, due: date) -> None:
    assert assessment_due(EW, RULES, entered) == due


@pytest.mark.parametrize(
    ("interval", "plan_date", "due"),
    [
        (Interval(12, "weeks"), date(2026, 1, 1), date(2026, 3, 26)),
        # No 31 February: the month's last day, a Sunday, and never moved later.
        (Interval(6, "months"), date(2026, 8, 31), date(2027, 2, 28)),
        (Interval(12, "months"), date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_review_due_within_the_services_interval(interval: Interval, plan_date: date, due: date) -> None:
    assert review_due(EW, Rules(max_review_interval=interval), plan_date) == due


def test_referral_contact_within_48_hours_weekends_included() -> None:
    due = referral_contact_due(EW, RULES, datetime(2026, 12, 24, 9, 15))
    assert due == datetime(2026, 12, 26, 9, 15)


def test_incident_notification_within_the_set_hours() -> None:
    assert incident_notification_due(EW, RULES, datetime(2026, 12, 24, 14, 30)) == datetime(
        2026, 12, 25, 14, 30
    )
    four_hours = Rules(incident_notification_hours=4)
    assert incident_notification_due(EW, four_hours, datetime(2026, 12, 31, 23, 0)) == datetime(
        2027, 1, 1, 3, 0
    )


@pytest.mark.parametrize(
    ("moment", "hours", "later"),
    [
        # British Summer Time ends at 02:00 on Sunday 25 October 2026: 24 real hours after 14:30 on
        # the Saturday is 13:30 on the Sunday, not 14:30.
        (datetime(2026, 10, 24, 14, 30), 24, datetime(2026, 10, 25, 13, 30)),
        (datetime(2026, 10, 24, 9, 0), 48, datetime(2026, 10, 26, 8, 0)),
        # It begins at 01:00 on Sunday 29 March 2026: the wall clock jumps an hour forward.
        (datetime(2026, 3, 28, 14, 30), 24, datetime(2026, 3, 29, 15, 30)),
        # A time with a zone keeps it.
        (
            datetime(2026, 10, 24, 14, 30, tzinfo=UK),
            24,
            datetime(2026, 10, 25, 13, 30, tzinfo=UK),
        ),
    ],
)
def test_hours_are_real_hours_across_the_clock_change(moment: datetime, hours: int, later: datetime) -> None:
    result = hours_after(moment, hours)
    assert result == later
    assert result.utcoffset() == later.utcoffset()


# --- Subject access: the ICO's calendar month ----------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "received", "due"),
    [
        # ICO: "receives a request on 3 September ... until 3 October" (Friday in 2025).
        (EW, date(2025, 9, 3), date(2025, 10, 3)),
        # In 2026, 3 October is a Saturday: the next working day, Monday 5 October.
        (EW, date(2026, 9, 3), date(2026, 10, 5)),
        # ICO: received 31 March, no 31 April, so 30 April (a Thursday in 2026).
        (EW, date(2026, 3, 31), date(2026, 4, 30)),
        # ICO: 31 January gives 28 February (a Friday in 2025), or 29 February in a leap year.
        (EW, date(2025, 1, 31), date(2025, 2, 28)),
        (EW, date(2028, 1, 31), date(2028, 2, 29)),
        (EW, date(2028, 2, 29), date(2028, 3, 29)),
        # 28 February 2027 is a Sunday: Monday 1 March.
        (EW, date(2027, 1, 30), date(2027, 3, 1)),
        # ICO: received 1 April; 1 May 2026 is a Friday...
        (EW, date(2026, 4, 1), date(2026, 5, 1)),
        # ... but 1 May 2027 is a Saturday and Monday 3 May the early May bank holiday.
        (EW, date(2027, 4, 1), date(2027, 5, 4)),
        # The day of receipt counts even at a weekend: Saturday 5 September -> Monday 5 October.
        (EW, date(2026, 9, 5), date(2026, 10, 5)),
        # Received on the bank holiday Monday 31 August 2026: no 31 September, so 30 September.
        (EW, date(2026, 8, 31), date(2026, 9, 30)),
        # Due on Christmas Day 2026: Sat, Sun, substitute Boxing Day Monday, so Tuesday 29th.
        (EW, date(2026, 11, 25), date(2026, 12, 29)),
        (SCOT, date(2026, 11, 25), date(2026, 12, 29)),
        # Due on Monday 15 June 2026: a working day in England, a bank holiday in Scotland.
        (EW, date(2026, 5, 15), date(2026, 6, 15)),
        (SCOT, date(2026, 5, 15), date(2026, 6, 16)),
    ],
)
def test_one_calendar_month_as_the_ico_counts_it(cal: ServiceCalendar, received: date, due: date) -> None:
    assert one_calendar_month(cal, received) == due
    assert sar_due(cal, received) == due


@pytest.mark.parametrize(
    ("cal", "received", "due"),
    [
        (EW, date(2026, 9, 3), date(2026, 12, 3)),
        # No 30 February 2027; the 28th is a Sunday.
        (EW, date(2026, 11, 30), date(2027, 3, 1)),
        # Monday 30 November 2026: a working day in England, St Andrew's Day in Scotland.
        (EW, date(2026, 8, 31), date(2026, 11, 30)),
        (SCOT, date(2026, 8, 31), date(2026, 12, 1)),
    ],
)
def test_extended_subject_access_is_three_months_from_receipt(
    cal: ServiceCalendar, received: date, due: date
) -> None:
    assert sar_due(cal, received, extended=True) == due


def test_a_closure_day_does_not_move_the_legal_subject_access_deadline() -> None:
    # The ICO moves the date only for weekends and public holidays; the office being shut on
    # Tuesday 29 December does not give the service more time.
    closed = ServiceCalendar("england-and-wales", frozenset({date(2026, 12, 29)}))
    assert sar_due(closed, date(2026, 11, 25)) == date(2026, 12, 29)


# --- One entry point for the CLI -----------------------------------------------------------------


def test_clock_names_are_the_cli_subcommands_and_say_what_is_due() -> None:
    assert {clock.value for clock in ClockName} == {
        "exit-letter", "sar", "assessment", "review", "hard-copy", "incident", "referral",
        "crisis", "plan", "regular-review", "support-limit", "outcomes-form",
    }  # fmt: skip
    assert ClockName.CRISIS.counts_hours and not ClockName.OUTCOMES_FORM.counts_hours
    assert ClockName.EXIT_LETTER.description == "exit confirmation letter"
    assert ClockName.SAR.description == "subject access response"
    assert ClockName.INCIDENT.counts_hours
    assert not ClockName.SAR.counts_hours


@pytest.mark.parametrize(
    ("clock", "when", "extended", "due"),
    [
        (ClockName.EXIT_LETTER, date(2026, 12, 24), False, date(2027, 1, 7)),
        (ClockName.SAR, date(2026, 9, 3), False, date(2026, 10, 5)),
        (ClockName.SAR, date(2026, 9, 3), True, date(2026, 12, 3)),
        (ClockName.ASSESSMENT, date(2026, 12, 24), False, date(2026, 12, 31)),
        (ClockName.REVIEW, date(2026, 1, 1), False, date(2026, 3, 26)),
        (ClockName.HARD_COPY, date(2027, 12, 24), False, date(2028, 1, 5)),
        (ClockName.INCIDENT, datetime(2026, 12, 24, 14, 30), False, datetime(2026, 12, 25, 14, 30)),
        (ClockName.REFERRAL, datetime(2026, 12, 24, 9, 15), False, datetime(2026, 12, 26, 9, 15)),
        # Service standard: crisis support within 24 hours, Christmas Day or not.
        (ClockName.CRISIS, datetime(2026, 12, 24, 9, 15), False, datetime(2026, 12, 25, 9, 15)),
        # Service standard: the plan within seven calendar days of entering the service.
        (ClockName.PLAN, date(2026, 12, 24), False, date(2026, 12, 31)),
        # Floating support specification §1.8: two years on; a start on 29 February ends on the
        # 28th.
        (ClockName.SUPPORT_LIMIT, date(2026, 9, 14), False, date(2028, 9, 14)),
        (ClockName.SUPPORT_LIMIT, date(2028, 2, 29), False, date(2030, 2, 28)),
        # Ten working days, over Christmas and Boxing Day (substitute day Monday 28 December).
        (ClockName.OUTCOMES_FORM, date(2026, 12, 18), False, date(2027, 1, 6)),
        # A datetime given to a day clock counts from its date.
        (ClockName.EXIT_LETTER, datetime(2026, 12, 24, 16, 59), False, date(2027, 1, 7)),
    ],
)
def test_deadline_for_every_clock(clock: ClockName, when: date, extended: bool, due: date) -> None:
    assert deadline_for(clock, EW, RULES, when, extended=extended) == due


def test_deadline_for_refuses_an_extension_other_than_subject_access() -> None:
    with pytest.raises(ValueError, match="subject access"):
        deadline_for(ClockName.EXIT_LETTER, EW, RULES, date(2026, 12, 24), extended=True)


def test_deadline_for_an_hour_clock_needs_a_time() -> None:
    with pytest.raises(TypeError, match="datetime"):
        deadline_for(ClockName.INCIDENT, EW, RULES, date(2026, 12, 24))


@pytest.mark.parametrize(
    ("clock", "rules", "extended", "words"),
    [
        (ClockName.EXIT_LETTER, RULES, False, "7 working days"),
        (ClockName.EXIT_LETTER, Rules(exit_letter_working_days=1), False, "1 working day"),
        (ClockName.SAR, RULES, False, "one calendar month"),
        (ClockName.SAR, RULES, True, "three calendar months"),
        (ClockName.ASSESSMENT, RULES, False, "7 days"),
        (ClockName.REVIEW, Rules(max_review_interval=Interval(6, "months")), False, "6 months"),
        (ClockName.HARD_COPY, RULES, False, "5 working days"),
        (ClockName.INCIDENT, RULES, False, "24 hours"),
        (ClockName.REFERRAL, RULES, False, "48 hours"),
    ],
)
def test_allowance_in_words(clock: ClockName, rules: Rules, extended: bool, words: str) -> None:
    assert allowance(clock, rules, extended) == words


# --- Lateness ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("produced", "met", "late"),
    [
        (date(2027, 1, 6), True, 0),
        (date(2027, 1, 7), True, 0),
        (date(2027, 1, 8), False, 1),
        (date(2027, 1, 9), False, 1),  # Saturday: Friday 8th missed
        (date(2027, 1, 11), False, 2),  # Friday 8th and Monday 11th
        (date(2027, 1, 12), False, 3),
    ],
)
def test_lateness_of_a_letter_due_thursday_7_january_2027(produced: date, met: bool, late: int) -> None:
    result = lateness(EW, date(2027, 1, 7), produced)
    assert result.met is met
    assert result.working_days_late == late


def test_a_letter_due_friday_and_dated_saturday_is_one_working_day_late() -> None:
    assert lateness(SCOT, date(2027, 1, 8), date(2027, 1, 9)).working_days_late == 1


def test_lateness_of_an_hour_clock_is_judged_to_the_minute() -> None:
    due = datetime(2026, 12, 24, 14, 30)
    assert lateness(EW, due, datetime(2026, 12, 24, 14, 30)).met
    late = lateness(EW, due, datetime(2026, 12, 24, 15, 0))
    assert not late.met
    assert late.working_days_late == 1


# --- Dates in words ------------------------------------------------------------------------------


def test_uk_dates_have_no_leading_zero_and_english_names() -> None:
    assert uk_date(date(2026, 11, 23)) == "23 November 2026"
    assert uk_long_date(date(2026, 11, 23)) == "Monday 23 November 2026"
    assert uk_long_date(date(2027, 1, 8)) == "Friday 8 January 2027"
    assert uk_date_time(datetime(2026, 12, 24, 9, 5)) == "9:05am on Thursday 24 December 2026"
    assert uk_date_time(datetime(2026, 12, 24, 14, 30)) == "2:30pm on Thursday 24 December 2026"
    assert uk_date_time(datetime(2026, 12, 24, 12, 0)) == "midday on Thursday 24 December 2026"


# --- Properties ----------------------------------------------------------------------------------


@st.composite
def calendars(draw: st.DrawFn) -> tuple[ServiceCalendar, date]:
    """A nation, a start date, and up to 30 closure days within a year or so after it."""
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31)))
    offsets = draw(st.frozensets(st.integers(min_value=-5, max_value=400), max_size=30))
    closures = frozenset(start + timedelta(days=k) for k in offsets)
    return ServiceCalendar(draw(st.sampled_from(NATIONS)), closures), start


@settings(deadline=None)
@given(calendars(), st.integers(min_value=1, max_value=250))
def test_adding_working_days_always_lands_on_a_working_day(
    calendar_and_start: tuple[ServiceCalendar, date], n: int
) -> None:
    cal, start = calendar_and_start
    assert cal.is_working_day(add_working_days(cal, start, n))


@settings(deadline=None)
@given(calendars(), st.integers(min_value=0, max_value=250))
def test_counting_back_gives_the_number_of_working_days_added(
    calendar_and_start: tuple[ServiceCalendar, date], n: int
) -> None:
    cal, start = calendar_and_start
    end = add_working_days(cal, start, n)
    assert working_days_between(cal, start, end) == n
    assert working_days_between(cal, end, start) == -n


@settings(deadline=None)
@given(calendars())
def test_next_working_day_skips_only_non_working_days(
    calendar_and_start: tuple[ServiceCalendar, date],
) -> None:
    cal, start = calendar_and_start
    found = next_working_day(cal, start)
    assert cal.is_working_day(found)
    skipped = [start + timedelta(days=k) for k in range((found - start).days)]
    assert not any(cal.is_working_day(day) for day in skipped)


@settings(deadline=None)
@given(calendars(), st.booleans())
def test_subject_access_is_due_on_a_weekday_that_is_not_a_bank_holiday(
    calendar_and_start: tuple[ServiceCalendar, date], extended: bool
) -> None:
    cal, received = calendar_and_start
    due = sar_due(cal, received, extended)
    assert due.weekday() < 5
    assert not cal.is_bank_holiday(due)
    # Never earlier than 28 days (one month) or 89 days (three months) after receipt.
    assert (due - received).days >= (89 if extended else 28)
