"""``recordgen deadline`` through click's CliRunner, against dates counted by hand.

"Today" is always fixed with the hidden ``--today`` option, so the working days left are known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from recordgen.cli.deadline import deadline
from recordgen.deadlines.clocks import ClockName
from recordgen.settings import Settings, settings_from_mapping


def run(args: list[str], settings: Settings | None) -> Result:
    return CliRunner().invoke(deadline, args, obj=settings)


def service(tmp_path: Path, raw: Mapping[str, Any] | None = None) -> Settings:
    return settings_from_mapping(raw or {}, base_dir=tmp_path)


def test_the_issue_example_exit_letter_received_on_christmas_eve(tmp_path: Path) -> None:
    # Tue 29, Wed 30, Thu 31 December 2026 (25th and the substitute 28th are bank holidays), then
    # Mon 4, Tue 5, Wed 6, Thu 7 January 2027 (1st a bank holiday). From Monday 23 November 2026:
    # 5 working days in November, 21 in December, 4 in January.
    result = run(["exit-letter", "--received", "2026-12-24", "--today", "2026-11-23"], service(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Exit confirmation letter for a request received on Thursday 24 December 2026 is due by "
        "Thursday 7 January 2027 (7 working days; 30 working days from today).\n"
    )


def test_the_nation_comes_from_the_settings(tmp_path: Path) -> None:
    # Scotland also keeps Monday 4 January 2027 (for Saturday 2 January) and 30 November 2026.
    scotland = service(tmp_path, {"service": {"nation": "scotland"}})
    result = run(["exit-letter", "--received", "2026-12-24", "--today", "2026-11-23"], scotland)
    assert result.output == (
        "Exit confirmation letter for a request received on Thursday 24 December 2026 is due by "
        "Friday 8 January 2027 (7 working days; 29 working days from today).\n"
    )


def test_nation_option_overrides_the_settings(tmp_path: Path) -> None:
    result = run(
        ["exit-letter", "--received", "2026-12-24", "--nation", "scotland", "--today", "2026-12-24"],
        service(tmp_path),
    )
    assert "is due by Friday 8 January 2027" in result.output


def test_closure_days_from_the_settings_count_as_non_working(tmp_path: Path) -> None:
    closed = service(tmp_path, {"service": {"closure_days": ["2026-12-29", "2026-12-30", "2026-12-31"]}})
    result = run(["exit-letter", "--received", "2026-12-24", "--today", "2027-01-04"], closed)
    # Mon 4 ... Fri 8, Mon 11, Tue 12 January; from Monday 4th, 6 working days remain.
    assert result.output == (
        "Exit confirmation letter for a request received on Thursday 24 December 2026 is due by "
        "Tuesday 12 January 2027 (7 working days; 6 working days from today).\n"
    )


@pytest.mark.parametrize(
    ("today", "ending"),
    [
        ("2027-01-06", "is due by Thursday 7 January 2027 (7 working days; 1 working day from today)."),
        ("2027-01-07", "is due by Thursday 7 January 2027 (7 working days; that is today)."),
        ("2027-01-08", "was due by Thursday 7 January 2027 (7 working days); it is 1 working day overdue."),
        ("2027-01-11", "was due by Thursday 7 January 2027 (7 working days); it is 2 working days overdue."),
    ],
)  # fmt: skip
def test_days_left_and_overdue_in_plain_words(tmp_path: Path, today: str, ending: str) -> None:
    result = run(["exit-letter", "--received", "2026-12-24", "--today", today], service(tmp_path))
    assert result.output.rstrip("\n").endswith(ending)


def test_sar_the_icos_example_moved_off_a_saturday(tmp_path: Path) -> None:
    # 3 October 2026 is a Saturday. Working days after Thursday 3 September: Fri 4, then 3 full
    # weeks (15), Mon 28 - Wed 30 (3), Thu 1 and Fri 2 October (2), Monday 5 October (1).
    result = run(["sar", "--received", "2026-09-03", "--today", "2026-09-03"], service(tmp_path))
    assert result.output == (
        "Subject access response for a request received on Thursday 3 September 2026 is due by "
        "Monday 5 October 2026 (one calendar month; 22 working days from today).\n"
    )


def test_sar_extended_is_three_months_from_receipt(tmp_path: Path) -> None:
    # 19 working days left in September, 22 in October, 21 in November, 3 in December.
    result = run(
        ["sar", "--received", "2026-09-03", "--extended", "--today", "2026-09-03"],
        service(tmp_path),
    )
    assert result.output == (
        "Subject access response for a request received on Thursday 3 September 2026, with the "
        "two-month extension, is due by Thursday 3 December 2026 (three calendar months; "
        "65 working days from today).\n"
    )


def test_assessment_counts_calendar_days(tmp_path: Path) -> None:
    result = run(["assessment", "--entered", "2026-12-24", "--today", "2026-12-24"], service(tmp_path))
    assert result.output == (
        "Needs and risk assessment for someone who entered the service on Thursday 24 December "
        "2026 is due by Thursday 31 December 2026 (7 days; 3 working days from today).\n"
    )


@pytest.mark.parametrize(
    ("today", "ending"),
    [
        ("2027-01-01", "(7 days; that is tomorrow)."),
        ("2026-12-31", "(7 days; in 2 days, none of them a working day)."),
    ],
)
def test_assessment_due_on_a_saturday(tmp_path: Path, today: str, ending: str) -> None:
    # Entered Saturday 26 December 2026: due Saturday 2 January 2027, after the 1 January holiday.
    result = run(["assessment", "--entered", "2026-12-26", "--today", today], service(tmp_path))
    assert "is due by Saturday 2 January 2027" in result.output
    assert result.output.rstrip("\n").endswith(ending)


def test_review_with_a_six_month_interval_is_not_moved_off_a_sunday(tmp_path: Path) -> None:
    six_months = service(tmp_path, {"rules": {"max_review_interval": "6 months"}})
    result = run(["review", "--plan-date", "2026-08-31", "--today", "2027-03-01"], six_months)
    assert result.output == (
        "Support plan review for a plan dated Monday 31 August 2026 was due by Sunday 28 February "
        "2027 (6 months); it is 1 working day overdue.\n"
    )


def test_hard_copy_over_new_year_2028(tmp_path: Path) -> None:
    # Wed 29, Thu 30, Fri 31 December 2027, then Tue 4 and Wed 5 January (Mon 3rd a substitute).
    result = run(["hard-copy", "--requested", "2027-12-24", "--today", "2027-12-24"], service(tmp_path))
    assert result.output == (
        "Hard copy of the support plan requested on Friday 24 December 2027 is due by Wednesday "
        "5 January 2028 (5 working days; 5 working days from today).\n"
    )


def test_incident_counts_hours(tmp_path: Path) -> None:
    result = run(["incident", "--occurred", "2026-12-24 14:30", "--today", "2026-12-24"], service(tmp_path))
    assert result.output == (
        "Serious incident notification for an incident at 2:30pm on Thursday 24 December 2026 is "
        "due by 2:30pm on Friday 25 December 2026 (24 hours; that is tomorrow).\n"
    )


def test_referral_contact_counts_48_hours_over_christmas(tmp_path: Path) -> None:
    result = run(["referral", "--received", "2026-12-24T09:15", "--today", "2026-12-24"], service(tmp_path))
    assert result.output == (
        "First contact after a referral received at 9:15am on Thursday 24 December 2026 is due by "
        "9:15am on Saturday 26 December 2026 (48 hours; in 2 days, none of them a working day).\n"
    )


def test_json_answer(tmp_path: Path) -> None:
    result = run(
        ["exit-letter", "--received", "2026-12-24", "--today", "2026-11-23", "--nation", "scotland",
         "--json"],
        service(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "clock": "exit-letter",
        "description": "exit confirmation letter",
        "nation": "scotland",
        "started": "2026-12-24",
        "extended": False,
        "allowance": "7 working days",
        "due": "2027-01-08",
        "today": "2026-11-23",
        "working_days_left": 29,
        "overdue": False,
    }


def test_json_answer_when_overdue(tmp_path: Path) -> None:
    result = run(
        ["exit-letter", "--received", "2026-12-24", "--today", "2027-01-11", "--json"],
        service(tmp_path),
    )
    answer = json.loads(result.output)
    assert answer["due"] == "2027-01-07"
    assert answer["working_days_left"] == -2
    assert answer["overdue"] is True


def test_json_answer_for_an_hour_clock_gives_the_time(tmp_path: Path) -> None:
    result = run(
        ["incident", "--occurred", "2026-12-24 14:30", "--today", "2026-12-24", "--json"],
        service(tmp_path, {"rules": {"incident_notification_hours": 4}}),
    )
    answer = json.loads(result.output)
    assert answer["due"] == "2026-12-24T18:30:00"
    assert answer["allowance"] == "4 hours"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["exit-letter", "--received", "24/12/2026"], "Write dates as YYYY-MM-DD: four digits for the year"),
        (["sar", "--received", "2026-02-30"], "2026-02-30 is not a real date"),
        (["incident", "--occurred", "2026-12-24"], "Write a date and time as YYYY-MM-DD HH:MM"),
        (["referral", "--received", "2026-12-24 25:00"], "is not a real date and time"),
        (["exit-letter", "--received", "1800-01-06"], "Check the year"),
    ],
)  # fmt: skip
def test_bad_dates_are_usage_errors_in_plain_words(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(args, service(tmp_path))
    assert result.exit_code == 2
    assert message in result.output


def test_without_settings_the_nation_must_be_given(tmp_path: Path) -> None:
    result = run(["exit-letter", "--received", "2026-12-24"], None)
    assert result.exit_code == 2
    assert "--nation" in result.output
    answered = run(
        ["exit-letter", "--received", "2026-12-24", "--nation", "northern-ireland",
         "--today", "2026-12-24"],
        None,
    )  # fmt: skip
    assert "is due by Thursday 7 January 2027 (7 working days;" in answered.output


def test_there_is_a_subcommand_for_every_clock() -> None:
    assert set(deadline.commands) == {clock.value for clock in ClockName}


def test_every_clock_recordgen_keeps_can_be_asked_about(tmp_path: Path) -> None:
    # Staff can ask "when is it due?" of every clock `recordgen due` lists, each by one command
    # whose only required option is where the clock starts.
    asked = {}
    settings = service(tmp_path, {"rules": {"review_at_least_every": "4 weeks"}})
    for name, command in deadline.commands.items():
        start = command.params[0]
        assert start.required and start.name == "started"
        when = "2026-11-23 10:00" if start.type.name == "DATETIME" else "2026-11-23"
        result = run([name, start.opts[0], when, "--today", "2026-11-23", "--json"], settings)
        assert result.exit_code == 0, result.output
        asked[name] = json.loads(result.output)["clock"]
    assert sorted(asked.values()) == sorted(c.value for c in ClockName)
    assert len(set(asked.values())) == len(asked)
