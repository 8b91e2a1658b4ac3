"""The record, read back: a case's history, and proof that nothing in the record was altered.

:func:`case_history` answers "what did we receive and send, and when" for one case.
:func:`verify_records` recomputes the audit trail's hash chain, checks every stored row against
the audit entry written when it was recorded, and checks every output file's SHA-256, reporting
anything altered, missing or added (issue 6 §2, §3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordgen.clock import UK
from recordgen.publish import sha256_of_file
from recordgen.store import GENESIS_HASH, AuditEntry, Store, audit_hash

# Files in the outbox that the store does not list one by one.
_UNRECORDED_SUFFIXES = (".tmp",)


@dataclass(frozen=True)
class HistoryEvent:
    at: str  # ISO date or date-time, for ordering
    what: str
    detail: Mapping[str, Any]


def case_history(store: Store, case_ref: str) -> list[HistoryEvent]:
    """Everything received and produced for a case, in order, with hashes."""
    events = []
    for sub in store.submissions(case_ref):
        events.append(HistoryEvent(_local(sub.received_at),
                                   f"received {sub.file_name} ({sub.outcome})",
                                   {"kind": sub.kind, "sha256": sub.sha256,
                                    "outcome": sub.outcome, "reasons": list(sub.reasons)}))
    for doc in store.documents(case_ref):
        events.append(HistoryEvent(_local(doc.produced_at),
                                   f"produced {doc.file_name} (version {doc.version})",
                                   {"kind": doc.kind, "series": doc.series, "version": doc.version,
                                    "document_date": doc.document_date.isoformat(),
                                    "sha256": doc.sha256, "pdf": doc.pdf_file_name,
                                    "pdf_sha256": doc.pdf_sha256,
                                    "template_sha256": doc.template_sha256,
                                    "software_version": doc.software_version}))
    for clock in store.clocks(case_ref):
        state = ("open" if clock.closed is None else
                 "met" if clock.met else f"missed by {clock.working_days_late} working day(s)")
        events.append(HistoryEvent(clock.started, f"{clock.clock} due {clock.due}: {state}",
                                   {"clock": clock.clock, "subject": clock.subject,
                                    "due": clock.due, "closed": clock.closed, "met": clock.met,
                                    "working_days_late": clock.working_days_late}))
    order = {"received": 0, "produced": 1}
    return sorted(events, key=lambda e: (_instant(e.at), order.get(e.what.split()[0], 2), e.what))


def _local(moment: dt.datetime) -> str:
    """UK local time, as staff read it."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UK).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _instant(text: str) -> str:
    """Dates sort as the start of their day."""
    return text if "T" in text else text + "T00:00:00"


@dataclass(frozen=True)
class Finding:
    """One thing verify found wrong: where (an audit entry, a row or a file) and what."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def verify_records(store: Store, outbox: Path) -> list[Finding]:
    """Every alteration, omission or addition found; an empty list means the record is intact."""
    entries = store.audit_entries()
    findings = list(_chain_findings(entries))
    findings.extend(_row_findings(store, entries))
    findings.extend(_file_findings(store, outbox))
    return findings


def _chain_findings(entries: list[AuditEntry]) -> Iterator[Finding]:
    expected_prev = GENESIS_HASH
    for entry in entries:
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
        if entry.prev_hash != expected_prev:
            yield Finding(f"audit entry {entry.id}", "does not follow the entry before it: an "
                          "entry was removed or the trail was rewritten")
        if audit_hash(entry.prev_hash, entry.at, entry.action, entry.case_ref, detail) != entry.hash:
            yield Finding(f"audit entry {entry.id}", f'"{entry.action}" was altered after it was '
                          "written (its hash no longer matches)")
        expected_prev = entry.hash


def _row_findings(store: Store, entries: list[AuditEntry]) -> Iterator[Finding]:
    """Each stored row must still say what the audit trail says it said when it was recorded."""
    recorded_docs = {e.detail.get("document"): e.detail for e in entries
                     if e.action == "document produced"}
    pdfs = {e.detail.get("document"): e.detail for e in entries if e.action == "pdf produced"}
    for doc in store.documents():
        audit = recorded_docs.get(doc.id)
        where = f"documents row {doc.id} ({doc.file_name})"
        if audit is None:
            yield Finding(where, "is in the store but not in the audit trail: it was added "
                          "outside recordgen")
            continue
        later_pdf = pdfs.get(doc.id, {})
        expected = {"file": audit.get("file"), "sha256": audit.get("sha256"),
                    "version": audit.get("version"), "series": audit.get("series"),
                    "pdf_file": audit.get("pdf_file") or later_pdf.get("pdf_file"),
                    "pdf_sha256": audit.get("pdf_sha256") or later_pdf.get("pdf_sha256")}
        actual = {"file": doc.file_name, "sha256": doc.sha256, "version": doc.version,
                  "series": doc.series, "pdf_file": doc.pdf_file_name,
                  "pdf_sha256": doc.pdf_sha256}
        for field, value in actual.items():
            if expected[field] != value:
                yield Finding(where, f"{field} was changed after it was recorded "
                              f"(recorded {expected[field]!r}, now {value!r})")
    recorded_subs = {e.detail.get("submission"): e.detail for e in entries
                     if e.action.startswith("submission ")}
    for sub in store.submissions():
        where = f"submissions row {sub.id} ({sub.file_name})"
        audit = recorded_subs.get(sub.id)
        if audit is None:
            yield Finding(where, "is in the store but not in the audit trail")
            continue
        if audit.get("sha256") != sub.sha256:
            yield Finding(where, "its SHA-256 was changed after it was recorded")
        if sub.raw and hashlib.sha256(sub.raw).hexdigest() != sub.sha256:
            yield Finding(where, "the stored copy of the case file was altered")


def _file_findings(store: Store, outbox: Path) -> Iterator[Finding]:
    expected: dict[str, str] = {}
    for doc in store.documents():
        expected[doc.file_name] = doc.sha256
        if doc.pdf_file_name and doc.pdf_sha256:
            expected[doc.pdf_file_name] = doc.pdf_sha256
    expected.update(extra_recorded_files(store))
    for name, sha in sorted(expected.items()):
        path = outbox / name
        if not path.is_file():
            yield Finding(f"outbox/{name}", "is missing")
        elif sha256_of_file(path) != sha:
            yield Finding(f"outbox/{name}", "was altered (its SHA-256 no longer matches the store)")
    if outbox.is_dir():
        for path in sorted(p for p in outbox.rglob("*") if p.is_file()):
            name = path.relative_to(outbox).as_posix()
            if name not in expected and not name.endswith(_UNRECORDED_SUFFIXES) \
                    and not path.name.startswith("."):
                yield Finding(f"outbox/{name}", "was added: the store has no record of it")


def extra_recorded_files(store: Store) -> dict[str, str]:
    """Other files recordgen wrote and recorded in the audit trail (e.g. redaction logs), by the
    audit entries that carry ``file`` and ``sha256`` under an action ending in "written"."""
    return {str(e.detail["file"]): str(e.detail["sha256"]) for e in store.audit_entries()
            if e.action.endswith("written") and "file" in e.detail and "sha256" in e.detail}
