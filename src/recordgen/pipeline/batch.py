"""A batch of claimed files through the stages: each file's own stages, one conversion for the batch,
and what happened to each file; finishing, after a crash, what a file had left to do."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from recordgen.clock import UK, Clock
from recordgen.documents.convert import PdfQueue, pdfs_of
from recordgen.documents.problems import cap_problems
from recordgen.documents.publish import PublishedFile, publish
from recordgen.documents.versions import issued_word
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
from recordgen.intake.rejected import reject_file
from recordgen.kinds import DOCUMENT_KINDS, Answer
from recordgen.pipeline.stages import (
    COMPLETING,
    PREPARE,
    RECORD_ONLY,
    FileStatus,
    Outcome,
    PdfPending,
    Services,
    Stage,
    Stop,
    WaitForCase,
    WorkItem,
    ask_for_pdf,
    convert,
    declared,
    declared_by,
    need,
    submission_of,
)
from recordgen.records.store import SubmissionOutcome, SubmissionRecord

# Faults of the system rather than of the file: the file stays claimed and is tried again.
_HOLD = (StoreError, PublishError, ConversionError, InboxError, InvariantBroken, OSError)

OutcomeListener = Callable[[Outcome], None]


def process_batch(batch: Sequence[Claimed], services: Services,
                  on_outcome: OutcomeListener | None = None) -> list[Outcome]:
    """Run claimed files through the stages. Each document's PDF is asked for as soon as it is
    rendered, so LibreOffice converts while the next file is rendered and the ones before are
    published and recorded (with a converter that starts LibreOffice for each call, the batch is
    converted in one call). ``on_outcome`` hears each file's outcome as soon as it is settled (the
    log line of each file carries its own time), and each outcome's seconds are that file's own."""
    results: dict[str, WorkItem | Outcome] = {}

    def settle(claim_id: str, result: WorkItem | Outcome) -> None:
        results[claim_id] = result
        if on_outcome is not None and isinstance(result, Outcome):
            on_outcome(result)

    planned: set[tuple[str, str]] = set()
    waiting: set[str] = set()  # cases with a review put back to wait: their bundles wait too
    later: list[Claimed] = []
    declarations = {c.claim_id: declared_by(c, services) for c in batch}
    with PdfQueue[str](services.converter) as pdfs:
        for claimed in batch:
            done = services.store.submission_by_claim(claimed.claim_id)
            if done is not None:  # recorded before a crash or a missing PDF: finish what is left
                settle(claimed.claim_id, resume(claimed, done, services, time.monotonic()))
                continue
            # A review is checked against its case's records: it waits while another file of its
            # case in this batch (a plan, say) is not recorded yet, before it or after it.
            pending = frozenset(d.case_ref for claim_id, d in declarations.items()
                                if claim_id != claimed.claim_id and d.case_ref is not None
                                and d.may_be_depended_on
                                and not isinstance(results.get(claim_id), Outcome))
            item = WorkItem(claimed=claimed, received_at=received_at(claimed, services.clock),
                            started=time.monotonic(), cases_pending=pending)
            try:
                result = _run_stages(item, PREPARE, services)
            except WaitForCase as wait:
                waiting.add(wait.case_ref)
                later.append(claimed)
                continue
            if isinstance(result, WorkItem) and result.case is not None:
                # A second file for the same document in one batch is planned again once the
                # first is recorded, so that it is judged against what the first one made.
                # Nothing was published under the number it was given: it gives it back. A
                # bundle of a case whose review waits waits too, so that it holds the review.
                key = (result.case.case_ref, result.case.series)
                if key in planned or (result.case.case_ref in waiting
                                      and result.case.answer is Answer.BUNDLE):
                    try:
                        services.store.release_version(claimed.claim_id)
                    except StoreError as fault:
                        settle(claimed.claim_id,
                               _outcome(result, FileStatus.HELD, message=str(fault)))
                        continue
                    later.append(claimed)
                    continue
                planned.add(key)
                ask_for_pdf(result, services, pdfs)
            settle(claimed.claim_id, result)
        for item in [r for r in results.values() if isinstance(r, WorkItem)]:
            item = convert(item, pdfs)
            stages = COMPLETING[need(item.case, "a valid case file").answer]
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
                submission_of(item, SubmissionOutcome(stop.status.value)))
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
    if stages is PREPARE:
        return item
    return _outcome(item, FileStatus.RECORDED if stages is RECORD_ONLY else FileStatus.PRODUCED)


def _reject(item: WorkItem, exc: RecordgenError, services: Services) -> Outcome:
    """Record the rejection first, then move the file: after a crash between the two, the file is
    still claimed and :func:`resume` finishes moving it (nothing rejected goes unrecorded)."""
    problems = _problems(exc)
    try:
        if item.published is None:  # rejected before anything was issued: its version is unused
            services.store.release_version(item.claimed.claim_id)
        services.store.record_submission(
            submission_of(item, SubmissionOutcome.REJECTED, tuple(str(p) for p in problems)))
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
    issued = [d for d in services.store.documents(done.case_ref) if d.submission_id == done.id]
    missing = [d for d in issued if d.pdf_file_name is None
               and d.kind in DOCUMENT_KINDS and output.wants_pdf(d.kind)]
    made = []
    for document in missing:
        stem = Path(document.file_name).stem
        word = issued_word(outbox, document)  # the very bytes recorded, never a link
        if word is None:
            return Outcome(claimed.original_name, FileStatus.HELD, done.case_ref, done.kind,
                           message=f"Its PDF was not made: the Word document issued, "
                           f"{document.file_name}, is missing, is a link, or is not what was "
                           "issued (its SHA-256 is not the one recorded). Run recordgen verify "
                           "and put the issued file back; this file is kept and tried again.",
                           seconds=time.monotonic() - started)
        pdfs, problems = pdfs_of(services.converter, {stem: (stem, word)})
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
        else FileStatus.PRODUCED if issued or done.outcome is not SubmissionOutcome.ACCEPTED \
        else FileStatus.RECORDED
    return Outcome(claimed.original_name, status, done.case_ref, done.kind, documents=tuple(made),
                   message="Finished after a restart.", seconds=time.monotonic() - started)


def received_at(claimed: Claimed, clock: Clock) -> dt.datetime:
    """When the file was claimed (kept in its claim id, so a retry after a crash keeps the date)."""
    try:
        stamp = dt.datetime.strptime(claimed.claim_id.split("-")[0], "%Y%m%dT%H%M%S%f")
        return stamp.replace(tzinfo=dt.UTC).astimezone(UK)
    except ValueError:
        return clock.now()



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
        case_ref=item.case.case_ref if item.case else declared(item, "case_ref"),
        kind=item.case.kind.name if item.case else declared(item, "kind"),
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
