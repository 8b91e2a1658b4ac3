"""Subject access bundles: one PDF answering a UK GDPR Article 15 request, and its redaction log.

A request's case file runs through the pipeline's first stages like any other (load, validate,
plan). Its bundle is made once the batch's earlier case files are recorded, because it is made from
the store: what is held about the person (:mod:`recordgen.subject_access.holdings`), with other
people's information taken out before anything is rendered
(:mod:`recordgen.subject_access.redaction`).

The bundle, in order: a cover sheet for staff (with the response's due date) and the covering letter
with the Article 15 information (one Word template, ``sar_cover_letter.docx``); an index drawn by
:mod:`recordgen.subject_access.pages`, each entry a link to its page; then each record, with a
bookmark (:mod:`recordgen.subject_access.record_pages`). The redaction log for the data protection
officer (:mod:`recordgen.subject_access.redaction_log`) is written beside the bundle, never into it.

Building a bundle takes its collaborators explicitly (:class:`BundleSources`): the store it reads,
the schemas that say which fields are other people's, the settings, the converter and the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Protocol

from recordgen import __version__
from recordgen.cases import CaseFile
from recordgen.clock import Clock
from recordgen.dates import uk_date
from recordgen.deadlines.clocks import ClockName, allowance
from recordgen.deadlines.tracking import response_due
from recordgen.documents.convert import Converter
from recordgen.documents.publish import PublishedFile, publish, read_published
from recordgen.documents.render import build_context, render_document
from recordgen.documents.validate import SchemaSet
from recordgen.records.store import Store
from recordgen.settings import Settings
from recordgen.subject_access.holdings import Holdings, holdings
from recordgen.subject_access.pages import BundleInfo, IndexEntry, RecordPages, assemble
from recordgen.subject_access.record_pages import Shown, how_shown, record_pages
from recordgen.subject_access.redaction import MARKER, CaseRedaction, Redacted, redact_case
from recordgen.subject_access.redaction_log import LogRecord, redaction_log
from recordgen.subject_access.requests import scope_summary, scope_text, wording

LOG_SUFFIX = ".redaction-log.txt"


class BundleSources(Protocol):
    """What a bundle is made from and with (the pipeline's services are these)."""

    @property
    def store(self) -> Store: ...

    @property
    def schemas(self) -> SchemaSet: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def converter(self) -> Converter: ...

    @property
    def clock(self) -> Clock: ...


@dataclass(frozen=True)
class BundleRequest:
    """The request being answered, and the version of the bundle that answers it."""

    request: CaseFile
    received_at: dt.datetime  # when its case file was taken in: records received later are not in it
    version: int
    document_date: dt.date
    file_stem: str
    exclude_claim: str = ""  # the request's own claim: its case file is not one of the records


@dataclass(frozen=True)
class Bundle:
    pdf: bytes
    log: str
    records: int


@dataclass(frozen=True)
class BundleFiles:
    """The bundle and its redaction log, as published in the outbox."""

    pdf: PublishedFile
    log: PublishedFile


@dataclass(frozen=True)
class _Prepared:
    """The records of a bundle, redacted, and its redaction log: everything short of the PDF."""

    held: Holdings
    redaction: CaseRedaction
    shown: list[Shown]
    due: dt.date
    log: str


def _prepare(answer: BundleRequest, sources: BundleSources) -> _Prepared:
    request, settings = answer.request, sources.settings
    held = holdings(sources.store, request, answer.received_at, settings, answer.exclude_claim)
    redaction = redact_case(held.records, request, sources.schemas, held.surveyed)
    shown = [how_shown(record, number, redaction, settings)
             for number, record in enumerate(held.records, start=1)]
    due = response_due(request, settings.calendar)
    log = redaction_log(
        f"{answer.file_stem}.pdf", request, answer.received_at, due,
        [LogRecord(s.number, s.title, uk_date(s.record.on), s.record.submission.id or 0,
                   s.record.document is not None, s.why,
                   redaction.by_submission[s.record.submission.id or 0]) for s in shown],
        redaction.request, redaction.scrubber, held.left_out)
    return _Prepared(held, redaction, shown, due, log)


def build_bundle(answer: BundleRequest, sources: BundleSources) -> Bundle:
    """Everything held about the request's case, redacted, as one PDF, and its redaction log."""
    request, settings = answer.request, sources.settings
    prepared = _prepare(answer, sources)
    redaction, shown, due = prepared.redaction, prepared.shown, prepared.due
    cover = cover_letter(request, redaction.request, answer.version, answer.document_date, due,
                         len(shown), settings)
    pages = record_pages(shown, cover, redaction, request.case_ref, schemas=sources.schemas,
                         converter=sources.converter, pdf_switched_on=settings.output.pdf)
    records = [RecordPages(IndexEntry(item.number, uk_date(item.record.on), item.title),
                           pages[item.number]) for item in shown]
    info = BundleInfo(
        case_ref=request.case_ref,
        title=f"Subject access bundle {request.case_ref}",
        author=settings.provider.name,
        subject="Response to a subject access request (UK GDPR Article 15)",
        creator=f"recordgen {__version__}",
        created=sources.clock.now(),
        stamp=f"Subject access bundle · {request.case_ref}",
        front_bookmark="Cover sheet and covering letter",
        index_heading=(
            f"Case reference {request.case_ref}. {len(records)} record"
            f"{'' if len(records) == 1 else 's'}, in the order we received them; each entry "
            "links to its first page.",
            f"Information about other people is shown as {MARKER}.",
        ),
    )
    return Bundle(assemble(pages[0], records, info), prepared.log, len(records))


def cover_letter(request: CaseFile, redacted: Redacted, version: int, document_date: dt.date,
                 due: dt.date, records: int, settings: Settings) -> bytes:
    """The cover sheet and covering letter, with the Article 15 information, as a Word document."""
    case = replace(request, data=redacted.data)
    context = build_context(case, settings, version=version, document_date=document_date,
                            due={"response": due})
    context["provider"]["privacy"] = wording(settings)
    context["document"].update(
        record_count=records,
        scope=scope_text(request),
        scope_summary=scope_summary(request),
        allowance=allowance(ClockName.SAR, settings.rules, bool(request.data["extended"])),
    )
    return render_document(settings.folders.templates / request.kind.template_file,
                           context).content


def publish_bundle(answer: BundleRequest, sources: BundleSources) -> BundleFiles:
    """Build the bundle and publish it with its redaction log. A retry after a crash keeps the
    bundle already published (the bytes of a new one would differ), read without following a
    link; its log is the one published then, or made again from the same records."""
    outbox, case_ref = sources.settings.folders.outbox, answer.request.case_ref
    name, log_name = f"{answer.file_stem}.pdf", f"{answer.file_stem}{LOG_SUFFIX}"
    earlier = read_published(outbox, case_ref, name)
    if earlier is not None:
        log_text = read_published(outbox, case_ref, log_name)
        if log_text is None:
            log_text = _prepare(answer, sources).log.encode("utf-8")
        return BundleFiles(publish(outbox, case_ref, name, earlier),
                           publish(outbox, case_ref, log_name, log_text))
    bundle = build_bundle(answer, sources)
    return BundleFiles(publish(outbox, case_ref, name, bundle.pdf),
                       publish(outbox, case_ref, log_name, bundle.log.encode("utf-8")))
