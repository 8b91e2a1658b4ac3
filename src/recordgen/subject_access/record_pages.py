"""The records of a subject access bundle as PDF pages: how each record is shown, and one converter
call for them all.

A case file received is set out readably (:mod:`recordgen.subject_access.readable`). A document
produced is re-created from its redacted case file with the current template when anything in it is
withheld; when nothing is, the Word document kept when it was issued is used, read without following
a link and checked against the hash in the store (a true copy). Either way its own page numbers are
taken out of its footers, so that each page of the bundle carries one numbering, the bundle's.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from recordgen.cases import CaseFile
from recordgen.dates import uk_date_time
from recordgen.deadlines.tracking import document_clock
from recordgen.documents.convert import Converter
from recordgen.documents.publish import read_published
from recordgen.documents.render import build_context, render_document
from recordgen.documents.validate import SchemaSet
from recordgen.errors import ConversionError, PublishError
from recordgen.records.store import DocumentRecord
from recordgen.settings import Settings
from recordgen.subject_access.docx_merge import join, without_page_numbers
from recordgen.subject_access.holdings import HeldRecord
from recordgen.subject_access.readable import CaseFileRecord, case_files_document
from recordgen.subject_access.redaction import CaseRedaction, Redacted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """How a record appears: a Word document to convert (a document, re-created or as issued,
    without its own page numbers), or a page range of the case files document."""

    record: HeldRecord
    number: int
    title: str  # with any third party's name withheld
    docx: bytes | None = None
    why: str = ""  # how a document is shown, for the redaction log



def how_shown(record: HeldRecord, number: int, redaction: CaseRedaction,
               settings: Settings) -> Shown:
    document = record.document
    title = redaction.title(record)
    if document is None:
        return Shown(record, number, title)
    redacted = redaction.by_submission[record.submission.id or 0]
    issued: bytes | None = None
    if redacted.changed:
        why = "re-created from its case file with the current template, because information " \
              "was withheld"
    else:
        issued, why = _issued_docx(document, settings)
    docx = issued if issued is not None else _rerender(record, document, redacted, settings)
    return Shown(record, number, title, docx=without_page_numbers(docx), why=why)


def _issued_docx(document: DocumentRecord, settings: Settings) -> tuple[bytes | None, str]:
    """The Word document kept when the document was issued, if it is still there and unaltered;
    and how the document is shown, in words for the log."""
    name = document.file_name
    case_ref, _, file_name = name.partition("/")
    try:
        content = read_published(settings.folders.outbox, case_ref, file_name)
    except PublishError:
        content = None
    if content is None:
        return None, (f"re-created from its case file with the current template: the Word "
                      f"document kept when it was issued, {name}, is missing (or was replaced by "
                      "a link, which recordgen never follows). Find out why")
    if hashlib.sha256(content).hexdigest() != document.sha256:
        return None, (f"re-created from its case file with the current template: the Word "
                      f"document kept when it was issued, {name}, no longer matches its hash in "
                      "the store (it was altered). Find out why")
    return content, ("the Word document kept when it was issued, checked against its hash in the "
                     "store (its own page numbers left out: the bundle numbers every page)")



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


def _readable(item: Shown, redaction: CaseRedaction, case_ref: str,
              schemas: SchemaSet) -> CaseFileRecord:
    record = item.record
    return CaseFileRecord(
        title=item.title,
        lines=(f"Record {item.number}. Received at {uk_date_time(record.submission.received_at)}. "
               f"Case reference {case_ref}.",
               "The case file as we received it, set out with headings and labels. Information "
               "about other people is withheld."),
        data=redaction.by_submission[record.submission.id or 0].data,
        node=schemas.data_node(record.kind),
    )



def record_pages(shown: Sequence[Shown], cover: bytes, redaction: CaseRedaction,
                 case_ref: str, *, schemas: SchemaSet, converter: Converter,
                 pdf_switched_on: bool) -> dict[int, list[Any]]:
    """The PDF pages of the covering letter (under 0) and of each record (under its number).

    Every Word document goes to the converter in one call: the letter; every case file in one
    document; and the documents of each kind joined into one (:mod:`docx_merge`). Each record is
    found again in its document's PDF by the top-level bookmarks. Should that fail for a
    document, its records are converted one by one in a second call: slower, never wrong.
    """
    sources: dict[str, bytes] = {"cover": cover}
    groups: dict[str, list[Shown]] = {}
    one_by_one: dict[int, Callable[[], bytes]] = {}
    case_files = [s for s in shown if s.record.document is None]
    for item in case_files:
        one_by_one[item.number] = functools.partial(
            case_files_document, [_readable(item, redaction, case_ref, schemas)], schemas.resolve)
    if case_files:
        sources["case-files"] = case_files_document(
            [_readable(s, redaction, case_ref, schemas) for s in case_files], schemas.resolve)
        groups["case-files"] = case_files
    by_kind: dict[str, list[Shown]] = {}
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
    pdfs = _convert_all(sources, converter, pdf_switched_on)
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
        pdfs.update(_convert_all(retry, converter, pdf_switched_on))
    for item in shown:
        if item.number not in pages:
            pages[item.number] = _pages(pdfs[f"record-{item.number:04d}"])
    return pages


def _pages(pdf: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(pdf)).pages)


def _convert_all(sources: Mapping[str, bytes], converter: Converter,
                 pdf_switched_on: bool) -> dict[str, bytes]:
    """Word documents to PDF, in one converter call."""
    with tempfile.TemporaryDirectory(prefix="recordgen-bundle-") as folder:
        paths = {}
        for name, content in sources.items():
            path = Path(folder) / f"{name}.docx"
            path.write_bytes(content)
            paths[name] = path
        out = Path(folder) / "pdf"
        out.mkdir()
        made = converter.convert(list(paths.values()), out)
        missing = [name for name, path in paths.items() if path not in made]
        if missing:
            if not pdf_switched_on:
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

