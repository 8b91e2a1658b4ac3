"""One way to produce a version of a document: plan it (or say why nothing new is made), render it,
publish it, and build the record the store keeps.

The pipeline (a case file dropped in the inbox), regeneration (a template or setting changed) and
subject access bundles all make versions through here (docs/design.md §3: plan, render, publish,
record):

* :func:`plan_version` asks the store to reserve the next version number, or says why nothing new
  is made. The store judges "nothing new" against the latest recorded version, so any number of
  watchers, runs and regenerations on one store each record what they publish; a retry of the same
  holder after a crash gets its own number back.
* :func:`render_version` fills in the Word template.
* :func:`publish_version` files the Word document and its PDF in the outbox.
* :func:`version_record` is the row the store keeps.

What a version was made from is kept as its *fingerprint* (:func:`fingerprint`): the SHA-256 of the
template file and of everything the template was given (the case file, every provider and rules
setting, the due dates). The same fingerprint always makes the same document, so it settles
"nothing new" without rendering anything. A different fingerprint does not mean a different
document: a setting the template never prints, or a template saved again with the same parts,
changes the fingerprint and not a word of the document. So wherever only the template or the
settings differ from those a version was made with (a regeneration, or a case file saying just what
the latest version's own case file says), the document is rendered under that version's own number
and compared with it, part for part (:class:`Comparison`): a new version is made only when what it
says would change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordgen import __version__
from recordgen.cases import CaseFile, case_ref_or_none
from recordgen.deadlines.tracking import DocumentClock, document_clock
from recordgen.documents.publish import PublishedFile, publish, read_published, sha256_of
from recordgen.documents.render import (
    RenderedDocument,
    RenderLimits,
    build_context,
    context_fingerprint,
    render_document,
)
from recordgen.errors import RecordgenError
from recordgen.kinds import DOCUMENT_KINDS, Answer
from recordgen.records.store import (
    DocumentRecord,
    ReservationStatus,
    Store,
    SubmissionRecord,
    VersionRequest,
)
from recordgen.settings import Settings


@dataclass(frozen=True)
class Fingerprint:
    """What a document is made from: the template file and everything the template is given,
    apart from the version number. The same fingerprint makes the same document; a different one
    may still make the same document (see :class:`Comparison`)."""

    template: Path
    template_sha256: str  # of the file; "" when the template is missing (rendering then says so)
    context_sha256: str


@dataclass(frozen=True)
class VersionPlan:
    """A version about to be made: its number is reserved in the store for ``holder``."""

    case: CaseFile
    version: int
    document_date: dt.date
    file_stem: str
    context: Mapping[str, Any]
    fingerprint: Fingerprint
    deadline: DocumentClock  # the due dates the document shows, and the one recorded against it
    holder: str
    reasons: tuple[str, ...] = ()  # why a regenerated version is made ("template changed", ...)

    @property
    def reason(self) -> str | None:
        return f"regenerated: {', '.join(self.reasons)}" if self.reasons else None


@dataclass(frozen=True)
class NothingNew:
    """Why no version is made: "unchanged" (the latest version already says exactly this) or
    "superseded" (a regeneration of a version that is no longer the latest)."""

    status: ReservationStatus
    latest_version: int


def fingerprint(case: CaseFile, document_date: dt.date, deadline: DocumentClock,
                settings: Settings) -> Fingerprint:
    template = settings.folders.templates / case.kind.template_file
    template_sha = hashlib.sha256(template.read_bytes()).hexdigest() if template.exists() else ""
    return Fingerprint(template, template_sha,
                       _context_sha256(case, document_date, deadline, settings))


def _context_sha256(case: CaseFile, document_date: dt.date, deadline: DocumentClock,
                    settings: Settings) -> str:
    return context_fingerprint(build_context(case, settings, version=0,
                                             document_date=document_date, due=deadline.shown))


def what_changed(prints: Fingerprint, version: DocumentRecord) -> tuple[str, ...]:
    """Which of what ``version`` was made from differs today: "template changed" (the template
    file), "settings changed" (what the template is given: the settings, or the due dates they
    set), or nothing. Nothing means the document would be made exactly as it was; something means
    only that it might differ: whether it does is told by a :class:`Comparison`. The store keeps
    the hashes of what a version was made from, not the files: when both differ, both are named."""
    return tuple(reason for reason, changed in (
        ("template changed", prints.template_sha256 != version.template_sha256),
        ("settings changed", prints.context_sha256 != version.context_sha256),
    ) if changed)


def stored_case(document: DocumentRecord, submission: SubmissionRecord) -> CaseFile:
    """The case file a document was made from, as the store keeps it, with its reference as that
    file wrote it (as the document shows it)."""
    stored = json.loads(submission.raw)
    written = stored.get("case_ref")
    as_written = written if isinstance(written, str) \
        and case_ref_or_none(written) == document.case_ref else ""
    return CaseFile(kind=DOCUMENT_KINDS[document.kind], case_ref=document.case_ref,
                    schema_version=int(stored["schema_version"]), data=stored["data"],
                    case_ref_as_written=as_written)


# --- would what a document says change? ------------------------------------------------------------

_CORE_PROPERTIES = "docProps/core.xml"
# When the file was last saved: python-docx stamps it with the time of saving when a template has no
# properties of its own (such a document is rendered by docxtpl), so it is not what a document says.
_SAVED_AT = re.compile(rb"<dcterms:modified(?:\s[^>]*)?(?:/>|>[^<]*</dcterms:modified>)")


@dataclass(frozen=True)
class Comparison:
    """A document as it would be made today, set beside ``version``, the version it would follow.

    It is rendered under ``version``'s own number (and date), so everything that only differs
    between versions (the number in the footers, the reference ``.../v2``) is the version's: what
    is left to differ is what the document says. It says the same when every part of the .docx
    is the same as the version's (its recorded content hash covers every part, not the zip), or,
    for a template without document properties of its own, the same but for the time of saving
    python-docx stamps in them (compared with the version's file as issued, checked against its
    recorded SHA-256). Nothing is normalised by looking at text: any other difference, however
    small, is a change."""

    template: Path
    context: Mapping[str, Any]  # under the version's number
    version: DocumentRecord
    outbox: Path


def comparison(case: CaseFile, version: DocumentRecord, *, deadline: DocumentClock,
               settings: Settings) -> Comparison:
    """``case``'s document, made today from the current template and settings, beside
    ``version``."""
    context = build_context(case, settings, version=version.version,
                            document_date=version.document_date, due=deadline.shown)
    return Comparison(settings.folders.templates / case.kind.template_file, context, version,
                      settings.folders.outbox)


def would_say_the_same(compared: Comparison, limits: RenderLimits | None = None) -> bool:
    """Render the document (a template fault raises, as rendering it for real would) and tell
    whether it says what its version says."""
    return says_the_same(compared, render_document(compared.template, compared.context, limits))


def says_the_same(compared: Comparison, rendered: RenderedDocument) -> bool:
    """Whether ``rendered`` (made from ``compared``) says what its version says; when it cannot
    be told beyond the content hash (the version's file is gone or altered), a change."""
    if rendered.content_sha256 == compared.version.content_sha256:
        return True
    issued = issued_word(compared.outbox, compared.version)
    if issued is None:
        return False
    try:
        return _same_parts(rendered.content, issued)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, OSError):
        return False


def issued_word(outbox: Path, version: DocumentRecord) -> bytes | None:
    """A version's Word document as it was issued: the file the store names, read without
    following a link, only if it still has its recorded SHA-256 (None otherwise)."""
    folder, _, name = version.file_name.partition("/")
    if folder != version.case_ref or not name or "/" in name:
        return None
    try:
        content = read_published(outbox, version.case_ref, name)
    except RecordgenError:
        return None
    return content if content is not None and sha256_of(content) == version.sha256 else None


def _same_parts(made: bytes, issued: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(made)) as ours, zipfile.ZipFile(io.BytesIO(issued)) as theirs:
        mine = {info.filename: info for info in ours.infolist()}
        other = {info.filename: info for info in theirs.infolist()}
        if mine.keys() != other.keys() or len(mine) != len(ours.infolist()) \
                or len(other) != len(theirs.infolist()):
            return False
        if any((info.CRC, info.file_size) != (other[name].CRC, other[name].file_size)
               for name, info in mine.items() if name != _CORE_PROPERTIES):
            return False  # a part differs (told without reading any)
        return all(_unstamped(name, ours.read(name)) == _unstamped(name, theirs.read(name))
                   for name in mine)


def _unstamped(name: str, part: bytes) -> bytes:
    return _SAVED_AT.sub(b"", part) if name == _CORE_PROPERTIES else part


def latest_saying_the_same(store: Store, case: CaseFile, prints: Fingerprint,
                           document_date: dt.date, settings: Settings) -> DocumentRecord | None:
    """The latest version of ``case``'s document, if a version made from ``case`` would say
    exactly what it says although ``prints`` differ from what it was made from. That is so when
    the case file says what the latest version's own case file says (the same data, date and
    due dates: the same context when both are made today) and the latest version, made today, says
    what it says (only a setting it does not print changed, say). None otherwise, and whenever
    it cannot be told: the fingerprints then decide. A changed case file is never "the same"."""
    if case.answer is not Answer.DOCUMENT:
        return None  # a bundle is made from the whole store, not from the case file
    latest = store.latest_document(case.case_ref, case.series)
    if latest is None or latest.kind != case.kind.name or latest.submission_id is None \
            or latest.document_date != document_date \
            or not what_changed(prints, latest):
        return None  # nothing to judge, or the fingerprints already decide
    submission = next((s for s in store.submissions(case.case_ref)
                       if s.id == latest.submission_id), None)
    if submission is None:
        return None
    try:
        own = stored_case(latest, submission)
        deadline = document_clock(own, document_date, settings)
        if _context_sha256(own, document_date, deadline, settings) != prints.context_sha256:
            return None  # the case file says something the latest version's does not
        same = would_say_the_same(comparison(own, latest, deadline=deadline, settings=settings))
    except (RecordgenError, OSError, ValueError, KeyError, TypeError):
        return None
    return latest if same else None


# --- planning, rendering, publishing, recording a version -----------------------------------------


def plan_version(store: Store, case: CaseFile, *, document_date: dt.date,
                 deadline: DocumentClock, settings: Settings, holder: str,
                 based_on: DocumentRecord | None = None, reasons: tuple[str, ...] = (),
                 prints: Fingerprint | None = None) -> VersionPlan | NothingNew:
    """Reserve the next version of ``case``'s document for ``holder``, or say why nothing new is
    made.

    A case file (``based_on`` None) makes nothing new when the latest version already says exactly
    this: made from the same fingerprint, or saying the same when only its template or settings
    differ (:func:`latest_saying_the_same`). A regeneration gives ``based_on``, the version it
    re-makes, once a :class:`Comparison` has shown that what it says would change, and
    ``reasons``, the inputs that changed (:func:`what_changed`), kept with the new version.
    ``prints`` saves working out the fingerprint again."""
    prints = prints or fingerprint(case, document_date, deadline, settings)
    if based_on is not None and not reasons:
        return NothingNew(ReservationStatus.UNCHANGED, based_on.version)
    judged = prints
    if based_on is None:
        same = latest_saying_the_same(store, case, prints, document_date, settings)
        if same is not None:
            # Judged as that version's own fingerprint: the store, in one transaction, finds it
            # unchanged only if that version is still the latest.
            judged = Fingerprint(prints.template, same.template_sha256, same.context_sha256)
    reservation = store.reserve_version(VersionRequest(
        case.case_ref, case.series, holder, judged.template_sha256, judged.context_sha256,
        based_on=based_on.version if based_on is not None else None))
    if reservation.status is not ReservationStatus.RESERVED:
        latest = reservation.latest.version if reservation.latest else 0
        return NothingNew(reservation.status, latest)
    version = reservation.version
    context = build_context(case, settings, version=version, document_date=document_date,
                            due=deadline.shown)
    stem = case.kind.file_stem(case.case_ref, case.data, document_date, version)
    return VersionPlan(case, version, document_date, stem, context, prints, deadline, holder,
                       reasons)


def render_version(plan: VersionPlan, limits: RenderLimits | None = None) -> RenderedDocument:
    return render_document(plan.fingerprint.template, plan.context, limits)


@dataclass(frozen=True)
class Published:
    """The files of one version in the outbox: the document, and its PDF when one was made."""

    document: PublishedFile
    pdf: PublishedFile | None = None

    @property
    def files(self) -> tuple[PublishedFile, ...]:
        return (self.document,) if self.pdf is None else (self.document, self.pdf)


def publish_version(outbox: Path, plan: VersionPlan, rendered: RenderedDocument,
                    pdf: bytes | None) -> Published:
    """File the Word document and its PDF under the version's name. A retry after a crash finds
    the Word document it published before (the same bytes), and keeps the PDF made from it then:
    LibreOffice stamps each PDF it makes, so a new one would differ."""
    case_ref, stem = plan.case.case_ref, plan.file_stem
    document = publish(outbox, case_ref, f"{stem}.docx", rendered.content)
    if pdf is None:
        return Published(document)
    earlier = read_published(outbox, case_ref, f"{stem}.pdf")
    return Published(document, publish(outbox, case_ref, f"{stem}.pdf",
                                       earlier if earlier is not None else pdf))


def version_record(plan: VersionPlan, published: Published, *, submission_id: int | None,
                   rendered: RenderedDocument | None, produced_at: dt.datetime) -> DocumentRecord:
    """The row the store keeps for a version: its files and their hashes, what it was made from
    (the template as it was read when the document was rendered), and the deadline it answered.
    A version that was not rendered from one template (a bundle) is known by its file's hash."""
    case, pdf = plan.case, published.pdf
    content_sha256 = rendered.content_sha256 if rendered else published.document.sha256
    template_sha256 = rendered.template_sha256 if rendered else plan.fingerprint.template_sha256
    return DocumentRecord(
        submission_id=submission_id,
        case_ref=case.case_ref,
        kind=case.kind.name,
        series=case.series,
        version=plan.version,
        document_date=plan.document_date,
        file_name=published.document.relative,
        sha256=published.document.sha256,
        content_sha256=content_sha256,
        template_sha256=template_sha256,
        context_sha256=plan.fingerprint.context_sha256,
        software_version=__version__,
        produced_at=produced_at,
        pdf_file_name=pdf.relative if pdf else None,
        pdf_sha256=pdf.sha256 if pdf else None,
        due_on=plan.deadline.due_on,
        met=plan.deadline.met,
        working_days_late=plan.deadline.working_days_late,
        reason=plan.reason,
    )
