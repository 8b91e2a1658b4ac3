"""Batch regeneration: re-render the current version of stored documents with today's templates and
settings (issue 6 §1; DESIGN.md §4).

Only the latest version of each document is looked at (re-rendering an old version would issue
stale content as new). A document whose template and context are unchanged makes no new version;
one that changed becomes the next version, with the reason recorded ("template changed", "settings
changed"). Its number is reserved in the store first, as a case file's is, so a watcher or a
``process`` run making a version of the same document at the same time takes another number, and a
regeneration that a newer version overtook makes nothing ("superseded"). Rendering runs on several
processes and PDF conversion in batches; publishing and recording stay in this process, one document
at a time, each atomic, so an interrupted run loses nothing and a second run finishes the job
without duplicates, under the numbers it reserved. A failure on one document is reported and never
stops the others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordgen import __version__
from recordgen.deadlines.tracking import document_clock
from recordgen.documents.convert import pdfs_of
from recordgen.documents.publish import publish, read_published
from recordgen.documents.render import RenderedDocument, build_context, context_fingerprint, render_document
from recordgen.documents.validate import CaseFile
from recordgen.errors import PublishError, RecordgenError
from recordgen.kinds import KINDS
from recordgen.pipeline import Services, wants_pdf
from recordgen.records.store import DocumentRecord, SubmissionRecord, VersionRequest

CHUNK = 20  # documents rendered, converted and recorded together


@dataclass(frozen=True)
class Selection:
    """Which documents to look at; None means any."""

    case_ref: str | None = None
    kind: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None


@dataclass(frozen=True)
class Job:
    current: DocumentRecord
    case: CaseFile
    version: int
    context: dict[str, Any]
    context_sha256: str
    template: Path
    reasons: tuple[str, ...]
    holder: str  # whose reservation its version number is (see Store.reserve_version)


@dataclass(frozen=True)
class Result:
    case_ref: str
    series: str
    # "regenerated", "would regenerate", "unchanged", "superseded", "left alone" or "failed"
    status: str
    reason: str = ""
    file_name: str = ""


Progress = Callable[[int, int], None]


def select(services: Services, selection: Selection) -> list[tuple[DocumentRecord,
                                                                     SubmissionRecord]]:
    """The latest version of each document that matches, with the submission it came from."""
    submissions = {s.id: s for s in services.store.submissions(selection.case_ref)}
    latest: dict[tuple[str, str], DocumentRecord] = {}
    for document in services.store.documents(selection.case_ref):
        key = (document.case_ref, document.series)
        if key not in latest or document.version > latest[key].version:
            latest[key] = document
    chosen = []
    for document in latest.values():
        submission = submissions.get(document.submission_id)
        if submission is None or document.kind not in KINDS:
            continue
        received = submission.received_at.date()
        if selection.kind and document.kind != selection.kind:
            continue
        if selection.received_from and received < selection.received_from:
            continue
        if selection.received_to and received > selection.received_to:
            continue
        chosen.append((document, submission))
    return sorted(chosen, key=lambda pair: (pair[0].case_ref, pair[0].series))


# Why a subject access bundle is never regenerated, in the words the command prints.
BUNDLE_LEFT_ALONE = ("a subject access bundle is the answer given on the day it was made; it is "
                     "never remade (a new request is answered with a new bundle)")


def left_alone(services: Services, selection: Selection) -> list[Result]:
    """The documents the selection covers that regeneration never remakes, with the reason, so a
    count of what was looked at adds up (subject access bundles)."""
    if selection.kind is not None:
        return []  # only the kinds made from one case file can be asked for
    submissions = {s.id: s for s in services.store.submissions(selection.case_ref)}
    series = set()
    for document in services.store.documents(selection.case_ref):
        submission = submissions.get(document.submission_id)
        if document.kind in KINDS or submission is None:
            continue
        received = submission.received_at.date()
        if selection.received_from and received < selection.received_from:
            continue
        if selection.received_to and received > selection.received_to:
            continue
        series.add((document.case_ref, document.series))
    return [Result(case_ref, name, "left alone", BUNDLE_LEFT_ALONE)
            for case_ref, name in sorted(series)]


def plan_job(document: DocumentRecord, submission: SubmissionRecord, services: Services, *,
             reserve: bool = True) -> Job | Result:
    """What regenerating ``document`` would make, or the result when nothing is to be made.

    The new version's number is reserved in the store (unless ``reserve`` is False, for a dry run),
    as a case file's is: a regeneration interrupted and run again gets the same number back, and one
    whose document gained a newer version meanwhile (recorded, or being made from a case file) is
    "superseded" and makes nothing, since that newer version already uses today's templates."""
    stored = json.loads(submission.raw)
    kind = KINDS[document.kind]
    case = CaseFile(kind=kind, case_ref=document.case_ref,
                    schema_version=int(stored["schema_version"]), data=stored["data"])
    shown = document_clock(case, document.document_date, services.settings).shown
    template = services.settings.folders.templates / kind.template_file
    template_sha = hashlib.sha256(template.read_bytes()).hexdigest()
    same_version = build_context(case, services.settings, version=document.version,
                                 document_date=document.document_date, due=shown)
    context_sha = context_fingerprint(same_version)
    reasons = tuple(reason for reason, changed in (
        ("template changed", template_sha != document.template_sha256),
        ("settings changed", context_sha != document.context_sha256),
    ) if changed)
    if not reasons:
        return Result(document.case_ref, document.series, "unchanged")
    holder = (f"regeneration of documents row {document.id} (template {template_sha[:12]}, "
              f"content {context_sha[:12]})")
    version = document.version + 1
    if reserve:
        reservation = services.store.reserve_version(VersionRequest(
            document.case_ref, document.series, holder, template_sha, context_sha,
            based_on=document.version))
        if reservation.status != "reserved":
            return Result(document.case_ref, document.series, "superseded",
                          "a newer version was recorded, or is being made, since this run began")
        version = reservation.version
    context = build_context(case, services.settings, version=version,
                            document_date=document.document_date, due=shown)
    return Job(document, case, version, context, context_sha, template, reasons, holder)


def regenerate(services: Services, selection: Selection, *, dry_run: bool = False,
               workers: int | None = None, progress: Progress | None = None,
               chunk_size: int = CHUNK) -> list[Result]:
    """Regenerate what changed; return one result per document looked at."""
    results: list[Result] = list(left_alone(services, selection))
    jobs: list[Job] = []
    chosen = select(services, selection)
    for start in range(0, len(chosen), chunk_size):
        # One transaction reserves the numbers of a chunk: one commit, not one per document.
        with nullcontext() if dry_run else services.store.transaction():
            for document, submission in chosen[start:start + chunk_size]:
                try:
                    planned = plan_job(document, submission, services, reserve=not dry_run)
                except (RecordgenError, OSError, ValueError, KeyError) as exc:
                    results.append(Result(document.case_ref, document.series, "failed",
                                          _why(exc)))
                    continue
                if isinstance(planned, Result):
                    results.append(planned)
                elif dry_run:
                    results.append(Result(document.case_ref, document.series,
                                          "would regenerate", ", ".join(planned.reasons)))
                else:
                    jobs.append(planned)
    total, done = len(jobs), 0
    if progress:
        progress(done, total)
    with _pool(workers or os.cpu_count() or 1) as pool:
        # Rendering streams from the worker processes while this process converts, publishes and
        # records what is ready, chunk by chunk, so the two overlap.
        rendered = _render_all(jobs, pool)
        for start in range(0, total, chunk_size):
            chunk = jobs[start:start + chunk_size]
            outcomes = [next(rendered) for _ in chunk]
            results.extend(_finish_chunk(chunk, outcomes, services))
            done += len(chunk)
            if progress:
                progress(done, total)
    return results


@contextmanager
def _pool(workers: int) -> Iterator[Executor | None]:
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool


def _render_all(jobs: Sequence[Job], pool: Executor | None
                ) -> Iterator[RenderedDocument | Exception]:
    if pool is None:
        return (_render_safely(job.template, job.context) for job in jobs)
    return pool.map(_render_safely, [j.template for j in jobs], [j.context for j in jobs],
                    chunksize=4)


def _finish_chunk(chunk: Sequence[Job], rendered: Sequence[RenderedDocument | Exception],
                  services: Services) -> list[Result]:
    pdfs = _convert(chunk, rendered, services)
    results = []
    with services.store.transaction():  # one commit for the chunk; each record stays idempotent
        for job, outcome in zip(chunk, rendered, strict=True):
            if isinstance(outcome, Exception):
                services.store.release_version(job.holder)  # nothing was published under it
                results.append(Result(job.case.case_ref, job.current.series, "failed",
                                      _why(outcome)))
                continue
            try:
                results.append(_publish_and_record(job, outcome, pdfs.get(id(job)), services))
            except (RecordgenError, OSError) as exc:
                results.append(Result(job.case.case_ref, job.current.series, "failed",
                                      _why(exc)))
    return results


def _render_safely(template: Path, context: dict[str, Any]) -> RenderedDocument | Exception:
    try:
        return render_document(template, context)
    except RecordgenError as exc:
        return exc


def _stem(job: Job) -> str:
    return job.case.kind.file_stem(job.case.case_ref, job.case.data,
                                   job.current.document_date, job.version)


def _convert(chunk: Sequence[Job], rendered: Sequence[RenderedDocument | Exception],
             services: Services) -> dict[int, bytes]:
    """PDFs for the chunk, one converter call; a document whose PDF fails keeps its Word file."""
    pdfs, _ = pdfs_of(services.converter, {
        id(job): (_stem(job), doc.content) for job, doc in zip(chunk, rendered, strict=True)
        if isinstance(doc, RenderedDocument) and wants_pdf(services.settings, job.case.kind)
    })
    return pdfs


def _publish_and_record(job: Job, doc: RenderedDocument, pdf: bytes | None,
                        services: Services) -> Result:
    outbox, case_ref, stem = services.settings.folders.outbox, job.case.case_ref, _stem(job)
    try:
        docx = publish(outbox, case_ref, f"{stem}.docx", doc.content)
    except PublishError:
        if _nothing_at(outbox, case_ref, f"{stem}.docx"):
            services.store.release_version(job.holder)  # nothing was published under it
        raise
    existing_pdf = read_published(outbox, case_ref, f"{stem}.pdf") if pdf is not None else None
    if existing_pdf is not None:
        # A retry after an interruption: the Word document above was identical, so the PDF made
        # from it then stands (LibreOffice stamps each PDF it makes, so the bytes differ).
        pdf = existing_pdf
    pdf_file = publish(outbox, case_ref, f"{stem}.pdf", pdf) if pdf is not None else None
    reason = "regenerated: " + ", ".join(job.reasons)
    current = job.current
    services.store.record_document(DocumentRecord(
        submission_id=current.submission_id, case_ref=case_ref, kind=current.kind,
        series=current.series, version=job.version, document_date=current.document_date,
        file_name=docx.relative, sha256=docx.sha256, content_sha256=doc.content_sha256,
        template_sha256=doc.template_sha256, context_sha256=job.context_sha256,
        software_version=__version__, produced_at=services.clock.now(),
        pdf_file_name=pdf_file.relative if pdf_file else None,
        pdf_sha256=pdf_file.sha256 if pdf_file else None, due_on=current.due_on,
        met=current.met, working_days_late=current.working_days_late, reason=reason,
    ))
    return Result(case_ref, current.series, "regenerated", ", ".join(job.reasons), docx.relative)


def _nothing_at(outbox: Path, case_ref: str, name: str) -> bool:
    """True only when nothing is published by that name (a link or an unreadable folder is not
    "nothing")."""
    try:
        return read_published(outbox, case_ref, name) is None
    except PublishError:
        return False


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
