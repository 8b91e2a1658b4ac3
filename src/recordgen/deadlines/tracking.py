"""Which statutory clocks each case file starts and each document stops, and whether it met them.

The date arithmetic lives in :mod:`recordgen.calendar` and :mod:`recordgen.deadlines.clocks`;
this module only knows, for each kind of case file, which clock it starts or stops and which dates
in it count. The clocks are kept in the store (docs/design.md §4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recordgen import calendar, dates
from recordgen.calendar import ServiceCalendar
from recordgen.cases import CaseFile
from recordgen.dates import date_field, moment_field
from recordgen.deadlines import clocks
from recordgen.deadlines.clocks import ClockName
from recordgen.records.store import ClockRecord, Store
from recordgen.settings import Settings


@dataclass(frozen=True)
class DocumentClock:
    """The due dates a template may show, and the one recorded against the document."""

    shown: Mapping[str, dt.date | dt.datetime] = field(default_factory=dict)
    due_on: dt.date | None = None
    met: bool | None = None  # None: still open, or not judged by this document
    working_days_late: int | None = None


def document_clock(case: CaseFile, produced_on: dt.date, settings: Settings) -> DocumentClock:
    cal, rules, data = settings.calendar, settings.rules, case.data
    kind = case.kind.name
    if kind == "needs_assessment":
        # Service standard: within 7 days of entering the service; Floating support specification
        # §4.3.1: contact within 48 hours.
        due = clocks.assessment_due(cal, rules, date_field(data["entered_service_on"]))
        contact = clocks.referral_contact_due(cal, rules, moment_field(data["referral"]["received_at"]))
        return _judged({"assessment": due, "referral_contact": contact}, cal, due,
                       date_field(data["assessment_date"]))
    if kind == "support_plan":
        # Service standard / Support planning policy §5.11: the plan's own review date is the next
        # clock; it closes when the next version of the plan arrives.
        review = date_field(data["review_date"])
        return DocumentClock({"review": review}, due_on=review)
    if kind == "exit_letter":
        # Service standard: confirm receipt within seven working days; a late letter is still produced.
        # Support the provider ends (Floating support specification §5.4.1) has no request, so no clock.
        if "request_received_on" not in data:
            return DocumentClock()
        due = clocks.exit_letter_due(cal, rules, date_field(data["request_received_on"]))
        return _judged({"letter": due}, cal, due, produced_on)
    if kind == "serious_incident":
        # Employment development project specification "Additional reporting": the commissioner is
        # told as soon as practical.
        due_at = clocks.incident_notification_due(cal, rules, moment_field(data["occurred_at"]))
        notified = data.get("commissioner_notified_at")
        if notified is None:
            return DocumentClock({"notification": due_at}, due_on=due_at.date())
        late = clocks.lateness(cal, due_at, moment_field(notified))
        return DocumentClock({"notification": due_at}, due_at.date(), late.met,
                             late.working_days_late)
    if kind == "subject_access_request":
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
    if case.kind.name == "subject_access_request":
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


# --- The clocks kept in the store ---------------------------------------------------------------


def update_clocks(store: Store, case: CaseFile, document_id: int, produced_on: dt.date,
                  settings: Settings) -> None:
    """Start the clocks a new document starts and stop the ones it meets."""
    cal, rules, data, ref = settings.calendar, settings.rules, case.data, \
        case.case_ref
    kind = case.kind.name
    if kind == "needs_assessment":
        entered = date_field(data["entered_service_on"])
        _judged_clock(store, cal, ref, ClockName.ASSESSMENT, kind, entered.isoformat(),
                      clocks.assessment_due(cal, rules, entered), date_field(data["assessment_date"]),
                      document_id)
        referral = data["referral"]
        received = moment_field(referral["received_at"])
        due_at = clocks.referral_contact_due(cal, rules, received)
        contact = referral.get("first_contact_at")
        _judged_clock(store, cal, ref, ClockName.REFERRAL, kind, received.isoformat(), due_at,
                      moment_field(contact) if contact else None, document_id)
    elif kind == "support_plan":
        # A new plan meets the review the last one set, and sets the next (Service standard; Support
        # planning policy §5.11).
        plan_date = date_field(data["plan_date"])
        _close_open(store, cal, ref, ClockName.REVIEW, case.series, plan_date, document_id)
        review = date_field(data["review_date"])
        store.open_clock(ClockRecord(ref, ClockName.REVIEW.value, case.series,
                                     plan_date.isoformat(), review.isoformat(),
                                     opened_by=document_id))
    elif kind == "exit_letter":
        # Once the person has left, no further review is due (judged against the leaving date).
        _close_open(store, cal, ref, ClockName.REVIEW, "support_plan",
                    date_field(data["leaving_date"]), document_id)
        if "request_received_on" in data:
            received_on = date_field(data["request_received_on"])
            _judged_clock(store, cal, ref, ClockName.EXIT_LETTER, kind, received_on.isoformat(),
                          clocks.exit_letter_due(cal, rules, received_on), produced_on,
                          document_id)
    elif kind == "serious_incident":
        occurred = moment_field(data["occurred_at"])
        notified = data.get("commissioner_notified_at")
        due_at = clocks.incident_notification_due(cal, rules, occurred)
        if notified:  # a later version may record the notification the first one lacked
            _close_open(store, cal, ref, ClockName.INCIDENT, case.series, moment_field(notified),
                        document_id)
        _judged_clock(store, cal, ref, ClockName.INCIDENT, case.series, occurred.isoformat(),
                      due_at, moment_field(notified) if notified else None, document_id)
    elif kind == "subject_access_request":
        # The bundle answers the request: judged against the due date this request gives (an
        # extension recorded later moves it).
        late = clocks.lateness(cal, response_due(case, cal), produced_on)
        store.close_clock(_response_clock(store, case, cal), produced_on.isoformat(), late.met,
                          late.working_days_late, document_id)


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
            due = dates.parse_when(record.due)
            late = clocks.lateness(cal, due, done)
            store.close_clock(record.id, done.isoformat(), late.met, late.working_days_late,
                              document_id)
