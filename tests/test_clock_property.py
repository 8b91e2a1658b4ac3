"""No sequence of case files leaves a clock both open and answered (issue: "a property test that no
sequence of case files leaves a clock both open and answered").

A pool of case files for one case (a referral in crisis, an assessment, two versions of a plan,
reviews, an exit letter, support ended without a letter, outcomes forms, requests for a paper copy
and the copy sent) is recorded in any order and any selection, each as the record stage records it
(the case file accepted, then its clocks). What answers each clock is written out again here, from
the table in README "Deadlines", not taken from the code under test; then every open clock must
have no answer among the case's records, and every closed one must be closed by its first answer
on or after its start.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordgen.cases import CaseFile
from recordgen.clock import UK, FixedClock
from recordgen.deadlines.tracking import update_clocks
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.kinds import KINDS
from recordgen.records.store import SqliteStore, SubmissionOutcome, SubmissionRecord
from recordgen.settings import Settings

from conftest import REPO, example, make_settings

CASE = "THS-2026-0400"
NOW = dt.datetime(2026, 12, 1, 10, tzinfo=UK)


def _case(kind: str, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(example(kind))
    document["case_ref"] = CASE
    document["data"].update(changes)
    return document


def pool() -> list[dict[str, Any]]:
    """Case files of one case's life, some of them answering, correcting or repeating others."""
    referral = _case("referral", crisis=True, received_at="2026-06-01T10:00",
                     decision={"outcome": "accepted", "decided_on": "2026-06-01"})
    del referral["data"]["first_contact_at"]
    contacted = copy.deepcopy(referral)
    contacted["data"].update(first_contact_at="2026-06-03T11:00",
                             crisis_support_given_at="2026-06-01T16:00")
    assessment = _case("needs_assessment", entered_service_on="2026-06-08",
                       assessment_date="2026-06-10", support_start_date="2026-06-15",
                       crisis_support_needed=True)
    assessment["data"]["referral"].update(received_at="2026-06-01T10:00",
                                          first_contact_at="2026-06-02T09:30")
    plan = _case("support_plan", plan_date="2026-06-15", support_started_on="2026-06-15",
                 review_date="2026-09-07")
    plan_v2 = _case("support_plan", plan_date="2026-08-03", support_started_on="2026-06-15",
                    review_date="2026-10-26", extended_support_agreed=True)
    review_1 = _case("support_review", review_date="2026-07-27", next_review_date="2026-10-19")
    review_2 = _case("support_review", review_date="2026-10-12", next_review_date="2027-01-04")
    letter = _case("exit_letter", request_received_on="2026-10-20", leaving_date="2026-10-30")
    ended = _case("support_ended", support_ended_on="2026-10-28", learned_on="2026-11-02")
    form = _case("leaver_outcomes", support_started_on="2026-06-15",
                 support_ended_on="2026-10-30", completed_on="2026-11-05")
    late_form = _case("leaver_outcomes", support_started_on="2026-06-15",
                      support_ended_on="2026-10-28", completed_on="2026-11-20")
    for leaver in (form, late_form):
        leaver["data"]["hard_outcomes"]["hospital_stays"] = []
    asked = _case("hard_copy_request", requested_on="2026-07-01")
    sent = _case("hard_copy_request", requested_on="2026-07-01", sent_on="2026-07-10")
    asked_again = _case("hard_copy_request", requested_on="2026-09-01")
    return [referral, contacted, assessment, plan, plan_v2, review_1, review_2, letter, ended,
            form, late_form, asked, sent, asked_again]


POOL = pool()


def test_the_pool_is_valid_case_files(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    schemas = SchemaSet(REPO / "schemas")
    for document in POOL:
        validate_case_file(document, schemas, settings, NOW.date())


# --- what answers a clock, written out from the README's table -----------------------------------

def _when(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key)
    return [value] if isinstance(value, str) else []


def answers_of(kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(clock, when, strictly after the start) for each clock this case file answers."""
    ends = [*_when(data, "leaving_date")] if kind == "exit_letter" else \
        [*_when(data, "support_ended_on")] if kind in ("support_ended", "leaver_outcomes") else []
    for day in ends:  # the end of support
        for clock in ("review", "regular-review", "plan", "support-limit"):
            yield clock, day, False
    if kind == "referral":
        yield from (("referral", when, False) for when in _when(data, "first_contact_at"))
        yield from (("crisis", when, False) for when in _when(data, "crisis_support_given_at"))
        if data["decision"]["outcome"] == "declined":
            yield "crisis", data["decision"]["decided_on"], False
    if kind == "needs_assessment":
        yield from (("referral", when, False) for when in _when(data["referral"],
                                                                 "first_contact_at"))
        yield "crisis", data["support_start_date"], False
    if kind == "support_plan":
        yield "plan", data["plan_date"], False
        yield "review", data["plan_date"], True
        yield "regular-review", data["plan_date"], True
        if data.get("extended_support_agreed") is True:
            yield "support-limit", data["plan_date"], False
    if kind == "support_review":
        yield "review", data["review_date"], True
        yield "regular-review", data["review_date"], True
    if kind == "leaver_outcomes":
        yield "outcomes-form", data["completed_on"], False
    if kind == "hard_copy_request":
        yield from (("hard-copy", when, False) for when in _when(data, "sent_on"))


def normal(when: str) -> str:
    """A day as it is; a moment with its seconds, as the store writes it."""
    return dt.datetime.fromisoformat(when).isoformat() if "T" in when else when


def _on_or_after(when: str, started: str, strictly: bool) -> bool:
    when, started = normal(when), normal(started)
    both_moments = "T" in when and "T" in started
    a, b = (when, started) if both_moments else (when[:10], started[:10])
    return a > b if strictly else a >= b


def all_answers(clock: str, started: str, recorded: Sequence[dict[str, Any]]) -> list[str]:
    """Every answer to the clock among the records, on or after its start, soonest first."""
    found = sorted((when[:10], normal(when)) for document in recorded
                   for name, when, strictly in answers_of(document["kind"], document["data"])
                   if name == clock and _on_or_after(when, started, strictly))
    return [when for _, when in found]


def first_answer(clock: str, started: str, recorded: Sequence[dict[str, Any]]) -> str | None:
    found = all_answers(clock, started, recorded)
    return found[0] if found else None


# --- the property ----------------------------------------------------------------------------------


def record_all(store: SqliteStore, documents: Sequence[dict[str, Any]], settings: Settings) -> None:
    """Each case file recorded as the pipeline's record stage records it: accepted, then its
    clocks, in one transaction."""
    for number, document in enumerate(documents):
        case = CaseFile(KINDS[document["kind"]], CASE, 1, document["data"])
        raw = json.dumps(document, ensure_ascii=False).encode()
        received = NOW + dt.timedelta(minutes=number)
        with store.transaction():
            store.record_submission(SubmissionRecord(
                claim_id=f"claim-{number}", file_name=f"{number}.json", sha256=f"{number:064d}",
                received_at=received, outcome=SubmissionOutcome.ACCEPTED, raw=raw,
                case_ref=CASE, kind=document["kind"]))
            update_clocks(store, case, None, received.date(), settings)


def check(documents: Sequence[dict[str, Any]], settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "store.sqlite3", clock=FixedClock(NOW),
                            create="a property test")
        try:
            record_all(store, documents, settings)
            clocks = store.clocks(CASE)
        finally:
            store.close()
    kinds = [d["kind"] for d in documents]
    for clock in clocks:
        if clock.clock in ("assessment", "exit-letter", "incident", "sar"):
            continue  # answered by their own document, judged at once (tested elsewhere)
        answers = all_answers(clock.clock, clock.started, documents)
        if clock.closed is None:
            assert answers == [], (clock, kinds)  # open, and nothing recorded answers it
        else:
            # Closed by an answer the records hold, on or after its start: the first one recorded
            # (a later record with an earlier answer does not reopen the judgement made).
            assert clock.closed in answers, (clock, kinds)
    # Nothing is started twice: one clock for each name and start.
    assert len({(c.clock, c.started) for c in clocks}) == len(clocks)


@pytest.fixture(scope="module")
def regular(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A service that also reviews at least every four weeks (Service standard)."""
    return make_settings(tmp_path_factory.mktemp("property"),
                         rules={"review_at_least_every": "4 weeks"})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(order=st.permutations(range(len(POOL))), keep=st.integers(1, len(POOL)))
def test_no_sequence_leaves_a_clock_open_and_answered(regular: Settings, order: list[int],
                                                      keep: int) -> None:
    check([POOL[i] for i in order[:keep]], regular)


@pytest.mark.parametrize("order", ["as told", "backwards"])
def test_the_whole_pool_in_both_orders(regular: Settings, order: str) -> None:
    documents = POOL if order == "as told" else list(reversed(POOL))
    check(documents, regular)


def test_the_checker_knows_what_answers_a_clock() -> None:
    """The check's own table: the review answers the plan's review clock, nothing answers the
    review's, and the plan answers the first-plan clock the assessment started."""
    plan = next(d for d in POOL if d["kind"] == "support_plan")
    review = next(d for d in POOL if d["kind"] == "support_review")
    assert first_answer("review", "2026-06-15", [plan, review]) == "2026-07-27"
    assert first_answer("review", "2026-07-27", [plan, review]) is None
    assert first_answer("plan", "2026-06-08", [plan]) == "2026-06-15"
