"""A case's status, derived from its records (referred, referral declined, open, closed, with
dates): the definitions in recordgen.records.case_status, one by one, and the status as `due`
shows it."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.case_files import StoredCaseFile, pence, pounds
from recordgen.records.case_status import (
    Stage,
    case_statuses,
    episodes,
    referrals,
    status_on,
)
from recordgen.records.history import case_history
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example

CASE = "THS-2026-0500"
D = dt.date.fromisoformat


class Files:
    """Accepted case files of one case, in the order they arrived."""

    def __init__(self) -> None:
        self.files: list[StoredCaseFile] = []

    def add(self, kind: str, **changes: Any) -> Files:
        data = copy.deepcopy(example(kind)["data"])
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        moment = dt.datetime(2026, 1, 1, tzinfo=UK) + dt.timedelta(hours=len(self.files))
        self.files.append(StoredCaseFile(kind, CASE, data, moment, len(self.files) + 1))
        return self

    def on(self, day: str) -> tuple[Stage, dt.date | None]:
        found = status_on(CASE, self.files, D(day))
        return found.stage, found.since


def referral(received: str, outcome: str = "accepted", decided: str | None = None,
             **more: Any) -> dict[str, Any]:
    return {"received_at": received, "decision": {"outcome": outcome,
                                                  "decided_on": decided or received[:10]},
            **more}


def test_nothing_recorded_is_no_status() -> None:
    assert Files().on("2026-06-01") == (Stage.NONE, None)
    assert status_on(CASE, [], D("2026-06-01")).words == "nothing recorded"


def test_a_referral_is_referred_until_support_starts_then_open() -> None:
    files = Files().add("referral", **referral("2026-06-01T10:00", "waiting list", "2026-06-02"))
    assert files.on("2026-05-31") == (Stage.NONE, None)  # not referred yet on that day
    assert files.on("2026-06-01") == (Stage.REFERRED, D("2026-06-01"))
    assert status_on(CASE, files.files, D("2026-06-03")).words == \
        "referred since 1 June 2026 (on the waiting list)"
    files.add("support_plan", support_started_on="2026-07-06", plan_date="2026-07-06")
    assert files.on("2026-07-05") == (Stage.REFERRED, D("2026-06-01"))
    assert files.on("2026-07-06") == (Stage.OPEN, D("2026-07-06"))


def test_a_declined_referral_is_declined_and_a_new_referral_starts_a_new_spell() -> None:
    files = Files().add("referral", **referral("2026-06-01T10:00", "declined", "2026-06-03",
                                               first_contact_at="2026-06-02T10:00"))
    assert files.on("2026-06-02") == (Stage.REFERRED, D("2026-06-01"))
    assert files.on("2026-06-03") == (Stage.DECLINED, D("2026-06-03"))
    assert status_on(CASE, files.files, D("2026-06-04")).words == \
        "referral declined on 3 June 2026"
    files.add("referral", **referral("2026-09-01T09:00"))
    assert files.on("2026-09-01") == (Stage.REFERRED, D("2026-09-01"))
    assert [e.declined_on for e in episodes(files.files)] == [D("2026-06-03"), None]


def test_a_later_case_file_for_the_same_referral_gives_its_decision() -> None:
    files = Files().add("referral", **referral("2026-06-01T10:00", "waiting list"))
    files.add("referral", **referral("2026-06-01T10:00", "declined", "2026-06-20",
                                     first_contact_at="2026-06-02T10:00"))
    assert files.on("2026-06-21") == (Stage.DECLINED, D("2026-06-20"))
    assert len(episodes(files.files)) == 1
    (only,) = referrals(files.files)  # one referral, counted once
    assert (only.decision, only.decided_on) == ("declined", D("2026-06-20"))


def test_a_referral_and_its_assessment_are_one_referral() -> None:
    files = Files().add("referral").add("needs_assessment")  # both received 9:40, 1 September
    (only,) = referrals(files.files)
    assert (only.from_kind, only.decision, only.route) == ("referral", "accepted",
                                                           "Family or friend")


def test_an_assessment_without_a_referral_case_file_still_refers_and_opens() -> None:
    files = Files().add("needs_assessment")  # referred 1 September, support from 14 September
    assert files.on("2026-09-02") == (Stage.REFERRED, D("2026-09-01"))
    assert files.on("2026-09-14") == (Stage.OPEN, D("2026-09-14"))
    (spell,) = episodes(files.files)
    assert spell.referral is not None and spell.referral.decision == "assessed"


def test_an_exit_letter_closes_on_its_leaving_date_and_says_so_before() -> None:
    files = Files().add("needs_assessment").add("exit_letter")  # leaving 30 November
    before = status_on(CASE, files.files, D("2026-11-23"))
    assert (before.stage, before.closing_on) == (Stage.OPEN, D("2026-11-30"))
    assert before.words == "open since 14 September 2026 (support ends 30 November 2026)"
    assert files.on("2026-11-30") == (Stage.CLOSED, D("2026-11-30"))


def test_a_leaving_date_put_back_corrects_the_first() -> None:
    files = Files().add("needs_assessment").add("exit_letter")
    files.add("exit_letter", leaving_date="2026-12-07")  # a second letter: a week later
    assert files.on("2026-12-01") == (Stage.OPEN, D("2026-09-14"))
    assert files.on("2026-12-07") == (Stage.CLOSED, D("2026-12-07"))
    assert len(episodes(files.files)) == 1


def test_support_again_after_it_ended_is_a_new_spell() -> None:
    files = Files().add("needs_assessment").add("exit_letter")
    files.add("referral", **referral("2027-02-01T09:00"))
    files.add("support_plan", plan_date="2027-02-15", support_started_on="2027-02-15")
    assert files.on("2027-01-10") == (Stage.CLOSED, D("2026-11-30"))
    assert files.on("2027-02-01") == (Stage.REFERRED, D("2027-02-01"))
    found = status_on(CASE, files.files, D("2027-03-01"))
    assert (found.stage, found.since, found.episodes) == (Stage.OPEN, D("2027-02-15"), 2)
    first, second = episodes(files.files)
    assert (first.opened_on, first.closed_on) == (D("2026-09-14"), D("2026-11-30"))
    assert (second.referred_on, second.opened_on, second.closed_on) == (
        D("2027-02-01"), D("2027-02-15"), None)


def test_an_old_plan_version_sent_after_support_ended_opens_nothing_new() -> None:
    files = Files().add("needs_assessment").add("exit_letter").add("support_plan")
    assert len(episodes(files.files)) == 1
    assert files.on("2026-12-10") == (Stage.CLOSED, D("2026-11-30"))


@pytest.mark.parametrize("kind", ["support_ended", "leaver_outcomes"])
def test_support_ended_without_a_letter_or_an_outcomes_form_closes_the_case(kind: str) -> None:
    files = Files().add("leaver_outcomes", support_started_on="2025-06-16",
                        support_ended_on="2026-11-21") if kind == "leaver_outcomes" \
        else Files().add("needs_assessment").add("support_ended")
    found = status_on(CASE, files.files, D("2026-11-23"))
    assert (found.stage, found.since) == (Stage.CLOSED, D("2026-11-21"))
    assert found.episode is not None
    assert found.episode.end_reason == "moved away without notice"


# --- amounts of money, exactly ---------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "in_pence", "shown"), [
    (480, 48000, "£480.00"), (480.1, 48010, "£480.10"), (0.07, 7, "£0.07"),
    (1250.5, 125050, "£1,250.50"), (999999.99, 99999999, "£999,999.99"),
])
def test_money_is_counted_in_whole_pence(amount: float, in_pence: int, shown: str) -> None:
    assert pence(amount) == in_pence
    assert pounds(pence(amount)) == shown


def test_many_small_amounts_add_up_to_the_penny() -> None:
    assert sum(pence(0.1) for _ in range(1000)) == 10000  # 0.1 a thousand times is £100.00


@pytest.mark.parametrize("amount", [12.345, -1, "12.50", True, float("nan"), float("inf")])
def test_what_is_not_pounds_and_pence_is_refused(amount: Any) -> None:
    with pytest.raises(ValueError):
        pence(amount)


# --- the status where staff see it --------------------------------------------------------------


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


def test_due_shows_each_cases_status_from_the_store(services: Services, settings: Settings,
                                                    tmp_path: Path) -> None:
    for name in ("needs_assessment", "support_plan", "exit_letter", "hard_copy_request"):
        (settings.folders.inbox / f"{name}.json").write_text(json.dumps(example(name)),
                                                             encoding="utf-8")
    process_inbox(services)
    assert {ref: s.words for ref, s in case_statuses(services.store, D("2026-11-23")).items()} \
        == {"THS-2026-0142": "open since 14 September 2026 (support ends 30 November 2026)"}
    config = tmp_path / "recordgen.toml"
    folders = settings.folders
    config.write_text(f'[folders]\ninbox = "{folders.inbox}"\noutbox = "{folders.outbox}"\n'
                      f'store = "{folders.store}"\ntemplates = "{REPO / "templates"}"\n'
                      f'schemas = "{REPO / "schemas"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "due", "--csv", "--today",
                                      "2026-11-23"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {r["what_is_due"] for r in rows} == {"hard copy of the support plan",
                                                "leaver's outcomes form"}
    assert {r["case_status"] for r in rows} == {
        "open since 14 September 2026 (support ends 30 November 2026)"}
    table = CliRunner().invoke(cli, ["--config", str(config), "due", "--today", "2026-11-23"],
                               env={"COLUMNS": "200"})
    assert "Case status" in table.output and "open since 14 September 2026" in table.output


def test_history_says_what_a_file_that_issues_nothing_recorded_without_a_name(
    services: Services, settings: Settings
) -> None:
    asked = example("hard_copy_request")
    sent = copy.deepcopy(asked)
    sent["data"]["sent_on"] = "2026-11-20"
    for name, document in (("ended", example("support_ended")), ("asked", asked), ("sent", sent)):
        (settings.folders.inbox / f"{name}.json").write_text(json.dumps(document),
                                                             encoding="utf-8")
        (outcome,) = process_inbox(services)
        assert outcome.status == "recorded"
    events = [e for ref in ("THS-2026-0097", "THS-2026-0142")
              for e in case_history(services.store, ref) if e.what.startswith("received")]
    assert sorted(e.detail["recorded"] for e in events) == [
        "paper copy of the plan asked for on 19 November 2026; not sent yet",
        "paper copy of the plan asked for on 19 November 2026; sent on 20 November 2026",
        "support ended on 21 November 2026: moved away without notice"]
    assert all(e.what.endswith(e.detail["recorded"]) for e in events)
    assert not any(n in e.what for e in events for n in ("Daniel", "Okafor", "Siân", "Priya"))
