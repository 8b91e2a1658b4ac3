"""The store's schema, as a numbered list of migrations, each recorded in ``migrations`` when applied.

A migration is SQL, and may have a step in Python after it (:attr:`Migration.then`) for what SQL
cannot do, such as appending to the hash-chained audit trail. Migrations run inside one transaction
while the store's opening lock is held, so stores opened together wait for each other.

There is one list for both stores. Where PostgreSQL needs other SQL than SQLite (identity columns,
``BYTEA``, triggers written as functions), the migration carries it in :attr:`Migration.postgresql`;
the columns keep the same types as seen from Python (text, whole numbers, bytes), so the audit
trail's facts about a row are the same on both, and ``recordgen verify`` reads both alike. A
migration only one store needs has empty SQL for the other.
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
    sql: str  # SQLite
    then: Callable[[Migrating], None] | None = None
    postgresql: str | None = None  # PostgreSQL, where it differs from ``sql``

    def sql_for(self, backend: str) -> str:
        """The SQL of this migration for ``backend`` ("sqlite" or "postgresql")."""
        if backend == "postgresql" and self.postgresql is not None:
            return self.postgresql
        return self.sql


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
        postgresql="""
        CREATE TABLE submissions (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            claim_id TEXT NOT NULL UNIQUE,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            received_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            case_ref TEXT,
            kind TEXT,
            reasons TEXT NOT NULL DEFAULT '[]',
            raw BYTEA NOT NULL
        );
        CREATE INDEX submissions_sha ON submissions (sha256, outcome);
        CREATE INDEX submissions_case ON submissions (case_ref);
        CREATE TABLE documents (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            submission_id BIGINT REFERENCES submissions (id),
            case_ref TEXT NOT NULL,
            kind TEXT NOT NULL,
            series TEXT NOT NULL,
            version BIGINT NOT NULL,
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
            working_days_late BIGINT,
            UNIQUE (case_ref, series, version)
        );
        -- The entry's number is given by the writer (the next after the head), not a sequence:
        -- a transaction rolled back leaves no gap.
        CREATE TABLE audit (
            id BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            case_ref TEXT,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL UNIQUE,
            hash TEXT NOT NULL
        );
        -- The audit trail is append-only: the database itself refuses edits, deletions and
        -- emptying, whoever asks (the writer role is also granted nothing but SELECT and INSERT).
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit trail is append-only';
        END $$;
        CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
        -- No fork and no gap, even from a writer that skips recordgen's lock: each new entry must
        -- be the next number after the head and carry the head's hash. Two writers racing for the
        -- same place collide on the primary key and on the unique previous hash; one fails.
        CREATE FUNCTION audit_follows_head() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            head_id BIGINT;
            head_hash TEXT;
        BEGIN
            SELECT id, hash INTO head_id, head_hash FROM audit ORDER BY id DESC LIMIT 1;
            IF NOT FOUND THEN
                IF NEW.id <> 1 OR NEW.prev_hash <> repeat('0', 64) THEN
                    RAISE EXCEPTION 'the audit trail must start with entry 1';
                END IF;
            ELSIF NEW.id <> head_id + 1 OR NEW.prev_hash <> head_hash THEN
                RAISE EXCEPTION 'audit entry % does not follow the last entry (%): the trail '
                    'is appended to one entry at a time, in order', NEW.id, head_id;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER audit_in_order BEFORE INSERT ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_follows_head();
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
        postgresql="""
        CREATE TABLE clocks (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            case_ref TEXT NOT NULL,
            clock TEXT NOT NULL,
            subject TEXT NOT NULL,
            started TEXT NOT NULL,
            due TEXT NOT NULL,
            closed TEXT,
            met INTEGER,
            working_days_late BIGINT,
            opened_by BIGINT REFERENCES documents (id),
            closed_by BIGINT REFERENCES documents (id),
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
        postgresql="""
        CREATE TABLE versions (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            case_ref TEXT NOT NULL,
            series TEXT NOT NULL,
            version BIGINT NOT NULL,
            holder TEXT NOT NULL,
            reserved_at TEXT NOT NULL,
            UNIQUE (case_ref, series, version),
            UNIQUE (holder, case_ref, series)
        );
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
        postgresql="""
        CREATE TABLE seals (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            sealed_at TEXT NOT NULL,
            entry BIGINT NOT NULL,
            entries BIGINT NOT NULL,
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
    Migration(
        7,
        "claims coordinated through the database",
        "",  # one SQLite store serves one machine: claims there are the work folders' locks
        postgresql="""
        -- Each watcher or process run sharing the database, with the moment it last said it was
        -- alive (the database's own clock). It also holds a session advisory lock on lock_key for
        -- as long as it is connected, which the database frees the moment it dies.
        CREATE TABLE workers (
            worker TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            folder TEXT NOT NULL,
            lock_key BIGINT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        -- A file in the inbox is owned by the one worker whose row names it, taken before the
        -- file is moved: the database decides, not the share's rename or locks.
        CREATE TABLE claims (
            inbox_name TEXT PRIMARY KEY,
            claim_id TEXT NOT NULL UNIQUE,
            worker TEXT NOT NULL,
            claimed_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX claims_worker ON claims (worker);
        """,
    ),
)

# What the role recordgen's watchers connect as may do on PostgreSQL, and nothing more: read and
# append the record; fill in a PDF and close a clock (those columns only); give back a version
# number nothing was published under; keep its own claims. It may not alter or delete an audit
# entry, a case file received or a document recorded, nor change the schema.
POSTGRESQL_WRITER_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT ON migrations TO {role}",
    "GRANT SELECT, INSERT ON submissions, audit, seals TO {role}",
    "GRANT SELECT, INSERT ON documents TO {role}",
    "GRANT UPDATE (pdf_file_name, pdf_sha256) ON documents TO {role}",
    "GRANT SELECT, INSERT ON clocks TO {role}",
    "GRANT UPDATE (closed, met, working_days_late, closed_by) ON clocks TO {role}",
    "GRANT SELECT, INSERT, DELETE ON versions TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON workers, claims TO {role}",
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
