"""The rules beyond the schema for referrals, reviews, money secured, outcomes forms, support ended
without a letter, requests for a paper copy, and the exit letter's new ones: each bad input gets
one clear problem, at its place, saying what is wrong and how to fix it; the examples pass."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.errors import Problem, ValidationFailed
from recordgen.pipeline.inbox import process_inbox
from recordgen.records.case_files import StoredCaseFile
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, TODAY, example, make_settings

SCHEMAS = SchemaSet(REPO / "schemas")


def problems(document: dict[str, Any], settings: Settings,
             case_files: Sequence[StoredCaseFile] | None = None) -> list[Problem]:
    lookup = None if case_files is None else (lambda _ref: case_files)
    try:
        validate_case_file(document, SCHEMAS, settings, TODAY, case_files=lookup)
    except ValidationFailed as failed:
        return list(failed.problems)
    return []


def the_problem(document: dict[str, Any], settings: Settings, path: str,
                case_files: Sequence[StoredCaseFile] | None = None) -> Problem:
    found = problems(document, settings, case_files)
    assert [p.path for p in found] == [path], found
    return found[0]


def changed(kind: str, **changes: Any) -> dict[str, Any]:
    document = example(kind)
    document["data"].update(changes)
    return document


@pytest.mark.parametrize("kind", ["referral", "support_review", "money_secured",
                                  "leaver_outcomes", "support_ended", "hard_copy_request"])
def test_the_examples_pass(kind: str, settings: Settings) -> None:
    assert problems(example(kind), settings, [plan_file()]) == []


# --- referral -----------------------------------------------------------------------------------


def test_a_referral_received_in_the_future_is_refused(settings: Settings) -> None:
    found = {p.path: p for p in problems(changed("referral", received_at="2026-11-24T09:00"),
                                         settings)}
    assert found["$.data.received_at"].message == (
        "The time the referral was received is 24 November 2026, which is after today "
        "(23 November 2026).")


def test_a_decision_before_the_referral_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("referral", decision={"outcome": "accepted",
                                                        "decided_on": "2026-08-31"}),
                          settings, "$.data.decision.decided_on")
    assert problem.message == ("The decision (31 August 2026) is before the referral being "
                               "received (1 September 2026).")


def test_a_decision_in_the_future_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("referral", decision={"outcome": "accepted",
                                                        "decided_on": "2026-11-24"}),
                          settings, "$.data.decision.decided_on")
    assert problem.message == ("The decision date is 24 November 2026, which is after today "
                               "(23 November 2026).")


def test_first_contact_before_the_referral_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("referral", first_contact_at="2026-09-01T09:00"), settings,
                          "$.data.first_contact_at")
    assert problem.message == ("The first contact (9am on Tuesday 1 September 2026) is before "
                               "the referral being received (9:40am on Tuesday 1 September "
                               "2026).")


def test_crisis_support_on_a_referral_not_in_crisis_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("referral", crisis_support_given_at="2026-09-01T15:00"),
                          settings, "$.data.crisis_support_given_at")
    assert "not marked as a crisis" in problem.message
    assert '"crisis"' in problem.fix
    assert problems(changed("referral", crisis=True,
                            crisis_support_given_at="2026-09-01T15:00"), settings) == []


def test_a_declined_referral_needs_its_reason_and_first_contact(settings: Settings) -> None:
    document = changed("referral", decision={"outcome": "declined", "decided_on": "2026-09-03"})
    del document["data"]["first_contact_at"]
    found = {p.path: p for p in problems(document, settings)}
    assert set(found) == {"$.data.decision.reason", "$.data.first_contact_at"}
    assert "declined" in found["$.data.decision.reason"].message
    assert "48 hours" in found["$.data.first_contact_at"].fix
    document["data"]["decision"]["reason"] = "Lives outside the borough; signposted to Mind."
    document["data"]["first_contact_at"] = "2026-09-02T11:15"
    document["data"]["eligibility"]["lives_in_area"] = False
    assert problems(document, settings) == []  # a declined referral need not be eligible


@pytest.mark.parametrize(("route", "referrer", "path", "words"), [
    ("Self-referral", {"acting_as": "family member or friend", "name": "Carys Morgan"},
     "$.data.referrer", "Self-referral, but a referrer is named"),
    ("Health", None, "$.data.referrer", 'came through "Health", but who made it'),
    ("Health", {"acting_as": "family member or friend", "name": "Carys Morgan"},
     "$.data.referrer.acting_as", "an agency"),
    ("Family or friend", {"acting_as": "professional", "name": "Dr Ama Mensah",
                          "organisation": "Wharf Road Surgery"},
     "$.data.referrer.acting_as", "recorded as a professional"),
    ("Probation", {"acting_as": "professional", "name": "Sam Clarke"},
     "$.data.referrer.organisation", "organisation is not recorded"),
])
def test_the_referrer_fits_the_route(settings: Settings, route: str,
                                     referrer: dict[str, Any] | None, path: str,
                                     words: str) -> None:
    document = changed("referral", route=route)
    if referrer is None:
        del document["data"]["referrer"]
    else:
        document["data"]["referrer"] = referrer
    assert words in the_problem(document, settings, path).message


def test_a_self_referral_needs_no_referrer(settings: Settings) -> None:
    document = changed("referral", route="Self-referral")
    del document["data"]["referrer"]
    assert problems(document, settings) == []


@pytest.mark.parametrize(("born", "outcome", "ok"), [
    ("2008-09-02", "accepted", False),  # 17 on the day the referral came (1 September 2026)
    ("2008-09-01", "accepted", True),  # 18 that very day
    ("2008-09-02", "waiting list", False),
    ("2008-09-02", "declined", True),  # declining a referral needs no eligibility
])
def test_the_age_range_is_checked_on_the_day_of_the_referral(
    settings: Settings, born: str, outcome: str, ok: bool
) -> None:
    document = changed("referral")
    document["data"]["person"]["date_of_birth"] = born
    document["data"]["decision"] = {"outcome": outcome, "decided_on": "2026-09-03",
                                    "reason": "Decided at the allocation meeting."}
    found = problems(document, settings)
    if ok:
        assert found == []
    else:
        (problem,) = found
        assert problem.path == "$.data.person.date_of_birth"
        assert "was 17 when it was received; this service takes people aged 18 or over" in \
            problem.message
        assert "exception_agreed" in problem.fix


def test_an_age_range_with_an_upper_limit_and_an_agreed_exception(tmp_path: Path) -> None:
    # Employment development project specification: 16 to 65, "unless agreed with the SP team".
    settings = make_settings(tmp_path, rules={"min_age": 16, "max_age": 65})
    document = changed("referral")
    document["data"]["person"]["date_of_birth"] = "1960-01-15"  # 66
    problem = the_problem(document, settings, "$.data.person.date_of_birth")
    assert "aged 16 to 65" in problem.message
    document["data"]["eligibility"]["exception_agreed"] = "Agreed with the SP team on 2 Sept."
    assert problems(document, settings) == []


def test_a_person_outside_the_area_or_without_consent_is_not_accepted(settings: Settings) -> None:
    outside = changed("referral")
    outside["data"]["eligibility"]["lives_in_area"] = False
    problem = the_problem(outside, settings, "$.data.eligibility.lives_in_area")
    assert "does not live in the area" in problem.message
    assert "placed_outside_area_temporarily" in problem.fix
    outside["data"]["eligibility"]["placed_outside_area_temporarily"] = True
    assert problems(outside, settings) == []
    no_consent = changed("referral")
    no_consent["data"]["eligibility"]["consented_to_referral"] = False
    no_consent["data"]["eligibility"]["exception_agreed"] = "Manager agreed."
    problem = the_problem(no_consent, settings, "$.data.eligibility.consented_to_referral")
    assert "has not consented" in problem.message  # no exception to consent


def test_a_date_of_birth_after_the_referral_is_refused(settings: Settings) -> None:
    document = changed("referral")
    document["data"]["person"]["date_of_birth"] = "2026-10-01"
    assert "after the referral was received" in the_problem(
        document, settings, "$.data.person.date_of_birth").message


def test_every_eligibility_problem_of_a_referral_is_named_at_once(settings: Settings) -> None:
    # A date of birth typed wrong does not hide that the person lives outside the area and has
    # not consented: the admin fixes all three in one go, not one per drop.
    document = changed("referral")
    document["data"]["person"]["date_of_birth"] = "2026-10-01"
    document["data"]["eligibility"]["lives_in_area"] = False
    document["data"]["eligibility"]["consented_to_referral"] = False
    found = problems(document, settings)
    by_place = {p.path: p.message for p in found}
    assert sorted(by_place) == ["$.data.eligibility.consented_to_referral",
                                "$.data.eligibility.lives_in_area",
                                "$.data.person.date_of_birth"], found
    assert "after the referral was received" in by_place["$.data.person.date_of_birth"]
    assert not any("when it was received" in p.message for p in found)  # no age from it


def test_first_contact_or_crisis_support_before_the_referral_is_refused(
        settings: Settings) -> None:
    early = changed("referral", first_contact_at="2026-09-01T09:00")  # received 9:40am
    problem = the_problem(early, settings, "$.data.first_contact_at")
    assert problem.message == ("The first contact (9am on Tuesday 1 September 2026) is before "
                               "the referral being received (9:40am on Tuesday 1 September 2026).")
    assert problem.fix == "Check both dates and times."
    crisis = changed("referral", crisis=True, crisis_support_given_at="2026-08-31T18:00",
                     first_contact_at="2026-09-01T10:00")
    problem = the_problem(crisis, settings, "$.data.crisis_support_given_at")
    assert "The crisis support (6pm on Monday 31 August 2026) is before" in problem.message
    assert problem.fix == "Check both dates and times."


def test_a_decision_on_money_before_its_application_names_the_dates_only(
        settings: Settings) -> None:
    # Both are dates without a time: the fix does not ask about times nobody typed.
    early = changed("money_secured", applied_on="2026-10-05")  # decided 2 October
    problem = the_problem(early, settings, "$.data.decided_on")
    assert problem.message == ("The decision (2 October 2026) is before the application "
                               "(5 October 2026).")
    assert problem.fix == "Check both dates."


@pytest.mark.parametrize("acting", [None, ["professional"]], ids=["missing", "list"])
def test_a_referrer_acting_as_nothing_readable_is_one_problem_in_words(
        acting: Any, settings: Settings) -> None:
    # Not "the referrer is recorded as "None"" beside the schema's own problem.
    document = changed("referral", route="Probation")
    document["data"]["referrer"] = {"name": "Carys Morgan", "role": "Probation officer",
                                    "organisation": "Probation Service"}
    if acting is not None:
        document["data"]["referrer"]["acting_as"] = acting
    found = problems(document, settings)
    assert [p.path for p in found] == ["$.data.referrer.acting_as"], found
    assert "None" not in found[0].message and "['" not in found[0].message


def test_a_referral_without_a_date_of_birth_is_refused_by_the_schema(settings: Settings) -> None:
    document = changed("referral")
    del document["data"]["person"]["date_of_birth"]
    problem = the_problem(document, settings, "$.data.person.date_of_birth")
    assert "missing" in problem.message


# --- support plan review ----------------------------------------------------------------------


def plan_file(**changes: Any) -> StoredCaseFile:
    data = copy.deepcopy(example("support_plan")["data"])
    data.update(changes)
    return StoredCaseFile("support_plan", "THS-2026-0142", data,
                          dt.datetime(2026, 9, 14, 12, tzinfo=UK), 1)


def test_a_review_of_an_objective_the_plan_does_not_have_is_rejected(settings: Settings) -> None:
    document = example("support_review")
    document["data"]["objectives"][2]["objective_ref"] = "4"
    found = problems(document, settings, [plan_file()])
    assert [p.path for p in found] == ["$.data.objectives", "$.data.objectives[2].objective_ref"]
    unknown = found[1]
    assert unknown.message == ('Objective "4" is not in the current support plan (dated '
                               "14 September 2026), whose objectives are 1, 2, 3.")
    assert "send that plan first" in unknown.fix
    assert "no progress on objective 3" in found[0].message


def test_a_plans_own_references_are_the_ones_a_review_uses(settings: Settings) -> None:
    plan = plan_file()
    for number, objective in enumerate(plan.data["objectives"], start=1):
        objective["ref"] = f"O{number}"
    document = example("support_review")
    for number, objective in enumerate(document["data"]["objectives"], start=1):
        objective["objective_ref"] = f"O{number}"
    assert problems(document, settings, [plan]) == []
    document["data"]["objectives"][0]["objective_ref"] = "1"
    assert "whose objectives are O1, O2, O3" in problems(document, settings, [plan])[1].message


def test_an_objective_reviewed_twice_is_rejected(settings: Settings) -> None:
    document = example("support_review")
    document["data"]["objectives"].append(copy.deepcopy(document["data"]["objectives"][0]))
    problem = the_problem(document, settings, "$.data.objectives[3].objective_ref", [plan_file()])
    assert "reviewed twice" in problem.message


def test_a_review_with_no_plan_on_record_is_rejected(settings: Settings) -> None:
    problem = the_problem(example("support_review"), settings, "$.data.objectives", [])
    assert "No support plan dated on or before the review date (9 November 2026)" in \
        problem.message
    assert "Send the support plan first" in problem.fix


def test_a_review_is_of_the_plan_in_force_on_its_date(settings: Settings) -> None:
    # A newer plan (two objectives) dated after the review is not the one reviewed.
    later = plan_file(plan_date="2026-11-16")
    later.data["objectives"] = later.data["objectives"][:2]
    later = StoredCaseFile(later.kind, later.case_ref, later.data,
                           dt.datetime(2026, 11, 16, 12, tzinfo=UK), 2)
    assert problems(example("support_review"), settings, [plan_file(), later]) == []


def test_without_the_store_the_plan_is_not_looked_up(settings: Settings) -> None:
    document = example("support_review")
    document["data"]["objectives"][0]["objective_ref"] = "99"
    assert problems(document, settings, None) == []


@pytest.mark.parametrize(("following", "words"), [
    ("2026-11-09", "is not after this review"),
    ("2027-02-02", "more than 12 weeks after this review"),
])
def test_the_next_review_is_within_the_services_interval(settings: Settings, following: str,
                                                         words: str) -> None:
    problem = the_problem(changed("support_review", next_review_date=following), settings,
                          "$.data.next_review_date")
    assert words in problem.message
    assert "1 February 2027" in problem.fix


def test_a_chosen_interval_needs_the_service_to_offer_it(settings: Settings,
                                                         tmp_path: Path) -> None:
    problem = the_problem(changed("support_review", chosen_interval="6 months"), settings,
                          "$.data.chosen_interval")
    assert "offers no choice" in problem.message
    # Support planning policy §5.11: every six or 12 months, by the resident's choice.
    choosing = make_settings(tmp_path, rules={"max_review_interval": "12 months",
                                              "resident_review_choices": ["6 months",
                                                                          "12 months"]})
    assert problems(changed("support_review", chosen_interval="6 months",
                            next_review_date="2027-05-09"), choosing) == []
    problem = the_problem(changed("support_review", chosen_interval="6 months",
                                  next_review_date="2027-06-09"), choosing,
                          "$.data.next_review_date")
    assert "more than 6 months after" in problem.message
    problem = the_problem(changed("support_review", chosen_interval="3 months"), choosing,
                          "$.data.chosen_interval")
    assert "this service offers 6 months or 12 months" in problem.message


def test_a_hospital_stay_that_ends_before_it_starts_is_refused(settings: Settings) -> None:
    document = changed("support_review", hard_outcomes={
        "registered_with_gp": True,
        "hospital_stays": [{"admitted_on": "2026-10-10", "discharged_on": "2026-10-08"}]})
    problem = the_problem(document, settings,
                          "$.data.hard_outcomes.hospital_stays[0].discharged_on")
    assert "ends (8 October 2026) before it starts (10 October 2026)" in problem.message


def test_a_hospital_stay_in_the_future_is_refused(settings: Settings) -> None:
    document = changed("support_review", hard_outcomes={
        "registered_with_gp": True, "hospital_stays": [{"admitted_on": "2026-11-24"}]})
    problem = the_problem(document, settings, "$.data.hard_outcomes.hospital_stays[0].admitted_on")
    assert problem.message == ("Stay 1 gives 24 November 2026, which is after today "
                               "(23 November 2026).")


def test_a_plan_that_must_change_says_what(settings: Settings) -> None:
    problem = the_problem(changed("support_review", plan_must_change=True), settings,
                          "$.data.plan_changes")
    assert "missing" in problem.message


# --- money secured ------------------------------------------------------------------------------


def test_an_amount_with_three_figures_after_the_point_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("money_secured", amount=480.005), settings, "$.data.amount")
    assert "more than two figures after the point" in problem.message
    assert "480.00" in problem.fix


@pytest.mark.parametrize("amount", [0, -12.5, "480.00"])
def test_an_amount_that_is_not_a_positive_number_is_refused(settings: Settings,
                                                            amount: Any) -> None:
    problem = the_problem(changed("money_secured", amount=amount), settings, "$.data.amount")
    assert "without the £ sign" in problem.fix


def test_money_decided_before_it_was_applied_for_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("money_secured", decided_on="2026-09-01"), settings,
                          "$.data.decided_on")
    assert "is before the application" in problem.message


def test_an_application_still_waiting_has_no_decision_date(settings: Settings) -> None:
    problem = the_problem(changed("money_secured", status="applied for"), settings,
                          "$.data.decided_on")
    assert 'still "applied for"' in problem.message


def test_an_award_needs_its_date(settings: Settings) -> None:
    document = changed("money_secured")
    del document["data"]["decided_on"]
    assert "missing" in the_problem(document, settings, "$.data.decided_on").message


def test_other_funds_are_named(settings: Settings) -> None:
    problem = the_problem(changed("money_secured", type="other funds"), settings, "$.data.fund")
    assert "not named" in problem.message


# --- the leaver's outcomes form, support ended, a paper copy -------------------------------------


def test_a_form_completed_before_support_ended_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("leaver_outcomes", completed_on="2026-11-20"), settings,
                          "$.data.completed_on")
    assert "is before the day support ended" in problem.message


def test_support_that_ended_before_it_started_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("leaver_outcomes", support_started_on="2026-11-22"),
                          settings, "$.data.support_ended_on")
    assert "is before the day support started" in problem.message


def test_an_outcome_achieved_without_a_need_is_refused(settings: Settings) -> None:
    document = example("leaver_outcomes")
    document["data"]["outcomes"]["make_a_positive_contribution"]["achieved"] = True
    problem = the_problem(document, settings,
                          "$.data.outcomes.make_a_positive_contribution.achieved")
    assert "achieved, but no need was identified" in problem.message


def test_a_death_and_its_destination_agree(settings: Settings) -> None:
    problem = the_problem(changed("leaver_outcomes", ended_because="died"), settings,
                          "$.data.destination")
    assert "not applicable: the person died" in problem.fix
    assert problems(changed("leaver_outcomes", ended_because="died",
                            destination="not applicable: the person died"), settings) == []


def test_an_eviction_is_not_a_planned_move_on(settings: Settings) -> None:
    problem = the_problem(changed("leaver_outcomes", ended_because="evicted",
                                  planned_move_on=True), settings, "$.data.planned_move_on")
    assert '"evicted", which is not a planned move-on' in problem.message


def test_a_hospital_stay_after_support_ended_is_refused(settings: Settings) -> None:
    document = example("leaver_outcomes")
    document["data"]["hard_outcomes"]["hospital_stays"] = [{"admitted_on": "2026-11-22"}]
    problem = the_problem(document, settings,
                          "$.data.hard_outcomes.hospital_stays[0].admitted_on")
    assert "after support ended (21 November 2026)" in problem.message


def test_support_ended_learned_of_before_it_ended_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("support_ended", learned_on="2026-11-20"), settings,
                          "$.data.learned_on")
    assert "is before the day support ended" in problem.message


def test_support_ended_for_a_reason_a_letter_answers_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("support_ended", reason="the person asked to leave"),
                          settings, "$.data.reason")
    assert "exit letter" in problem.fix


def test_a_paper_copy_sent_before_it_was_asked_for_is_refused(settings: Settings) -> None:
    problem = the_problem(changed("hard_copy_request", sent_on="2026-11-18"), settings,
                          "$.data.sent_on")
    assert "is before the request" in problem.message
    problem = the_problem(changed("hard_copy_request", sent_by="post"), settings,
                          "$.data.sent_on")
    assert "not when" in problem.message


# --- the exit letter's gaps ---------------------------------------------------------------------


def provider_ended(**changes: Any) -> dict[str, Any]:
    document = changed("exit_letter", ended_by="provider", provider_reason="unwilling to engage")
    del document["data"]["request_received_on"], document["data"]["request_made_by"]
    document["data"].update(changes)
    return document


def test_unwilling_to_engage_is_a_reason_for_ending_support(settings: Settings) -> None:
    assert problems(provider_ended(still_vulnerable=False), settings) == []


def test_ending_support_says_whether_the_person_remains_vulnerable(settings: Settings) -> None:
    problem = the_problem(provider_ended(), settings, "$.data.still_vulnerable")
    assert "remain vulnerable" in problem.message


def test_a_person_still_vulnerable_is_referred_on_or_the_reason_recorded(
    settings: Settings
) -> None:
    problem = the_problem(provider_ended(still_vulnerable=True), settings,
                          "$.data.onward_referral")
    assert "no onward referral is recorded, nor why" in problem.message
    assert problems(provider_ended(still_vulnerable=True, onward_referral={
        "organisation": "Thameside Mind", "referred_on": "2026-11-17"}), settings) == []
    assert problems(provider_ended(still_vulnerable=True, no_onward_referral_reason=(
        "She did not agree to a referral.")), settings) == []


def test_a_reason_for_no_referral_without_vulnerability_is_refused(settings: Settings) -> None:
    problem = the_problem(provider_ended(still_vulnerable=False, no_onward_referral_reason=(
        "She did not agree.")), settings, "$.data.no_onward_referral_reason")
    assert "not recorded as remaining vulnerable" in problem.message


# --- through the pipeline, and `recordgen validate` ------------------------------------------------


def test_a_review_of_an_unknown_objective_is_rejected_with_a_note_and_loses_nothing(
    settings: Settings, clock: FixedClock
) -> None:
    (settings.folders.inbox / "a-plan.json").write_text(json.dumps(example("support_plan")),
                                                        encoding="utf-8")
    review = example("support_review")
    review["data"]["objectives"][0]["objective_ref"] = "7"
    (settings.folders.inbox / "b-review.json").write_text(json.dumps(review), encoding="utf-8")
    with open_services(settings, clock) as services:
        plan, rejected = process_inbox(services)
    assert (plan.status, rejected.status) == ("produced", "rejected")
    note = (settings.folders.rejected / "b-review.json.errors.txt").read_text(encoding="utf-8")
    assert 'Objective "7" is not in the current support plan' in note
    assert (settings.folders.rejected / "b-review.json").exists()


def test_a_review_dropped_with_its_plan_waits_for_the_plan_whatever_their_names(
    settings: Settings, clock: FixedClock
) -> None:
    (settings.folders.inbox / "a-review.json").write_text(
        json.dumps(example("support_review")), encoding="utf-8")
    (settings.folders.inbox / "b-plan.json").write_text(json.dumps(example("support_plan")),
                                                        encoding="utf-8")
    with open_services(settings, clock) as services:
        outcomes = {o.file_name: o.status for o in process_inbox(services)}
    assert outcomes == {"a-review.json": "produced", "b-plan.json": "produced"}


def test_validate_checks_a_review_against_the_store_when_there_is_one(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    folders = settings.folders
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ninbox = "{folders.inbox}"\noutbox = "{folders.outbox}"\n'
                      f'store = "{folders.store}"\ntemplates = "{REPO / "templates"}"\n'
                      f'schemas = "{REPO / "schemas"}"\n[output]\npdf = false\n',
                      encoding="utf-8")
    review = tmp_path / "review.json"
    review.write_text(json.dumps(example("support_review")), encoding="utf-8")
    fresh = CliRunner().invoke(cli, ["--config", str(config), "validate", str(review)], obj=clock)
    assert fresh.exit_code == 0, fresh.output
    assert "Checked without the records store" in fresh.output
    (folders.inbox / "a.json").write_text(json.dumps(example("needs_assessment")),
                                          encoding="utf-8")
    with open_services(settings, FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=UK))) as opened:
        process_inbox(opened)
    stored = CliRunner().invoke(cli, ["--config", str(config), "validate", str(review)],
                                obj=clock)
    assert stored.exit_code == 1
    assert "No support plan dated on or before the review date" in stored.output
