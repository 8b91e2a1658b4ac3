"""The pipeline: one claimed case file goes through a short list of small stages.

    claim → load → validate → plan → render → convert → publish → record → finish

Claiming is done by the caller (``recordgen process`` or the watcher, :mod:`recordgen.intake`),
because it decides which file is next. The stages before conversion (:data:`PREPARE`) and after it
(:data:`COMPLETE`) are functions ``(WorkItem, Services) -> WorkItem``; conversion runs once over a
whole batch, because one LibreOffice start should serve many documents. A subject access request is
answered from the store, so its bundle is made and published (:data:`ANSWER_REQUEST`) only once the
case files before it in the batch are recorded. Reading those lists tells the architecture
(docs/design.md §3).

A stage stops the chain by raising: :class:`Stop` when there is nothing new to produce, a
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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from recordgen.clock import UK, Clock
from recordgen.dates import date_field, uk_date
from recordgen.deadlines.tracking import document_clock, start_on_arrival, update_clocks
from recordgen.documents.convert import Converter, pdfs_of
from recordgen.documents.problems import cap_problems
from recordgen.documents.publish import PublishedFile, publish
from recordgen.documents.render import RenderedDocument
from recordgen.documents.validate import CaseFile, SchemaSet, canonical_case_ref, validate_case_file
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
    CaseFileError,
    ConversionError,
    InboxError,
    InvariantBroken,
    Problem,
    PublishError,
    RecordgenError,
    StoreError,
    TemplateError,
    TemplateTooCostly,
)
from recordgen.intake.claim import Claimed
from recordgen.intake.load import parse_case_bytes, read_case_bytes
from recordgen.intake.rejected import reject_file
from recordgen.kinds import DOCUMENT_KINDS, Answer
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
    document = need(item.document, "a loaded case file")
    return replace(item, case=validate_case_file(document, services.schemas, services.settings,
                                                 item.received_at.date()))


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
    document_date = _document_date(case, item.received_at)
    planned = plan_version(store, case, document_date=document_date,
                           deadline=document_clock(case, document_date, services.settings),
                           settings=services.settings, holder=item.claimed.claim_id)
    if isinstance(planned, NothingNew):
        raise Stop(FileStatus.UNCHANGED, f"Version {planned.latest_version} already says exactly "
                   "this; nothing new was produced.")
    return replace(item, plan=planned)


def render(item: WorkItem, services: Services) -> WorkItem:
    plan_ = need(item.plan, "a plan")
    if plan_.case.kind.answer is not Answer.DOCUMENT:
        return item  # a bundle is made from the store, once the batch before it is recorded
    return replace(item, rendered=render_version(plan_))


def convert(items: Sequence[WorkItem], services: Services) -> list[WorkItem]:
    """Turn every rendered document of the batch into PDF with one converter call, so one
    LibreOffice start serves many documents. A conversion fault never loses the Word document: the
    item goes on without its PDF, and its case file is kept for a retry."""
    output = services.settings.output
    documents = {i.claimed.claim_id: (i.plan.file_stem, i.rendered.content) for i in items
                 if i.plan is not None and i.rendered is not None
                 and output.wants_pdf(i.plan.case.kind.name)}
    pdfs, problems = pdfs_of(services.converter, documents)
    return [replace(i, pdf=pdfs[i.claimed.claim_id]) if i.claimed.claim_id in pdfs
            else replace(i, pdf_problem=problems[i.claimed.claim_id])
            if i.claimed.claim_id in problems else i for i in items]


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
    """Record the case file, the version and its files, and the clocks it starts and stops, in one
    transaction. A file written beside the document (a redaction log) is recorded by its hash,
    never its content."""
    plan_, published = need(item.plan, "a plan"), need(item.published, "published files")
    store, case = services.store, plan_.case
    with store.transaction():
        submission_id = store.record_submission(_submission(item, SubmissionOutcome.ACCEPTED))
        document_id = store.record_document(version_record(
            plan_, published, submission_id=submission_id, rendered=item.rendered,
            produced_at=services.clock.now()))
        for what, attached in item.attachments:
            store.audit(f"{what} written", case.case_ref,
                        {"document": document_id, "file": attached.relative,
                         "sha256": attached.sha256})
        update_clocks(store, case, document_id, plan_.document_date, services.settings)
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


# --- a batch -------------------------------------------------------------------------------------

# Faults of the system rather than of the file: the file stays claimed and is tried again.
_HOLD = (StoreError, PublishError, ConversionError, InboxError, InvariantBroken, OSError)

OutcomeListener = Callable[[Outcome], None]


def process_batch(batch: Sequence[Claimed], services: Services,
                  on_outcome: OutcomeListener | None = None) -> list[Outcome]:
    """Run claimed files through the stages, converting their documents to PDF together.
    ``on_outcome`` hears each file's outcome as soon as it is settled (the log line of each file
    carries its own time), and each outcome's seconds are that file's own."""
    results: dict[str, WorkItem | Outcome] = {}

    def settle(claim_id: str, result: WorkItem | Outcome) -> None:
        results[claim_id] = result
        if on_outcome is not None and isinstance(result, Outcome):
            on_outcome(result)

    planned: set[tuple[str, str]] = set()
    later: list[Claimed] = []
    for claimed in batch:
        done = services.store.submission_by_claim(claimed.claim_id)
        if done is not None:  # recorded before a crash or a missing PDF: finish what is left
            settle(claimed.claim_id, resume(claimed, done, services, time.monotonic()))
            continue
        item = WorkItem(claimed=claimed, received_at=received_at(claimed, services.clock),
                        started=time.monotonic())
        result = _run_stages(item, PREPARE, services)
        if isinstance(result, WorkItem) and result.case is not None:
            # A second file for the same document in one batch is planned again once the first
            # is recorded, so that it is judged against what the first one made. Nothing was
            # published under the number it was given: it gives it back.
            key = (result.case.case_ref, result.case.series)
            if key in planned:
                try:
                    services.store.release_version(claimed.claim_id)
                except StoreError as fault:
                    settle(claimed.claim_id, _outcome(result, FileStatus.HELD, message=str(fault)))
                    continue
                later.append(claimed)
                continue
            planned.add(key)
        settle(claimed.claim_id, result)
    ready = [r for r in results.values() if isinstance(r, WorkItem)]
    for item in convert(ready, services):
        kind = need(item.case, "a valid case file").kind
        stages = ANSWER_REQUEST if kind.answer is Answer.BUNDLE else COMPLETE
        settle(item.claimed.claim_id, _run_stages(item, stages, services))
    if later:
        results.update((waited.claim_id, outcome) for waited, outcome in
                       zip(later, process_batch(later, services, on_outcome), strict=True))
    return [need(o if isinstance(o, Outcome) else None, "an outcome for every file")
            for o in (results[c.claim_id] for c in batch)]


def _run_stages(item: WorkItem, stages: Sequence[Stage], services: Services) -> WorkItem | Outcome:
    try:
        for stage in stages:
            item = stage(item, services)
    except Stop as stop:
        try:
            services.store.record_submission(
                _submission(item, SubmissionOutcome(stop.status.value)))
        except StoreError as fault:
            return _outcome(item, FileStatus.HELD, message=str(fault))
        item.claimed.path.unlink(missing_ok=True)
        return _outcome(item, stop.status, message=stop.message)
    except PdfPending as exc:
        return _outcome(item, FileStatus.HELD, message=f"The Word document was produced, but "
                        f"not its PDF: {exc} The case file is kept and will be tried again.")
    except TemplateTooCostly as exc:  # the template's fault, not the file's: held, not rejected
        return _outcome(item, FileStatus.HELD, message=str(exc))
    except (CaseFileError, TemplateError) as exc:
        return _reject(item, exc, services)
    except _HOLD as exc:
        return _outcome(item, FileStatus.HELD, message=str(exc))
    return item if stages is PREPARE else _outcome(item, FileStatus.PRODUCED)


def _reject(item: WorkItem, exc: RecordgenError, services: Services) -> Outcome:
    """Record the rejection first, then move the file: after a crash between the two, the file is
    still claimed and :func:`resume` finishes moving it (nothing rejected goes unrecorded)."""
    problems = _problems(exc)
    try:
        if item.published is None:  # rejected before anything was issued: its version is unused
            services.store.release_version(item.claimed.claim_id)
        services.store.record_submission(
            _submission(item, SubmissionOutcome.REJECTED, tuple(str(p) for p in problems)))
        reject_file(item.claimed, problems, services.settings.folders.rejected, item.received_at)
    except (StoreError, OSError) as fault:
        return _outcome(item, FileStatus.HELD, message=(
            f"The file cannot be used ({problems[0].message}), but it could not be moved to the "
            f"rejected folder or recorded ({fault}). It is kept and tried again."))
    return _outcome(item, FileStatus.REJECTED, problems=problems)


def resume(claimed: Claimed, done: SubmissionRecord, services: Services,
           started: float) -> Outcome:
    """A claimed file already recorded: make any PDF still missing, then remove the file (or, for a
    rejection recorded just before a crash, move it to the rejected folder)."""
    outbox, output = services.settings.folders.outbox, services.settings.output
    if done.outcome is SubmissionOutcome.REJECTED:
        reasons = tuple(Problem("$", reason, "") for reason in done.reasons)
        reject_file(claimed, reasons, services.settings.folders.rejected, done.received_at)
        return Outcome(claimed.original_name, FileStatus.REJECTED, done.case_ref, done.kind,
                       problems=reasons, message="Rejected; finished after a restart.",
                       seconds=time.monotonic() - started)
    missing = [d for d in services.store.documents(done.case_ref)
               if d.submission_id == done.id and d.pdf_file_name is None
               and d.kind in DOCUMENT_KINDS and output.wants_pdf(d.kind)]
    made = []
    for document in missing:
        stem = Path(document.file_name).stem
        pdfs, problems = pdfs_of(services.converter,
                                 {stem: (stem, (outbox / document.file_name).read_bytes())})
        if stem not in pdfs:
            return Outcome(claimed.original_name, FileStatus.HELD, done.case_ref, done.kind,
                           message=f"The PDF still could not be made: {problems[stem]}",
                           seconds=time.monotonic() - started)
        pdf = publish(outbox, document.case_ref, f"{stem}.pdf", pdfs[stem])
        services.store.attach_pdf(need(document.id, "a stored document's id"), pdf.relative,
                                  pdf.sha256)
        made.append(pdf.relative)
    claimed.path.unlink(missing_ok=True)
    status = FileStatus.DUPLICATE if done.outcome is SubmissionOutcome.DUPLICATE \
        else FileStatus.PRODUCED
    return Outcome(claimed.original_name, status, done.case_ref, done.kind, documents=tuple(made),
                   message="Finished after a restart.", seconds=time.monotonic() - started)


def received_at(claimed: Claimed, clock: Clock) -> dt.datetime:
    """When the file was claimed (kept in its claim id, so a retry after a crash keeps the date)."""
    try:
        stamp = dt.datetime.strptime(claimed.claim_id.split("-")[0], "%Y%m%dT%H%M%S%f")
        return stamp.replace(tzinfo=dt.UTC).astimezone(UK)
    except ValueError:
        return clock.now()


def _document_date(case: CaseFile, received: dt.datetime) -> dt.date:
    if case.kind.date_field is not None:
        return date_field(case.data[case.kind.date_field])
    return received.date()


def _submission(item: WorkItem, outcome: SubmissionOutcome,
                reasons: tuple[str, ...] = ()) -> SubmissionRecord:
    case_ref = item.case.case_ref if item.case else _declared(item, "case_ref")
    kind = item.case.kind.name if item.case else _declared(item, "kind")
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


def _declared(item: WorkItem, key: str) -> str | None:
    """What a rejected file says about itself, if it is safe to record (a case reference in its
    canonical form, so the rejection is found under the case it names)."""
    value = item.document.get(key) if item.document else None
    if not (isinstance(value, str) and len(value) <= 40 and value.isprintable()):
        return None
    if key == "case_ref":
        try:
            return canonical_case_ref(value)
        except ValueError:
            return None
    return value


def _problems(exc: RecordgenError) -> tuple[Problem, ...]:
    if isinstance(exc, CaseFileError):
        return cap_problems(exc.problems)  # what the note and the store keep is capped
    return (Problem("(template)", str(exc), "Your case file is fine: the Word template needs "
                    "fixing. Ask whoever looks after the templates to run 'recordgen templates "
                    "check', then drop this file into the inbox again."),)


def _outcome(item: WorkItem, status: FileStatus, *, message: str = "",
             problems: tuple[Problem, ...] = ()) -> Outcome:
    produced = status is FileStatus.PRODUCED and item.published is not None
    documents = tuple(f.relative for f in (*_distinct(item.published.files),
                                           *(a for _, a in item.attachments))) \
        if produced and item.published is not None else ()
    return Outcome(
        file_name=item.claimed.original_name,
        status=status,
        case_ref=item.case.case_ref if item.case else _declared(item, "case_ref"),
        kind=item.case.kind.name if item.case else _declared(item, "kind"),
        documents=documents,
        message=message,
        problems=problems,
        seconds=time.monotonic() - item.started,
    )


def _distinct(files: Sequence[PublishedFile]) -> list[PublishedFile]:
    """Each file once (a bundle is its own PDF)."""
    seen: dict[str, PublishedFile] = {}
    for file in files:
        seen.setdefault(file.relative, file)
    return list(seen.values())
