"""Batch regeneration: re-render the current version of stored documents with today's templates and
settings (docs/design.md §4).

Only the latest version of each document is looked at (re-rendering an old version would issue
stale content as new). A document whose template and context are unchanged makes no new version;
one that changed becomes the next version, with the reason recorded ("template changed", "settings
changed"). Versions are made as every version is (:mod:`recordgen.documents.versions`): the number
is reserved in the store first, so a watcher or a ``process`` run making a version of the same
document at the same time takes another number, and a regeneration that a newer version overtook
makes nothing ("superseded"). Rendering runs on several processes and PDF conversion in batches;
publishing and recording stay in this process, one document at a time, each atomic, so an
interrupted run loses nothing and a second run finishes the job without duplicates, under the
numbers it reserved. A failure on one document is reported and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from recordgen.cases import CaseFile
from recordgen.clock import Clock
from recordgen.deadlines.tracking import DocumentClock, document_clock
from recordgen.documents.convert import Converter, pdfs_of
from recordgen.documents.publish import read_published
from recordgen.documents.render import RenderedDocument, render_document
from recordgen.documents.versions import (
    NothingNew,
    VersionPlan,
    fingerprint,
    plan_version,
    publish_version,
    version_record,
    what_changed,
)
from recordgen.errors import PublishError, RecordgenError
from recordgen.kinds import DOCUMENT_KINDS
from recordgen.records.store import DocumentRecord, ReservationStatus, Store, SubmissionRecord
from recordgen.settings import Settings

CHUNK = 20  # documents rendered, converted and recorded together

# Why a subject access bundle is never regenerated, in the words the command prints.
BUNDLE_LEFT_ALONE = ("a subject access bundle is the answer given on the day it was made; it is "
                     "never remade (a new request is answered with a new bundle)")


class Producing(Protocol):
    """What regeneration needs: the settings, the store, a converter and the clock (the pipeline's
    services serve too)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def converter(self) -> Converter: ...

    @property
    def clock(self) -> Clock: ...


class Regenerated(StrEnum):
    """What became of one document looked at."""

    REGENERATED = "regenerated"
    WOULD_REGENERATE = "would regenerate"  # a dry run
    UNCHANGED = "unchanged"
    SUPERSEDED = "superseded"  # a newer version was recorded, or is being made, meanwhile
    LEFT_ALONE = "left alone"  # a kind regeneration never remakes
    FAILED = "failed"


@dataclass(frozen=True)
class Selection:
    """Which documents to look at; None means any."""

    case_ref: str | None = None
    kind: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None

    def covers(self, submission: SubmissionRecord) -> bool:
        received = submission.received_at.date()
        return not ((self.received_from and received < self.received_from)
                    or (self.received_to and received > self.received_to))


@dataclass(frozen=True)
class Job:
    """A new version to make of ``current``: its number is reserved."""

    current: DocumentRecord
    plan: VersionPlan


@dataclass(frozen=True)
class Result:
    case_ref: str
    series: str
    status: Regenerated
    reason: str = ""
    file_name: str = ""


Progress = Callable[[int, int], None]


def _latest(services: Producing, selection: Selection
            ) -> list[tuple[DocumentRecord, SubmissionRecord]]:
    """The latest version of each document of the selected case(s), with the case file it came
    from, whatever its kind."""
    submissions = {s.id: s for s in services.store.submissions(selection.case_ref)}
    latest: dict[tuple[str, str], DocumentRecord] = {}
    for document in services.store.documents(selection.case_ref):
        key = (document.case_ref, document.series)
        if key not in latest or document.version > latest[key].version:
            latest[key] = document
    found = [(document, submissions[document.submission_id]) for document in latest.values()
             if document.submission_id in submissions]
    return sorted((pair for pair in found if selection.covers(pair[1])),
                  key=lambda pair: (pair[0].case_ref, pair[0].series))


def select(services: Producing, selection: Selection
           ) -> list[tuple[DocumentRecord, SubmissionRecord]]:
    """The latest version of each document that matches and that regeneration remakes."""
    return [(document, submission) for document, submission in _latest(services, selection)
            if document.kind in DOCUMENT_KINDS
            and (selection.kind is None or document.kind == selection.kind)]


def left_alone(services: Producing, selection: Selection) -> list[Result]:
    """The documents the selection covers that regeneration never remakes, with the reason, so a
    count of what was looked at adds up (subject access bundles)."""
    if selection.kind is not None:
        return []  # only the kinds made from one case file can be asked for
    return [Result(document.case_ref, document.series, Regenerated.LEFT_ALONE, BUNDLE_LEFT_ALONE)
            for document, _ in _latest(services, selection) if document.kind not in DOCUMENT_KINDS]


def stored_case(document: DocumentRecord, submission: SubmissionRecord) -> CaseFile:
    """The case file a document was made from, as the store keeps it."""
    stored = json.loads(submission.raw)
    return CaseFile(kind=DOCUMENT_KINDS[document.kind], case_ref=document.case_ref,
                    schema_version=int(stored["schema_version"]), data=stored["data"])


def plan_job(document: DocumentRecord, submission: SubmissionRecord, services: Producing, *,
             reserve: bool = True) -> Job | Result:
    """What regenerating ``document`` would make, or the result when nothing is to be made.

    The new version's number is reserved in the store (unless ``reserve`` is False, for a dry run),
    as a case file's is: a regeneration interrupted and run again gets the same number back, and one
    whose document gained a newer version meanwhile is "superseded" and makes nothing, since that
    newer version already uses today's templates."""
    case = stored_case(document, submission)
    shown = document_clock(case, document.document_date, services.settings).shown
    # The new version answers the deadline the document answered when it was first issued.
    deadline = DocumentClock(shown, document.due_on, document.met, document.working_days_late)
    if not reserve:
        reasons = what_changed(fingerprint(case, document.document_date, deadline,
                                           services.settings), document)
        return Result(document.case_ref, document.series,
                      Regenerated.WOULD_REGENERATE if reasons else Regenerated.UNCHANGED,
                      ", ".join(reasons))
    prints = fingerprint(case, document.document_date, deadline, services.settings)
    holder = (f"regeneration of documents row {document.id} (template "
              f"{prints.template_sha256[:12]}, content {prints.context_sha256[:12]})")
    planned = plan_version(services.store, case, document_date=document.document_date,
                           deadline=deadline, settings=services.settings, holder=holder,
                           based_on=document)
    if isinstance(planned, NothingNew):
        if planned.status is ReservationStatus.SUPERSEDED:
            return Result(document.case_ref, document.series, Regenerated.SUPERSEDED,
                          "a newer version was recorded, or is being made, since this run began")
        return Result(document.case_ref, document.series, Regenerated.UNCHANGED)
    return Job(document, planned)


def regenerate(services: Producing, selection: Selection, *, dry_run: bool = False,
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
                    results.append(Result(document.case_ref, document.series,
                                          Regenerated.FAILED, _why(exc)))
                    continue
                if isinstance(planned, Result):
                    results.append(planned)
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
    templates = [j.plan.fingerprint.template for j in jobs]
    contexts = [dict(j.plan.context) for j in jobs]
    if pool is None:
        return (_render_safely(template, context) for template, context in zip(templates, contexts,
                                                                                 strict=True))
    return pool.map(_render_safely, templates, contexts, chunksize=4)


def _render_safely(template: Path, context: dict[str, Any]) -> RenderedDocument | Exception:
    try:
        return render_document(template, context)
    except RecordgenError as exc:
        return exc


def _finish_chunk(chunk: Sequence[Job], rendered: Sequence[RenderedDocument | Exception],
                  services: Producing) -> list[Result]:
    output = services.settings.output
    pdfs, _ = pdfs_of(services.converter, {
        id(job): (job.plan.file_stem, doc.content) for job, doc in zip(chunk, rendered, strict=True)
        if isinstance(doc, RenderedDocument) and output.wants_pdf(job.current.kind)
    })
    results = []
    with services.store.transaction():  # one commit for the chunk; each record stays idempotent
        for job, outcome in zip(chunk, rendered, strict=True):
            if isinstance(outcome, Exception):
                services.store.release_version(job.plan.holder)  # nothing was published under it
                results.append(Result(job.current.case_ref, job.current.series,
                                      Regenerated.FAILED, _why(outcome)))
                continue
            try:
                results.append(_publish_and_record(job, outcome, pdfs.get(id(job)), services))
            except (RecordgenError, OSError) as exc:
                results.append(Result(job.current.case_ref, job.current.series,
                                      Regenerated.FAILED, _why(exc)))
    return results


def _publish_and_record(job: Job, doc: RenderedDocument, pdf: bytes | None,
                        services: Producing) -> Result:
    outbox, plan = services.settings.folders.outbox, job.plan
    try:
        published = publish_version(outbox, plan, doc, pdf)
    except PublishError:
        if _nothing_at(outbox, plan.case.case_ref, f"{plan.file_stem}.docx"):
            services.store.release_version(plan.holder)  # nothing was published under it
        raise
    services.store.record_document(version_record(
        plan, published, submission_id=job.current.submission_id, rendered=doc,
        produced_at=services.clock.now()))
    return Result(plan.case.case_ref, job.current.series, Regenerated.REGENERATED,
                  ", ".join(plan.reasons), published.document.relative)


def _nothing_at(outbox: Path, case_ref: str, name: str) -> bool:
    """True only when nothing is published by that name (a link or an unreadable folder is not
    "nothing")."""
    try:
        return read_published(outbox, case_ref, name) is None
    except PublishError:
        return False


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
