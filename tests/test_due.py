"""Statutory clocks in the store, `recordgen due`, and the notes after each run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.deadlines.due import due_rows, run_notes
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.rows import ClockRecord
from recordgen.services import open_services
from recordgen.settings import Rules, Settings

from conftest import REPO, example


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


def drop(settings: Settings, content: dict[str, object], name: str) -> None:
    (settings.folders.inbox / name).write_text(json.dumps(content, ensure_ascii=False))


def clocks_by_name(services: Services) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for record in services.store.clocks():
        found.setdefault(record.clock, []).append(record)
    return found


def test_an_assessment_records_its_clocks_as_met_or_late(
    services: Services, settings: Settings
) -> None:
    drop(settings, example("needs_assessment"), "a.json")
    process_inbox(services)
    clocks = {c.clock: c for c in services.store.clocks()}
    # entered 7 September, assessed 10 September: within seven days (Service standard)
    assessment = clocks["assessment"]
    assert (assessment.due, assessment.closed, assessment.met) == ("2026-09-14", "2026-09-10", True)
    # referred 1 September 09:40, first contact 2 September 11:15: within 48 hours (Floating support
    # specification)
    referral = clocks["referral"]
    assert referral.due == "2026-09-03T09:40:00" and referral.met is True


def test_a_plan_starts_a_review_clock_that_the_next_plan_closes(
    services: Services, settings: Settings
) -> None:
    plan = example("support_plan")
    drop(settings, plan, "v1.json")
    process_inbox(services)
    (review,) = [c for c in services.store.clocks(open_only=True) if c.clock == "review"]
    assert review.due == "2026-12-07"
    plan["data"].update(plan_date="2026-12-10", review_date="2027-02-26")
    for objective in plan["data"]["objectives"]:
        objective["target_date"] = "2027-02-01"
    drop(settings, plan, "v2.json")
    process_inbox(services)
    first, second = [c for c in services.store.clocks() if c.clock == "review"]
    # reviewed on 10 December, due by Monday 7 December: three working days late
    assert (first.closed, first.met, first.working_days_late) == ("2026-12-10", False, 3)
    assert (second.due, second.closed) == ("2027-02-26", None)


def test_an_exit_letter_closes_the_exit_clock_and_the_review_clock(
    services: Services, settings: Settings
) -> None:
    drop(settings, example("support_plan"), "a.json")
    drop(settings, example("exit_letter"), "b.json")
    process_inbox(services)
    clocks = {c.clock: c for c in services.store.clocks()}
    assert clocks["exit-letter"].due == "2026-11-25"
    assert clocks["exit-letter"].met is True
    assert clocks["review"].closed == "2026-11-30"  # left the service before the review was due
    assert clocks["support-limit"].closed == "2026-11-30"  # and before the two-year limit
    # What is left open is the leaver's outcomes form, ten working days after leaving.
    (form,) = services.store.clocks(open_only=True)
    assert (form.clock, form.started, form.due) == ("outcomes-form", "2026-11-30", "2026-12-14")


def test_a_referral_ended_before_support_started_owes_no_outcomes_form(
    services: Services, settings: Settings
) -> None:
    # Referred, never assessed, then asked to leave: no one left support, so no leaver's
    # outcomes form is owed (the returns do not count a leaver either), and none falls overdue.
    drop(settings, example("referral"), "a.json")
    drop(settings, example("exit_letter"), "b.json")
    process_inbox(services)
    clocks = clocks_by_name(services)
    assert "exit-letter" in clocks
    assert "outcomes-form" not in clocks
    # Once support has started, leaving owes the form.
    drop(settings, example("support_plan"), "c.json")
    later = example("exit_letter")
    later["data"].update(request_received_on="2026-11-20", leaving_date="2026-12-04")
    drop(settings, later, "d.json")
    process_inbox(services)
    (form,) = clocks_by_name(services)["outcomes-form"]
    assert (form.started, form.due) == ("2026-12-04", "2026-12-18")


def test_an_incident_not_yet_notified_keeps_its_clock_open_until_a_version_records_it(
    services: Services, settings: Settings
) -> None:
    incident = example("serious_incident")
    notified = incident["data"].pop("commissioner_notified_at")
    drop(settings, incident, "a.json")
    process_inbox(services)
    (open_clock,) = services.store.clocks(open_only=True)
    assert (open_clock.clock, open_clock.due) == ("incident", "2026-11-20T02:20:00")
    incident["data"]["commissioner_notified_at"] = notified
    drop(settings, incident, "b.json")
    process_inbox(services)
    assert services.store.clocks(open_only=True) == []
    closed = [c for c in services.store.clocks() if c.closed_by is not None]
    assert all(c.met for c in closed)


def config_for(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "recordgen.toml"
    path.write_text(
        f'[folders]\ninbox = "{settings.folders.inbox}"\noutbox = "{settings.folders.outbox}"\n'
        f'rejected = "{settings.folders.rejected}"\nstore = "{settings.folders.store}"\n'
        f'templates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"\n'
        "[output]\npdf = false\n"
    )
    return path


def seeded(services: Services, settings: Settings) -> None:
    """Two open clocks: Siân's plan review (7 December 2026) and an incident not yet notified
    (20 November 2026 02:20) on another case."""
    drop(settings, example("support_plan"), "plan.json")
    incident = example("serious_incident")
    del incident["data"]["commissioner_notified_at"]
    drop(settings, incident, "incident.json")
    process_inbox(services)


def test_due_lists_open_clocks_soonest_first_with_working_days_left(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    seeded(services, settings)
    config = config_for(settings, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23",
                                      "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["case_ref"], r["what_is_due"], r["working_days_left"]) for r in rows] == [
        ("THS-2026-0097", "serious incident notification", "-1"),  # due Friday 20th
        ("THS-2026-0142", "support plan review", "10"),  # 24 Nov to 7 Dec: ten working days
    ]
    assert rows[0]["about"] == "serious_incident/INC-2026-017"


@pytest.mark.parametrize(
    ("options", "cases"),
    [
        (["--overdue"], ["THS-2026-0097"]),
        (["--within", "9"], ["THS-2026-0097"]),
        (["--within", "10"], ["THS-2026-0097", "THS-2026-0142"]),
        (["--case", "THS-2026-0142"], ["THS-2026-0142"]),
        (["--kind", "review"], ["THS-2026-0142"]),
        (["--kind", "exit-letter"], []),
    ],
)
def test_due_filters(services: Services, settings: Settings, tmp_path: Path,
                     options: list[str], cases: list[str]) -> None:
    seeded(services, settings)
    config = config_for(settings, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23",
                                      "--csv", *options])
    assert result.exit_code == 0, result.output
    assert [r["case_ref"] for r in csv.DictReader(io.StringIO(result.output))] == cases


def test_due_prints_a_table_a_person_reads(services: Services, settings: Settings,
                                           tmp_path: Path) -> None:
    seeded(services, settings)
    config = config_for(settings, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23"])
    assert result.exit_code == 0
    assert "Open statutory clocks on 23 November 2026" in result.output
    assert "INC-2026-017" in result.output and "(overdue)" in result.output
    # What is due is said once a row, with the incident's own reference beside it.
    assert "About" not in result.output
    assert "serious incident notification (INC-2026-017)" in result.output
    review = next(line for line in result.output.splitlines() if "THS-2026-0142" in line)
    assert review.count("support plan") == 1
    empty = CliRunner().invoke(cli, ["--config", str(config), "due", "--kind", "sar"])
    assert "Nothing is due" in empty.output


def test_the_run_summary_names_late_documents_and_clocks_due_soon(
    settings: Settings, tmp_path: Path, clock: FixedClock
) -> None:
    late = example("exit_letter")
    late["data"]["request_received_on"] = "2026-11-02"
    drop(settings, late, "late.json")
    incident = example("serious_incident")
    del incident["data"]["commissioner_notified_at"]
    drop(settings, incident, "incident.json")
    config = config_for(settings, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "process"], obj=clock)
    assert result.exit_code == 0, result.output
    assert ("Produced late: exit confirmation letter for case THS-2026-0142 was due by "
            "11 November 2026") in result.output
    assert "Due soon: serious incident notification for case THS-2026-0097" in result.output


def test_a_clock_this_version_does_not_know_is_listed_by_name_not_a_crash(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    # A store written by a later recordgen (or altered by hand) may hold a clock whose name this
    # version has never heard of: `due` still lists it, by the name stored, and says what to do.
    seeded(services, settings)
    services.store.open_clock(ClockRecord(case_ref="THS-2026-0142", clock="tenancy-check",
                                          subject="support_plan", started="2026-11-16",
                                          due="2026-11-25"))
    config = config_for(settings, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23",
                                      "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["case_ref"], r["working_days_left"]) for r in rows] == [
        ("THS-2026-0097", "-1"), ("THS-2026-0142", "2"), ("THS-2026-0142", "10")]
    assert rows[1]["what_is_due"].startswith('"tenancy-check" (a deadline this version of '
                                             "recordgen does not know; run recordgen verify)")
    table = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23"])
    assert table.exit_code == 0, table.output
    assert "tenancy-check" in table.output
    # Asked for one known kind, the unknown one is not among them.
    only = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23",
                                    "--csv", "--kind", "review"])
    assert [r["case_ref"] for r in csv.DictReader(io.StringIO(only.output))] == ["THS-2026-0142"]


def test_the_notes_after_a_run_list_the_two_year_limit_as_due_does(
        services: Services, settings: Settings) -> None:
    # The two-year limit is listed from the service's warning weeks before it; the notes after a
    # run follow the same setting as `recordgen due`, not the default eight weeks.
    services.store.open_clock(ClockRecord(case_ref="THS-2026-0142", clock="support-limit",
                                          subject="support", started="2024-11-24",
                                          due="2026-11-24"))
    today = dt.date(2026, 11, 23)
    default = run_notes(services.store, settings.calendar, today, [], Rules())
    assert default == ["Due soon: end of the two-year support limit for case THS-2026-0142 is due "
                       "in 1 working day (24 November 2026)."]
    on_the_day = Rules(support_limit_warning_weeks=0)  # listed from the day itself
    assert run_notes(services.store, settings.calendar, today, [], on_the_day) == []
    assert due_rows(services.store.clocks(open_only=True), settings.calendar, today,
                    rules=on_the_day) == []


def test_a_clock_in_hours_is_overdue_from_its_due_moment_even_on_its_day(
        services: Services, settings: Settings, tmp_path: Path) -> None:
    # The incident notification was due at 12:30am; at 10am the same day it is overdue, though
    # no working day has passed: `due --overdue` lists it and the table says so, as the status
    # page does.
    services.store.open_clock(ClockRecord(case_ref="THS-2026-0097", clock="incident",
                                          subject="serious_incident/INC-2026-099",
                                          started="2026-11-22T00:30", due="2026-11-23T00:30"))
    config = config_for(settings, tmp_path)
    ten = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))
    listed = CliRunner().invoke(cli, ["--config", str(config), "due", "--overdue", "--csv"],
                                obj=ten)
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.output)))
    assert [(r["case_ref"], r["what_is_due"], r["working_days_left"]) for r in rows] == [
        ("THS-2026-0097", "serious incident notification", "0")]
    table = CliRunner().invoke(cli, ["--config", str(config), "due"], obj=ten)
    assert "0 (overdue)" in table.output
    notes = run_notes(services.store, settings.calendar, ten.now().date(), [], Rules(),
                      now=ten.now())
    assert notes == ["Due soon: serious incident notification for case THS-2026-0097 is overdue "
                     "(12:30am on Monday 23 November 2026)."]
    # Before its moment it is not overdue.
    early = FixedClock(dt.datetime(2026, 11, 23, 0, 15, tzinfo=UK))
    listed = CliRunner().invoke(cli, ["--config", str(config), "due", "--overdue", "--csv"],
                                obj=early)
    assert list(csv.DictReader(io.StringIO(listed.output))) == []
