"""What is due: the open statutory clocks across all cases (``recordgen due``), with each case's
status, and the notes printed after each run about anything produced late or due within two
working days.

Everything takes "today" and the calendar as arguments. A clock that runs for years (the two-year
support limit) is listed only from its warning day (:func:`recordgen.deadlines.clocks.warns_from`),
unless it is asked for by name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from recordgen.calendar import ServiceCalendar, working_days_left
from recordgen.dates import When, day_of, parse_when, uk_when, working_days_words
from recordgen.deadlines.clocks import ClockName, clock_words, known_clock, warns_from
from recordgen.records.case_status import CaseStatus
from recordgen.records.store import ClockRecord, Store
from recordgen.settings import Rules

DUE_SOON_WORKING_DAYS = 2


@dataclass(frozen=True)
class DueRow:
    case_ref: str
    clock: ClockName | str  # the name as stored, for a clock this version does not know
    subject: str
    started: dt.date | dt.datetime
    due: dt.date | dt.datetime
    working_days_left: int  # negative when overdue by a working day or more
    case_status: str = ""  # where the case stands ("open since 14 September 2026"), when known
    overdue: bool = False  # past due: a clock in hours, from its due moment, even on its day

    @property
    def what(self) -> str:
        return clock_words(self.clock)

    @property
    def what_in_full(self) -> str:
        """What is due, with the document's own reference where it has one: "serious incident
        notification (INC-2026-017)"."""
        _, _, own_ref = self.subject.partition("/")
        return f"{self.what} ({own_ref})" if own_ref else self.what

    @property
    def due_text(self) -> str:
        return uk_when(self.due)


def is_overdue(due: When, now: dt.date) -> bool:
    """Whether a clock due at ``due`` is past due at ``now``: a moment (a clock in hours) to the
    minute when ``now`` is a moment too; a date once its day is over."""
    if isinstance(now, dt.datetime):
        if isinstance(due, dt.datetime):
            return (due if due.tzinfo else due.replace(tzinfo=now.tzinfo)) < now
        return due < now.date()
    return day_of(due) < now


def due_rows(
    clocks: Iterable[ClockRecord],
    cal: ServiceCalendar,
    today: dt.date,
    *,
    overdue_only: bool = False,
    within: int | None = None,
    case_ref: str | None = None,
    clock: ClockName | None = None,
    rules: Rules | None = None,
    now: dt.datetime | None = None,
) -> list[DueRow]:
    """The open clocks that match the filters, soonest first. A clock with a warning day is left
    out before it, unless ``clock`` asks for that clock by name. Overdue is judged at ``now``
    when it is given (a clock in hours is overdue from its due moment), else by ``today``."""
    rules = rules or Rules()
    rows = []
    for record in clocks:
        if record.closed is not None:
            continue
        name = known_clock(record.clock)
        due = parse_when(record.due)
        warning = warns_from(name, rules, day_of(due)) if isinstance(name, ClockName) else None
        if warning is not None and today < warning and clock is not name:
            continue
        left = working_days_left(cal, today, day_of(due))
        overdue = is_overdue(due, now if now is not None else today)
        if overdue_only and not overdue:
            continue
        if within is not None and left > within:
            continue
        if case_ref is not None and record.case_ref != case_ref:
            continue
        if clock is not None and name is not clock:
            continue
        rows.append(DueRow(record.case_ref, name, record.subject, parse_when(record.started), due,
                           left, overdue=overdue))
    return sorted(rows, key=lambda r: (day_of(r.due), str(r.due), r.case_ref))


def with_case_status(rows: Sequence[DueRow], statuses: Mapping[str, CaseStatus]) -> list[DueRow]:
    """The rows, each with its case's status in words."""
    return [replace(row, case_status=statuses[row.case_ref].words) if row.case_ref in statuses
            else row for row in rows]


def due_csv(rows: Sequence[DueRow]) -> str:
    """The rows as CSV for a spreadsheet (ISO dates, so Excel sorts them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["case_ref", "what_is_due", "about", "started", "due", "working_days_left",
                     "case_status"])
    for row in rows:
        writer.writerow([row.case_ref, row.what, row.subject, row.started.isoformat(),
                         row.due.isoformat(), row.working_days_left, row.case_status])
    return out.getvalue()


def run_notes(store: Store, cal: ServiceCalendar, today: dt.date,
              produced_files: Iterable[str], rules: Rules, *,
              now: dt.datetime | None = None) -> list[str]:
    """Sentences for the end of a run: each document just produced after its deadline, and each
    open clock due within two working days (or overdue), as ``recordgen due`` lists them under
    the service's ``rules``."""
    produced = set(produced_files)
    ids = {d.id for d in store.documents() if d.file_name in produced or d.pdf_file_name in produced}
    notes = []
    for record in store.clocks():
        if record.closed_by in ids and record.met is False:
            notes.append(
                f"Produced late: {clock_words(known_clock(record.clock))} for case {record.case_ref} "
                f"was due by {uk_when(parse_when(record.due))}; "
                f"{working_days_words(record.working_days_late or 0)} late."
            )
    for row in due_rows(store.clocks(open_only=True), cal, today,
                        within=DUE_SOON_WORKING_DAYS, rules=rules, now=now):
        when = ("overdue by " + working_days_words(-row.working_days_left)
                if row.working_days_left < 0
                else "overdue" if row.overdue
                else "due today" if row.working_days_left == 0
                else f"due in {working_days_words(row.working_days_left)}")
        notes.append(f"Due soon: {row.what} for case {row.case_ref} is {when} "
                     f"({row.due_text}).")
    return notes
