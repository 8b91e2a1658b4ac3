"""Case files that issue nothing (money secured, support ended without a letter, a request for a
paper copy, a declined referral) are recorded with their clocks and nothing else; the new settings
and `recordgen deadline` questions; the two-year limit shown from its warning weeks; the new
documents regenerated when their templates change."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner

from recordgen.calendar import Interval
from recordgen.cli import cli
from recordgen.cli.deadline import deadline
from recordgen.clock import FixedClock
from recordgen.documents.regenerate import Selection, regenerate
from recordgen.errors import SettingsError
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.history import case_history
from recordgen.services import open_services
from recordgen.settings import Settings, settings_from_mapping

from conftest import REPO, example, make_settings


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


def drop(settings: Settings, name: str, document: dict[str, Any]) -> None:
    (settings.folders.inbox / name).write_text(json.dumps(document, ensure_ascii=False),
                                               encoding="utf-8")


def versions_reserved(settings: Settings) -> int:
    with sqlite3.connect(settings.folders.store) as db:
        return int(db.execute("SELECT COUNT(*) FROM versions").fetchone()[0])


def test_money_secured_is_recorded_and_nothing_is_made(services: Services,
                                                       settings: Settings) -> None:
    drop(settings, "money.json", example("money_secured"))
    (outcome,) = process_inbox(services)
    assert (outcome.status, outcome.documents, outcome.kind) == ("recorded", (), "money_secured")
    assert services.store.documents() == []
    assert versions_reserved(settings) == 0  # no version number is taken for nothing
    assert not settings.folders.outbox.exists() or not any(settings.folders.outbox.rglob("*.docx"))
    assert not list(settings.folders.inbox.glob("*.json"))  # taken in,
    assert not list(settings.folders.work.rglob("*.json"))  # and finished
    (submission,) = services.store.submissions()
    assert submission.outcome == "accepted"
    assert json.loads(submission.raw) == example("money_secured")  # the store keeps the copy
    (event,) = case_history(services.store, "THS-2026-0142")
    assert event.detail["recorded"] == \
        "Discretionary Housing Payment £480.00 awarded on 2 October 2026 (DHP-2026-0311)"


def test_the_same_money_file_twice_is_a_duplicate(services: Services, settings: Settings) -> None:
    drop(settings, "money.json", example("money_secured"))
    process_inbox(services)
    drop(settings, "money-again.json", example("money_secured"))
    (again,) = process_inbox(services)
    assert again.status == "duplicate"
    assert [s.outcome for s in services.store.submissions()] == ["accepted", "duplicate"]


def test_a_declined_referral_issues_no_letter_and_answers_the_crisis_clock(
    services: Services, settings: Settings
) -> None:
    referral = example("referral")
    referral["data"].update(crisis=True, decision={
        "outcome": "declined", "decided_on": "2026-09-01",
        "reason": "Lives outside the borough; referred to the council where she lives."})
    drop(settings, "declined.json", referral)
    (outcome,) = process_inbox(services)
    assert (outcome.status, outcome.documents) == ("recorded", ())
    assert versions_reserved(settings) == 0
    clocks = {c.clock: c for c in services.store.clocks()}
    assert (clocks["referral"].closed, clocks["referral"].met) == ("2026-09-02T11:15:00", True)
    # Service standard: support within 24 hours in a crisis; declined the same day, it is met.
    assert (clocks["crisis"].due, clocks["crisis"].closed, clocks["crisis"].met) == (
        "2026-09-02T09:40:00", "2026-09-01", True)


def test_a_paper_copy_request_starts_its_clock_and_the_copy_sent_stops_it(
    services: Services, settings: Settings
) -> None:
    drop(settings, "asked.json", example("hard_copy_request"))
    (asked,) = process_inbox(services)
    assert asked.status == "recorded"
    (clock,) = services.store.clocks(open_only=True)
    # Support planning policy §5.10: five working days from Thursday 19 November.
    assert (clock.clock, clock.started, clock.due) == ("hard-copy", "2026-11-19", "2026-11-26")
    sent = example("hard_copy_request")
    sent["data"].update(sent_on="2026-11-23", sent_by="post")
    drop(settings, "sent.json", sent)
    process_inbox(services)
    (closed,) = services.store.clocks()
    assert (closed.closed, closed.met) == ("2026-11-23", True)


def test_support_ended_without_a_letter_starts_the_outcomes_form_clock_from_when_it_was_known(
    services: Services, settings: Settings
) -> None:
    drop(settings, "ended.json", example("support_ended"))
    process_inbox(services)
    (clock,) = services.store.clocks()
    # Ended Saturday 21 November, learned of on Monday the 23rd: ten working days from the 23rd.
    assert (clock.clock, clock.started, clock.due, clock.closed) == (
        "outcomes-form", "2026-11-21", "2026-12-07", None)


# --- settings ------------------------------------------------------------------------------------


def test_the_new_settings_default_to_the_policies(tmp_path: Path) -> None:
    rules = settings_from_mapping({}, base_dir=tmp_path).rules
    assert (rules.crisis_support_hours, rules.plan_days, rules.outcomes_form_working_days,
            rules.support_limit_warning_weeks, rules.min_age, rules.max_age) == (24, 7, 10, 8,
                                                                                 18, 0)
    assert rules.review_at_least_every is None and rules.resident_review_choices == ()


def test_the_new_settings_are_read(tmp_path: Path) -> None:
    rules = settings_from_mapping({"rules": {
        "review_at_least_every": "4 weeks", "resident_review_choices": ["6 months", "12 months"],
        "plan_days": 28, "min_age": 16, "max_age": 65}}, base_dir=tmp_path).rules
    assert rules.review_at_least_every == Interval(4, "weeks")
    assert rules.resident_review_choices == (Interval(6, "months"), Interval(12, "months"))
    assert (rules.plan_days, rules.min_age, rules.max_age) == (28, 16, 65)


@pytest.mark.parametrize(("rules", "words"), [
    ({"min_age": 18, "max_age": 16}, "max_age is 16, below min_age (18)"),
    ({"review_at_least_every": "monthly"}, "review_at_least_every"),
    ({"resident_review_choices": ["6 months", "a year"]}, "resident_review_choices"),
    ({"outcomes_form_working_days": 2.5}, "whole number"),
])
def test_a_bad_new_setting_is_refused_in_plain_words(tmp_path: Path, rules: dict[str, Any],
                                                     words: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(words)):
        settings_from_mapping({"rules": rules}, base_dir=tmp_path)


# --- `recordgen deadline` for the new clocks ------------------------------------------------------


@pytest.mark.parametrize(("args", "said"), [
    (["outcomes-form", "--ended", "2026-12-18", "--today", "2026-12-18"],
     "Leaver's outcomes form for support that ended on Friday 18 December 2026 is due by "
     "Wednesday 6 January 2027 (10 working days;"),
    (["crisis", "--received", "2026-12-24 09:15", "--today", "2026-12-24"],
     "Crisis support after a referral for a referral received at 9:15am on Thursday 24 December "
     "2026 is due by 9:15am on Friday 25 December 2026 (24 hours;"),
    (["plan", "--entered", "2026-12-24", "--today", "2026-12-24"],
     "is due by Thursday 31 December 2026 (7 days;"),
    (["support-limit", "--started", "2028-02-29", "--today", "2028-03-01"],
     "is due by Thursday 28 February 2030 (2 years;"),
])
def test_deadline_answers_for_the_new_clocks(tmp_path: Path, args: list[str], said: str) -> None:
    result = CliRunner().invoke(deadline, args, obj=settings_from_mapping({}, base_dir=tmp_path))
    assert result.exit_code == 0, result.output
    assert said in result.output


def test_a_regular_review_needs_the_service_to_set_one(tmp_path: Path) -> None:
    unset = CliRunner().invoke(deadline, ["regular-review", "--since", "2026-11-02"],
                               obj=settings_from_mapping({}, base_dir=tmp_path))
    assert unset.exit_code == 2
    assert "review_at_least_every is not set" in unset.output
    four_weeks = settings_from_mapping({"rules": {"review_at_least_every": "4 weeks"}},
                                       base_dir=tmp_path)
    result = CliRunner().invoke(deadline, ["regular-review", "--since", "2026-11-02", "--today",
                                           "2026-11-02"], obj=four_weeks)
    assert "is due by Monday 30 November 2026 (4 weeks;" in result.output


# --- the two-year limit, from its warning weeks -----------------------------------------------


def due_csv(settings: Settings, tmp_path: Path, today: str, *options: str) -> list[dict[str, str]]:
    folders = settings.folders
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ninbox = "{folders.inbox}"\noutbox = "{folders.outbox}"\n'
                      f'store = "{folders.store}"\ntemplates = "{REPO / "templates"}"\n'
                      f'schemas = "{REPO / "schemas"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "due", "--csv", "--today", today,
                                      *options])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def test_the_two_year_limit_is_listed_from_eight_weeks_before_it(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    drop(settings, "plan.json", example("support_plan"))  # support started 14 September 2026
    process_inbox(services)
    limit = "end of the two-year support limit"
    early = due_csv(settings, tmp_path, "2028-07-19")
    assert limit not in [r["what_is_due"] for r in early]
    # 14 September 2028 less eight weeks is 20 July 2028.
    warned = due_csv(settings, tmp_path, "2028-07-20")
    assert [(r["what_is_due"], r["due"]) for r in warned if r["what_is_due"] == limit] == [
        (limit, "2028-09-14")]
    asked = due_csv(settings, tmp_path, "2026-11-23", "--kind", "support-limit")
    assert [r["due"] for r in asked] == ["2028-09-14"]


def test_a_continuation_agreed_answers_the_limit(services: Services, settings: Settings) -> None:
    drop(settings, "plan.json", example("support_plan"))
    process_inbox(services)
    review = example("support_review")
    review["data"]["extended_support_agreed"] = True
    drop(settings, "review.json", review)
    process_inbox(services)
    limit = next(c for c in services.store.clocks() if c.clock == "support-limit")
    assert (limit.closed, limit.met) == ("2026-11-09", True)


# --- the new documents are regenerated like the others ----------------------------------------


def test_a_changed_review_template_makes_a_new_version_and_records_are_left_out(
    tmp_path: Path, clock: FixedClock
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    settings = make_settings(tmp_path, folders={"templates": str(templates)})
    for kind in ("support_plan", "support_review", "money_secured", "referral",
                 "leaver_outcomes"):
        drop(settings, f"{kind}.json", example(kind))
    with open_services(settings, clock) as services:
        process_inbox(services)
        results = regenerate(services, Selection(), workers=1)
        assert sorted(r.series for r in results) == [
            "leaver_outcomes/2026-11-21", "referral", "support_plan", "support_review/2026-11-09"]
        assert {r.status for r in results} == {"unchanged"}
        path = templates / "support_review.docx"
        document = docx.Document(str(path))
        heading = next(p for p in document.paragraphs if p.text == "How each goal is going")
        heading.runs[0].text = "How each goal of the plan is going"
        document.save(str(path))
        changed = {r.series: r.status for r in regenerate(services, Selection(), workers=1)}
    assert changed["support_review/2026-11-09"] == "regenerated"
    assert {s for s, status in changed.items() if status == "regenerated"} == {
        "support_review/2026-11-09"}
