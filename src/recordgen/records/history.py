"""A case's history: everything received and produced for one case, in order, with hashes, and
each statutory clock met or missed (``recordgen history``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recordgen.clock import UK
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
        events.append(HistoryEvent(_local(sub.received_at),
                                   f"received {sub.file_name} ({sub.outcome})",
                                   {"kind": sub.kind, "sha256": sub.sha256,
                                    "outcome": sub.outcome, "reasons": list(sub.reasons)}))
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
                 "met" if clock.met else f"missed by {clock.working_days_late} working day(s)")
        events.append(HistoryEvent(clock.started, f"{clock.clock} due {clock.due}: {state}",
                                   {"clock": clock.clock, "subject": clock.subject,
                                    "due": clock.due, "closed": clock.closed, "met": clock.met,
                                    "working_days_late": clock.working_days_late}))
    order = {"received": 0, "produced": 1}
    return sorted(events, key=lambda e: (_instant(e.at), order.get(e.what.split()[0], 2), e.what))


def _local(moment: dt.datetime) -> str:
    """UK local time, as staff read it."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UK).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _instant(text: str) -> str:
    """Dates sort as the start of their day."""
    return text if "T" in text else text + "T00:00:00"
