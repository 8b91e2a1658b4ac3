"""What is held about the person who asked: every case file received under the request's case
reference before the request, and every version of every document produced from them, in the scope
the request gives. Nothing under another case reference is read, and a case file that names someone
other than the person who asked as its person is left out, with the reason for the data protection
officer (UK GDPR Article 15(4): a bundle must not hold another person's records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from recordgen.cases import CaseFile
from recordgen.dates import date_field, uk_date_time
from recordgen.errors import CaseFileError
from recordgen.intake.load import parse_case_bytes
from recordgen.kinds import KINDS, SUBJECT_ACCESS_REQUEST, DocumentKind
from recordgen.records.store import DocumentRecord, Store, SubmissionOutcome, SubmissionRecord
from recordgen.settings import Settings
from recordgen.subject_access.name_match import Requester

# What a bundle holds of the case files received: those a document was made from, or that said
# again what an earlier one said.
_INCLUDED_OUTCOMES = (SubmissionOutcome.ACCEPTED, SubmissionOutcome.UNCHANGED)

@dataclass(frozen=True)
class HeldRecord:
    """One record of the bundle: a case file received, or a version of a document produced."""

    kind: DocumentKind
    submission: SubmissionRecord
    data: Mapping[str, Any]  # the case file's data, as received
    schema_version: int
    document: DocumentRecord | None = None  # None: the case file itself

    @property
    def on(self) -> dt.date:
        if self.document is not None:
            return self.document.document_date
        return self.submission.received_at.date()

    @property
    def title(self) -> str:
        """The record's title, as held (:meth:`CaseRedaction.title` is the one a bundle shows)."""
        if self.document is None:
            return f"Case file received: {self.kind.request_title}"
        _, _, own_ref = self.document.series.partition("/")
        return f"{self.kind.title}{' ' + own_ref if own_ref else ''}, version " \
               f"{self.document.version}"


@dataclass(frozen=True)
class Surveyed:
    """A case file of the case that is searched for other people's names, in the bundle or not."""

    kind: DocumentKind
    data: Mapping[str, Any]
    source: str  # which case file, for the redaction log


@dataclass(frozen=True)
class Holdings:
    records: tuple[HeldRecord, ...]
    left_out: tuple[str, ...]  # for the redaction log: what was not put in, and why
    # Every case file of the case that can be read, whatever its outcome, scope or date: each is
    # surveyed for the names of third parties, so a name is withheld from a record in the bundle
    # even when only a record outside it marks it as someone else's.
    surveyed: tuple[Surveyed, ...] = ()


def requester_of(request: CaseFile) -> Requester:
    """The person who asked, by the names the request gives them."""
    person = request.data.get("person", {})
    names = [person.get(key) for key in ("name", "preferred_name")] \
        if isinstance(person, Mapping) else []
    return Requester(tuple(n for n in names if isinstance(n, str) and n.strip()))


def holdings(store: Store, request: CaseFile, received_at: dt.datetime, settings: Settings,
             exclude_claim: str = "") -> Holdings:
    """Every record held under the request's case reference, received before it, in scope, and
    about the person who asked."""
    scope = request.data["scope"]
    requester = requester_of(request)
    records: list[HeldRecord] = []
    left_out: list[str] = []
    kept: dict[int, HeldRecord] = {}
    surveyed: list[Surveyed] = []
    for submission in store.submissions(request.case_ref):
        readable = _readable_case_file(submission, settings)
        when = f"received {uk_date_time(submission.received_at)} (store submission {submission.id})"
        if readable is not None and submission.claim_id != exclude_claim:
            surveyed.append(Surveyed(readable[0], readable[1], f"{readable[0].request_title} {when}"))
        if submission.claim_id == exclude_claim or submission.received_at > received_at:
            continue
        if submission.outcome not in _INCLUDED_OUTCOMES:
            left_out.append(_left_out_reason(submission, when))
            continue
        if readable is None:
            left_out.append(f"A case file {when} could not be read as a case file of a kind "
                            "recordgen knows, so it could not be checked for information about "
                            "others. Review it by hand.")
            continue
        kind, data, schema_version = readable
        if not _about(data, requester):
            left_out.append(f"A case file {when} names someone other than the person who asked "
                            "as its person (at $.data.person.name), so it and the documents made "
                            "from it are not in the bundle: they may be another person's records. "
                            "Check whether it is about the person (for example after a change of "
                            "name); if it is, redact it by hand before disclosing it.")
            continue
        record = HeldRecord(kind, submission, data, schema_version)
        if submission.id is not None:
            kept[submission.id] = record
        if _in_scope(scope, kind, record.on):
            records.append(record)
    for document in store.documents(request.case_ref):
        source = kept.get(document.submission_id or -1)
        if source is None or document.kind == SUBJECT_ACCESS_REQUEST.name:
            continue  # produced after the request, or an earlier bundle (a copy of these records)
        record = replace(source, document=document)
        if _in_scope(scope, record.kind, record.on):
            records.append(record)
    records.sort(key=lambda r: (r.submission.received_at, r.submission.id or 0,
                                r.document.id or 0 if r.document else -1))
    return Holdings(tuple(records), tuple(left_out), tuple(surveyed))


def _about(data: Mapping[str, Any], requester: Requester) -> bool:
    """Whether a case file is about the person who asked: its person is named as they are (a
    case file with no person of its own is about the case's person)."""
    person = data.get("person")
    if not isinstance(person, Mapping) or "name" not in person:
        return True
    return requester.is_named(person.get("name"))


def _readable_case_file(submission: SubmissionRecord, settings: Settings
                        ) -> tuple[DocumentKind, Mapping[str, Any], int] | None:
    """The kind, data and schema version of a stored case file, if it can be read as one."""
    kind = KINDS.get(submission.kind or "")
    try:
        parsed = parse_case_bytes(submission.raw, settings.limits.max_nesting_depth)
    except CaseFileError:
        return None
    data, version = parsed.get("data"), parsed.get("schema_version", 1)
    if kind is None or not isinstance(data, Mapping) or not isinstance(version, int):
        return None
    return kind, data, version


def _left_out_reason(submission: SubmissionRecord, when: str) -> str:
    if submission.outcome is SubmissionOutcome.DUPLICATE:
        return (f"A case file {when} was an exact copy of one already received, which is in the "
                "bundle; it is not repeated.")
    return (f"A case file {when} was {submission.outcome} when it arrived, so it was never "
            "checked against its schema and cannot be redacted safely. Review it by hand before "
            "deciding whether to disclose it.")


def _in_scope(scope: Any, kind: DocumentKind, on: dt.date) -> bool:
    if not isinstance(scope, Mapping):
        return True  # "everything"
    types, start, end = scope.get("record_types"), scope.get("from"), scope.get("to")
    if types is not None and kind.name not in types:
        return False
    if start is not None and on < date_field(start):
        return False
    return end is None or on <= date_field(end)
