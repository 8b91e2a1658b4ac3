"""The rest of a case's life, told in case files: a referral, an assessment, a plan, two reviews,
money secured, an exit letter and the leaver's outcomes form, each dropped on its own day. At every
step the clocks it opens and closes are checked in the store, the case's status on the day, and
the documents it issues read back; at the end the history, `due`, `verify` and the person's subject
access bundle hold the new records (issue: "the clocks opened and closed across a whole case told
in case files").
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.pipeline import Outcome
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.case_status import Stage, case_status
from recordgen.records.store import ClockRecord
from recordgen.services import open_records, open_services
from recordgen.settings import Settings
from recordgen.subject_access.redaction import MARKER

from conftest import example, make_settings
from docx_text import docx_rows, docx_text
from test_bundle import TextConverter

CASE = "THS-2026-0300"
ADVOCATE = "Gwenllian Pritchard-Evans"


def dated(document: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(document)
    document["case_ref"] = CASE
    return document


def referral() -> dict[str, Any]:
    document = dated(example("referral"))
    data = document["data"]
    data.update(received_at="2026-06-01T10:00", decision={"outcome": "accepted",
                                                          "decided_on": "2026-06-02"})
    del data["first_contact_at"]
    return document


def assessment() -> dict[str, Any]:
    document = dated(example("needs_assessment"))
    data = document["data"]
    data["referral"].update(received_at="2026-06-01T10:00", first_contact_at="2026-06-02T09:30")
    data.update(entered_service_on="2026-06-08", assessment_date="2026-06-10",
                support_start_date="2026-06-15")
    data["consent_to_share"]["recorded_on"] = "2026-06-10"
    return document


def plan() -> dict[str, Any]:
    document = dated(example("support_plan"))
    data = document["data"]
    data.update(plan_date="2026-06-15", support_started_on="2026-06-15", review_date="2026-09-07")
    data["signatures"].update(service_user_signed_on="2026-06-15", worker_signed_on="2026-06-15")
    for objective, target in zip(data["objectives"], ("2026-08-28", "2026-07-31", "2026-08-14"),
                                 strict=True):
        objective["target_date"] = target
    return document


def review(on: str, following: str, advocate: bool = False) -> dict[str, Any]:
    document = dated(example("support_review"))
    data = document["data"]
    data.update(review_date=on, next_review_date=following, circumstances_changed=False,
                plan_must_change=False)
    del data["changes_in_circumstances"]
    data["participants"] = [p for p in data["participants"] if p["role"] != "advocate"]
    if advocate:
        data["participants"].append({"name": ADVOCATE, "role": "advocate"})
    return document


def money(status: str) -> dict[str, Any]:
    document = dated(example("money_secured"))
    data = document["data"]
    data.update(status=status, applied_on="2026-07-01")
    if status == "applied for":
        del data["decided_on"]
    else:
        data["decided_on"] = "2026-07-20"
    return document


def exit_letter() -> dict[str, Any]:
    document = dated(example("exit_letter"))
    document["data"].update(request_received_on="2026-10-20", leaving_date="2026-10-30")
    return document


def outcomes_form() -> dict[str, Any]:
    document = dated(example("leaver_outcomes"))
    document["data"].update(
        person={"name": "Siân O'Brien"}, worker={"name": "Priya Natarajan",
                                                 "role": "Housing Support Officer"},
        support_started_on="2026-06-15", support_ended_on="2026-10-30", completed_on="2026-11-05",
        ended_because="the person asked to leave", planned_move_on=True,
        destination="stayed in their own home")
    document["data"]["hard_outcomes"].update(hospital_stays=[], independence_maintained=True)
    return document


# --- running the story, day by day --------------------------------------------------------------


class Story:
    """One settings and store; each step drops case files and processes them on its own day."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on(self, day: str, *documents: dict[str, Any]) -> list[Outcome]:
        for number, document in enumerate(documents):
            path = self.settings.folders.inbox / f"{day}-{number}-{document['kind']}.json"
            path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        with open_services(self.settings, self.clock(day)) as opened:
            return process_inbox(replace(opened, converter=TextConverter()))

    def clock(self, day: str) -> FixedClock:
        return FixedClock(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(10),
                                              tzinfo=UK))

    def clocks(self) -> dict[tuple[str, str], ClockRecord]:
        with open_records(self.settings, self.clock("2026-11-20"), seal=False) as store:
            return {(c.clock, c.started): c for c in store.clocks(CASE)}

    def status(self, day: str) -> tuple[Stage, str]:
        with open_records(self.settings, self.clock(day), seal=False) as store:
            found = case_status(store, CASE, dt.date.fromisoformat(day))
        return found.stage, found.words

    def documents(self, slug: str) -> list[Path]:
        return sorted((self.settings.folders.outbox / CASE).glob(f"*{slug}*.docx"))


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    yield Story(make_settings(tmp_path_factory.mktemp("life"), output={"pdf": True}))


def state(record: ClockRecord) -> tuple[str, str | None, bool | None]:
    return record.due, record.closed, record.met


# The steps run in order on one store (pytest runs a module's tests in the order written).


def test_1_a_referral_is_acknowledged_and_starts_the_first_contact_clock(story: Story) -> None:
    (outcome,) = story.on("2026-06-02", referral())
    assert outcome.status == "produced"
    clocks = story.clocks()
    assert state(clocks["referral", "2026-06-01T10:00:00"]) == ("2026-06-03T10:00:00", None, None)
    assert ("crisis", "2026-06-01T10:00:00") not in clocks  # not in crisis
    assert story.status("2026-06-02") == (
        Stage.REFERRED, "referred since 1 June 2026 (accepted, support not started yet)")
    (letter,) = story.documents("referral-acknowledgement")
    text = docx_text(letter)
    assert "We received a referral for housing support for you from someone who knows you at " \
           "10am on Monday 1 June 2026." in text
    assert "on 2 June 2026 we decided that we can offer you support" in text
    assert "We will contact you by 10am on Wednesday 3 June 2026" in text
    assert ["What you were referred for", example("referral")["data"]["reason_for_referral"]] \
        in docx_rows(letter)


def test_2_the_assessment_meets_the_contact_clock_and_starts_the_plan_clock(story: Story) -> None:
    (outcome,) = story.on("2026-06-10", assessment())
    assert outcome.status == "produced"
    clocks = story.clocks()
    # Contacted at 9:30 on 2 June, within 48 hours of the referral: one clock, met.
    assert [k for k in clocks if k[0] == "referral"] == [("referral", "2026-06-01T10:00:00")]
    assert state(clocks["referral", "2026-06-01T10:00:00"]) == (
        "2026-06-03T10:00:00", "2026-06-02T09:30:00", True)
    assert state(clocks["assessment", "2026-06-08"]) == ("2026-06-15", "2026-06-10", True)
    # Service standard: the plan within seven days of entering the service.
    assert state(clocks["plan", "2026-06-08"]) == ("2026-06-15", None, None)
    # Support starts on the 15th: referred until then, open from then.
    assert story.status("2026-06-10")[0] is Stage.REFERRED
    assert story.status("2026-06-15") == (Stage.OPEN, "open since 15 June 2026")


def test_3_the_plan_meets_the_plan_clock_and_starts_review_and_limit_clocks(story: Story) -> None:
    (outcome,) = story.on("2026-06-15", plan())
    assert outcome.status == "produced"
    clocks = story.clocks()
    assert state(clocks["plan", "2026-06-08"]) == ("2026-06-15", "2026-06-15", True)
    assert state(clocks["review", "2026-06-15"]) == ("2026-09-07", None, None)
    assert state(clocks["support-limit", "2026-06-15"]) == ("2028-06-15", None, None)


def test_4_money_applied_for_then_awarded_is_recorded_and_issues_nothing(story: Story) -> None:
    (applied,) = story.on("2026-07-01", money("applied for"))
    (awarded,) = story.on("2026-07-20", money("awarded"))
    assert (applied.status, awarded.status) == ("recorded", "recorded")
    assert applied.documents == awarded.documents == ()
    assert not list((story.settings.folders.outbox / CASE).glob("*money*"))
    code = CliRunner().invoke(cli, ["--config", str(config(story)), "history", CASE],
                              obj=story.clock("2026-07-20"))
    assert code.exit_code == 0, code.output
    assert "Discretionary Housing Payment £480.00 applied for on 1 July 2026 (DHP-2026-0311)" \
        in code.output
    assert "Discretionary Housing Payment £480.00 awarded on 20 July 2026 (DHP-2026-0311)" \
        in code.output
    assert "Case status on 20 July 2026: open since 15 June 2026" in code.output


def test_5_a_review_closes_the_open_review_clock_and_opens_the_next(story: Story) -> None:
    (outcome,) = story.on("2026-07-27", review("2026-07-27", "2026-10-19", advocate=True))
    assert outcome.status == "produced"
    clocks = story.clocks()
    assert state(clocks["review", "2026-06-15"]) == ("2026-09-07", "2026-07-27", True)
    assert state(clocks["review", "2026-07-27"]) == ("2026-10-19", None, None)
    (record,) = story.documents("support-plan-review")
    rows = docx_rows(record)
    assert ["Next review by", "19 October 2026"] in rows
    assert ["1", "Partly achieved", example("support_review")["data"]["objectives"][0]["note"]] \
        in rows
    assert any(row[0] == "Who took part" and f"{ADVOCATE} (advocate)" in row[1] for row in rows)


def test_6_a_second_review_closes_the_first_reviews_clock(story: Story) -> None:
    (outcome,) = story.on("2026-10-12", review("2026-10-12", "2027-01-04"))
    assert outcome.status == "produced"
    clocks = story.clocks()
    assert state(clocks["review", "2026-07-27"]) == ("2026-10-19", "2026-10-12", True)
    assert state(clocks["review", "2026-10-12"]) == ("2027-01-04", None, None)
    assert len(story.documents("support-plan-review")) == 2  # each review its own record


def test_7_the_exit_letter_ends_the_reviews_and_starts_the_outcomes_form_clock(
    story: Story
) -> None:
    (outcome,) = story.on("2026-10-22", exit_letter())
    assert outcome.status == "produced"
    clocks = story.clocks()
    assert state(clocks["exit-letter", "2026-10-20"]) == ("2026-10-29", "2026-10-22", True)
    # Leaving on the 30th: no review or continuation is due after it.
    assert state(clocks["review", "2026-10-12"]) == ("2027-01-04", "2026-10-30", True)
    assert state(clocks["support-limit", "2026-06-15"]) == ("2028-06-15", "2026-10-30", True)
    # Ten working days after leaving: Friday 13 November.
    assert state(clocks["outcomes-form", "2026-10-30"]) == ("2026-11-13", None, None)
    assert story.status("2026-10-22") == (
        Stage.OPEN, "open since 15 June 2026 (support ends 30 October 2026)")


def test_8_the_outcomes_form_closes_its_clock_and_the_case(story: Story) -> None:
    (outcome,) = story.on("2026-11-05", outcomes_form())
    assert outcome.status == "produced"
    clocks = story.clocks()
    assert state(clocks["outcomes-form", "2026-10-30"]) == ("2026-11-13", "2026-11-05", True)
    assert [c for c in clocks.values() if c.closed is None] == []
    assert all(c.met for c in clocks.values())
    assert story.status("2026-11-05") == (Stage.CLOSED, "closed since 30 October 2026")
    (form,) = story.documents("outcomes-form")
    rows = docx_rows(form)
    assert ["Support ended", "30 October 2026"] in rows
    assert ["Moved on in a planned way (KPI 2)", "Yes"] in rows
    assert ["Independent living established or kept (KPI 1)", "Yes"] in rows
    assert ["Economic well-being", "Yes", "Yes",
            example("leaver_outcomes")["data"]["outcomes"]["economic_wellbeing"]["note"]] in rows


def config(story: Story) -> Path:
    folders = story.settings.folders
    path = folders.outbox.parent / "recordgen.toml"
    path.write_text(
        f'[folders]\ninbox = "{folders.inbox}"\noutbox = "{folders.outbox}"\n'
        f'rejected = "{folders.rejected}"\nstore = "{folders.store}"\n'
        f'templates = "{folders.templates}"\nschemas = "{folders.schemas}"\n'
        "[output]\npdf = false\n", encoding="utf-8")
    return path


def test_9_due_verify_and_history_at_the_end(story: Story) -> None:
    runner, settings_file = CliRunner(), str(config(story))
    due = runner.invoke(cli, ["--config", settings_file, "due", "--case", CASE],
                        obj=story.clock("2026-11-20"))
    assert "Nothing is due" in due.output
    verified = runner.invoke(cli, ["--config", settings_file, "verify"],
                             obj=story.clock("2026-11-20"))
    assert verified.exit_code == 0, verified.output
    history = runner.invoke(cli, ["--config", settings_file, "history", CASE],
                            obj=story.clock("2026-11-20"))
    assert "Case status on 20 November 2026: closed since 30 October 2026" in history.output
    assert "review of 27 July 2026; next review by 19 October 2026" in history.output
    assert "outcomes form for support that ended on 30 October 2026 (the person asked to " \
           "leave; move-on planned)" in history.output
    assert "referral received 10am on Monday 1 June 2026 (Family or friend): accepted on " \
           "2 June 2026" in history.output


def test_10_the_persons_bundle_holds_the_new_records_without_the_advocate(story: Story) -> None:
    request = dated(example("subject_access_request"))
    (answer,) = story.on("2026-11-20", request)
    assert answer.status == "produced"
    pdf = next(p for p in answer.documents if p.endswith(".pdf"))
    text = "\n".join(page.extract_text() for page in
                     PdfReader(story.settings.folders.outbox / pdf).pages)
    for title in ("Case file received: Referral", "Case file received: Money secured",
                  "Case file received: Support plan review", "Support plan review 2026-07-27",
                  "Case file received: Leaver's outcomes", "Short-term outcomes form"):
        assert title in text, title
    assert "DHP-2026-0311" in text and "480" in text
    assert ADVOCATE not in text and "Pritchard" not in text
    assert MARKER in text
