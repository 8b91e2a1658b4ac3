"""The stages of the pipeline, each ``(WorkItem, Services) -> WorkItem``, and their order.

    claim → load → validate → plan → render → convert → publish → record → finish

Claiming is done by the caller (:mod:`recordgen.pipeline.inbox`, :mod:`recordgen.pipeline.watch`),
because it decides which file is next. The stages before conversion (:data:`PREPARE`) and after it
(:data:`COMPLETE`) run one file at a time; each document's PDF is asked for as soon as it is
rendered and collected before it is published (:mod:`recordgen.pipeline.batch`), so LibreOffice
converts one document while the next is rendered and the one before is recorded. A
subject access request is answered from the store, so its bundle is made and published
(:data:`ANSWER_REQUEST`) only once the case files before it in the batch are recorded. A case file
that issues nothing (money secured, a declined referral) has no version to plan, render or
publish: it is only recorded, with its clocks (:data:`RECORD_ONLY`). :data:`COMPLETING` says which
list completes each answer. Reading those lists tells the architecture (docs/design.md §3).

A stage stops the chain by raising: :class:`WaitForCase` when a case file checked against its
case's records has another file of the same case in the batch not recorded yet (it is taken again
once that one is), :class:`Stop` when there is nothing new to produce, a
:class:`CaseFileError` or :class:`TemplateError` to reject the file (moved to the rejected folder
with a note for admin staff), or a fault of the system (store, outbox, converter) to hold the file,
claimed, for a retry. Versions are produced by :mod:`recordgen.documents.versions`, the one way to
produce a version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from recordgen.cases import CaseFile, canonical_case_ref
from recordgen.clock import Clock
from recordgen.dates import date_field, uk_date
from recordgen.deadlines.tracking import document_clock, start_on_arrival, update_clocks
from recordgen.documents.convert import Converter, PdfQueue
from recordgen.documents.publish import PublishedFile
from recordgen.documents.render import RenderedDocument
from recordgen.documents.validate import SchemaSet, validate_case_file
from recordgen.documents.versions import (
    NothingNew,
    Published,
    VersionPlan,
    plan_version,
    publish_version,
    render_version,
    version_record,
)
from recordgen.errors import (
    ConversionError,
    InboxError,
    InvariantBroken,
    Problem,
    RecordgenError,
)
from recordgen.intake.claim import Claimed
from recordgen.intake.load import parse_case_bytes, read_case_bytes
from recordgen.kinds import KINDS, Answer
from recordgen.records.case_files import accepted_case_files
from recordgen.records.store import Store, SubmissionOutcome, SubmissionRecord
from recordgen.settings import Settings
from recordgen.subject_access.bundle import BundleRequest, publish_bundle

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """The collaborators every stage may use, passed in (tests pass fakes)."""

    settings: Settings
    store: Store
    schemas: SchemaSet
    clock: Clock
    converter: Converter


class FileStatus(StrEnum):
    """What happened to one file, as the summary and the log say it."""

    PRODUCED = "produced"
    RECORDED = "recorded"  # a case file that issues nothing (money secured): recorded, clocks kept
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    HELD = "held"  # kept, claimed, for a retry: a fault of the system, not of the file
    NOT_TAKEN = "not taken"  # a path given to `recordgen process` that was not taken in


@dataclass(frozen=True)
class WorkItem:
    claimed: Claimed
    received_at: dt.datetime
    started: float = 0.0  # time.monotonic() when this file's stages began
    raw: bytes = b""
    sha256: str = ""
    document: Mapping[str, Any] | None = None
    case: CaseFile | None = None
    plan: VersionPlan | None = None
    rendered: RenderedDocument | None = None
    pdf: bytes | None = None
    pdf_problem: str | None = None
    published: Published | None = None
    attachments: tuple[tuple[str, PublishedFile], ...] = ()  # files beside the document: (what, file)
    submission_id: int | None = None
    # Cases with another file in this batch that a case file checked against its case's records
    # may depend on (not a review, not a bundle), not yet recorded: it waits for them.
    cases_pending: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """What happened to one file, for the summary table and the log (no names, no narrative)."""

    file_name: str
    status: FileStatus
    case_ref: str | None = None
    kind: str | None = None
    documents: tuple[str, ...] = ()
    message: str = ""
    problems: tuple[Problem, ...] = ()
    seconds: float = 0.0


class Stop(Exception):
    """Raised by a stage when the file is fine but there is nothing new to produce."""

    def __init__(self, status: FileStatus, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class WaitForCase(Exception):
    """Raised by validation for a case file checked against its case's records (a review, against
    the current plan) while another file of the same case in the batch is not recorded yet: the
    batch takes it again once that one is."""

    def __init__(self, case_ref: str) -> None:
        super().__init__(case_ref)
        self.case_ref = case_ref


class PdfPending(ConversionError):
    """The Word document is out, but its PDF is not: the case file is kept for a retry."""


Stage = Callable[[WorkItem, "Services"], WorkItem]


def need(value: T | None, what: str) -> T:
    """``value``, which an earlier stage must have set; a stage run out of order is a bug."""
    if value is None:
        raise InvariantBroken(f"The pipeline reached a stage without {what}: its stages ran out of "
                              "order. This is a fault in recordgen; the file is kept.")
    return value


# --- the stages ----------------------------------------------------------------------------------


def load(item: WorkItem, services: Services) -> WorkItem:
    limits, claimed = services.settings.limits, item.claimed
    try:
        # Read without following a link. An oversized file, or one that is not a case file at all
        # (a Word document, a scan), is refused before it is read into memory; it moves to the
        # rejected folder whole, and the store keeps only its hash (see _submission).
        raw = read_case_bytes(claimed.path, limits.max_case_file_bytes, sole_name=True)
    except OSError as exc:
        raise InboxError(f"{claimed.original_name} could not be read: {exc}.") from exc
    item = replace(item, raw=raw, sha256=hashlib.sha256(raw).hexdigest())
    return replace(item, document=parse_case_bytes(raw, limits.max_nesting_depth,
                                                   claimed.original_name))


def validate(item: WorkItem, services: Services) -> WorkItem:
    """The schema and the rules; a kind checked against its case reads the case's records (after
    any file of its case ahead of it in the batch is recorded)."""
    document = need(item.document, "a loaded case file")
    kind = KINDS.get(declared(item, "kind") or "")
    case_ref = declared(item, "case_ref")
    if kind is not None and kind.checked_against_case and case_ref in item.cases_pending:
        raise WaitForCase(case_ref or "")
    store = services.store
    return replace(item, case=validate_case_file(
        document, services.schemas, services.settings, item.received_at.date(),
        case_files=lambda case_ref: accepted_case_files(store, case_ref)))


def plan(item: WorkItem, services: Services) -> WorkItem:
    """Which document, which version, which due dates. The version number is reserved in the store
    before anything is made (:mod:`recordgen.documents.versions`); a retry of this claim after a
    crash gets the same number back."""
    case, store = need(item.case, "a valid case file"), services.store
    earlier = store.accepted_submission_with_sha(item.sha256)
    if earlier is not None:
        raise Stop(FileStatus.DUPLICATE, f"The same file was already processed on "
                   f"{uk_date(earlier.received_at.date())}; nothing new was produced.")
    start_on_arrival(store, case, services.settings)
    if case.answer is Answer.RECORD:
        return item  # nothing is issued, so there is no version to plan
    document_date = document_date_of(case, item.received_at)
    planned = plan_version(store, case, document_date=document_date,
                           deadline=document_clock(case, document_date, services.settings),
                           settings=services.settings, holder=item.claimed.claim_id)
    if isinstance(planned, NothingNew):
        raise Stop(FileStatus.UNCHANGED, f"Version {planned.latest_version} already says exactly "
                   "this; nothing new was produced.")
    return replace(item, plan=planned)


def render(item: WorkItem, services: Services) -> WorkItem:
    if need(item.case, "a valid case file").answer is not Answer.DOCUMENT:
        return item  # a bundle is made from the store, once the batch before it is recorded
    return replace(item, rendered=render_version(need(item.plan, "a plan")))


def ask_for_pdf(item: WorkItem, services: Services, pdfs: PdfQueue[str]) -> None:
    """Ask for the PDF of a rendered document as soon as it is rendered: a converter that keeps
    LibreOffice running starts on it at once, while the next file of the batch is rendered;
    another converts every document of the batch in one call (one LibreOffice start)."""
    if item.plan is not None and item.rendered is not None \
            and services.settings.output.wants_pdf(item.plan.case.kind.name):
        pdfs.ask(item.claimed.claim_id, item.plan.file_stem, item.rendered.content)


def convert(item: WorkItem, pdfs: PdfQueue[str]) -> WorkItem:
    """The PDF asked for by :func:`ask_for_pdf`. A conversion fault never loses the Word document:
    the item goes on without its PDF, and its case file is kept for a retry."""
    if item.plan is None or item.rendered is None:
        return item
    pdf, problem = pdfs.collect(item.claimed.claim_id)
    if pdf is not None:
        return replace(item, pdf=pdf)
    return item if problem is None else replace(item, pdf_problem=problem)


def publish_outputs(item: WorkItem, services: Services) -> WorkItem:
    published = publish_version(services.settings.folders.outbox, need(item.plan, "a plan"),
                                need(item.rendered, "a rendered document"), item.pdf)
    return replace(item, published=published)


def publish_answer(item: WorkItem, services: Services) -> WorkItem:
    """Make the subject access bundle from the store and publish it, with its redaction log."""
    plan_ = need(item.plan, "a plan")
    files = publish_bundle(BundleRequest(plan_.case, item.received_at, plan_.version,
                                         plan_.document_date, plan_.file_stem,
                                         exclude_claim=item.claimed.claim_id), services)
    # The bundle is a PDF: it is the document and its PDF at once.
    return replace(item, published=Published(files.pdf, files.pdf),
                   attachments=(("redaction log", files.log),))


def record(item: WorkItem, services: Services) -> WorkItem:
    """Record the case file, the version and its files (when it issued one), and the clocks it
    starts and stops, in one transaction. A file written beside the document (a redaction log) is
    recorded by its hash, never its content."""
    store, case = services.store, need(item.case, "a valid case file")
    with store.transaction():
        submission_id = store.record_submission(submission_of(item, SubmissionOutcome.ACCEPTED))
        document_id = None
        if case.answer is not Answer.RECORD:
            plan_ = need(item.plan, "a plan")
            document_id = store.record_document(version_record(
                plan_, need(item.published, "published files"), submission_id=submission_id,
                rendered=item.rendered, produced_at=services.clock.now()))
            for what, attached in item.attachments:
                store.audit(f"{what} written", case.case_ref,
                            {"document": document_id, "file": attached.relative,
                             "sha256": attached.sha256})
        day = item.plan.document_date if item.plan else document_date_of(case, item.received_at)
        update_clocks(store, case, document_id, day, services.settings)
    return replace(item, submission_id=submission_id)


def finish(item: WorkItem, services: Services) -> WorkItem:
    """Only now is the claimed input removed: the store holds its copy. A case whose PDF could not
    be made is kept, claimed, so the next run makes the PDF (its Word document is already out)."""
    if item.pdf_problem is not None:
        raise PdfPending(item.pdf_problem)
    item.claimed.path.unlink(missing_ok=True)
    return item


# The order of these lists is the architecture (docs/design.md §3). Claiming happens before them,
# in the caller; conversion runs between them over the whole batch (see convert).
PREPARE: Sequence[Stage] = (load, validate, plan, render)
COMPLETE: Sequence[Stage] = (publish_outputs, record, finish)
ANSWER_REQUEST: Sequence[Stage] = (publish_answer, record, finish)
RECORD_ONLY: Sequence[Stage] = (record, finish)

# Which stages complete a case file after conversion, by what it is answered with.
COMPLETING: Mapping[Answer, Sequence[Stage]] = {
    Answer.DOCUMENT: COMPLETE,
    Answer.BUNDLE: ANSWER_REQUEST,
    Answer.RECORD: RECORD_ONLY,
}


@dataclass(frozen=True)
class Declared:
    """What a claimed file says it is, read ahead of its stages (None where it cannot be read)."""

    case_ref: str | None
    kind: str | None

    @property
    def may_be_depended_on(self) -> bool:
        """Whether a case file checked against its case's records (a review) may need this one
        recorded first: anything but another such file or a bundle (made from the records)."""
        found = KINDS.get(self.kind or "")
        return found is not None and not found.checked_against_case \
            and found.answer is not Answer.BUNDLE

    @property
    def place_in_case(self) -> int:
        """Where it goes among its case's files in one run: first what others may depend on,
        then what is checked against them (a review), then a bundle (made from all of them)."""
        found = KINDS.get(self.kind or "")
        if found is not None and found.answer is Answer.BUNDLE:
            return 2
        return 1 if found is not None and found.checked_against_case else 0


def declared_by(claimed: Claimed, services: Services) -> Declared:
    """The case and kind a claimed file declares, read ahead of its stages so that a batch can
    order the files of one case; a file that cannot be read declares nothing (its own stages say
    why)."""
    return declared_at(claimed.path, services, claimed.original_name)


def declared_at(path: Path, services: Services, name: str | None = None) -> Declared:
    """The case and kind the file at ``path`` declares (read without following a link, and only
    to decide an order: its own stages check it), or nothing if it cannot be read."""
    limits = services.settings.limits
    try:
        raw = read_case_bytes(path, limits.max_case_file_bytes)
        document = parse_case_bytes(raw, limits.max_nesting_depth, name or path.name)
    except (RecordgenError, OSError):
        return Declared(None, None)
    return Declared(declared_in(document, "case_ref"), declared_in(document, "kind"))


def document_date_of(case: CaseFile, received: dt.datetime) -> dt.date:
    if case.kind.date_field is not None:
        return date_field(case.data[case.kind.date_field])
    return received.date()


def submission_of(item: WorkItem, outcome: SubmissionOutcome,
                reasons: tuple[str, ...] = ()) -> SubmissionRecord:
    case_ref = item.case.case_ref if item.case else declared(item, "case_ref")
    kind = item.case.kind.name if item.case else declared(item, "kind")
    return SubmissionRecord(
        claim_id=item.claimed.claim_id,
        file_name=item.claimed.original_name,
        sha256=item.sha256 or _hash_unread(item),
        received_at=item.received_at,
        outcome=outcome,
        raw=item.raw,
        case_ref=case_ref,
        kind=kind,
        reasons=reasons,
    )


def _hash_unread(item: WorkItem) -> str:
    """The hash of a file refused before it was read (too large, or not a case file): taken from
    the claimed file, which is still in the work folder when the rejection is recorded (read
    without following a link)."""
    digest = hashlib.sha256()
    try:
        descriptor = os.open(item.claimed.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return hashlib.sha256(item.raw).hexdigest()
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return hashlib.sha256(item.raw).hexdigest()
    return digest.hexdigest()


def declared(item: WorkItem, key: str) -> str | None:
    """What a rejected file says about itself, if it is safe to record (a case reference in its
    canonical form, so the rejection is found under the case it names)."""
    return declared_in(item.document, key)


def declared_in(document: Mapping[str, Any] | None, key: str) -> str | None:
    """What a loaded case file says it is (its kind, or its case reference in its canonical form),
    if it can be taken at its word."""
    value = document.get(key) if document else None
    if not (isinstance(value, str) and len(value) <= 40 and value.isprintable()):
        return None
    if key == "case_ref":
        try:
            return canonical_case_ref(value)
        except ValueError:
            return None
    return value


