"""What the records store holds, as frozen data objects, and how a stored row becomes one.

A row is read strictly: a value of the wrong type (a stored case file turned into text, a version
turned into words) raises :class:`StoreError` naming the table, row and column, never a TypeError
further on. Nothing here touches the disk.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from recordgen.errors import StoreError


class SubmissionOutcome(StrEnum):
    """What became of a case file, as the store records it."""

    ACCEPTED = "accepted"  # a document was made from it
    UNCHANGED = "unchanged"  # valid, but the latest version already says exactly this
    DUPLICATE = "duplicate"  # an exact copy of a file already taken
    REJECTED = "rejected"  # it could not be used; it is in the rejected folder with a note


class ReservationStatus(StrEnum):
    """The store's answer to a request for a version number (:class:`Reservation`)."""

    RESERVED = "reserved"
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class SubmissionRecord:
    claim_id: str  # unique per claimed file; a retry after a crash reuses it
    file_name: str
    sha256: str
    received_at: dt.datetime
    outcome: SubmissionOutcome
    raw: bytes
    case_ref: str | None = None
    kind: str | None = None
    reasons: tuple[str, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class DocumentRecord:
    case_ref: str
    kind: str
    series: str
    version: int
    document_date: dt.date
    file_name: str  # relative to the outbox
    sha256: str
    content_sha256: str
    template_sha256: str
    context_sha256: str
    software_version: str
    produced_at: dt.datetime
    submission_id: int | None = None
    pdf_file_name: str | None = None
    pdf_sha256: str | None = None
    due_on: dt.date | None = None
    met: bool | None = None
    working_days_late: int | None = None
    reason: str | None = None  # why a regenerated version was made
    id: int | None = None


@dataclass(frozen=True, slots=True)  # a return holds every clock at once: 50,000 is 27 MB less
class ClockRecord:
    """A statutory clock: started on a date (or at a moment), due by another, closed when met."""

    case_ref: str
    clock: str  # a deadlines.ClockName value, e.g. "exit-letter"
    subject: str  # what the clock is about within the case, e.g. "support_plan" or an incident
    started: str  # ISO date or date-time
    due: str  # ISO date or date-time
    closed: str | None = None
    met: bool | None = None
    working_days_late: int | None = None
    opened_by: int | None = None
    closed_by: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    action: str
    case_ref: str | None
    detail: Mapping[str, Any]  # {} when the stored text is not a JSON object
    prev_hash: str
    hash: str
    text: str = ""  # the detail exactly as stored, which is what the hash covers


@dataclass(frozen=True)
class VersionRequest:
    """A producer asks for the version number of the next version of one document."""

    case_ref: str
    series: str
    holder: str  # who asks: a claim id, or a regeneration; the same holder gets its number back
    template_sha256: str  # what the new version would be made from, to judge "nothing new"
    context_sha256: str
    based_on: int | None = None  # a regeneration: the version it re-makes; None for new content


@dataclass(frozen=True)
class Reservation:
    """The answer to a :class:`VersionRequest`.

    ``status`` is "reserved" (publish ``version``), "unchanged" (the latest recorded version,
    ``latest``, already says exactly this) or "superseded" (a regeneration whose version is no
    longer the latest: a newer version is recorded or being made)."""

    status: ReservationStatus
    version: int = 0
    latest: DocumentRecord | None = None


@dataclass(frozen=True)
class Seal:
    """The head of the audit chain at one moment: its last entry, how many entries, and that
    entry's hash. Written outside the store after every run (:mod:`recordgen.records.seal`)."""

    sealed_at: str
    entry: int
    entries: int
    hash: str


# --- rows to records: a value of the wrong type is named, never a crash ------------------------


def _unreadable(table: str, row: Mapping[str, Any], column: str, wanted: str) -> StoreError:
    value = row[column]
    held = ("nothing" if value is None else "bytes" if isinstance(value, bytes)
            else "text" if isinstance(value, str) else "a number")
    return StoreError(
        f"The records store cannot be read: {table} row {row['id']}, {column}, holds {held} where "
        f"{wanted} belongs. It was changed outside recordgen. Run 'recordgen verify' to see "
        "everything that changed, and tell your information governance lead.")


def _text(table: str, row: Mapping[str, Any], column: str, *, optional: bool = False) -> Any:
    value = row[column]
    if isinstance(value, str) or (optional and value is None):
        return value
    raise _unreadable(table, row, column, "text")


def _outcome(table: str, row: Mapping[str, Any]) -> SubmissionOutcome:
    try:
        return SubmissionOutcome(_text(table, row, "outcome"))
    except ValueError:
        raise _unreadable(table, row, "outcome", "one of " + ", ".join(SubmissionOutcome)) from None


def _number(table: str, row: Mapping[str, Any], column: str, *, optional: bool = False) -> Any:
    value = row[column]
    if (isinstance(value, int) and not isinstance(value, bool)) or (optional and value is None):
        return value
    raise _unreadable(table, row, column, "a whole number")


def _flag(table: str, row: Mapping[str, Any], column: str) -> bool | None:
    value = _number(table, row, column, optional=True)
    return None if value is None else bool(value)


def _date(table: str, row: Mapping[str, Any], column: str, *, optional: bool = False) -> Any:
    value = _text(table, row, column, optional=optional)
    try:
        return None if value is None else dt.date.fromisoformat(value)
    except ValueError:
        raise _unreadable(table, row, column, "a date") from None


def _moment(table: str, row: Mapping[str, Any], column: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(_text(table, row, column))
    except ValueError:
        raise _unreadable(table, row, column, "a date and time") from None


def submission_from_row(row: Mapping[str, Any]) -> SubmissionRecord:
    table = "submissions"
    raw = row["raw"]
    if not isinstance(raw, bytes):
        raise _unreadable(table, row, "raw", "the bytes of the case file received")
    try:
        reasons = json.loads(_text(table, row, "reasons"))
    except ValueError:
        reasons = None
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise _unreadable(table, row, "reasons", "a list of reasons")
    return SubmissionRecord(
        id=row["id"],
        claim_id=_text(table, row, "claim_id"),
        file_name=_text(table, row, "file_name"),
        sha256=_text(table, row, "sha256"),
        received_at=_moment(table, row, "received_at"),
        outcome=_outcome(table, row),
        raw=raw,
        case_ref=_text(table, row, "case_ref", optional=True),
        kind=_text(table, row, "kind", optional=True),
        reasons=tuple(reasons),
    )


def clock_from_row(row: Mapping[str, Any]) -> ClockRecord:
    table = "clocks"
    # A clock's name and subject are one of a few words each: held once, however many clocks.
    return ClockRecord(
        id=row["id"], case_ref=_text(table, row, "case_ref"),
        clock=sys.intern(_text(table, row, "clock")),
        subject=sys.intern(_text(table, row, "subject")), started=_text(table, row, "started"),
        due=_text(table, row, "due"), closed=_text(table, row, "closed", optional=True),
        met=_flag(table, row, "met"),
        working_days_late=_number(table, row, "working_days_late", optional=True),
        opened_by=_number(table, row, "opened_by", optional=True),
        closed_by=_number(table, row, "closed_by", optional=True),
    )


def document_from_row(row: Mapping[str, Any]) -> DocumentRecord:
    table = "documents"
    return DocumentRecord(
        id=row["id"],
        submission_id=_number(table, row, "submission_id", optional=True),
        case_ref=_text(table, row, "case_ref"),
        kind=_text(table, row, "kind"),
        series=_text(table, row, "series"),
        version=_number(table, row, "version"),
        document_date=_date(table, row, "document_date"),
        file_name=_text(table, row, "file_name"),
        sha256=_text(table, row, "sha256"),
        content_sha256=_text(table, row, "content_sha256"),
        template_sha256=_text(table, row, "template_sha256"),
        context_sha256=_text(table, row, "context_sha256"),
        software_version=_text(table, row, "software_version"),
        produced_at=_moment(table, row, "produced_at"),
        pdf_file_name=_text(table, row, "pdf_file_name", optional=True),
        pdf_sha256=_text(table, row, "pdf_sha256", optional=True),
        due_on=_date(table, row, "due_on", optional=True),
        met=_flag(table, row, "met"),
        working_days_late=_number(table, row, "working_days_late", optional=True),
        reason=_text(table, row, "reason", optional=True),
    )
