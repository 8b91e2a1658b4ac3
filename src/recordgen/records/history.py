"""A case's history: everything received and produced for one case, in order, with hashes, each
statutory clock met or missed, and where the case stands (``recordgen history``).

A case file that issues nothing (money secured, support ended without a letter, a request for a
paper copy of the plan, a declined referral) would otherwise show only as "received": its line
says what it recorded, in a few words and without a name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from recordgen.clock import UK
from recordgen.dates import parse_date, parse_moment, uk_date, uk_date_time, working_days_words
from recordgen.kinds import (
    HARD_COPY_REQUEST,
    LEAVER_OUTCOMES,
    MONEY_SECURED,
    REFERRAL,
    SUPPORT_ENDED,
    SUPPORT_REVIEW,
)
from recordgen.records.case_files import pence, pounds, stored_case_file
from recordgen.records.case_status import CaseStatus, case_status
from recordgen.records.store import Store


@dataclass(frozen=True)
class HistoryEvent:
    at: str  # ISO date or date-time, for ordering
    what: str
    detail: Mapping[str, Any]


def case_history(store: Store, case_ref: str) -> list[HistoryEvent]:
    """Everything received and produced for a case, in order, with hashes."""
    events = []
    for sub in store.submissions(case_ref):
        stored = stored_case_file(sub)
        said = summary(stored.kind, stored.data) if stored is not None else ""
        events.append(HistoryEvent(_local(sub.received_at),
                                   f"received {sub.file_name} ({sub.outcome})"
                                   + (f": {said}" if said else ""),
                                   {"kind": sub.kind, "sha256": sub.sha256,
                                    "outcome": sub.outcome, "reasons": list(sub.reasons),
                                    **({"recorded": said} if said else {})}))
    for doc in store.documents(case_ref):
        events.append(HistoryEvent(_local(doc.produced_at),
                                   f"produced {doc.file_name} (version {doc.version})",
                                   {"kind": doc.kind, "series": doc.series, "version": doc.version,
                                    "document_date": doc.document_date.isoformat(),
                                    "sha256": doc.sha256, "pdf": doc.pdf_file_name,
                                    "pdf_sha256": doc.pdf_sha256,
                                    "template_sha256": doc.template_sha256,
                                    "software_version": doc.software_version}))
    for clock in store.clocks(case_ref):
        state = ("open" if clock.closed is None else
                 "met" if clock.met else
                 f"late by {working_days_words(clock.working_days_late or 0)}")
        events.append(HistoryEvent(clock.started, f"{clock.clock} due {clock.due}: {state}",
                                   {"clock": clock.clock, "subject": clock.subject,
                                    "due": clock.due, "closed": clock.closed, "met": clock.met,
                                    "working_days_late": clock.working_days_late}))
    order = {"received": 0, "produced": 1}
    return sorted(events, key=lambda e: (_instant(e.at), order.get(e.what.split()[0], 2), e.what))


def status_of(store: Store, case_ref: str, on: dt.date) -> CaseStatus:
    """Where the case stands on ``on`` (shown above its history)."""
    return case_status(store, case_ref, on)


# --- what a case file recorded, in a few words ----------------------------------------------------


def _day(data: Mapping[str, Any], key: str) -> str:
    day = parse_date(data.get(key))
    return uk_date(day) if day else "?"


def _referral(data: Mapping[str, Any]) -> str:
    received = parse_moment(data.get("received_at"))
    found = data.get("decision")
    decision: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    crisis = ", in crisis" if data.get("crisis") is True else ""
    when = uk_date_time(received) if received else "?"
    return (f"referral received {when} ({data.get('route')}{crisis}): "
            f"{decision.get('outcome')} on {_day(decision, 'decided_on')}")


def _review(data: Mapping[str, Any]) -> str:
    change = "; the plan must change" if data.get("plan_must_change") is True else ""
    return (f"review of {_day(data, 'review_date')}; next review by "
            f"{_day(data, 'next_review_date')}{change}")


def _money(data: Mapping[str, Any]) -> str:
    try:
        amount = pounds(pence(data.get("amount")))
    except ValueError:
        amount = "?"
    status = data.get("status")
    when = _day(data, "applied_on" if status == "applied for" else "decided_on")
    return f"{data.get('type')} {amount} {status} on {when} ({data.get('money_ref')})"


def _form(data: Mapping[str, Any]) -> str:
    planned = "planned" if data.get("planned_move_on") is True else "not planned"
    return (f"outcomes form for support that ended on {_day(data, 'support_ended_on')} "
            f"({data.get('ended_because')}; move-on {planned})")


def _ended(data: Mapping[str, Any]) -> str:
    return f"support ended on {_day(data, 'support_ended_on')}: {data.get('reason')}"


def _hard_copy(data: Mapping[str, Any]) -> str:
    sent = f"sent on {_day(data, 'sent_on')}" if "sent_on" in data else "not sent yet"
    return f"paper copy of the plan asked for on {_day(data, 'requested_on')}; {sent}"


_SUMMARIES: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    REFERRAL.name: _referral,
    SUPPORT_REVIEW.name: _review,
    MONEY_SECURED.name: _money,
    LEAVER_OUTCOMES.name: _form,
    SUPPORT_ENDED.name: _ended,
    HARD_COPY_REQUEST.name: _hard_copy,
}


def summary(kind: str, data: Mapping[str, Any]) -> str:
    """What an accepted case file of the newer kinds recorded, in a few words, with no name."""
    found = _SUMMARIES.get(kind)
    return found(data) if found is not None else ""


def _local(moment: dt.datetime) -> str:
    """UK local time, as staff read it."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UK).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _instant(text: str) -> str:
    """Dates sort as the start of their day."""
    return text if "T" in text else text + "T00:00:00"
