"""Batch regeneration: re-render the current version of stored documents with today's templates and
settings (docs/design.md §4).

Only the latest version of each document is looked at (re-rendering an old version would issue
stale content as new). A document whose content would not change makes no new version: one whose
template and context are those it was made with is left alone at once; any other is rendered under
its current version's own number and compared with that version, part for part
(:class:`recordgen.documents.versions.Comparison`), so a setting its template never prints, or a
template saved again with the same parts, changes nothing. One whose content would change becomes
the next version, with the reason recorded ("template changed", "settings changed": what differs
from what the current version was made from). Versions are made as every version is
(:mod:`recordgen.documents.versions`): the number is reserved in the store first, so a watcher or a
``process`` run making a version of the same document at the same time takes another number, and a
regeneration that a newer version overtook makes nothing ("superseded"). Comparing and rendering
run on several processes and PDF conversion in batches; publishing and recording stay in this
process, one document at a time, each atomic, so an interrupted run loses nothing and a second run
finishes the job without duplicates, under the numbers it reserved. A failure on one document is
reported and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
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
    Comparison,
    Fingerprint,
    NothingNew,
    VersionPlan,
    comparison,
    fingerprint,
    plan_version,
    publish_version,
    stored_case,
    version_record,
    what_changed,
    would_say_the_same,
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


@dataclass(frozen=True)
class Candidate:
    """A document whose template or settings differ from those its current version was made with:
    rendering it under that version's number (``compared``) tells whether what it says changes."""

    current: DocumentRecord
    case: CaseFile
    deadline: DocumentClock
    prints: Fingerprint
    reasons: tuple[str, ...]  # what differs: "template changed", "settings changed"
    compared: Comparison


def look(document: DocumentRecord, submission: SubmissionRecord,
         services: Producing) -> Candidate | Result:
    """``document``'s current version beside what it would be made from today: "unchanged" at once
    when that is exactly what it was made from, else a candidate to compare."""
    case = stored_case(document, submission)
    shown = document_clock(case, document.document_date, services.settings).shown
    # The new version answers the deadline the document answered when it was first issued.
    deadline = DocumentClock(shown, document.due_on, document.met, document.working_days_late)
    prints = fingerprint(case, document.document_date, deadline, services.settings)
    reasons = what_changed(prints, document)
    if not reasons:
        return Result(document.case_ref, document.series, Regenerated.UNCHANGED)
    return Candidate(document, case, deadline, prints, reasons,
                     comparison(case, document, deadline=deadline, settings=services.settings))


def plan_job(candidate: Candidate, services: Producing) -> Job | Result:
    """Reserve the number of the new version of a candidate whose content changes, or the result
    when nothing is to be made.

    The number is reserved in the store as a case file's is: a regeneration interrupted and run
    again gets the same number back, and one whose document gained a newer version meanwhile is
    "superseded" and makes nothing, since that newer version already uses today's templates."""
    document, prints = candidate.current, candidate.prints
    holder = (f"regeneration of documents row {document.id} (template "
              f"{prints.template_sha256[:12]}, content {prints.context_sha256[:12]})")
    planned = plan_version(services.store, candidate.case, document_date=document.document_date,
                           deadline=candidate.deadline, settings=services.settings,
                           holder=holder, based_on=document, reasons=candidate.reasons,
                           prints=prints)
    if isinstance(planned, NothingNew):
        if planned.status is ReservationStatus.SUPERSEDED:
            return Result(document.case_ref, document.series, Regenerated.SUPERSEDED,
                          "a newer version was recorded, or is being made, since this run began")
        return Result(document.case_ref, document.series, Regenerated.UNCHANGED)
    return Job(document, planned)


def regenerate(services: Producing, selection: Selection, *, dry_run: bool = False,
               workers: int | None = None, progress: Progress | None = None,
               chunk_size: int = CHUNK) -> list[Result]:
    """Regenerate what changed; return one result per document looked at.

    Each document is first looked at (:func:`look`); the candidates are rendered under their
    current numbers and compared, on every core; only those whose content would change have a
    number reserved, then are rendered, converted, published and recorded. ``progress`` counts
    the versions made."""
    results: list[Result] = list(left_alone(services, selection))
    candidates: list[Candidate] = []
    for document, submission in select(services, selection):
        try:
            looked = look(document, submission, services)
        except (RecordgenError, OSError, ValueError, KeyError, TypeError) as exc:
            results.append(Result(document.case_ref, document.series, Regenerated.FAILED,
                                  _why(exc)))
            continue
        if isinstance(looked, Result):
            results.append(looked)
        else:
            candidates.append(looked)
    with _pool(workers or os.cpu_count() or 1) as pool:
        changed: list[Candidate] = []
        for candidate, same in zip(candidates, _compare_all(candidates, pool), strict=True):
            current = candidate.current
            if isinstance(same, Exception):
                results.append(Result(current.case_ref, current.series, Regenerated.FAILED,
                                      _why(same)))
            elif same:
                results.append(Result(current.case_ref, current.series, Regenerated.UNCHANGED))
            elif dry_run:
                results.append(Result(current.case_ref, current.series,
                                      Regenerated.WOULD_REGENERATE, ", ".join(candidate.reasons)))
            else:
                changed.append(candidate)
        if dry_run:
            return results
        jobs = _reserve_all(changed, services, chunk_size, results)
        total, done = len(jobs), 0
        if progress:
            progress(done, total)
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


def _reserve_all(changed: Sequence[Candidate], services: Producing, chunk_size: int,
                 results: list[Result]) -> list[Job]:
    """Reserve the numbers of the documents whose content changes; what makes nothing (superseded)
    or fails is added to ``results``."""
    jobs: list[Job] = []
    for start in range(0, len(changed), chunk_size):
        # One transaction reserves the numbers of a chunk: one commit, not one per document.
        with services.store.transaction():
            for candidate in changed[start:start + chunk_size]:
                try:
                    planned = plan_job(candidate, services)
                except (RecordgenError, OSError, ValueError, KeyError) as exc:
                    results.append(Result(candidate.current.case_ref, candidate.current.series,
                                          Regenerated.FAILED, _why(exc)))
                    continue
                if isinstance(planned, Result):
                    results.append(planned)
                else:
                    jobs.append(planned)
    return jobs


def _compare_all(candidates: Sequence[Candidate], pool: Executor | None
                 ) -> Iterator[bool | Exception]:
    compared = [candidate.compared for candidate in candidates]
    if pool is None:
        return (_compare_safely(one) for one in compared)
    return pool.map(_compare_safely, compared, chunksize=4)


def _compare_safely(compared: Comparison) -> bool | Exception:
    """Whether the document would say what its current version says; a template fault is returned
    (it is the document's failure, not the run's)."""
    try:
        return would_say_the_same(compared)
    except RecordgenError as exc:
        return exc


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
