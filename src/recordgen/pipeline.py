"""The pipeline: one claimed case file goes through a short list of small stages.

    claim → load → validate → plan → render → convert → publish → record → finish

Claiming is done by the caller (``recordgen process`` or the watcher), because it decides which file
is next. The stages before conversion (:data:`PREPARE`) and after it (:data:`COMPLETE`) are
functions ``(WorkItem, Services) -> WorkItem``; conversion runs once over a whole batch, because
one LibreOffice start should serve many documents. Reading those lists tells the architecture
(DESIGN.md §3). A stage stops the chain
by raising: :class:`Stop` when there is nothing new to produce, a :class:`CaseFileError` or
:class:`TemplateError` to reject the file (moved to the rejected folder with a note for admin
staff), or a fault of the system (store, outbox, converter) to hold the file, claimed, for a retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from recordgen import __version__
from recordgen.clock import UK, Clock
from recordgen.dates import date_field, uk_date
from recordgen.deadlines.tracking import DocumentClock, document_clock, update_clocks
from recordgen.documents.convert import Converter, pdfs_of
from recordgen.documents.problems import cap_problems
from recordgen.documents.publish import PublishedFile, publish, read_published
from recordgen.documents.render import RenderedDocument, build_context, context_fingerprint, render_document
from recordgen.documents.validate import CaseFile, SchemaSet, canonical_case_ref
from recordgen.errors import (
    CaseFileError,
    ConversionError,
    InboxError,
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
from recordgen.kinds import KINDS, SUBJECT_ACCESS_REQUEST, DocumentKind
from recordgen.records.store import DocumentRecord, Store, SubmissionRecord, VersionRequest
from recordgen.settings import Settings
from recordgen.subject_access.bundle import publish_bundle, record_bundle
from recordgen.subject_access.requests import is_request, validate_case_file


@dataclass(frozen=True)
class Services:
    """The collaborators every stage may use, passed in (tests pass fakes)."""

    settings: Settings
    store: Store
    schemas: SchemaSet
    clock: Clock
    converter: Converter


@dataclass(frozen=True)
class Plan:
    version: int
    document_date: dt.date
    file_stem: str
    context: Mapping[str, Any]
    context_sha256: str
    template: Path
    clock: DocumentClock


@dataclass(frozen=True)
class WorkItem:
    claimed: Claimed
    received_at: dt.datetime
    raw: bytes = b""
    sha256: str = ""
    document: Mapping[str, Any] | None = None
    case: CaseFile | None = None
    plan: Plan | None = None
    rendered: RenderedDocument | None = None
    pdf: bytes | None = None
    pdf_problem: str | None = None
    published: tuple[PublishedFile, ...] = ()
    submission_id: int | None = None
    started: float = 0.0  # time.monotonic() when this file's stages began


@dataclass(frozen=True)
class Outcome:
    """What happened to one file, for the summary table and the log (no names, no narrative)."""

    file_name: str
    status: str  # "produced", "unchanged", "duplicate", "rejected" or "held"
    case_ref: str | None = None
    kind: str | None = None
    documents: tuple[str, ...] = ()
    message: str = ""
    problems: tuple[Problem, ...] = ()
    seconds: float = 0.0


class Stop(Exception):
    """Raised by a stage when the file is fine but there is nothing new to produce."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


Stage = Callable[[WorkItem, Services], WorkItem]


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
    assert item.document is not None
    today = item.received_at.date()
    return replace(item, case=validate_case_file(item.document, services.schemas,
                                                 services.settings, today))


def plan(item: WorkItem, services: Services) -> WorkItem:
    """Which document, which version, which due dates. The version number is reserved in the store
    before anything is made, so other watchers, runs and regenerations on the same store take other
    numbers; a retry of this claim after a crash gets the same number back."""
    assert item.case is not None
    case, store, settings = item.case, services.store, services.settings
    earlier = store.accepted_submission_with_sha(item.sha256)
    if earlier is not None:
        raise Stop("duplicate", f"The same file was already processed on "
                   f"{uk_date(earlier.received_at.date())}; nothing new was produced.")
    document_date = _document_date(case, item.received_at)
    clock = document_clock(case, document_date, settings)
    template = settings.folders.templates / case.kind.template_file
    template_sha = hashlib.sha256(template.read_bytes()).hexdigest() if template.exists() else ""
    # What the document will say, apart from its version number: judged against the latest
    # version recorded.
    context_sha = context_fingerprint(build_context(case, settings, version=0,
                                                    document_date=document_date, due=clock.shown))
    reservation = store.reserve_version(VersionRequest(
        case.case_ref, case.series, holder=item.claimed.claim_id, template_sha256=template_sha,
        context_sha256=context_sha))
    if reservation.status != "reserved":
        latest = reservation.latest.version if reservation.latest else 0
        raise Stop("unchanged", f"Version {latest} already says exactly this; nothing new "
                   "was produced.")
    version = reservation.version
    context = build_context(case, settings, version=version, document_date=document_date,
                            due=clock.shown)
    stem = case.kind.file_stem(case.case_ref, case.data, document_date, version)
    return replace(item, plan=Plan(version, document_date, stem, context, context_sha, template,
                                   clock))


def render(item: WorkItem, services: Services) -> WorkItem:
    assert item.plan is not None and item.case is not None
    if item.case.kind is SUBJECT_ACCESS_REQUEST:
        return item  # its bundle is made from the store, in ANSWER_REQUEST
    return replace(item, rendered=render_document(item.plan.template, item.plan.context))


def convert(items: Sequence[WorkItem], services: Services) -> list[WorkItem]:
    """Turn every rendered document of the batch into PDF with one converter call, so one
    LibreOffice start serves many documents. A conversion fault never loses the Word document: the
    item goes on without its PDF, and its case file is kept for a retry (issue 5 §1)."""
    wanted = [i for i in items if i.case is not None and i.rendered is not None
              and wants_pdf(services.settings, i.case.kind)]
    documents = {}
    for item in wanted:
        assert item.plan is not None and item.rendered is not None
        documents[item.claimed.claim_id] = (item.plan.file_stem, item.rendered.content)
    pdfs, problems = pdfs_of(services.converter, documents)
    return [replace(i, pdf=pdfs[i.claimed.claim_id]) if i.claimed.claim_id in pdfs
            else replace(i, pdf_problem=problems[i.claimed.claim_id])
            if i.claimed.claim_id in problems else i for i in items]


def wants_pdf(settings: Settings, kind: DocumentKind) -> bool:
    return settings.output.pdf and kind.name not in settings.output.pdf_off_for


def publish_outputs(item: WorkItem, services: Services) -> WorkItem:
    assert item.case is not None and item.plan is not None and item.rendered is not None
    outbox, case_ref, stem = services.settings.folders.outbox, item.case.case_ref, item.plan.file_stem
    docx = publish(outbox, case_ref, f"{stem}.docx", item.rendered.content)
    if item.pdf is None:
        return replace(item, published=(docx,))
    existing = read_published(outbox, case_ref, f"{stem}.pdf")
    if existing is not None:
        # A retry after a crash: the Word document above was identical, so the PDF already made
        # from it stands (LibreOffice stamps each PDF it makes, so the bytes differ).
        return replace(item, published=(docx, publish(outbox, case_ref, f"{stem}.pdf",
                                                      existing)))
    return replace(item, published=(docx, publish(outbox, case_ref, f"{stem}.pdf", item.pdf)))


def record(item: WorkItem, services: Services) -> WorkItem:
    assert item.case is not None and item.plan is not None and item.rendered is not None
    store, case, plan_ = services.store, item.case, item.plan
    docx, pdf = item.published[0], (item.published[1] if len(item.published) > 1 else None)
    with store.transaction():
        submission_id = store.record_submission(_submission(item, "accepted"))
        document_id = store.record_document(DocumentRecord(
            submission_id=submission_id,
            case_ref=case.case_ref,
            kind=case.kind.name,
            series=case.series,
            version=plan_.version,
            document_date=plan_.document_date,
            file_name=docx.relative,
            sha256=docx.sha256,
            content_sha256=item.rendered.content_sha256,
            template_sha256=item.rendered.template_sha256,
            context_sha256=plan_.context_sha256,
            software_version=__version__,
            produced_at=services.clock.now(),
            pdf_file_name=pdf.relative if pdf else None,
            pdf_sha256=pdf.sha256 if pdf else None,
            due_on=plan_.clock.due_on,
            met=plan_.clock.met,
            working_days_late=plan_.clock.working_days_late,
        ))
        update_clocks(store, case, document_id, plan_.document_date, services.settings)
    return replace(item, submission_id=submission_id)


def finish(item: WorkItem, services: Services) -> WorkItem:
    """Only now is the claimed input removed: the store holds its copy. A case whose PDF could not
    be made is kept, claimed, so the next run makes the PDF (its Word document is already out)."""
    if item.pdf_problem is not None:
        raise PdfPending(item.pdf_problem)
    item.claimed.path.unlink(missing_ok=True)
    return item


# The order of these lists is the architecture (DESIGN.md §3). Claiming happens before them, in
# the caller; conversion runs between them over the whole batch (see convert).
PREPARE: Sequence[Stage] = (load, validate, plan, render)
COMPLETE: Sequence[Stage] = (publish_outputs, record, finish)
# A subject access request is answered from the store: its bundle is built and published only once
# the case files before it in the batch are recorded (bundle.py).
ANSWER_REQUEST: Sequence[Stage] = (publish_bundle, record_bundle, finish)


class PdfPending(ConversionError):
    """The Word document is out, but its PDF is not: the case file is kept for a retry."""


# Faults of the system rather than of the file: the file stays claimed and is tried again.
_HOLD = (StoreError, PublishError, ConversionError, InboxError, OSError)


def process_claimed(claimed: Claimed, services: Services) -> Outcome:
    """Run one claimed file through every stage and say what happened."""
    return process_batch([claimed], services)[0]


OutcomeListener = Callable[["Outcome"], None]


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
        result = _run_stages(item, PREPARE, services, item.started)
        if isinstance(result, WorkItem) and result.case is not None:
            # A second file for the same document in one batch is planned again once the first
            # is recorded, so that it is judged against what the first one made. Nothing was
            # published under the number it was given: it gives it back.
            key = (result.case.case_ref, result.case.series)
            if key in planned:
                try:
                    services.store.release_version(claimed.claim_id)
                except StoreError as fault:
                    settle(claimed.claim_id, _outcome(result, "held", result.started,
                                                      message=str(fault)))
                    continue
                later.append(claimed)
                continue
            planned.add(key)
        settle(claimed.claim_id, result)
    ready = [r for r in results.values() if isinstance(r, WorkItem)]
    for item in convert(ready, services):
        stages = ANSWER_REQUEST if is_request(item.document) else COMPLETE
        settle(item.claimed.claim_id, _run_stages(item, stages, services, item.started))
    if later:
        results.update((waited.claim_id, outcome) for waited, outcome in
                       zip(later, process_batch(later, services, on_outcome), strict=True))
    outcomes = [results[c.claim_id] for c in batch]
    assert all(isinstance(o, Outcome) for o in outcomes)
    return [o for o in outcomes if isinstance(o, Outcome)]


def _run_stages(item: WorkItem, stages: Sequence[Stage], services: Services,
                started: float) -> WorkItem | Outcome:
    try:
        for stage in stages:
            item = stage(item, services)
    except Stop as stop:
        try:
            services.store.record_submission(_submission(item, stop.status))
        except StoreError as fault:
            return _outcome(item, "held", started, message=str(fault))
        item.claimed.path.unlink(missing_ok=True)
        return _outcome(item, stop.status, started, message=stop.message)
    except PdfPending as exc:
        return _outcome(item, "held", started, message=f"The Word document was produced, but "
                        f"not its PDF: {exc} The case file is kept and will be tried again.")
    except TemplateTooCostly as exc:  # the template's fault, not the file's: held, not rejected
        return _outcome(item, "held", started, message=str(exc))
    except (CaseFileError, TemplateError) as exc:
        return _reject(item, exc, services, started)
    except _HOLD as exc:
        return _outcome(item, "held", started, message=str(exc))
    return item if stages is PREPARE else _outcome(item, "produced", started)


def _reject(item: WorkItem, exc: RecordgenError, services: Services, started: float) -> Outcome:
    """Record the rejection first, then move the file: after a crash between the two, the file is
    still claimed and :func:`resume` finishes moving it (nothing rejected goes unrecorded)."""
    problems = _problems(exc)
    try:
        if not item.published:  # rejected before anything was issued: its version is not used
            services.store.release_version(item.claimed.claim_id)
        services.store.record_submission(
            _submission(item, "rejected", tuple(str(p) for p in problems)))
        reject_file(item.claimed, problems, services.settings.folders.rejected, item.received_at)
    except (StoreError, OSError) as fault:
        return _outcome(item, "held", started, message=(
            f"The file cannot be used ({problems[0].message}), but it could not be moved to the "
            f"rejected folder or recorded ({fault}). It is kept and tried again."))
    return _outcome(item, "rejected", started, problems=problems)


def resume(claimed: Claimed, done: SubmissionRecord, services: Services,
           started: float) -> Outcome:
    """A claimed file already recorded: make any PDF still missing, then remove the file (or, for a
    rejection recorded just before a crash, move it to the rejected folder)."""
    outbox = services.settings.folders.outbox
    if done.outcome == "rejected":
        reasons = tuple(Problem("$", reason, "") for reason in done.reasons)
        reject_file(claimed, reasons, services.settings.folders.rejected, done.received_at)
        return Outcome(claimed.original_name, "rejected", done.case_ref, done.kind,
                       problems=reasons, message="Rejected; finished after a restart.",
                       seconds=time.monotonic() - started)
    missing = [d for d in services.store.documents(done.case_ref)
               if d.submission_id == done.id and d.pdf_file_name is None
               and d.kind in KINDS and wants_pdf(services.settings, KINDS[d.kind])]
    made = []
    for document in missing:
        stem = Path(document.file_name).stem
        pdfs, problems = pdfs_of(services.converter,
                                 {stem: (stem, (outbox / document.file_name).read_bytes())})
        if stem not in pdfs:
            return Outcome(claimed.original_name, "held", done.case_ref, done.kind,
                           message=f"The PDF still could not be made: {problems[stem]}",
                           seconds=time.monotonic() - started)
        pdf = publish(outbox, document.case_ref, f"{stem}.pdf", pdfs[stem])
        assert document.id is not None
        services.store.attach_pdf(document.id, pdf.relative, pdf.sha256)
        made.append(pdf.relative)
    claimed.path.unlink(missing_ok=True)
    status = "duplicate" if done.outcome == "duplicate" else "produced"
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


def _submission(item: WorkItem, outcome: str, reasons: tuple[str, ...] = ()) -> SubmissionRecord:
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


def _outcome(item: WorkItem, status: str, started: float, *, message: str = "",
             problems: tuple[Problem, ...] = ()) -> Outcome:
    return Outcome(
        file_name=item.claimed.original_name,
        status=status,
        case_ref=item.case.case_ref if item.case else _declared(item, "case_ref"),
        kind=item.case.kind.name if item.case else _declared(item, "kind"),
        documents=tuple(p.relative for p in item.published) if status == "produced" else (),
        message=message,
        problems=problems,
        seconds=time.monotonic() - started,
    )


