"""The records store: what was received, what was produced, and an append-only, hash-chained audit.

:class:`Store` is the interface the rest of recordgen uses; :class:`SqliteStore` implements it on a
local SQLite file (DESIGN.md §4). A PostgreSQL store for several machines sharing one inbox is a
second implementation of the same interface. Schema changes are a numbered list of migrations,
each recorded in the ``migrations`` table when applied.

Recording is idempotent: a submission is keyed by its claim (one claimed file, however often a crash
makes us retry it) and a document by (case, series, version), so a retry never duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from recordgen.clock import Clock, SystemClock
from recordgen.errors import StoreError

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class SubmissionRecord:
    claim_id: str  # unique per claimed file; a retry after a crash reuses it
    file_name: str
    sha256: str
    received_at: dt.datetime
    outcome: str  # "accepted", "unchanged", "duplicate" or "rejected"
    raw: bytes
    case_ref: str | None = None
    kind: str | None = None
    reasons: tuple[str, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class DocumentRecord:
    case_ref: str
    kind: str
    series: str
    version: int
    document_date: dt.date
    file_name: str  # relative to the outbox
    sha256: str
    content_sha256: str
    template_sha256: str
    context_sha256: str
    software_version: str
    produced_at: dt.datetime
    submission_id: int | None = None
    pdf_file_name: str | None = None
    pdf_sha256: str | None = None
    due_on: dt.date | None = None
    met: bool | None = None
    working_days_late: int | None = None
    reason: str | None = None  # why a regenerated version was made
    id: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    action: str
    case_ref: str | None
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


class Store(Protocol):
    """What recordgen needs from a records store."""

    def close(self) -> None: ...

    def transaction(self) -> Any: ...

    def submission_by_claim(self, claim_id: str) -> SubmissionRecord | None: ...

    def accepted_submission_with_sha(self, sha256: str) -> SubmissionRecord | None: ...

    def record_submission(self, submission: SubmissionRecord) -> int: ...

    def latest_document(self, case_ref: str, series: str) -> DocumentRecord | None: ...

    def record_document(self, document: DocumentRecord) -> int: ...

    def attach_pdf(self, document_id: int, file_name: str, sha256: str) -> None: ...

    def documents(self, case_ref: str | None = None) -> list[DocumentRecord]: ...

    def submissions(self, case_ref: str | None = None) -> list[SubmissionRecord]: ...

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None: ...

    def open_clock(self, clock: ClockRecord) -> int: ...

    def close_clock(self, clock_id: int, closed: str, met: bool, working_days_late: int,
                    closed_by: int | None) -> None: ...

    def clocks(self, case_ref: str | None = None, open_only: bool = False) -> list[ClockRecord]: ...

    def audit_entries(self) -> list[AuditEntry]: ...


def audit_hash(prev_hash: str, at: str, action: str, case_ref: str | None, detail: str) -> str:
    """Each entry's hash covers the one before it, so altering any entry breaks every later one."""
    payload = json.dumps([prev_hash, at, action, case_ref, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: Sequence[Migration] = (
    Migration(
        1,
        "submissions, documents and the audit trail",
        """
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            claim_id TEXT NOT NULL UNIQUE,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            received_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            case_ref TEXT,
            kind TEXT,
            reasons TEXT NOT NULL DEFAULT '[]',
            raw BLOB NOT NULL
        );
        CREATE INDEX submissions_sha ON submissions (sha256, outcome);
        CREATE INDEX submissions_case ON submissions (case_ref);
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER REFERENCES submissions (id),
            case_ref TEXT NOT NULL,
            kind TEXT NOT NULL,
            series TEXT NOT NULL,
            version INTEGER NOT NULL,
            document_date TEXT NOT NULL,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            template_sha256 TEXT NOT NULL,
            context_sha256 TEXT NOT NULL,
            software_version TEXT NOT NULL,
            produced_at TEXT NOT NULL,
            pdf_file_name TEXT,
            pdf_sha256 TEXT,
            due_on TEXT,
            met INTEGER,
            working_days_late INTEGER,
            UNIQUE (case_ref, series, version)
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            case_ref TEXT,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        -- The audit trail is append-only: the database itself refuses edits and deletions.
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """,
    ),
    Migration(
        2,
        "statutory clocks",
        """
        CREATE TABLE clocks (
            id INTEGER PRIMARY KEY,
            case_ref TEXT NOT NULL,
            clock TEXT NOT NULL,
            subject TEXT NOT NULL,
            started TEXT NOT NULL,
            due TEXT NOT NULL,
            closed TEXT,
            met INTEGER,
            working_days_late INTEGER,
            opened_by INTEGER REFERENCES documents (id),
            closed_by INTEGER REFERENCES documents (id),
            UNIQUE (case_ref, clock, subject, started)
        );
        CREATE INDEX clocks_open ON clocks (closed, due);
        """,
    ),
    Migration(
        3,
        "why a document version was made",
        "ALTER TABLE documents ADD COLUMN reason TEXT;",
    ),
)


@dataclass(frozen=True)
class ClockRecord:
    """A statutory clock: started on a date (or at a moment), due by another, closed when met."""

    case_ref: str
    clock: str  # a deadlines.ClockName value, e.g. "exit-letter"
    subject: str  # what the clock is about within the case, e.g. "support_plan" or an incident
    started: str  # ISO date or date-time
    due: str  # ISO date or date-time
    closed: str | None = None
    met: bool | None = None
    working_days_late: int | None = None
    opened_by: int | None = None
    closed_by: int | None = None
    id: int | None = None


class SqliteStore:
    """The store on a local SQLite file (WAL mode, so a reader never blocks the watcher)."""

    def __init__(self, path: Path, migrations: Sequence[Migration] = MIGRATIONS,
                 clock: Clock | None = None) -> None:
        self.path = path
        self.clock: Clock = clock or SystemClock()  # stamps audit entries and migrations
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                # The store holds special-category data: readable by the service account only.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=30000")
            self._migrate(migrations)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"The records store {path} could not be opened: {exc}.") from exc
        self._depth = 0

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- transactions and migrations ------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic block; nested blocks join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"The records store {self.path} is busy or locked: {exc}.") from exc
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"The records store could not save: {exc}.") from exc
        finally:
            self._depth = 0

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        self.db.execute("BEGIN IMMEDIATE")
        try:
            done = {row[0] for row in self.db.execute("SELECT version FROM migrations")}
            for migration in sorted(migrations, key=lambda m: m.version):
                if migration.version in done:
                    continue
                for statement in _statements(migration.sql):
                    self.db.execute(statement)
                self.db.execute(
                    "INSERT INTO migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, self._now()),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _now(self) -> str:
        return self.clock.now().astimezone(dt.UTC).isoformat(timespec="microseconds")

    def applied_migrations(self) -> list[int]:
        return [row[0] for row in self.db.execute("SELECT version FROM migrations ORDER BY 1")]

    # --- submissions ----------------------------------------------------------------------------

    def submission_by_claim(self, claim_id: str) -> SubmissionRecord | None:
        row = self.db.execute("SELECT * FROM submissions WHERE claim_id = ?", (claim_id,)).fetchone()
        return _submission(row) if row else None

    def accepted_submission_with_sha(self, sha256: str) -> SubmissionRecord | None:
        row = self.db.execute(
            "SELECT * FROM submissions WHERE sha256 = ? AND outcome IN ('accepted', 'unchanged') "
            "ORDER BY id LIMIT 1",
            (sha256,),
        ).fetchone()
        return _submission(row) if row else None

    def record_submission(self, submission: SubmissionRecord) -> int:
        """Record a submission once; recording the same claim again returns the first record's id."""
        with self.transaction():
            existing = self.submission_by_claim(submission.claim_id)
            if existing is not None and existing.id is not None:
                return existing.id
            cursor = self.db.execute(
                "INSERT INTO submissions (claim_id, file_name, sha256, received_at, outcome, "
                "case_ref, kind, reasons, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    submission.claim_id,
                    submission.file_name,
                    submission.sha256,
                    submission.received_at.isoformat(timespec="seconds"),
                    submission.outcome,
                    submission.case_ref,
                    submission.kind,
                    json.dumps(list(submission.reasons), ensure_ascii=False),
                    submission.raw,
                ),
            )
            submission_id = int(cursor.lastrowid or 0)
            self.audit(
                f"submission {submission.outcome}",
                submission.case_ref,
                {
                    "submission": submission_id,
                    "file": submission.file_name,
                    "sha256": submission.sha256,
                    "kind": submission.kind,
                    "reasons": list(submission.reasons),
                },
            )
            return submission_id

    def submissions(self, case_ref: str | None = None) -> list[SubmissionRecord]:
        query, args = "SELECT * FROM submissions", tuple[str, ...]()
        if case_ref is not None:
            query, args = query + " WHERE case_ref = ?", (case_ref,)
        return [_submission(row) for row in self.db.execute(query + " ORDER BY id", args)]

    # --- documents ------------------------------------------------------------------------------

    def latest_document(self, case_ref: str, series: str) -> DocumentRecord | None:
        row = self.db.execute(
            "SELECT * FROM documents WHERE case_ref = ? AND series = ? ORDER BY version DESC "
            "LIMIT 1",
            (case_ref, series),
        ).fetchone()
        return _document(row) if row else None

    def record_document(self, document: DocumentRecord) -> int:
        """Record a produced document once; the same (case, series, version) again is a no-op."""
        with self.transaction():
            row = self.db.execute(
                "SELECT id FROM documents WHERE case_ref = ? AND series = ? AND version = ?",
                (document.case_ref, document.series, document.version),
            ).fetchone()
            if row is not None:
                return int(row[0])
            cursor = self.db.execute(
                "INSERT INTO documents (submission_id, case_ref, kind, series, version, "
                "document_date, file_name, sha256, content_sha256, template_sha256, "
                "context_sha256, software_version, produced_at, pdf_file_name, pdf_sha256, "
                "due_on, met, working_days_late, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    document.submission_id,
                    document.case_ref,
                    document.kind,
                    document.series,
                    document.version,
                    document.document_date.isoformat(),
                    document.file_name,
                    document.sha256,
                    document.content_sha256,
                    document.template_sha256,
                    document.context_sha256,
                    document.software_version,
                    document.produced_at.isoformat(timespec="seconds"),
                    document.pdf_file_name,
                    document.pdf_sha256,
                    document.due_on.isoformat() if document.due_on else None,
                    None if document.met is None else int(document.met),
                    document.working_days_late,
                    document.reason,
                ),
            )
            document_id = int(cursor.lastrowid or 0)
            self.audit(
                "document produced",
                document.case_ref,
                {
                    "document": document_id,
                    "series": document.series,
                    "version": document.version,
                    "file": document.file_name,
                    "sha256": document.sha256,
                    "pdf_file": document.pdf_file_name,
                    "pdf_sha256": document.pdf_sha256,
                    "template_sha256": document.template_sha256,
                    "reason": document.reason,
                },
            )
            return document_id

    def attach_pdf(self, document_id: int, file_name: str, sha256: str) -> None:
        """Record the PDF of a document whose PDF was made later than its Word file."""
        with self.transaction():
            self.db.execute(
                "UPDATE documents SET pdf_file_name = ?, pdf_sha256 = ? WHERE id = ? "
                "AND pdf_file_name IS NULL",
                (file_name, sha256, document_id),
            )
            case_ref = self.db.execute(
                "SELECT case_ref FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
            self.audit("pdf produced", case_ref[0] if case_ref else None,
                       {"document": document_id, "pdf_file": file_name, "pdf_sha256": sha256})

    def documents(self, case_ref: str | None = None) -> list[DocumentRecord]:
        query, args = "SELECT * FROM documents", tuple[str, ...]()
        if case_ref is not None:
            query, args = query + " WHERE case_ref = ?", (case_ref,)
        return [_document(row) for row in self.db.execute(query + " ORDER BY id", args)]

    # --- clocks ---------------------------------------------------------------------------------

    def open_clock(self, clock: ClockRecord) -> int:
        """Record a clock once; the same (case, clock, subject, start) again is a no-op."""
        with self.transaction():
            row = self.db.execute(
                "SELECT id FROM clocks WHERE case_ref = ? AND clock = ? AND subject = ? AND "
                "started = ?", (clock.case_ref, clock.clock, clock.subject, clock.started),
            ).fetchone()
            if row is not None:
                return int(row[0])
            cursor = self.db.execute(
                "INSERT INTO clocks (case_ref, clock, subject, started, due, closed, met, "
                "working_days_late, opened_by, closed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (clock.case_ref, clock.clock, clock.subject, clock.started, clock.due,
                 clock.closed, None if clock.met is None else int(clock.met),
                 clock.working_days_late, clock.opened_by, clock.closed_by),
            )
            clock_id = int(cursor.lastrowid or 0)
            self.audit("clock started" if clock.closed is None else "clock recorded",
                       clock.case_ref, {"clock": clock.clock, "subject": clock.subject,
                                        "started": clock.started, "due": clock.due,
                                        "met": clock.met})
            return clock_id

    def close_clock(self, clock_id: int, closed: str, met: bool, working_days_late: int,
                    closed_by: int | None) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE clocks SET closed = ?, met = ?, working_days_late = ?, closed_by = ? "
                "WHERE id = ? AND closed IS NULL",
                (closed, int(met), working_days_late, closed_by, clock_id),
            )
            row = self.db.execute("SELECT case_ref, clock, subject FROM clocks WHERE id = ?",
                                  (clock_id,)).fetchone()
            self.audit("clock closed", row["case_ref"], {"clock": row["clock"],
                       "subject": row["subject"], "met": met, "working_days_late":
                       working_days_late})

    def clocks(self, case_ref: str | None = None, open_only: bool = False) -> list[ClockRecord]:
        query, args = "SELECT * FROM clocks WHERE 1 = 1", tuple[str, ...]()
        if case_ref is not None:
            query, args = query + " AND case_ref = ?", (case_ref,)
        if open_only:
            query += " AND closed IS NULL"
        return [_clock(row) for row in self.db.execute(query + " ORDER BY due, id", args)]

    # --- audit ----------------------------------------------------------------------------------

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None:
        with self.transaction():
            row = self.db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS_HASH
            at = self._now()
            text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
            self.db.execute(
                "INSERT INTO audit (at, action, case_ref, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at, action, case_ref, text, prev, audit_hash(prev, at, action, case_ref, text)),
            )

    def audit_entries(self) -> list[AuditEntry]:
        return [
            AuditEntry(
                id=row["id"],
                at=row["at"],
                action=row["action"],
                case_ref=row["case_ref"],
                detail=json.loads(row["detail"]),
                prev_hash=row["prev_hash"],
                hash=row["hash"],
            )
            for row in self.db.execute("SELECT * FROM audit ORDER BY id")
        ]


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in sql.strip().splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            current = []
    return statements


def _submission(row: sqlite3.Row) -> SubmissionRecord:
    return SubmissionRecord(
        id=row["id"],
        claim_id=row["claim_id"],
        file_name=row["file_name"],
        sha256=row["sha256"],
        received_at=dt.datetime.fromisoformat(row["received_at"]),
        outcome=row["outcome"],
        raw=bytes(row["raw"]),
        case_ref=row["case_ref"],
        kind=row["kind"],
        reasons=tuple(json.loads(row["reasons"])),
    )


def _clock(row: sqlite3.Row) -> ClockRecord:
    return ClockRecord(
        id=row["id"], case_ref=row["case_ref"], clock=row["clock"], subject=row["subject"],
        started=row["started"], due=row["due"], closed=row["closed"],
        met=None if row["met"] is None else bool(row["met"]),
        working_days_late=row["working_days_late"], opened_by=row["opened_by"],
        closed_by=row["closed_by"],
    )


def _document(row: sqlite3.Row) -> DocumentRecord:
    return DocumentRecord(
        id=row["id"],
        submission_id=row["submission_id"],
        case_ref=row["case_ref"],
        kind=row["kind"],
        series=row["series"],
        version=row["version"],
        document_date=dt.date.fromisoformat(row["document_date"]),
        file_name=row["file_name"],
        sha256=row["sha256"],
        content_sha256=row["content_sha256"],
        template_sha256=row["template_sha256"],
        context_sha256=row["context_sha256"],
        software_version=row["software_version"],
        produced_at=dt.datetime.fromisoformat(row["produced_at"]),
        pdf_file_name=row["pdf_file_name"],
        pdf_sha256=row["pdf_sha256"],
        due_on=dt.date.fromisoformat(row["due_on"]) if row["due_on"] else None,
        met=None if row["met"] is None else bool(row["met"]),
        working_days_late=row["working_days_late"],
        reason=row["reason"],
    )


