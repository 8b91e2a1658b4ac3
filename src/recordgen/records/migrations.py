"""The store's schema, as a numbered list of migrations, each recorded in ``migrations`` when applied.

A migration is SQL, and may have a step in Python after it (:attr:`Migration.then`) for what SQL
cannot do, such as appending to the hash-chained audit trail. Migrations run inside one transaction
while the store's opening lock is held, so stores opened together wait for each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from recordgen.records.chain import COVERED_TABLES, row_facts


class Migrating(Protocol):
    """What a Python migration step may use of the store being migrated."""

    def rows(self, table: str) -> list[dict[str, Any]]: ...

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    then: Callable[[Migrating], None] | None = None


ADOPTED = "row adopted into the chain"
CHAIN_EXTENDED = "chain extended"


def adopt_existing_rows(store: Migrating) -> None:
    """Stores made before the chain covered every column: take each existing row into the chain as
    it stands now, one entry per row, after an entry saying why. ``verify`` still checks each row
    against what the older entries recorded about it (its file, hashes, version...), so a row altered
    before this migration is still found."""
    rows = [(table, row) for table in COVERED_TABLES for row in store.rows(table)]
    if not rows:
        return
    store.audit(CHAIN_EXTENDED, None, {
        "what": "From here on the audit trail covers every column of the submissions, documents "
                "and clocks tables. The entries that follow take each row recorded before this "
                "change into the chain as it stood when the change was made.",
        "rows": len(rows),
    })
    for table, row in rows:
        store.audit(ADOPTED, _case_ref(row), {"table": table, "id": row["id"],
                                              "row": row_facts(row)})


def _case_ref(row: Mapping[str, Any]) -> str | None:
    value = row.get("case_ref")
    return value if isinstance(value, str) else None


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
    Migration(
        4,
        "version numbers reserved before a document is published",
        """
        -- One row per version number handed out. The unique constraint on (case, series, version)
        -- is what makes a second producer asking at the same moment take the next number; the one
        -- on (holder, case, series) gives a retry after a crash its own number back.
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            case_ref TEXT NOT NULL,
            series TEXT NOT NULL,
            version INTEGER NOT NULL,
            holder TEXT NOT NULL,
            reserved_at TEXT NOT NULL,
            UNIQUE (case_ref, series, version),
            UNIQUE (holder, case_ref, series)
        );
        INSERT INTO versions (case_ref, series, version, holder, reserved_at)
            SELECT case_ref, series, version, 'documents row ' || id, produced_at FROM documents;
        """,
    ),
    Migration(
        5,
        "seals written outside the store",
        """
        -- Each seal written to the outbox's seal file is also noted here, so that verify can tell
        -- a seal file cut short or removed from one never written.
        CREATE TABLE seals (
            id INTEGER PRIMARY KEY,
            sealed_at TEXT NOT NULL,
            entry INTEGER NOT NULL,
            entries INTEGER NOT NULL,
            hash TEXT NOT NULL
        );
        """,
    ),
    Migration(
        6,
        "every column of submissions, documents and clocks in the audit chain",
        "",
        then=adopt_existing_rows,
    ),
)


def statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    found, current = [], []
    for line in sql.strip().splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            found.append(joined)
            current = []
    return found
