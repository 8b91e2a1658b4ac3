"""One way to produce a version of a document: plan it (or say why nothing new is made), render it,
publish it, and build the record the store keeps.

The pipeline (a case file dropped in the inbox), regeneration (a template or setting changed) and
subject access bundles all make versions through here (docs/design.md §3: plan, render, publish,
record):

* :func:`plan_version` works out what the document would say apart from its version number (its
  *fingerprint*: the template's hash and the context's), and asks the store to reserve the next
  version number. The store judges "nothing new" against the latest recorded version, so any
  number of watchers, runs and regenerations on one store each record what they publish; a retry
  of the same holder after a crash gets its own number back.
* :func:`render_version` fills in the Word template.
* :func:`publish_version` files the Word document and its PDF in the outbox.
* :func:`version_record` is the row the store keeps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordgen import __version__
from recordgen.cases import CaseFile
from recordgen.deadlines.tracking import DocumentClock
from recordgen.documents.publish import PublishedFile, publish, read_published
from recordgen.documents.render import (
    RenderedDocument,
    RenderLimits,
    build_context,
    context_fingerprint,
    render_document,
)
from recordgen.records.store import DocumentRecord, ReservationStatus, Store, VersionRequest
from recordgen.settings import Settings


@dataclass(frozen=True)
class Fingerprint:
    """What a document would say, apart from its version number: the template it is made from and
    everything the template is given."""

    template: Path
    template_sha256: str  # "" when the template is missing (rendering then says so)
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
    context = build_context(case, settings, version=0, document_date=document_date,
                            due=deadline.shown)
    return Fingerprint(template, template_sha, context_fingerprint(context))


def what_changed(prints: Fingerprint, version: DocumentRecord) -> tuple[str, ...]:
    """Why a document made today would differ from ``version``: "template changed", "settings
    changed" (what the template is given: the settings, or the due dates they set), or nothing."""
    return tuple(reason for reason, changed in (
        ("template changed", prints.template_sha256 != version.template_sha256),
        ("settings changed", prints.context_sha256 != version.context_sha256),
    ) if changed)


def plan_version(store: Store, case: CaseFile, *, document_date: dt.date,
                 deadline: DocumentClock, settings: Settings, holder: str,
                 based_on: DocumentRecord | None = None) -> VersionPlan | NothingNew:
    """Reserve the next version of ``case``'s document for ``holder``, or say why nothing new is
    made. ``based_on`` is the version a regeneration re-makes: it is made again only when its
    template or what it says would change, and then the reasons are kept with the new version."""
    prints = fingerprint(case, document_date, deadline, settings)
    reasons: tuple[str, ...] = ()
    if based_on is not None:
        reasons = what_changed(prints, based_on)
        if not reasons:
            return NothingNew(ReservationStatus.UNCHANGED, based_on.version)
    reservation = store.reserve_version(VersionRequest(
        case.case_ref, case.series, holder, prints.template_sha256, prints.context_sha256,
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
