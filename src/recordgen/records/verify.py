"""Proof that nothing in the record was altered (``recordgen verify``).

:func:`verify_records` recomputes the audit trail's hash chain, checks it against the seals written
outside the store after every run, checks every column of every stored submission, document and
clock against the facts the trail last recorded for it (naming a value of the wrong type rather
than failing on it), and checks every output file's SHA-256, reporting anything altered, missing or
added. What it can and cannot prove is set out in the README ("The records store").
"""

from __future__ import annotations

import bisect
import datetime as dt
import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordgen.records.chain import (
    COVERED_TABLES,
    GENESIS_HASH,
    audit_hash,
    reasons_text,
    row_facts,
    value_sha256,
)
from recordgen.records.migrations import ADOPTED
from recordgen.records.seal import SEAL_FILE, read_seals, when_sealed
from recordgen.records.store import AuditEntry, Seal, Store

# Files in the outbox that the store does not list one by one.
_UNRECORDED_SUFFIXES = (".tmp",)


# --- verify ---------------------------------------------------------------------------------------

# What staff are told when an issued document was edited, removed or added in the outbox.
HOW_TO_CHANGE_A_DOCUMENT = (
    "Issued documents are the record and are never edited in the outbox. To change what a "
    "document says, correct the case file and drop it into the inbox again: a new version is "
    "issued, and the old one stays on record."
)


@dataclass(frozen=True)
class Finding:
    """One thing verify found wrong: where (an audit entry, a row, a seal or a file) and what.
    ``about`` is "file" for a file in the outbox, "record" for the store, its trail and seals."""

    where: str
    problem: str
    about: str = "record"

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True)
class Verified:
    findings: list[Finding]
    entries: int  # audit entries chained
    seals: int  # seals checked


def verify_records(store: Store, outbox: Path) -> list[Finding]:
    """Every alteration, omission or addition found; an empty list means the record is intact."""
    return verify(store, outbox).findings


def verify(store: Store, outbox: Path) -> Verified:
    entries = store.audit_entries()
    rows = {table: store.rows(table) for table in COVERED_TABLES}
    expected, findings = _replay(entries)
    findings = list(_chain_findings(entries)) + findings
    seals, seal_findings = _seal_findings(store, outbox, entries)
    findings.extend(seal_findings)
    findings.extend(_row_findings(rows, expected))
    findings.extend(_file_findings(rows["documents"], expected, entries, outbox))
    return Verified(findings, len(entries), seals)


def verify_advice(findings: Sequence[Finding]) -> list[str]:
    """What to do about what verify found, in plain English."""
    advice = []
    if any(f.about == "file" for f in findings):
        advice.append("A document in the outbox was changed, removed or added by hand. "
                      + HOW_TO_CHANGE_A_DOCUMENT + " Put back any issued file changed or removed "
                      "(from the backup: its SHA-256 is shown by 'recordgen history'), and move "
                      "any file added by hand out of the outbox.")
    if any(f.about == "record" for f in findings):
        advice.append("The records store, its audit trail or its seals were altered outside "
                      "recordgen. Keep this output and tell your information governance lead.")
    return advice


def _chain_findings(entries: list[AuditEntry]) -> Iterator[Finding]:
    expected_prev = GENESIS_HASH
    for entry in entries:
        if entry.prev_hash != expected_prev:
            yield Finding(f"audit entry {entry.id}", "does not follow the entry before it: an "
                          "entry was removed or the trail was rewritten")
        if audit_hash(entry.prev_hash, entry.at, entry.action, entry.case_ref,
                      entry.text) != entry.hash:
            yield Finding(f"audit entry {entry.id}", f'"{entry.action}" was altered after it was '
                          "written (its hash no longer matches)")
        expected_prev = entry.hash


# --- the seals ------------------------------------------------------------------------------------


def _seal_findings(store: Store, outbox: Path, entries: list[AuditEntry]
                   ) -> tuple[int, list[Finding]]:
    """Each seal in the seal file must still describe the trail; each seal the store says was
    written must still be in the file."""
    sealed, unreadable = read_seals(outbox)
    where = f"outbox/{SEAL_FILE}"
    findings = [Finding(where, f"{problem}: it was altered, or cut off by a power cut or a full "
                        "disk") for problem in unreadable]
    by_id = {e.id: e for e in entries}
    ids = sorted(by_id)
    last = ids[-1] if ids else 0
    beyond = [s for s in sealed if s.entry > last]
    if beyond:
        newest = max(beyond, key=lambda s: s.entry)
        findings.append(Finding(where, f"the seal made at {when_sealed(newest.sealed_at)} names "
                                f"audit entry {newest.entry}, but the trail now ends at entry "
                                f"{last}: its "
                                "newest entries were removed, or the store was put back from an "
                                "older backup"))
    rewritten = 0
    for seal in sealed:
        if seal.entry > last:
            continue
        entry = by_id.get(seal.entry)
        count = bisect.bisect_right(ids, seal.entry)  # entries up to and including it
        if entry is None or entry.hash != seal.hash or count != seal.entries:
            rewritten += 1
            if rewritten == 1:
                findings.append(Finding(where, _mismatch(seal, entry, count)))
    if rewritten > 1:
        findings.append(Finding(where, f"{rewritten - 1} later seal(s) do not match the trail "
                                "either"))
    in_file = {(s.entry, s.entries, s.hash) for s in sealed}
    lost = [s for s in store.seals() if (s.entry, s.entries, s.hash) not in in_file]
    if lost:
        findings.append(Finding(where, f"{len(lost)} seal(s) the store says were written, the "
                                f"latest at {when_sealed(lost[-1].sealed_at)}, are not in the seal "
                                "file: it was cut short, replaced or removed"))
    return len(sealed), findings


def _mismatch(seal: Seal, entry: AuditEntry | None, count: int) -> str:
    when = when_sealed(seal.sealed_at)
    if entry is None:
        return (f"audit entry {seal.entry}, sealed at {when}, is no longer in the store: "
                "entries were removed")
    if entry.hash != seal.hash:
        return (f"audit entry {seal.entry} is not the entry sealed at {when}: the trail was "
                "rewritten after it was sealed")
    return (f"the trail up to entry {seal.entry} held {seal.entries} entries when sealed at {when}"
            f", and holds {count} now: entries were removed or added")


# --- the rows -------------------------------------------------------------------------------------

Key = tuple[str, int]


def _replay(entries: list[AuditEntry]) -> tuple[dict[Key, dict[str, Any]], list[Finding]]:
    """What the trail says each row holds now: the facts last recorded for it. Entries written
    before the trail covered every column (see recordgen.records.migrations) recorded some columns; those
    must agree with what the row was adopted into the chain as."""
    expected: dict[Key, dict[str, Any]] = {}
    findings = []
    for entry in entries:
        detail = entry.detail
        table, row_id, facts = detail.get("table"), detail.get("id"), detail.get("row")
        if table in COVERED_TABLES and isinstance(row_id, int) and isinstance(facts, dict):
            key = (str(table), row_id)
            if entry.action == ADOPTED:
                for column, value in expected.get(key, {}).items():
                    if not _same(facts.get(column), value):
                        findings.append(Finding(
                            f"{table} row {row_id}", f"{_label(column)} was changed before "
                            f"{when_sealed(entry.at)}, when it was taken into the chain (first recorded "
                            f"{value!r}, then {facts.get(column)!r})"))
            expected[key] = dict(facts)
            continue
        legacy = _legacy_facts(entry)
        if legacy is not None:
            key, facts_then, first_wins = legacy
            known = expected.setdefault(key, {})
            for column, value in facts_then.items():
                if not (first_wins and known.get(column) is not None):
                    known[column] = value
    return expected, findings


def _legacy_facts(entry: AuditEntry) -> tuple[Key, dict[str, Any], bool] | None:
    """The columns an entry written before the chain covered every column recorded."""
    detail, action = entry.detail, entry.action
    if action == "document produced" and isinstance(detail.get("document"), int):
        names = {"series": "series", "version": "version", "file": "file_name",
                 "sha256": "sha256", "pdf_file": "pdf_file_name", "pdf_sha256": "pdf_sha256",
                 "template_sha256": "template_sha256", "reason": "reason"}
        facts = {column: detail[key] for key, column in names.items() if key in detail}
        return ("documents", detail["document"]), {**facts, "case_ref": entry.case_ref}, False
    if action == "pdf produced" and isinstance(detail.get("document"), int):
        # The PDF was only ever attached to a document without one: the first attachment counts.
        return ("documents", detail["document"]), {"pdf_file_name": detail.get("pdf_file"),
                                                   "pdf_sha256": detail.get("pdf_sha256")}, True
    if action.startswith("submission ") and isinstance(detail.get("submission"), int):
        facts = {"outcome": action.removeprefix("submission "), "case_ref": entry.case_ref}
        for key, column in (("file", "file_name"), ("sha256", "sha256"), ("kind", "kind")):
            if key in detail:
                facts[column] = detail[key]
        if isinstance(detail.get("reasons"), list):
            facts["reasons_sha256"] = value_sha256(reasons_text(detail["reasons"]))
        return ("submissions", detail["submission"]), facts, False
    return None


def _row_findings(rows: Mapping[str, list[dict[str, Any]]],
                  expected: Mapping[Key, dict[str, Any]]) -> Iterator[Finding]:
    """Each stored row must hold what the trail last recorded for it, column by column."""
    for table in COVERED_TABLES:
        present = set()
        for row in rows[table]:
            key = (table, row["id"])
            present.add(key)
            where = _where(table, row)
            wrong_type = dict(_type_problems(table, row))
            for problem in wrong_type.values():
                yield Finding(where, problem)
            recorded = expected.get(key)
            if recorded is None:
                yield Finding(where, "is in the store but not in the audit trail: it was added "
                              "outside recordgen")
                continue
            facts = row_facts(row)
            for column in sorted(set(recorded) | set(facts)):
                if column in wrong_type or column.removesuffix("_sha256") in wrong_type:
                    continue
                if column not in facts:
                    continue  # a column recorded once, since removed from the schema
                if column not in recorded:
                    yield Finding(where, f"{_label(column)} is not covered by the audit trail")
                elif not _same(recorded[column], facts[column]):
                    yield Finding(where, f"{_label(column)} was changed after it was recorded "
                                  f"(recorded {_shown(column, recorded[column])}, now "
                                  f"{_shown(column, facts[column])})")
            if table == "submissions":
                yield from _stored_copy_findings(where, row)
        for gone in sorted(k for k in expected if k[0] == table and k not in present):
            yield Finding(f"{table} row {gone[1]}", "was deleted: the audit trail records it, the "
                          "store no longer holds it")


def _stored_copy_findings(where: str, row: Mapping[str, Any]) -> Iterator[Finding]:
    raw, sha = row.get("raw"), row.get("sha256")
    if isinstance(raw, bytes) and raw and isinstance(sha, str) \
            and hashlib.sha256(raw).hexdigest() != sha:
        yield Finding(where, "the stored copy of the case file was altered (it no longer matches "
                      "its SHA-256)")


def _same(recorded: Any, now: Any) -> bool:
    """Equal and of the same type: 2 is not "2"."""
    return type(recorded) is type(now) and recorded == now


def _where(table: str, row: Mapping[str, Any]) -> str:
    name = row.get("file_name")
    return f"{table} row {row['id']}" + (f" ({name})" if isinstance(name, str) else "")


_LABELS = {
    "case_ref": "the case reference", "kind": "the kind", "series": "the series",
    "version": "the version", "document_date": "the document date", "due_on": "the due date",
    "met": "whether the deadline was met", "working_days_late": "the working days late",
    "template_sha256": "the template's SHA-256", "content_sha256": "the content's SHA-256",
    "context_sha256": "the context's SHA-256", "file_name": "the file name",
    "sha256": "the SHA-256", "pdf_file_name": "the PDF's file name",
    "pdf_sha256": "the PDF's SHA-256", "reason": "the reason", "submission_id":
    "the submission it came from", "outcome": "the outcome", "reasons_sha256": "the reasons",
    "received_at": "the time it was received", "raw_sha256": "the stored copy of the case file",
    "claim_id": "the claim", "produced_at": "the time it was produced",
    "software_version": "the recordgen version", "clock": "the clock", "subject": "the subject",
    "started": "the start", "due": "the due date", "closed": "the closing",
    "opened_by": "the document that started it", "closed_by": "the document that closed it",
}


def _label(column: str) -> str:
    label = _LABELS.get(column, column)
    return label if label.removeprefix("the ") == column else f"{label} ({column})"


def _shown(column: str, value: Any) -> str:
    if column.endswith("_sha256") and isinstance(value, str) and len(value) == 64:
        return value[:12] + "…"
    return repr(value)


# What each column must hold; a value of another type is named, never a crash.
_TEXT, _NUMBER, _BYTES = "text", "a whole number", "the bytes of the case file received"
_OPTIONAL = {"submission_id", "pdf_file_name", "pdf_sha256", "due_on", "met", "working_days_late",
             "reason", "case_ref@submissions", "kind@submissions", "closed", "opened_by",
             "closed_by"}
_TYPES: dict[str, dict[str, tuple[str, Callable[[Any], bool]]]] = {}


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_moment(value: Any) -> bool:
    try:
        dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_flag(value: Any) -> bool:
    return value in (0, 1) and _is_number(value)


def _is_reasons(value: Any) -> bool:
    try:
        reasons = json.loads(value)
    except (TypeError, ValueError):
        return False
    return isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)


_TEXT_CHECK = (_TEXT, _is_text)
_NUMBER_CHECK = (_NUMBER, _is_number)
_TYPES["documents"] = {
    "submission_id": _NUMBER_CHECK, "case_ref": _TEXT_CHECK, "kind": _TEXT_CHECK,
    "series": _TEXT_CHECK, "version": _NUMBER_CHECK, "document_date": ("a date", _is_date),
    "file_name": _TEXT_CHECK, "sha256": _TEXT_CHECK, "content_sha256": _TEXT_CHECK,
    "template_sha256": _TEXT_CHECK, "context_sha256": _TEXT_CHECK,
    "software_version": _TEXT_CHECK, "produced_at": ("a date and time", _is_moment),
    "pdf_file_name": _TEXT_CHECK, "pdf_sha256": _TEXT_CHECK, "due_on": ("a date", _is_date),
    "met": ("0 or 1", _is_flag), "working_days_late": _NUMBER_CHECK, "reason": _TEXT_CHECK,
}
_TYPES["submissions"] = {
    "claim_id": _TEXT_CHECK, "file_name": _TEXT_CHECK, "sha256": _TEXT_CHECK,
    "received_at": ("a date and time", _is_moment), "outcome": _TEXT_CHECK,
    "case_ref": _TEXT_CHECK, "kind": _TEXT_CHECK,
    "reasons": ("a list of reasons", _is_reasons), "raw": (_BYTES, lambda v: isinstance(v, bytes)),
}
_TYPES["clocks"] = {
    "case_ref": _TEXT_CHECK, "clock": _TEXT_CHECK, "subject": _TEXT_CHECK,
    "started": _TEXT_CHECK, "due": _TEXT_CHECK, "closed": _TEXT_CHECK,
    "met": ("0 or 1", _is_flag), "working_days_late": _NUMBER_CHECK,
    "opened_by": _NUMBER_CHECK, "closed_by": _NUMBER_CHECK,
}


def _type_problems(table: str, row: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for column, (wanted, check) in _TYPES[table].items():
        value = row.get(column)
        optional = column in _OPTIONAL or f"{column}@{table}" in _OPTIONAL
        if (value is None and optional) or (value is not None and check(value)):
            continue
        held = ("nothing" if value is None else "bytes" if isinstance(value, bytes)
                else f"the text {_clip(value)!r}" if isinstance(value, str)
                else f"the number {value!r}")
        yield column, (f"{_label(column)} holds {held} where {wanted} belongs: it was changed "
                       "outside recordgen")


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


# --- the files ------------------------------------------------------------------------------------


def _file_findings(documents: list[dict[str, Any]], expected: Mapping[Key, dict[str, Any]],
                   entries: list[AuditEntry], outbox: Path) -> Iterator[Finding]:
    """Every file the trail says was issued must be in the outbox unaltered; nothing else may be."""
    files: dict[str, str] = {}
    for row in documents:
        facts = expected.get(("documents", row["id"])) or row_facts(row)
        for name, sha in ((facts.get("file_name"), facts.get("sha256")),
                          (facts.get("pdf_file_name"), facts.get("pdf_sha256"))):
            if isinstance(name, str) and isinstance(sha, str):
                files[name] = sha
    files.update(extra_recorded_files(entries))
    for name, sha in sorted(files.items()):
        try:
            found = _issued_sha256(outbox, name)
        except OSError as exc:
            yield Finding(f"outbox/{name}", f"cannot be read ({exc.strerror or exc})", "file")
            continue
        if found is None:
            yield Finding(f"outbox/{name}", "is missing", "file")
        elif found == _LINK:
            yield Finding(f"outbox/{name}", "is a link (or sits in a linked folder), not the file "
                          "issued: recordgen does not follow it", "file")
        elif found != sha:
            yield Finding(f"outbox/{name}", "was altered (its SHA-256 no longer matches the store)",
                          "file")
    if outbox.is_dir():
        for path in sorted(p for p in outbox.rglob("*") if p.is_file()):
            name = path.relative_to(outbox).as_posix()
            if name not in files and not name.endswith(_UNRECORDED_SUFFIXES) \
                    and not path.name.startswith("."):
                yield Finding(f"outbox/{name}", "was added: the store has no record of it", "file")


_LINK = "a link"


def _issued_sha256(outbox: Path, name: str) -> str | None:
    """The SHA-256 of ``outbox/name``, read without following any link on the way: None when
    there is nothing there, ``_LINK`` when a link (or anything but a folder and a plain file)
    stands where the file or its folder should be."""
    *folders, file_name = name.split("/")
    descriptors: list[int] = []
    try:
        descriptors.append(os.open(outbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        for folder in folders:
            descriptors.append(os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                                       | os.O_CLOEXEC, dir_fd=descriptors[-1]))
        descriptors.append(os.open(file_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                                   | os.O_CLOEXEC, dir_fd=descriptors[-1]))
        if not stat.S_ISREG(os.fstat(descriptors[-1]).st_mode):
            return _LINK
        digest = hashlib.sha256()
        while block := os.read(descriptors[-1], 1 << 20):
            digest.update(block)
        return digest.hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return _LINK
        raise
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def extra_recorded_files(entries: Sequence[AuditEntry]) -> dict[str, str]:
    """Other files recordgen wrote and recorded in the audit trail (e.g. redaction logs), by the
    audit entries that carry ``file`` and ``sha256`` under an action ending in "written"."""
    return {str(e.detail["file"]): str(e.detail["sha256"]) for e in entries
            if e.action.endswith("written") and "file" in e.detail and "sha256" in e.detail}
