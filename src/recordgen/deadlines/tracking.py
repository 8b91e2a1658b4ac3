"""Which statutory clocks each case file starts, what answers each clock, and whether it was met;
the clocks are kept in the store (docs/design.md §4).

The date arithmetic lives in :mod:`recordgen.calendar` and :mod:`recordgen.deadlines.clocks`. This
module knows, for each kind of case file, which clocks it starts (:func:`starts`) and which clocks
it answers, and when (:func:`answers`). A clock is answered by the first thing recorded for its
case, on or after the clock started, that does what the clock asks:

==============  ===============================================  =====================================
clock           started by                                       answered by (the first on or after)
==============  ===============================================  =====================================
assessment      an assessment (entering the service)             the assessment itself (judged at once)
referral        a referral, or an assessment's referral block    first contact, on a referral or an
                (received_at)                                    assessment
crisis          a referral in crisis, or an assessment saying    crisis support given (a referral), the
                crisis support is needed (received_at)           support start (an assessment), or the
                                                                 referral declined
plan            an assessment (entered_service_on)               a support plan; the end of support
review          a support plan (plan_date), a review             a later review or plan (strictly
                (review_date)                                    after); the end of support
regular-review  the same, where the service sets one             the same
support-limit   a support plan (support_started_on)              the end of support; a plan or review
                                                                 recording a continuation agreed
exit-letter     an exit letter (request received)                the letter itself (judged at once)
outcomes-form   an exit letter (leaving_date), support ended     an outcomes form completed on or after
                without a letter (support_ended_on)              the end of support
hard-copy       a request for a paper copy (requested_on)        a request giving the day it was sent
incident        a serious incident (occurred_at)                 its report recording the commissioner
                                                                 told
sar             a subject access request (received_on)           its bundle
==============  ===============================================  =====================================

"The end of support" is an exit letter's leaving date, a support-ended record's date or an
outcomes form's support_ended_on. Each time a case file is recorded, the clocks it starts are
opened (once: a clock of the same case, name and start is the same clock, whoever starts it), then
every open clock of the case is checked against all the case's accepted case files and closed with
its answer (:func:`settle`). So the order case files arrive in does not matter, and no clock is
left open when the case's records already answer it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from recordgen import calendar
from recordgen.calendar import ServiceCalendar
from recordgen.cases import CaseFile
from recordgen.dates import When, date_field, day_of, moment_field, parse_date, parse_moment, parse_when
from recordgen.deadlines import clocks
from recordgen.deadlines.clocks import ClockName
from recordgen.kinds import (
    EXIT_LETTER,
    HARD_COPY_REQUEST,
    LEAVER_OUTCOMES,
    NEEDS_ASSESSMENT,
    REFERRAL,
    SERIOUS_INCIDENT,
    SUBJECT_ACCESS_REQUEST,
    SUPPORT_ENDED,
    SUPPORT_PLAN,
    SUPPORT_REVIEW,
)
from recordgen.records.case_files import StoredCaseFile, accepted_case_files
from recordgen.records.case_status import episodes
from recordgen.records.store import ClockRecord, Store
from recordgen.settings import Settings

# What a clock is about within its case (the store's "subject"): the referral, the plan, the
# leaver's form. An incident's subject carries its own reference ("serious_incident/INC-2026-017").
REFERRAL_SUBJECT = "referral"
PLAN_SUBJECT = SUPPORT_PLAN.name
FORM_SUBJECT = LEAVER_OUTCOMES.name


@dataclass(frozen=True)
class DocumentClock:
    """The due dates a template may show, and the one recorded against the document."""

    shown: Mapping[str, dt.date | dt.datetime] = field(default_factory=dict)
    due_on: dt.date | None = None
    met: bool | None = None  # None: still open, or not judged by this document
    working_days_late: int | None = None


def document_clock(case: CaseFile, produced_on: dt.date, settings: Settings) -> DocumentClock:
    """The due dates a document shows, and, for a document that answers a clock of its own, whether
    it met it."""
    cal, rules, data = settings.calendar, settings.rules, case.data
    kind = case.kind.name
    if kind == NEEDS_ASSESSMENT.name:
        # Service standard: within 7 days of entering the service; Floating support specification
        # §4.3.1: contact within 48 hours.
        due = clocks.assessment_due(cal, rules, date_field(data["entered_service_on"]))
        contact = clocks.referral_contact_due(cal, rules, moment_field(data["referral"]["received_at"]))
        return _judged({"assessment": due, "referral_contact": contact}, cal, due,
                       date_field(data["assessment_date"]))
    if kind == SUPPORT_PLAN.name:
        # Service standard / Support planning policy §5.11: the plan's own review date is the next
        # clock; it closes when the next review or version of the plan arrives.
        review = date_field(data["review_date"])
        return DocumentClock({"review": review}, due_on=review)
    if kind == SUPPORT_REVIEW.name:
        next_review = date_field(data["next_review_date"])
        return DocumentClock({"next_review": next_review}, due_on=next_review)
    if kind == REFERRAL.name:
        received = moment_field(data["received_at"])
        shown: dict[str, dt.date | dt.datetime] = {
            "referral_contact": clocks.referral_contact_due(cal, rules, received)}
        if data.get("crisis") is True:
            shown["crisis"] = clocks.crisis_support_due(cal, rules, received)
        return DocumentClock(shown)
    if kind == EXIT_LETTER.name:
        # Service standard: confirm receipt within seven working days; a late letter is still produced.
        # Support the provider ends (Floating support specification §5.4.1) has no request, so no clock.
        if "request_received_on" not in data:
            return DocumentClock()
        due = clocks.exit_letter_due(cal, rules, date_field(data["request_received_on"]))
        return _judged({"letter": due}, cal, due, produced_on)
    if kind == SERIOUS_INCIDENT.name:
        # Employment development project specification "Additional reporting": the commissioner is
        # told as soon as practical.
        due_at = clocks.incident_notification_due(cal, rules, moment_field(data["occurred_at"]))
        notified = data.get("commissioner_notified_at")
        if notified is None:
            return DocumentClock({"notification": due_at}, due_on=due_at.date())
        late = clocks.lateness(cal, due_at, moment_field(notified))
        return DocumentClock({"notification": due_at}, due_at.date(), late.met,
                             late.working_days_late)
    if kind == SUBJECT_ACCESS_REQUEST.name:
        # UK GDPR Article 12(3): one calendar month from receipt, three when extended.
        due = response_due(case, cal)
        return _judged({"response": due}, cal, due, produced_on)
    return DocumentClock()


def response_due(request: CaseFile, cal: ServiceCalendar) -> dt.date:
    """When a subject access response is due: one calendar month from receipt, or three when
    extended, as the ICO counts them."""
    return calendar.sar_due(cal, date_field(request.data["received_on"]),
                            bool(request.data["extended"]))


def start_on_arrival(store: Store, case: CaseFile, settings: Settings) -> None:
    """The clocks a case file starts as soon as it is accepted, before its answer is made: a
    subject access request's response clock, so that a request whose bundle is held for a retry
    still shows in ``recordgen due`` (a no-op when the clock is already running)."""
    if case.kind.name == SUBJECT_ACCESS_REQUEST.name:
        _response_clock(store, case, settings.calendar)


def _response_clock(store: Store, request: CaseFile, cal: ServiceCalendar) -> int:
    received = date_field(request.data["received_on"])
    return store.open_clock(ClockRecord(request.case_ref, ClockName.SAR.value, request.kind.name,
                                        received.isoformat(),
                                        response_due(request, cal).isoformat()))


def _judged(shown: Mapping[str, Any], cal: ServiceCalendar, due: dt.date,
            done: dt.date) -> DocumentClock:
    late = clocks.lateness(cal, due, done)
    return DocumentClock(shown, due, late.met, late.working_days_late)


# --- The clocks a case file starts ---------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """A clock a case file starts: which, about what, from when, due when."""

    clock: ClockName
    subject: str
    started: When
    due: When


def starts(case: CaseFile, settings: Settings) -> list[Start]:
    """The clocks ``case`` starts that its later records answer (the clocks a document answers
    itself, judged at once, are in :func:`update_clocks`)."""
    cal, rules, data, kind = settings.calendar, settings.rules, case.data, case.kind.name
    found: list[Start] = []
    if kind in (REFERRAL.name, NEEDS_ASSESSMENT.name):
        block = data if kind == REFERRAL.name else data["referral"]
        received = moment_field(block["received_at"])
        # Floating support specification §4.3.1: contact within 48 hours of the referral.
        found.append(Start(ClockName.REFERRAL, REFERRAL_SUBJECT, received,
                           clocks.referral_contact_due(cal, rules, received)))
        crisis = data.get("crisis") if kind == REFERRAL.name else data.get("crisis_support_needed")
        if crisis is True:
            # Service standard: support within 24 hours of a referral in a crisis.
            found.append(Start(ClockName.CRISIS, REFERRAL_SUBJECT, received,
                               clocks.crisis_support_due(cal, rules, received)))
    if kind == NEEDS_ASSESSMENT.name:
        entered = date_field(data["entered_service_on"])
        # Service standard: support plans finished within seven days of entering the service.
        found.append(Start(ClockName.PLAN, PLAN_SUBJECT, entered,
                           clocks.plan_due(cal, rules, entered)))
    if kind in (SUPPORT_PLAN.name, SUPPORT_REVIEW.name):
        held = date_field(data["plan_date" if kind == SUPPORT_PLAN.name else "review_date"])
        next_review = date_field(data["review_date" if kind == SUPPORT_PLAN.name
                                      else "next_review_date"])
        # Service standard; Support planning policy §5.11: the next review, by the date agreed.
        found.append(Start(ClockName.REVIEW, PLAN_SUBJECT, held, next_review))
        if rules.review_at_least_every is not None:
            # Service standard: "a minimum period of every four weeks", where the service sets it.
            found.append(Start(ClockName.REGULAR_REVIEW, PLAN_SUBJECT, held,
                               clocks.regular_review_due(cal, rules, held)))
    if kind == SUPPORT_PLAN.name and data.get("extended_support_agreed") is not True:
        started = date_field(data["support_started_on"])
        # Floating support specification §1.8: the two-year limit, warned of before it comes.
        found.append(Start(ClockName.SUPPORT_LIMIT, PLAN_SUBJECT, started,
                           clocks.support_limit_due(cal, rules, started)))
    if kind == EXIT_LETTER.name:
        leaving = date_field(data["leaving_date"])
        found.append(Start(ClockName.OUTCOMES_FORM, FORM_SUBJECT, leaving,
                           clocks.outcomes_form_due(cal, rules, leaving)))
    if kind == SUPPORT_ENDED.name:
        ended = date_field(data["support_ended_on"])
        # The form cannot be written before the service knows: counted from when it learned.
        learned = max(ended, date_field(data["learned_on"]))
        found.append(Start(ClockName.OUTCOMES_FORM, FORM_SUBJECT, ended,
                           clocks.outcomes_form_due(cal, rules, learned)))
    if kind == HARD_COPY_REQUEST.name:
        requested = date_field(data["requested_on"])
        # Support planning policy §5.10: a hard copy of the plan within 5 working days.
        found.append(Start(ClockName.HARD_COPY, PLAN_SUBJECT, requested,
                           clocks.hard_copy_due(cal, rules, requested)))
    return found


# --- What answers a clock ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockAnswer:
    """Something recorded that answers a clock: when, and only if strictly after the clock's start
    (a review answers the review clock of an earlier plan, not the one its own date starts)."""

    clock: ClockName
    when: When
    strictly_after: bool = False


_REVIEWS = (ClockName.REVIEW, ClockName.REGULAR_REVIEW)


def _dates(data: Mapping[str, Any], key: str) -> Iterator[dt.date]:
    day = parse_date(data.get(key))
    if day is not None:
        yield day


def _moments(data: Mapping[str, Any], key: str) -> Iterator[dt.datetime]:
    moment = parse_moment(data.get(key))
    if moment is not None:
        yield moment


def _ends_support(data: Mapping[str, Any], key: str) -> Iterator[ClockAnswer]:
    # Once support has ended no review, plan or continuation is due: judged by the day it ended.
    for day in _dates(data, key):
        for clock in (*_REVIEWS, ClockName.PLAN, ClockName.SUPPORT_LIMIT):
            yield ClockAnswer(clock, day)


def _held_on(day: dt.date, data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    # A plan or review held on ``day`` answers the reviews an earlier one set, and the two-year
    # limit when it records a continuation agreed.
    for clock in _REVIEWS:
        yield ClockAnswer(clock, day, strictly_after=True)
    if data.get("extended_support_agreed") is True:
        yield ClockAnswer(ClockName.SUPPORT_LIMIT, day)


def _referral_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    for moment in _moments(data, "first_contact_at"):
        yield ClockAnswer(ClockName.REFERRAL, moment)
    for moment in _moments(data, "crisis_support_given_at"):
        yield ClockAnswer(ClockName.CRISIS, moment)
    decision = data.get("decision")
    if isinstance(decision, Mapping) and decision.get("outcome") == "declined":
        for day in _dates(decision, "decided_on"):
            yield ClockAnswer(ClockName.CRISIS, day)


def _assessment_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    block = data.get("referral")
    if isinstance(block, Mapping):
        for moment in _moments(block, "first_contact_at"):
            yield ClockAnswer(ClockName.REFERRAL, moment)
    for day in _dates(data, "support_start_date"):
        yield ClockAnswer(ClockName.CRISIS, day)


def _plan_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    for day in _dates(data, "plan_date"):
        yield ClockAnswer(ClockName.PLAN, day)
        yield from _held_on(day, data)


def _review_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    for day in _dates(data, "review_date"):
        yield from _held_on(day, data)


def _exit_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    return _ends_support(data, "leaving_date")


def _ended_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    return _ends_support(data, "support_ended_on")


def _form_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    yield from _ended_answers(data)
    for day in _dates(data, "completed_on"):
        yield ClockAnswer(ClockName.OUTCOMES_FORM, day)


def _hard_copy_answers(data: Mapping[str, Any]) -> Iterator[ClockAnswer]:
    for day in _dates(data, "sent_on"):
        yield ClockAnswer(ClockName.HARD_COPY, day)


_ANSWERS: Mapping[str, Callable[[Mapping[str, Any]], Iterator[ClockAnswer]]] = {
    REFERRAL.name: _referral_answers,
    NEEDS_ASSESSMENT.name: _assessment_answers,
    SUPPORT_PLAN.name: _plan_answers,
    SUPPORT_REVIEW.name: _review_answers,
    EXIT_LETTER.name: _exit_answers,
    SUPPORT_ENDED.name: _ended_answers,
    LEAVER_OUTCOMES.name: _form_answers,
    HARD_COPY_REQUEST.name: _hard_copy_answers,
}


def answers(kind: str, data: Mapping[str, Any]) -> list[ClockAnswer]:
    """Every clock a case file of ``kind`` answers, and when."""
    found = _ANSWERS.get(kind)
    return list(found(data)) if found is not None else []


def _counts_from(answer: When, started: When, strictly_after: bool) -> bool:
    """Whether ``answer`` comes on or after ``started`` (strictly after, when asked): to the
    minute for two moments, by the day otherwise."""
    if isinstance(answer, dt.datetime) and isinstance(started, dt.datetime):
        return answer > started if strictly_after else answer >= started
    return day_of(answer) > day_of(started) if strictly_after else day_of(answer) >= day_of(started)


@dataclass(frozen=True)
class Answered:
    when: When
    submission_id: int | None


def first_answer(clock: ClockName, started: When,
                 case_files: Sequence[StoredCaseFile]) -> Answered | None:
    """The first thing the case's records hold that answers ``clock`` started at ``started``."""
    found = [Answered(answer.when, case_file.submission_id)
             for case_file in case_files for answer in answers(case_file.kind, case_file.data)
             if answer.clock is clock and _counts_from(answer.when, started, answer.strictly_after)]
    return min(found, key=lambda a: (day_of(a.when), a.when.isoformat()), default=None)


# --- The clocks kept in the store ---------------------------------------------------------------


def update_clocks(store: Store, case: CaseFile, document_id: int | None, produced_on: dt.date,
                  settings: Settings) -> None:
    """Start the clocks a newly recorded case file starts, judge the ones its own document answers,
    then close every open clock of the case that its records now answer. ``document_id`` is the
    document made from the case file, None when it issued nothing."""
    cal, rules, data, ref = settings.calendar, settings.rules, case.data, case.case_ref
    kind = case.kind.name
    records = _CaseRecords.read(store, ref)
    for start in starts(case, settings):
        if start.clock is ClockName.OUTCOMES_FORM and not _left_support(records.case_files,
                                                                         day_of(start.started)):
            continue
        _open_once(store, cal, records, ClockRecord(
            ref, start.clock.value, start.subject, start.started.isoformat(),
            start.due.isoformat(), opened_by=document_id))
    if kind == NEEDS_ASSESSMENT.name and document_id is not None:
        entered = date_field(data["entered_service_on"])
        _judged_clock(store, cal, ref, ClockName.ASSESSMENT, kind, entered.isoformat(),
                      clocks.assessment_due(cal, rules, entered),
                      date_field(data["assessment_date"]), document_id)
    elif kind == EXIT_LETTER.name and document_id is not None and "request_received_on" in data:
        received_on = date_field(data["request_received_on"])
        _judged_clock(store, cal, ref, ClockName.EXIT_LETTER, kind, received_on.isoformat(),
                      clocks.exit_letter_due(cal, rules, received_on), produced_on, document_id)
    elif kind == SERIOUS_INCIDENT.name and document_id is not None:
        occurred = moment_field(data["occurred_at"])
        notified = data.get("commissioner_notified_at")
        due_at = clocks.incident_notification_due(cal, rules, occurred)
        if notified:  # a later version may record the notification the first one lacked
            _close_open(store, cal, ref, ClockName.INCIDENT, case.series, moment_field(notified),
                        document_id)
        _judged_clock(store, cal, ref, ClockName.INCIDENT, case.series, occurred.isoformat(),
                      due_at, moment_field(notified) if notified else None, document_id)
    elif kind == SUBJECT_ACCESS_REQUEST.name and document_id is not None:
        # The bundle answers the request: judged against the due date this request gives (an
        # extension recorded later moves it).
        late = clocks.lateness(cal, response_due(case, cal), produced_on)
        store.close_clock(_response_clock(store, case, cal), produced_on.isoformat(), late.met,
                          late.working_days_late, document_id)
    settle(store, ref, cal, records)


def _left_support(case_files: Sequence[StoredCaseFile], ended: dt.date) -> bool:
    """Whether a spell of support ended on ``ended``: a referral that ended before support
    started (a death on the waiting list, an exit letter first) is not a leaver, and no outcomes
    form is owed for it. Where the records show no spell ending that day, the form is owed."""
    closing = [e for e in episodes(case_files) if e.closed_on == ended]
    return not closing or any(e.opened_on is not None for e in closing)


@dataclass(frozen=True)
class _CaseRecords:
    """A case's accepted case files, and the document each one made (its latest version)."""

    case_files: Sequence[StoredCaseFile]
    documents: Mapping[int, int]  # submission id -> document id

    @classmethod
    def read(cls, store: Store, case_ref: str) -> _CaseRecords:
        documents: dict[int, int] = {}
        for document in store.documents(case_ref):  # oldest first: the latest version stays
            if document.submission_id is not None and document.id is not None:
                documents[document.submission_id] = document.id
        return cls(accepted_case_files(store, case_ref), documents)

    def answer(self, clock: str, started: str) -> Answered | None:
        try:
            name = ClockName(clock)
        except ValueError:
            return None  # a clock this version of recordgen does not know: left as it is
        return first_answer(name, parse_when(started), self.case_files)

    def document_of(self, found: Answered) -> int | None:
        return self.documents.get(found.submission_id) if found.submission_id is not None \
            else None


def settle(store: Store, case_ref: str, cal: ServiceCalendar,
           records: _CaseRecords | None = None) -> None:
    """Close every open clock of the case that its accepted case files answer, each judged by the
    first answer on or after its start (and closed by that answer's document, if it made one)."""
    open_clocks = [c for c in store.clocks(case_ref, open_only=True) if c.id is not None]
    if not open_clocks:
        return
    records = records or _CaseRecords.read(store, case_ref)
    for record in open_clocks:
        found = records.answer(record.clock, record.started)
        if found is None or record.id is None:
            continue
        late = clocks.lateness(cal, parse_when(record.due), found.when)
        store.close_clock(record.id, found.when.isoformat(), late.met, late.working_days_late,
                          records.document_of(found))


def _open_once(store: Store, cal: ServiceCalendar, records: _CaseRecords,
               record: ClockRecord) -> None:
    """Open a clock unless the case already has it: the same clock started at the same moment is
    one clock, whichever case file started it (a referral and its assessment both start the
    first-contact clock) and whatever it was called about before. A clock the case's records
    already answer is recorded closed, in one entry of the audit trail."""
    for existing in store.clocks(record.case_ref):
        if existing.clock == record.clock and existing.started == record.started:
            return
    found = records.answer(record.clock, record.started)
    if found is not None:
        late = clocks.lateness(cal, parse_when(record.due), found.when)
        record = replace(record, closed=found.when.isoformat(), met=late.met,
                         working_days_late=late.working_days_late,
                         closed_by=records.document_of(found))
    store.open_clock(record)


def _judged_clock(store: Store, cal: ServiceCalendar, case_ref: str, clock: ClockName,
                  subject: str, started: str, due: dt.date | dt.datetime,
                  done: dt.date | dt.datetime | None, document_id: int) -> None:
    """A clock this document starts, closed at once when the document shows it was met."""
    if done is None:
        store.open_clock(ClockRecord(case_ref, clock.value, subject, started, due.isoformat(),
                                     opened_by=document_id))
        return
    late = clocks.lateness(cal, due, done)
    store.open_clock(ClockRecord(case_ref, clock.value, subject, started, due.isoformat(),
                                 closed=done.isoformat(), met=late.met,
                                 working_days_late=late.working_days_late, opened_by=document_id,
                                 closed_by=document_id))


def _close_open(store: Store, cal: ServiceCalendar, case_ref: str, clock: ClockName,
                subject: str, done: dt.date | dt.datetime, document_id: int) -> None:
    for record in store.clocks(case_ref, open_only=True):
        if record.clock == clock.value and record.subject == subject and record.id is not None:
            due = parse_when(record.due)
            late = clocks.lateness(cal, due, done)
            store.close_clock(record.id, done.isoformat(), late.met, late.working_days_late,
                              document_id)
