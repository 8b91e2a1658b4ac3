"""Proof that nothing in the record was altered (``recordgen verify``).

:func:`verify_records` recomputes the audit trail's hash chain, checks it against the seals written
outside the store after every run, checks every column of every stored submission, document and
clock against the facts the trail last recorded for it (naming a value of the wrong type rather
than failing on it), and checks every output file's SHA-256 and permissions, reporting anything
altered, missing, made writable or added. Everything in the outbox is looked at, hidden files
included, and nothing in it is followed: only what recordgen itself writes there is passed over
(see "the files" below). What it can and cannot prove is set out in the README ("The records
store").
"""

from __future__ import annotations

import bisect
import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordgen import permissions
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
    ``about`` is "file" for anything in the outbox, "record" for the store, its trail and seals.
    ``kind`` says what to do about a finding in the outbox: "changed" (an issued file altered,
    removed or replaced), "added" (anything put there by hand), "permissions" (an issued file made
    writable or more widely readable), "leftover" (a temporary file of recordgen's own, left by a
    crash), or "" (changed or added: the advice covers both)."""

    where: str
    problem: str
    about: str = "record"
    kind: str = ""

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
    kinds = {f.kind for f in findings if f.about == "file"}
    changed, added = bool(kinds & {"changed", ""}), bool(kinds & {"added", ""})
    if changed or added:
        what = ("A document in the outbox was changed, removed or added by hand." if changed
                and added else "A document in the outbox was changed or removed by hand."
                if changed else "Something was added to the outbox by hand.")
        actions = (["put back any issued file changed or removed (from the backup: its SHA-256 "
                    "is shown by 'recordgen history')"] if changed else []) + (
                   ["move anything added by hand (a file, a folder, a link) out of the outbox"]
                   if added else [])
        todo = " and ".join(actions)
        advice.append(f"{what} {HOW_TO_CHANGE_A_DOCUMENT} {todo[0].upper()}{todo[1:]}.")
    if "permissions" in kinds:
        advice.append("An issued document can be changed, or read more widely, than recordgen "
                      "allows: anyone its permissions let write to it could change the record. "
                      "What it says still matches the store unless it is named above as altered. "
                      "Ask the system administrator to make it read-only again (permissions 0440, "
                      "as recordgen issued it) and to find out who changed them; if every "
                      "document is named, the outbox may be on a share that does not keep the "
                      "permissions recordgen sets. If every account on the server could read it, "
                      "tell your information governance lead.")
    if "leftover" in kinds:
        advice.append("recordgen was stopped part-way through issuing a document and left a "
                      "temporary file behind. It is not an issued document and no part of the "
                      "record, but it may hold personal data: ask the system administrator to "
                      "delete it. recordgen also removes it itself when it next writes the "
                      "document it was for.")
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
    where = f"outbox/{SEAL_FILE}"
    replaced = _what_stands_there(outbox / SEAL_FILE)
    if replaced is not None:  # never opened: reading a named pipe would wait for ever
        sealed: list[Seal] = []
        findings = [Finding(where, f"is {replaced}, not the file of seals recordgen writes: it "
                            "was replaced, so the store cannot be checked against its seals")]
    else:
        sealed, unreadable = read_seals(outbox)
        findings = [Finding(where, f"{problem}: it was altered, or cut off by a power cut or a "
                            "full disk") for problem in unreadable]
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

# What recordgen itself writes in the outbox besides the files it records one by one: the seal file
# at the top (recordgen.records.seal); a folder for each case, and _returns for the monitoring
# returns, each made as its first file is issued; and, while a file is issued, a temporary name
# beside it, ".NAME.<8 lower-case hex digits>.tmp" (recordgen.documents.publish writes it, links it
# into place as NAME, then removes it). Nothing else: a status page in the outbox is refused by the
# settings and its notes folder is in the inbox, the store and its lock are on the server's own disk,
# and PDFs are made in a private work folder. Everything else in the outbox is named.
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.tmp", re.DOTALL)
_ISSUED_MODE = permissions.ISSUED_FILE  # set exactly on every file issued, whatever the umask
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# Made by Windows Explorer or the Mac Finder in a folder someone browsed: named, and explained.
_FILE_MANAGERS = {"thumbs.db", "desktop.ini", ".ds_store"}
_LINKED = ("is a link (or sits in a linked folder), not the file issued: recordgen does not "
           "follow it")
_BY_HAND = "someone put it there by hand"


@dataclass(frozen=True)
class _Issued:
    """An issued file as found: its SHA-256, its permissions, and which file it is."""

    sha256: str
    mode: int
    identity: tuple[int, int]  # device and inode: the same file under another name has the same


def _file_findings(documents: list[dict[str, Any]], expected: Mapping[Key, dict[str, Any]],
                   entries: list[AuditEntry], outbox: Path) -> Iterator[Finding]:
    """Every file the trail says was issued must be in the outbox unaltered and still read-only;
    nothing else may be there but what recordgen itself writes."""
    files: dict[str, str] = {}
    for row in documents:
        facts = expected.get(("documents", row["id"])) or row_facts(row)
        for name, sha in ((facts.get("file_name"), facts.get("sha256")),
                          (facts.get("pdf_file_name"), facts.get("pdf_sha256"))):
            if isinstance(name, str) and isinstance(sha, str):
                files[name] = sha
    files.update(extra_recorded_files(entries))
    found: dict[str, _Issued] = {}
    for name, sha in sorted(files.items()):
        where = f"outbox/{name}"
        try:
            issued = _read_issued(outbox, name)
        except OSError as exc:
            yield Finding(where, f"cannot be read ({exc.strerror or exc})", "file", "changed")
            continue
        if issued is None:
            yield Finding(where, "is missing", "file", "changed")
        elif isinstance(issued, str):
            yield Finding(where, issued, "file", "changed")
        else:
            found[name] = issued
            if issued.sha256 != sha:
                yield Finding(where, "was altered (its SHA-256 no longer matches the store)",
                              "file", "changed")
            widened = _widened(issued.mode)
            if widened is not None:
                yield Finding(where, widened, "file", "permissions")
    yield from _unrecorded_findings(outbox, files, found)


def _read_issued(outbox: Path, name: str) -> _Issued | str | None:
    """``outbox/name`` read without following any link on the way, and without opening anything
    but a plain file (a named pipe would keep verify waiting): None when there is nothing there, a
    sentence when something else stands where the file or its folder should be."""
    *folders, file_name = name.split("/")
    descriptors: list[int] = []
    try:
        descriptors.append(os.open(outbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        for folder in folders:
            try:
                descriptors.append(os.open(folder, _FOLDER_FLAGS, dir_fd=descriptors[-1]))
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                there = os.stat(folder, dir_fd=descriptors[-1], follow_symlinks=False).st_mode
                return _LINKED if stat.S_ISLNK(there) else (
                    f"is missing: {_what(there)} stands where its folder, {folder}, should be")
        there = os.stat(file_name, dir_fd=descriptors[-1], follow_symlinks=False).st_mode
        if not stat.S_ISREG(there):
            return _instead_of_issued(there)
        descriptors.append(os.open(file_name, _FILE_FLAGS, dir_fd=descriptors[-1]))
        opened = os.fstat(descriptors[-1])
        if not stat.S_ISREG(opened.st_mode):  # swapped as it was opened
            return _instead_of_issued(opened.st_mode)
        digest = hashlib.sha256()
        while block := os.read(descriptors[-1], 1 << 20):
            digest.update(block)
        return _Issued(digest.hexdigest(), stat.S_IMODE(opened.st_mode),
                       (opened.st_dev, opened.st_ino))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link swapped in as it was opened
            return _LINKED
        raise
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def _instead_of_issued(mode: int) -> str:
    return _LINKED if stat.S_ISLNK(mode) else f"is {_what(mode)}, not the file issued"


def _what(mode: int) -> str:
    """What stands in the outbox, in words."""
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    special = "(a special file that holds no document)"
    if stat.S_ISFIFO(mode):
        return f"a named pipe {special}"
    if stat.S_ISSOCK(mode):
        return f"a socket {special}"
    return f"a device {special}"


def _what_stands_there(path: Path) -> str | None:
    """What stands at ``path``, not followed, if it is anything but a plain file; None for a plain
    file, for nothing, and for what cannot be looked at (reading it says why)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _what(mode)


def _widened(mode: int) -> str | None:
    """What an issued file's permissions allow beyond recordgen's read-only 0440, in words; None
    for 0440 or anything stricter (0400, say: read access taken away makes nothing changeable and
    nobody more able to read it)."""
    if not mode & ~_ISSUED_MODE:
        return None
    allowed = []
    writers = [who for bit, who in ((stat.S_IWUSR, "the account that owns it"),
                                    (stat.S_IWGRP, "its group"),
                                    (stat.S_IWOTH, "every account on the server")) if mode & bit]
    if writers:
        allowed.append(f"{_listed(writers)} can change it")
    if mode & stat.S_IROTH:
        allowed.append("every account on the server can read it")
    if mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        allowed.append("it can be run as a program")
    if mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
        allowed.append("it carries special permissions recordgen never gives a document")
    return (f"has wider permissions than recordgen issued it with: they are {mode:04o}, where "
            f"recordgen issues every document read-only ({_ISSUED_MODE:04o}), so "
            + ", and ".join(allowed))


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _unrecorded_findings(outbox: Path, files: Mapping[str, str],
                         issued: Mapping[str, _Issued]) -> Iterator[Finding]:
    """Everything in the outbox recordgen did not issue and does not write itself: every file
    (hidden ones and .tmp files too), folder, link, named pipe or other special file. Nothing is
    followed: a folder is opened relative to its parent, never through a link, and only the folders
    on the way down are held open. What stands where an issued file should be is named above."""
    folders = {"/".join(parts[:depth]) for parts in (name.split("/") for name in files)
               for depth in range(1, len(parts))}
    try:
        root = os.open(outbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return  # no outbox: every issued file is named missing above
    except OSError as exc:
        yield Finding("outbox", f"cannot be read ({exc.strerror or exc})", "file")
        return
    walking: list[tuple[int, str, Iterator[tuple[str, os.stat_result]]]] = []
    try:
        try:
            walking.append((root, "", iter(_listing(root))))
        except OSError as exc:
            os.close(root)
            yield Finding("outbox", f"cannot be read ({exc.strerror or exc})", "file")
            return
        while walking:
            descriptor, prefix, entries = walking[-1]
            entry = next(entries, None)
            if entry is None:
                walking.pop()
                os.close(descriptor)
                continue
            name, there = entry
            relative = prefix + name
            where = f"outbox/{relative}"
            ours = relative in files or (not prefix and name == SEAL_FILE)  # named above
            if not stat.S_ISDIR(there.st_mode):
                if not ours:
                    problem, kind = _unrecorded(descriptor, prefix, name, there, issued)
                    if problem:
                        yield Finding(where, problem, "file", kind)
                continue
            try:
                inner = os.open(name, _FOLDER_FLAGS, dir_fd=descriptor)
            except FileNotFoundError:
                continue  # removed as the outbox was read
            except OSError as exc:
                yield Finding(where, f"cannot be read ({exc.strerror or exc})", "file")
                continue
            try:
                listing = _listing(inner)
            except OSError as exc:
                os.close(inner)
                yield Finding(where, f"cannot be read ({exc.strerror or exc})", "file")
                continue
            walking.append((inner, relative + "/", iter(listing)))
            if not ours and relative not in folders:
                yield _unknown_folder(where, prefix, listing)
    finally:
        for descriptor, _, _ in walking:
            os.close(descriptor)


def _listing(descriptor: int) -> list[tuple[str, os.stat_result]]:
    """A folder's entries in name order, each as it stands (a link is not followed)."""
    found = []
    with os.scandir(descriptor) as entries:
        for entry in entries:
            try:
                found.append((entry.name, entry.stat(follow_symlinks=False)))
            except FileNotFoundError:
                continue  # removed as the folder was read
    return sorted(found, key=lambda item: item[0])


def _unknown_folder(where: str, prefix: str, listing: list[tuple[str, os.stat_result]]
                    ) -> Finding:
    if not listing:
        return Finding(where, "is an empty folder the store has no record of: someone made it "
                       "by hand", "file", "added")
    if not prefix and any(_TEMPORARY.fullmatch(name) and stat.S_ISREG(there.st_mode)
                          for name, there in listing):
        return Finding(where, "is a folder that holds nothing recordgen issued yet: recordgen "
                       "was stopped part-way through issuing the first document in it (its "
                       "temporary file is named next)", "file", "leftover")
    return Finding(where, "is a folder that holds nothing recordgen issued: someone made it by "
                   "hand", "file", "added")


def _unrecorded(descriptor: int, prefix: str, name: str, there: os.stat_result,
                issued: Mapping[str, _Issued]) -> tuple[str, str]:
    """What is wrong with a file, link or special file the store has no record of, and its kind
    (see :class:`Finding`); no problem ("") for recordgen's own temporary file that is the issued
    file itself under a second name, as a crash between placing the file and removing the
    temporary name leaves it (the file was checked above)."""
    mode = there.st_mode
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(name, dir_fd=descriptor)
        except OSError:
            pointing = ""
        else:
            pointing = f" (to {target if len(target) <= 200 else target[:200] + '…'!r})"
        return (f"is a link{pointing}, which recordgen never makes and does not follow: "
                f"{_BY_HAND}", "added")
    if not stat.S_ISREG(mode):
        return f"is {_what(mode)}, which recordgen never makes: {_BY_HAND}", "added"
    temporary = _TEMPORARY.fullmatch(name) if prefix.count("/") == 1 else None
    if temporary is not None:
        of = issued.get(prefix + temporary["name"])
        if of is not None and of.identity == (there.st_dev, there.st_ino):
            return "", ""
        return (f"is a temporary file recordgen writes while it issues {temporary['name']}, left "
                "behind when recordgen was stopped part-way (a crash, a restart or a power cut); "
                "it is not part of the record", "leftover")
    if name.lower() in _FILE_MANAGERS:
        why = " (Windows or a Mac makes a file by this name when someone browses the folder)"
    elif name.startswith("."):
        why = " (its name starts with a dot, so some computers hide it)"
    else:
        why = ""
    return "was added: the store has no record of it" + why, "added"


def extra_recorded_files(entries: Sequence[AuditEntry]) -> dict[str, str]:
    """Other files recordgen wrote and recorded in the audit trail (e.g. redaction logs), by the
    audit entries that carry ``file`` and ``sha256`` under an action ending in "written"."""
    return {str(e.detail["file"]): str(e.detail["sha256"]) for e in entries
            if e.action.endswith("written") and "file" in e.detail and "sha256" in e.detail}
