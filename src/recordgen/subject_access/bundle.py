"""Subject access bundles: one PDF answering a UK GDPR Article 15 request.

A request's case file runs through the usual first stages (load, validate, plan); it renders
nothing and has nothing converted in the batch's conversion. Its bundle is built in
:func:`publish_bundle`, after the batch's earlier case files are recorded, because it is made from
the store: every case file received under the request's case reference before the request, and
every version of every document produced from them. Nothing under another case reference is read,
and a case file that names someone other than the person who asked as its person is left out and
the officer told (UK GDPR Article 15(4): a bundle must not hold another person's records).

The bundle, in order: a cover sheet for staff (with the response's due date) and the covering letter
with the Article 15 information (one Word template, ``sar_cover_letter.docx``); an index drawn by
:mod:`recordgen.subject_access.pages`, each entry a link to its page; then each record, with a
bookmark. Case files are set out readably (:mod:`recordgen.subject_access.readable`). A produced
document is re-created from its case file with the current template when anything in it is withheld;
when nothing is, the Word document kept when it was issued is used, checked against the hash in the
store (a true copy). Either way its own page numbers are taken out of its footers, so that each page
of the bundle carries one numbering, the bundle's. Information about other people is taken out
before rendering (:mod:`recordgen.subject_access.redaction`), and the redaction log for the data
protection officer (:mod:`recordgen.subject_access.redaction_log`) is written beside the bundle, not
into it. Every Word document of a bundle is converted in one converter call.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pypdf import PdfReader

from recordgen import __version__
from recordgen.dates import date_field, uk_date, uk_date_time
from recordgen.deadlines import clocks
from recordgen.deadlines.clocks import ClockName
from recordgen.deadlines.tracking import document_clock
from recordgen.documents.publish import PublishedFile, publish
from recordgen.documents.render import build_context, render_document
from recordgen.documents.validate import CaseFile, SchemaSet
from recordgen.errors import CaseFileError, ConversionError, SettingsError
from recordgen.intake.load import parse_case_bytes
from recordgen.kinds import CASE_FILE_KINDS, SUBJECT_ACCESS_REQUEST, DocumentKind
from recordgen.records.store import DocumentRecord, Store, SubmissionRecord
from recordgen.settings import Settings
from recordgen.subject_access.docx_merge import join, without_page_numbers
from recordgen.subject_access.name_match import Requester
from recordgen.subject_access.pages import BundleInfo, IndexEntry, RecordPages, assemble
from recordgen.subject_access.readable import CaseFileRecord, case_files_document
from recordgen.subject_access.redaction import (
    MARKER,
    CaseScrubber,
    Findings,
    Redacted,
    redact,
    scrubber_for,
    survey,
)
from recordgen.subject_access.redaction_log import LogRecord, redaction_log
from recordgen.subject_access.requests import (
    close_response_clock,
    open_response_clock,
    request_schema,
    response_due,
    scope_summary,
    scope_text,
    wording,
)

if TYPE_CHECKING:
    from recordgen.pipeline import Services, WorkItem

log = logging.getLogger(__name__)

LOG_SUFFIX = ".redaction-log.txt"
_INCLUDED_OUTCOMES = ("accepted", "unchanged")

# --- what is held --------------------------------------------------------------------------------


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
            name = "Subject access request" if self.kind is SUBJECT_ACCESS_REQUEST else \
                self.kind.title
            return f"Case file received: {name}"
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
            surveyed.append(Surveyed(readable[0], readable[1], f"{_name(readable[0])} {when}"))
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


def _name(kind: DocumentKind) -> str:
    return "Subject access request" if kind is SUBJECT_ACCESS_REQUEST else kind.title


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
    kind = CASE_FILE_KINDS.get(submission.kind or "")
    try:
        parsed = parse_case_bytes(submission.raw, settings.limits.max_nesting_depth)
    except CaseFileError:
        return None
    data, version = parsed.get("data"), parsed.get("schema_version", 1)
    if kind is None or not isinstance(data, Mapping) or not isinstance(version, int):
        return None
    return kind, data, version


def _left_out_reason(submission: SubmissionRecord, when: str) -> str:
    if submission.outcome == "duplicate":
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


# --- redaction over the whole case ---------------------------------------------------------------


@dataclass(frozen=True)
class CaseRedaction:
    by_submission: Mapping[int, Redacted]
    request: Redacted
    scrubber: CaseScrubber

    def title(self, record: HeldRecord) -> str:
        """The record's title with any third party's name in it withheld (a reference such as an
        incident's is typed by staff, and titles become bookmarks and index entries)."""
        return self.scrubber.scrubber.scrub(record.title).text


def redact_case(records: Sequence[HeldRecord], request: CaseFile, schemas: SchemaSet,
                surveyed: Sequence[Surveyed] = ()) -> CaseRedaction:
    """Survey every case file of the case (and the request), then redact each record's case
    file once."""
    requester = requester_of(request)
    sources = {r.submission.id or 0: r for r in records}
    everything = [Surveyed(request.kind, request.data, "The request"), *surveyed,
                  *(Surveyed(r.kind, r.data, f"{_name(r.kind)} received "
                             f"{uk_date_time(r.submission.received_at)}")
                    for r in sources.values())]
    findings: list[Findings] = [survey(s.data, _data_node(schemas, s.kind), schemas.resolve,
                                       requester, s.source) for s in everything]
    scrubber = scrubber_for(findings)
    return CaseRedaction(
        by_submission={key: redact(r.data, _data_node(schemas, r.kind), schemas.resolve,
                                   requester, scrubber.scrubber)
                       for key, r in sources.items()},
        request=redact(request.data, _data_node(schemas, request.kind), schemas.resolve,
                       requester, scrubber.scrubber),
        scrubber=scrubber,
    )


def _data_node(schemas: SchemaSet, kind: DocumentKind) -> Mapping[str, Any]:
    schema = (request_schema(schemas) if kind is SUBJECT_ACCESS_REQUEST
              else schemas.documents[kind.name])
    node = schema["properties"]["data"]
    if not isinstance(node, Mapping):
        raise SettingsError(f"The schema {kind.schema_file} does not describe its case files' "
                            "data (properties.data is missing or not an object). Restore it.")
    return node


# --- building the bundle -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    pdf: bytes
    log: str
    records: int


@dataclass(frozen=True)
class _Shown:
    """How a record appears: a Word document to convert (a document, re-created or as issued,
    without its own page numbers), or a page range of the case files document."""

    record: HeldRecord
    number: int
    title: str  # with any third party's name withheld
    docx: bytes | None = None
    why: str = ""  # how a document is shown, for the redaction log


@dataclass(frozen=True)
class _Prepared:
    """The records of a bundle, redacted, and its redaction log: everything short of the PDF."""

    held: Holdings
    redaction: CaseRedaction
    shown: list[_Shown]
    due: dt.date
    log: str


def _prepare(request: CaseFile, received_at: dt.datetime, stem: str, services: Services,
             exclude_claim: str) -> _Prepared:
    settings = services.settings
    held = holdings(services.store, request, received_at, settings, exclude_claim)
    redaction = redact_case(held.records, request, services.schemas, held.surveyed)
    shown = [_how_shown(record, number, redaction, settings)
             for number, record in enumerate(held.records, start=1)]
    due = response_due(request, settings)
    log = redaction_log(
        f"{stem}.pdf", request, received_at, due,
        [LogRecord(s.number, s.title, uk_date(s.record.on), s.record.submission.id or 0,
                   s.record.document is not None, s.why,
                   redaction.by_submission[s.record.submission.id or 0]) for s in shown],
        redaction.request, redaction.scrubber, held.left_out)
    return _Prepared(held, redaction, shown, due, log)


def build_bundle(request: CaseFile, *, version: int, document_date: dt.date,
                 received_at: dt.datetime, stem: str, services: Services,
                 exclude_claim: str = "") -> Bundle:
    """Everything held about the request's case, redacted, as one PDF, and its redaction log."""
    settings = services.settings
    prepared = _prepare(request, received_at, stem, services, exclude_claim)
    redaction, shown, due = prepared.redaction, prepared.shown, prepared.due
    cover = _cover_letter(request, redaction.request, version, document_date, due,
                          len(shown), settings)
    pages = _record_pages(shown, cover, redaction, request.case_ref, services)
    records = [RecordPages(IndexEntry(item.number, uk_date(item.record.on), item.title),
                           pages[item.number]) for item in shown]
    provider = settings.provider
    info = BundleInfo(
        case_ref=request.case_ref,
        title=f"Subject access bundle {request.case_ref}",
        author=provider.name,
        subject="Response to a subject access request (UK GDPR Article 15)",
        creator=f"recordgen {__version__}",
        created=services.clock.now(),
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


def _how_shown(record: HeldRecord, number: int, redaction: CaseRedaction,
               settings: Settings) -> _Shown:
    document = record.document
    title = redaction.title(record)
    if document is None:
        return _Shown(record, number, title)
    redacted = redaction.by_submission[record.submission.id or 0]
    issued: bytes | None = None
    if redacted.changed:
        why = "re-created from its case file with the current template, because information " \
              "was withheld"
    else:
        issued, why = _issued_docx(document, settings)
    docx = issued if issued is not None else _rerender(record, document, redacted, settings)
    return _Shown(record, number, title, docx=without_page_numbers(docx), why=why)


def _issued_docx(document: DocumentRecord, settings: Settings) -> tuple[bytes | None, str]:
    """The Word document kept when the document was issued, if it is still there and unaltered;
    and how the document is shown, in words for the log."""
    name = document.file_name
    try:
        content = _read_no_follow(settings.folders.outbox / name)
    except OSError:
        return None, (f"re-created from its case file with the current template: the Word "
                      f"document kept when it was issued, {name}, is missing (or was replaced by "
                      "a link, which recordgen never follows). Find out why")
    if hashlib.sha256(content).hexdigest() != document.sha256:
        return None, (f"re-created from its case file with the current template: the Word "
                      f"document kept when it was issued, {name}, no longer matches its hash in "
                      "the store (it was altered). Find out why")
    return content, ("the Word document kept when it was issued, checked against its hash in the "
                     "store (its own page numbers left out: the bundle numbers every page)")


def _read_no_follow(path: Path) -> bytes:
    """A file's bytes, refusing a symbolic link where the file should be."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()


def _rerender(record: HeldRecord, document: DocumentRecord, redacted: Redacted,
              settings: Settings) -> bytes:
    """The document re-created from its (redacted) case file with the kind's current template."""
    case = CaseFile(record.kind, document.case_ref, record.schema_version, redacted.data)
    try:
        due = document_clock(case, document.document_date, settings).shown
    except (KeyError, ValueError, TypeError):
        due = {}  # a date the clock needs was withheld: print the document without it
    context = build_context(case, settings, version=document.version,
                            document_date=document.document_date, due=due)
    return render_document(settings.folders.templates / record.kind.template_file,
                           context).content


def _readable(item: _Shown, redaction: CaseRedaction, case_ref: str,
              schemas: SchemaSet) -> CaseFileRecord:
    record = item.record
    return CaseFileRecord(
        title=item.title,
        lines=(f"Record {item.number}. Received at {uk_date_time(record.submission.received_at)}. "
               f"Case reference {case_ref}.",
               "The case file as we received it, set out with headings and labels. Information "
               "about other people is withheld."),
        data=redaction.by_submission[record.submission.id or 0].data,
        node=_data_node(schemas, record.kind),
    )


def _cover_letter(request: CaseFile, redacted: Redacted, version: int, document_date: dt.date,
                  due: dt.date, records: int, settings: Settings) -> bytes:
    case = replace(request, data=redacted.data)
    context = build_context(case, settings, version=version, document_date=document_date,
                            due={"response": due})
    context["provider"]["privacy"] = wording(settings)
    context["document"].update(
        record_count=records,
        scope=scope_text(request),
        scope_summary=scope_summary(request),
        allowance=clocks.allowance(ClockName.SAR, settings.rules, bool(request.data["extended"])),
    )
    return render_document(settings.folders.templates / request.kind.template_file,
                           context).content


def _record_pages(shown: Sequence[_Shown], cover: bytes, redaction: CaseRedaction,
                  case_ref: str, services: Services) -> dict[int, list[Any]]:
    """The PDF pages of the covering letter (under 0) and of each record (under its number).

    Every Word document goes to the converter in one call: the letter; every case file in one
    document; and the documents of each kind joined into one (:mod:`docx_merge`). Each record is
    found again in its document's PDF by the top-level bookmarks. Should that fail for a
    document, its records are converted one by one in a second call: slower, never wrong.
    """
    schemas = services.schemas
    sources: dict[str, bytes] = {"cover": cover}
    groups: dict[str, list[_Shown]] = {}
    one_by_one: dict[int, Callable[[], bytes]] = {}
    case_files = [s for s in shown if s.record.document is None]
    for item in case_files:
        one_by_one[item.number] = functools.partial(
            case_files_document, [_readable(item, redaction, case_ref, schemas)], schemas.resolve)
    if case_files:
        sources["case-files"] = case_files_document(
            [_readable(s, redaction, case_ref, schemas) for s in case_files], schemas.resolve)
        groups["case-files"] = case_files
    by_kind: dict[str, list[_Shown]] = {}
    for item in shown:
        if item.docx is not None:
            by_kind.setdefault(item.record.kind.name, []).append(item)
            one_by_one[item.number] = functools.partial(bytes, item.docx)
    for kind, items in by_kind.items():
        joined = join([i.docx for i in items if i.docx is not None]) if len(items) > 1 else None
        if joined is None:
            sources.update({f"record-{i.number:04d}": one_by_one[i.number]() for i in items})
        else:
            sources[f"joined-{kind}"] = joined
            groups[f"joined-{kind}"] = items
    pdfs = _convert_all(sources, services)
    pages: dict[int, list[Any]] = {0: _pages(pdfs["cover"])}
    retry: dict[str, bytes] = {}
    for name, items in groups.items():
        split = _split(pdfs[name], len(items))
        if split is None:
            log.warning("case=%s: the records in %s could not be found in its PDF; converting "
                        "them one by one", case_ref, name)
            retry.update({f"record-{i.number:04d}": one_by_one[i.number]() for i in items})
            continue
        pages.update({item.number: part for item, part in zip(items, split, strict=True)})
    if retry:
        pdfs.update(_convert_all(retry, services))
    for item in shown:
        if item.number not in pages:
            pages[item.number] = _pages(pdfs[f"record-{item.number:04d}"])
    return pages


def _pages(pdf: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(pdf)).pages)


def _convert_all(sources: Mapping[str, bytes], services: Services) -> dict[str, bytes]:
    """Word documents to PDF, in one converter call."""
    with tempfile.TemporaryDirectory(prefix="recordgen-bundle-") as folder:
        paths = {}
        for name, content in sources.items():
            path = Path(folder) / f"{name}.docx"
            path.write_bytes(content)
            paths[name] = path
        out = Path(folder) / "pdf"
        out.mkdir()
        made = services.converter.convert(list(paths.values()), out)
        missing = [name for name, path in paths.items() if path not in made]
        if missing:
            if not services.settings.output.pdf:
                raise ConversionError(
                    "A subject access bundle is a PDF, and PDF output is switched off in the "
                    "settings ([output] pdf = false). Switch it on; the request is kept and will "
                    "be tried again.")
            raise ConversionError(f"{len(missing)} part(s) of the subject access bundle were not "
                                  "turned into PDF; the request is kept and will be tried again.")
        return {name: made[path].read_bytes() for name, path in paths.items()}


def _split(pdf: bytes, count: int) -> list[list[Any]] | None:
    """The pages of each of ``count`` documents in one PDF, by its top-level bookmarks (one per
    document, on its first page); None when they are not exactly that."""
    reader = PdfReader(io.BytesIO(pdf))
    try:
        found = [reader.get_destination_page_number(item) for item in reader.outline
                 if not isinstance(item, list)]
    except Exception:  # a damaged outline: pypdf raises many kinds
        return None
    starts = [start for start in found if start is not None]
    if len(starts) != count or not starts or starts[0] != 0 or starts != sorted(set(starts)):
        return None
    ends = [*starts[1:], len(reader.pages)]
    return [list(reader.pages[start:end]) for start, end in zip(starts, ends, strict=True)]


# --- the pipeline stages -------------------------------------------------------------------------


def publish_bundle(item: WorkItem, services: Services) -> WorkItem:
    """Build the bundle from the store and publish it with its redaction log (a retry after a
    crash keeps the bundle already published: the bytes of a new one would differ)."""
    assert item.case is not None and item.plan is not None
    case, plan, settings = item.case, item.plan, services.settings
    open_response_clock(services.store, case, settings)
    outbox, folder = settings.folders.outbox, settings.folders.outbox / case.case_ref
    name, log_name = f"{plan.file_stem}.pdf", f"{plan.file_stem}{LOG_SUFFIX}"
    if (folder / name).exists():
        pdf = publish(outbox, case.case_ref, name, (folder / name).read_bytes())
        log_path = folder / log_name
        log_text = log_path.read_bytes() if log_path.exists() else _prepare(
            case, item.received_at, plan.file_stem, services, item.claimed.claim_id
        ).log.encode("utf-8")
        log = publish(outbox, case.case_ref, log_name, log_text)
        return replace(item, published=(pdf, log))
    bundle = _build(item, services)
    pdf = publish(outbox, case.case_ref, name, bundle.pdf)
    log = publish(outbox, case.case_ref, log_name, bundle.log.encode("utf-8"))
    return replace(item, published=(pdf, log))


def _build(item: WorkItem, services: Services) -> Bundle:
    assert item.case is not None and item.plan is not None
    return build_bundle(item.case, version=item.plan.version,
                        document_date=item.plan.document_date, received_at=item.received_at,
                        stem=item.plan.file_stem, services=services,
                        exclude_claim=item.claimed.claim_id)


def record_bundle(item: WorkItem, services: Services) -> WorkItem:
    """Record the request, the bundle (as a document whose file is the PDF), the redaction log's
    hash (never its content), and stop the response clock."""
    assert item.case is not None and item.plan is not None
    case, plan, store, settings = item.case, item.plan, services.store, services.settings
    bundle, log = item.published
    due = response_due(case, settings)
    with store.transaction():
        submission_id = store.record_submission(SubmissionRecord(
            claim_id=item.claimed.claim_id, file_name=item.claimed.original_name,
            sha256=item.sha256, received_at=item.received_at, outcome="accepted", raw=item.raw,
            case_ref=case.case_ref, kind=case.kind.name,
        ))
        document_id = store.record_document(_document_record(
            case, plan.version, plan.document_date, plan.context_sha256, plan.template, bundle,
            submission_id, due, services))
        store.audit("redaction log written", case.case_ref,
                    {"document": document_id, "file": log.relative, "sha256": log.sha256})
        close_response_clock(store, case, settings, plan.document_date, document_id)
    return replace(item, submission_id=submission_id)


def _document_record(case: CaseFile, version: int, produced_on: dt.date, context_sha256: str,
                     template: Path, bundle: PublishedFile, submission_id: int, due: dt.date,
                     services: Services) -> DocumentRecord:
    late = clocks.lateness(services.settings.calendar, due, produced_on)
    return DocumentRecord(
        submission_id=submission_id, case_ref=case.case_ref, kind=case.kind.name,
        series=case.series, version=version, document_date=produced_on,
        file_name=bundle.relative, sha256=bundle.sha256, content_sha256=bundle.sha256,
        template_sha256=hashlib.sha256(template.read_bytes()).hexdigest(),
        context_sha256=context_sha256, software_version=__version__,
        produced_at=services.clock.now(), pdf_file_name=bundle.relative,
        pdf_sha256=bundle.sha256, due_on=due, met=late.met,
        working_days_late=late.working_days_late,
    )
