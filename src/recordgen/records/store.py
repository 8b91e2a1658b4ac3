"""The records store: what was received, what was produced, and an append-only, hash-chained audit.

:class:`Store` is the interface the rest of recordgen uses. :class:`SqlStore` does everything a store
does, in SQL that SQLite and PostgreSQL both understand, through a few hooks (run a query, insert a
row, begin, commit, roll back); :class:`SqliteStore` keeps the record in a local SQLite file, and
:class:`recordgen.records.postgres.PostgresStore` in a PostgreSQL database that several machines
share. What it holds (the records, and how a stored row is read) is
in :mod:`recordgen.records.rows`, the schema as a numbered list of migrations in
:mod:`recordgen.records.migrations`, what the audit chain covers in :mod:`recordgen.records.chain`.

Recording is idempotent: a submission is keyed by its claim (one claimed file, however often a crash
makes us retry it). A document's version number is reserved before the document is made
(:meth:`SqliteStore.reserve_version`), so any number of watchers, ``process`` runs and
regenerations on one store each publish and record their own version; a retry after a crash gets
its own number back, and recording the same document again is a no-op. A store is opened only where
it is expected: a missing one is created only when the caller says this is a first use.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, Self, cast

from recordgen import permissions
from recordgen.clock import Clock, SystemClock
from recordgen.errors import StoreError, StoreMissing
from recordgen.records.case_files import StoredCaseFile, case_file_of_row, picked_case_file
from recordgen.records.chain import GENESIS_HASH as GENESIS_HASH
from recordgen.records.chain import audit_hash as audit_hash
from recordgen.records.chain import reasons_text, row_facts
from recordgen.records.claims import ClaimRegistry
from recordgen.records.migrations import MIGRATIONS as MIGRATIONS
from recordgen.records.migrations import Migration as Migration
from recordgen.records.migrations import statements
from recordgen.records.rows import AuditEntry as AuditEntry
from recordgen.records.rows import ClockRecord as ClockRecord
from recordgen.records.rows import DocumentRecord as DocumentRecord
from recordgen.records.rows import Reservation as Reservation
from recordgen.records.rows import ReservationStatus as ReservationStatus
from recordgen.records.rows import Seal as Seal
from recordgen.records.rows import SubmissionOutcome as SubmissionOutcome
from recordgen.records.rows import SubmissionRecord as SubmissionRecord
from recordgen.records.rows import VersionRequest as VersionRequest
from recordgen.records.rows import clock_from_row, document_from_row, submission_from_row

# How long opening, migrating or writing waits for other recordgen processes before giving up.
WAIT_SECONDS = 60.0
# Tables a caller may read row by row, exactly as stored (for verify and the migrations).
_READABLE = ("submissions", "documents", "clocks")
# Every table of the record, for a copy of the whole store.
_RECORD_TABLES = ("submissions", "documents", "clocks", "versions", "audit", "seals")


class Store(Protocol):
    """What recordgen needs from a records store."""

    def close(self) -> None: ...

    def transaction(self) -> Any: ...

    def submission_by_claim(self, claim_id: str) -> SubmissionRecord | None: ...

    def accepted_submission_with_sha(self, sha256: str) -> SubmissionRecord | None: ...

    def record_submission(self, submission: SubmissionRecord) -> int: ...

    def latest_document(self, case_ref: str, series: str) -> DocumentRecord | None: ...

    def reserve_version(self, request: VersionRequest) -> Reservation: ...

    def release_version(self, holder: str) -> None: ...

    def record_document(self, document: DocumentRecord) -> int: ...

    def attach_pdf(self, document_id: int, file_name: str, sha256: str) -> None: ...

    def documents(self, case_ref: str | None = None) -> list[DocumentRecord]: ...

    def submissions(self, case_ref: str | None = None) -> list[SubmissionRecord]: ...

    def accepted_by_case(self, after: tuple[str, int], limit: int,
                         fields: Mapping[str, Sequence[str]], before: str | None = None
                         ) -> tuple[list[StoredCaseFile], tuple[str, int] | None]: ...

    def case_ref_splits(self, parts: int) -> list[str]: ...

    def another_reader(self) -> Store: ...

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None: ...

    def open_clock(self, clock: ClockRecord) -> int: ...

    def close_clock(self, clock_id: int, closed: str, met: bool, working_days_late: int,
                    closed_by: int | None) -> None: ...

    def clocks(self, case_ref: str | None = None, open_only: bool = False) -> list[ClockRecord]: ...

    def audit_entries(self, action: str | None = None) -> list[AuditEntry]: ...

    def rows(self, table: str) -> list[dict[str, Any]]: ...

    def chain_head(self, sealed_at: str = "") -> Seal | None: ...

    def record_seal(self, seal: Seal) -> None: ...

    def seals(self) -> list[Seal]: ...

    def claim_registry(self) -> ClaimRegistry | None: ...


class SqlStore:
    """Everything a records store does, on a database reached through the hooks below. Queries
    are written with ``?`` for each value; a row is read as a mapping of column to value."""

    clock: Clock
    _depth = 0
    # What the database raises for a broken unique constraint.
    _unique_violation: tuple[type[Exception], ...] = ()

    # --- the hooks each database fills in ---------------------------------------------------------

    def close(self) -> None:
        raise NotImplementedError

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Mapping[str, Any] | None:
        """The first row a query finds, or None."""
        raise NotImplementedError

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    def _run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run a statement; how many rows it changed."""
        raise NotImplementedError

    def _insert(self, sql: str, args: Sequence[Any]) -> int:
        """Insert one row into a table with an ``id``; the new row's id."""
        raise NotImplementedError

    def _begin(self) -> None:
        """Begin a transaction holding the store's write lock."""
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    # --- what every store shares ------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def claim_registry(self) -> ClaimRegistry | None:
        """Claims coordinated through the database, where machines share it; None where the work
        folders' own locks decide (one machine)."""
        return None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic block; nested blocks join the outer one. It begins by taking the store's
        write lock (as SQLite's ``BEGIN IMMEDIATE`` does), so writers take turns."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            self._commit()
        finally:
            self._depth = 0

    def _now(self) -> str:
        return self.clock.now().astimezone(dt.UTC).isoformat(timespec="microseconds")

    def applied_migrations(self) -> list[int]:
        return [int(row["version"]) for row in self._all(
            "SELECT version FROM migrations ORDER BY version")]

    def describe(self) -> str:
        """Where the store is, as it may be shown (never with a password)."""
        raise NotImplementedError

    def rows_after(self, table: str, after: int, limit: int | None) -> list[dict[str, Any]]:
        """Rows of any table of the record with an id above ``after``, in order, exactly as
        stored (for ``recordgen store copy``)."""
        if table not in _RECORD_TABLES:
            raise StoreError(f"recordgen does not copy the table {table!r}.")
        query = f"SELECT * FROM {table} WHERE id > ? ORDER BY id"  # noqa: S608 (a fixed name)
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return [dict(row) for row in self._all(query, (after,))]

    def last_row(self, table: str) -> dict[str, Any] | None:
        if table not in _RECORD_TABLES:
            raise StoreError(f"recordgen does not copy the table {table!r}.")
        row = self._one(f"SELECT * FROM {table} ORDER BY id DESC LIMIT 1")  # noqa: S608
        return dict(row) if row is not None else None

    # --- submissions ----------------------------------------------------------------------------

    def submission_by_claim(self, claim_id: str) -> SubmissionRecord | None:
        row = self._one("SELECT * FROM submissions WHERE claim_id = ?", (claim_id,))
        return submission_from_row(row) if row else None

    def accepted_submission_with_sha(self, sha256: str) -> SubmissionRecord | None:
        row = self._one(
            "SELECT * FROM submissions WHERE sha256 = ? AND outcome IN ('accepted', 'unchanged') "
            "ORDER BY id LIMIT 1",
            (sha256,),
        )
        return submission_from_row(row) if row else None

    def record_submission(self, submission: SubmissionRecord) -> int:
        """Record a submission once; recording the same claim again returns the first record's id."""
        with self.transaction():
            existing = self._one("SELECT id FROM submissions WHERE claim_id = ?",
                                 (submission.claim_id,))
            if existing is not None:
                return int(existing["id"])
            submission_id = self._insert(
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
                    reasons_text(submission.reasons),
                    submission.raw,
                ),
            )
            self._audit_row(f"submission {submission.outcome}", "submissions", submission_id)
            return submission_id

    def submissions(self, case_ref: str | None = None) -> list[SubmissionRecord]:
        query, args = "SELECT * FROM submissions", tuple[str, ...]()
        if case_ref is not None:
            query, args = query + " WHERE case_ref = ?", (case_ref,)
        return [submission_from_row(row) for row in self._all(query + " ORDER BY id", args)]

    def accepted_by_case(self, after: tuple[str, int], limit: int,
                         fields: Mapping[str, Sequence[str]], before: str | None = None
                         ) -> tuple[list[StoredCaseFile], tuple[str, int] | None]:
        """A page of the accepted case files of the kinds in ``fields``, ordered by case
        reference and then by row: up to ``limit`` rows after ``after`` (a case reference and a
        row id; ``("", 0)`` to start) and of cases before ``before`` (None: to the last case),
        and where the next page starts (None after the last). The whole record is read this way
        a page at a time, each case's together, never all at once (the monitoring returns over a
        large store); the index on case_ref serves the order.

        Of each case file only the keys ``fields`` gives for its kind are read, picked out by the
        database itself (a key the case file lacks is left out), which spares reading every whole
        case file in Python. A page holding a case file the database cannot read as JSON is read
        whole instead, and that case file left out, as
        :func:`recordgen.records.case_files.stored_case_file` leaves it out (verify reports it)."""
        case_ref, row_id = after
        kinds = sorted(fields)
        page_sql = (f"SELECT id, case_ref, kind, received_at, raw FROM submissions "  # noqa: S608
                    f"WHERE outcome = 'accepted' AND case_ref IS NOT NULL "
                    f"AND kind IN ({', '.join('?' * len(kinds))}) "
                    f"AND (case_ref, id) > (?, ?) "
                    f"{'' if before is None else 'AND case_ref < ? '}"
                    f"ORDER BY case_ref, id LIMIT ?")
        # The row value (case_ref, id) > (?, ?) lets the database start each page where the last
        # ended in the index; written as case_ref > ? OR (case_ref = ? AND id > ?) SQLite read
        # the whole return twice as slowly.
        page = (*kinds, case_ref, row_id, *(() if before is None else (before,)), int(limit))
        try:
            picked, args = self._picked({kind: fields[kind] for kind in kinds})
            rows = self._all(f"SELECT id, case_ref, kind, received_at, {picked} AS picked "  # noqa: S608
                             f"FROM ({self._page_of_data(page_sql)}) AS page "
                             f"ORDER BY case_ref, id", [*args, *page])
            found = [c for c in (picked_case_file(row, fields[str(row["kind"])])
                                 for row in rows) if c is not None]
        except StoreError:
            rows = self._all(page_sql, page)
            found = [c for c in map(case_file_of_row, rows) if c is not None]
        following = (str(rows[-1]["case_ref"]), int(rows[-1]["id"])) if len(rows) == limit \
            else None
        return found, following

    def case_ref_splits(self, parts: int) -> list[str]:
        """Case references that divide the cases holding case files into ``parts`` runs of
        about as many cases each, in case reference order: where each run after the first
        begins (fewer when there are fewer cases; none for one part). The monitoring returns
        read each run in a process of its own (:meth:`accepted_by_case` with ``after`` and
        ``before``); a case is never divided. Read from the index on case_ref alone. None
        inside a transaction: another connection would not see what it has written."""
        if parts < 2 or self._depth:
            return []
        refs = [str(row["case_ref"]) for row in self._all(
            "SELECT DISTINCT case_ref FROM submissions WHERE case_ref IS NOT NULL "
            "ORDER BY case_ref")]
        return sorted({refs[len(refs) * n // parts] for n in range(1, parts)
                       if len(refs) * n // parts > 0})

    def another_reader(self) -> SqlStore:
        """A connection of its own to the same store, for reading only: for a process that
        reads part of the store beside this one (a process must never use a connection its
        parent opened). Closed by the caller."""
        raise NotImplementedError

    def _page_of_data(self, page_sql: str) -> str:
        """The page with each case file as text the JSON functions read (``t``)."""
        return page_sql.replace(", raw FROM", ", CAST(raw AS TEXT) AS t FROM", 1)

    def _picked(self, fields: Mapping[str, Sequence[str]]) -> tuple[str, list[str]]:
        """SQL giving, for each row of the page, a JSON array of the values of its kind's keys,
        and its parameters (before the page's: the expression comes first in the query)."""
        cases, args = [], []
        for kind, keys in fields.items():
            picked = f"json_extract(t, {', '.join('?' * len(keys))})"
            cases.append(f"WHEN ? THEN {picked if len(keys) > 1 else f'json_array({picked})'}")
            args.extend([kind, *(f"$.data.{key}" for key in keys)])
        return f"CASE WHEN json_valid(t) THEN CASE kind {' '.join(cases)} END END", args

    # --- versions and documents -----------------------------------------------------------------

    def latest_document(self, case_ref: str, series: str) -> DocumentRecord | None:
        row = self._one(
            "SELECT * FROM documents WHERE case_ref = ? AND series = ? ORDER BY version DESC "
            "LIMIT 1",
            (case_ref, series),
        )
        return document_from_row(row) if row else None

    def reserve_version(self, request: VersionRequest) -> Reservation:
        """Hand out the next version number of a document, inside one transaction.

        A holder that already has a number for this document gets it back (a retry after a crash
        publishes under the same name, exactly once). Otherwise the request is judged against the
        latest *recorded* version: the same template and content is "unchanged"; a regeneration of
        a version that is no longer the latest, or while another producer is making a newer one,
        is "superseded". Else the next free number is taken: the unique constraint on (case,
        series, version) makes a producer that lost a race try the next number, never share one."""
        with self.transaction():
            own = self._one(
                "SELECT version FROM versions WHERE holder = ? AND case_ref = ? AND series = ?",
                (request.holder, request.case_ref, request.series))
            latest = self.latest_document(request.case_ref, request.series)
            if own is not None:
                return Reservation(ReservationStatus.RESERVED, int(own["version"]), latest)
            if request.based_on is not None and (
                    (latest.version if latest else 0) != request.based_on
                    or self._being_made(request)):
                return Reservation(ReservationStatus.SUPERSEDED, 0, latest)
            if latest is not None and latest.template_sha256 == request.template_sha256 \
                    and latest.context_sha256 == request.context_sha256:
                return Reservation(ReservationStatus.UNCHANGED, 0, latest)
            candidate = self._highest_version(request.case_ref, request.series) + 1
            while True:
                # A savepoint: on PostgreSQL a broken constraint spoils the transaction after it.
                self._run("SAVEPOINT reserving")
                try:
                    self._run(
                        "INSERT INTO versions (case_ref, series, version, holder, reserved_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (request.case_ref, request.series, candidate, request.holder,
                         self._now()))
                except self._unique_violation:
                    self._run("ROLLBACK TO SAVEPOINT reserving")
                    candidate += 1  # taken by another producer since we looked: the next one
                    continue
                finally:
                    self._run("RELEASE SAVEPOINT reserving")
                return Reservation(ReservationStatus.RESERVED, candidate, latest)

    def _highest_version(self, case_ref: str, series: str) -> int:
        row = self._one(
            "SELECT MAX(version) AS highest FROM (SELECT version FROM versions WHERE case_ref = ? "
            "AND series = ? UNION ALL SELECT version FROM documents WHERE case_ref = ? AND "
            "series = ?) AS used",
            (case_ref, series, case_ref, series))
        return int(row["highest"]) if row and isinstance(row["highest"], int) else 0

    def _being_made(self, request: VersionRequest) -> bool:
        """Another producer holds a newer number than ``based_on`` and has not recorded it yet."""
        return self._one(
            "SELECT 1 AS made FROM versions v WHERE v.case_ref = ? AND v.series = ? AND "
            "v.version > ? AND v.holder != ? AND NOT EXISTS (SELECT 1 FROM documents d WHERE "
            "d.case_ref = v.case_ref AND d.series = v.series AND d.version = v.version) LIMIT 1",
            (request.case_ref, request.series, request.based_on or 0, request.holder),
        ) is not None

    def release_version(self, holder: str) -> None:
        """Give back a number nothing was published under (the file was rejected before it was
        published, or will be planned again), so that version numbers stay without gaps."""
        with self.transaction():
            self._run(
                "DELETE FROM versions WHERE holder = ? AND NOT EXISTS (SELECT 1 FROM documents d "
                "WHERE d.case_ref = versions.case_ref AND d.series = versions.series AND "
                "d.version = versions.version)", (holder,))

    def record_document(self, document: DocumentRecord) -> int:
        """Record a produced document under its reserved version. The same document again (same
        version, file and hash: a retry) returns the first record's id; a different document under
        a version already recorded is refused with :class:`StoreError`, never dropped silently."""
        with self.transaction():
            row = self._one(
                "SELECT id, file_name, sha256 FROM documents WHERE case_ref = ? AND series = ? "
                "AND version = ?",
                (document.case_ref, document.series, document.version),
            )
            if row is not None:
                if (row["file_name"], row["sha256"]) == (document.file_name, document.sha256):
                    return int(row["id"])
                raise StoreError(
                    f"Version {document.version} of {document.series} for case "
                    f"{document.case_ref} is already recorded for {row['file_name']}, so "
                    f"{document.file_name} was not recorded. Two producers were given the same "
                    "version number; the case file is kept and will be tried again. Tell the "
                    "system administrator.")
            document_id = self._insert(
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
            # A version recorded without asking first (older callers, tests) still takes its number.
            self._run(
                "INSERT INTO versions (case_ref, series, version, holder, reserved_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (document.case_ref, document.series, document.version,
                 f"documents row {document_id}", self._now()))
            self._audit_row("document produced", "documents", document_id)
            return document_id

    def attach_pdf(self, document_id: int, file_name: str, sha256: str) -> None:
        """Record the PDF of a document whose PDF was made later than its Word file."""
        with self.transaction():
            changed = self._run(
                "UPDATE documents SET pdf_file_name = ?, pdf_sha256 = ? WHERE id = ? "
                "AND pdf_file_name IS NULL",
                (file_name, sha256, document_id),
            )
            if changed:
                self._audit_row("pdf produced", "documents", document_id)

    def documents(self, case_ref: str | None = None) -> list[DocumentRecord]:
        query, args = "SELECT * FROM documents", tuple[str, ...]()
        if case_ref is not None:
            query, args = query + " WHERE case_ref = ?", (case_ref,)
        return [document_from_row(row) for row in self._all(query + " ORDER BY id", args)]

    # --- clocks ---------------------------------------------------------------------------------

    def open_clock(self, clock: ClockRecord) -> int:
        """Record a clock once; the same (case, clock, subject, start) again is a no-op."""
        with self.transaction():
            row = self._one(
                "SELECT id FROM clocks WHERE case_ref = ? AND clock = ? AND subject = ? AND "
                "started = ?", (clock.case_ref, clock.clock, clock.subject, clock.started),
            )
            if row is not None:
                return int(row["id"])
            clock_id = self._insert(
                "INSERT INTO clocks (case_ref, clock, subject, started, due, closed, met, "
                "working_days_late, opened_by, closed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (clock.case_ref, clock.clock, clock.subject, clock.started, clock.due,
                 clock.closed, None if clock.met is None else int(clock.met),
                 clock.working_days_late, clock.opened_by, clock.closed_by),
            )
            self._audit_row("clock started" if clock.closed is None else "clock recorded",
                            "clocks", clock_id)
            return clock_id

    def close_clock(self, clock_id: int, closed: str, met: bool, working_days_late: int,
                    closed_by: int | None) -> None:
        """Close a clock still open; closing one already closed changes nothing."""
        with self.transaction():
            changed = self._run(
                "UPDATE clocks SET closed = ?, met = ?, working_days_late = ?, closed_by = ? "
                "WHERE id = ? AND closed IS NULL",
                (closed, int(met), working_days_late, closed_by, clock_id),
            )
            if changed:
                self._audit_row("clock closed", "clocks", clock_id)

    def clocks(self, case_ref: str | None = None, open_only: bool = False) -> list[ClockRecord]:
        query, args = "SELECT * FROM clocks WHERE 1 = 1", tuple[str, ...]()
        if case_ref is not None:
            query, args = query + " AND case_ref = ?", (case_ref,)
        if open_only:
            query += " AND closed IS NULL"
        return [clock_from_row(row) for row in self._all(query + " ORDER BY due, id", args)]

    # --- audit ----------------------------------------------------------------------------------

    def audit(self, action: str, case_ref: str | None, detail: Mapping[str, Any]) -> None:
        """Append one entry after the head of the trail. Inside a transaction, which holds the
        store's write lock until it commits, so two writers never read the same head: the trail
        has no fork and no gap however many processes write at once."""
        with self.transaction():
            row = self._one("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
            number, prev = (int(row["id"]) + 1, str(row["hash"])) if row else (1, GENESIS_HASH)
            at = self._now()
            text = json.dumps(detail, ensure_ascii=False, sort_keys=True)
            self._run(
                "INSERT INTO audit (id, at, action, case_ref, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (number, at, action, case_ref, text, prev,
                 audit_hash(prev, at, action, case_ref, text)),
            )

    def _audit_row(self, action: str, table: str, row_id: int) -> None:
        """An entry carrying every fact of a row as it now stands (see recordgen.records.chain)."""
        found = self._one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))  # noqa: S608
        row = dict(found or {})
        case_ref = row.get("case_ref")
        self.audit(action, case_ref if isinstance(case_ref, str) else None,
                   {"table": table, "id": row_id, "row": row_facts(row)})

    def audit_entries(self, action: str | None = None) -> list[AuditEntry]:
        """The audit trail in order; with ``action``, only its entries of that action (the
        returns' files, say, without reading a large trail whole)."""
        entries = []
        query, args = "SELECT * FROM audit", tuple[str, ...]()
        if action is not None:
            query, args = query + " WHERE action = ?", (action,)
        for row in self._all(query + " ORDER BY id", args):
            text = _as_text(row["detail"])
            try:
                detail = json.loads(text)
            except ValueError:
                detail = {}
            entries.append(AuditEntry(
                id=row["id"], at=_as_text(row["at"]), action=_as_text(row["action"]),
                case_ref=None if row["case_ref"] is None else _as_text(row["case_ref"]),
                detail=detail if isinstance(detail, dict) else {},
                prev_hash=_as_text(row["prev_hash"]), hash=_as_text(row["hash"]), text=text,
            ))
        return entries

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table exactly as stored (a number stays a number, text stays text)."""
        if table not in _READABLE:
            raise StoreError(f"recordgen does not read the table {table!r} row by row.")
        return [dict(row) for row in self._all(
            f"SELECT * FROM {table} ORDER BY id")]  # noqa: S608 (a fixed table name)

    # --- seals ----------------------------------------------------------------------------------

    def chain_head(self, sealed_at: str = "") -> Seal | None:
        """The seal of the audit chain as it stands (None while it is empty)."""
        row = self._one(
            "SELECT id, hash, (SELECT COUNT(*) FROM audit) AS entries FROM audit "
            "ORDER BY id DESC LIMIT 1")
        if row is None:
            return None
        return Seal(sealed_at or self._now(), int(row["id"]), int(row["entries"]),
                    _as_text(row["hash"]))

    def record_seal(self, seal: Seal) -> None:
        """Note in the store that ``seal`` was written outside it."""
        with self.transaction():
            self._run("INSERT INTO seals (sealed_at, entry, entries, hash) VALUES "
                      "(?, ?, ?, ?)", (seal.sealed_at, seal.entry, seal.entries, seal.hash))

    def seals(self) -> list[Seal]:
        return [Seal(_as_text(r["sealed_at"]), r["entry"], r["entries"], _as_text(r["hash"]))
                for r in self._all("SELECT sealed_at, entry, entries, hash FROM seals ORDER BY id")]


class SqliteStore(SqlStore):
    """The store on a local SQLite file (WAL mode, so a reader never blocks the watcher).

    A missing store is an error (:class:`StoreMissing`) unless ``create`` says why this is its
    first use; that reason is the new store's first audit entry. Opening and migrating take a lock
    beside the store, so processes starting together wait for each other instead of failing."""

    backend = "sqlite"
    _unique_violation = (sqlite3.IntegrityError,)

    def __init__(self, path: Path, migrations: Sequence[Migration] = MIGRATIONS,
                 clock: Clock | None = None, *, create: str | None = None) -> None:
        self.path = path
        self.clock = clock or SystemClock()  # stamps audit entries and migrations
        self._depth = 0
        if create is None and not path.exists():
            raise StoreMissing(f"The records store {path} does not exist. " + MISSING_ADVICE)
        try:
            if create is not None:
                path.parent.mkdir(parents=True, exist_ok=True, mode=permissions.PRIVATE_FOLDER)
            with _opening_lock(path):
                new = not path.exists()
                if new:
                    if create is None:
                        raise StoreMissing(f"The records store {path} disappeared while it was "
                                           "opened. " + MISSING_ADVICE)
                    # The store holds special-category data: readable by the service account only.
                    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW,
                                     permissions.PRIVATE_FILE))
                self.db = _connect(path)
                self._migrate(migrations)
                if new:
                    self.audit("store created", None, {"why": create})
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"The records store {path} could not be opened: {exc}.") from exc

    def close(self) -> None:
        self.db.close()

    def another_reader(self) -> SqliteStore:
        reader = object.__new__(SqliteStore)  # the store exists and is migrated: only connect
        reader.path, reader.clock, reader._depth = self.path, self.clock, 0
        try:
            reader.db = _connect(self.path, read_only=True)
        except sqlite3.Error as exc:
            raise StoreError(f"The records store {self.path} could not be opened: {exc}.") from exc
        return reader

    def describe(self) -> str:
        return str(self.path)

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Mapping[str, Any] | None:
        # sqlite3.Row reads by column name as a mapping does.
        return cast(Mapping[str, Any] | None, self.db.execute(sql, tuple(args)).fetchone())

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return cast(list[Mapping[str, Any]], self.db.execute(sql, tuple(args)).fetchall())

    def _run(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self.db.execute(sql, tuple(args)).rowcount

    def _insert(self, sql: str, args: Sequence[Any]) -> int:
        return int(self.db.execute(sql, tuple(args)).lastrowid or 0)

    def _begin(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"The records store {self.path} is busy or locked: {exc}.") from exc

    def _commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"The records store could not save: {exc}.") from exc

    def _rollback(self) -> None:
        self.db.execute("ROLLBACK")

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        with self.transaction():
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in self.db.execute("SELECT version FROM migrations")}
            for migration in sorted(migrations, key=lambda m: m.version):
                if migration.version in done:
                    continue
                for statement in statements(migration.sql_for(self.backend)):
                    self.db.execute(statement)
                if migration.then is not None:
                    migration.then(self)
                self.db.execute(
                    "INSERT INTO migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, self._now()),
                )

MISSING_ADVICE = (
    "Check that the disk or folder holding it is mounted, that [folders] store in the settings "
    "file points at it, and that a restore from backup put it back."
)


@contextmanager
def _opening_lock(path: Path) -> Iterator[None]:
    """Held while a store is opened, created or migrated: processes that start together take
    turns. The lock is a file beside the store, never the store itself."""
    lock = path.with_name(path.name + ".lock")
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                         permissions.PRIVATE_FILE)
    try:
        if not lock_within(descriptor, WAIT_SECONDS):
            raise StoreError(
                f"The records store {path} could not be opened: another recordgen process has "
                f"been opening it for over {WAIT_SECONDS:.0f} seconds. Check for a stuck recordgen "
                "process, then try again.")
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def lock_within(descriptor: int, seconds: float) -> bool:
    """Take an exclusive lock on an open file, waiting up to ``seconds`` for other processes that
    hold it; False if they still hold it then."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Connect and switch on WAL. Switching a new database to WAL fails at once, without waiting,
    when another connection is looking at it; such a failure is retried until WAIT_SECONDS.
    A ``read_only`` connection (to a store already made, which is in WAL mode) can change
    nothing, and is refused a write by SQLite itself."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        # A store is used by one thread at a time, but not always by the thread that opened it:
        # counting a return reads its next page in a helper thread while the page before is
        # counted (returns/facts.py), and nothing else uses the store meanwhile.
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro" if read_only else path,
                             isolation_level=None, timeout=WAIT_SECONDS,
                             check_same_thread=False, uri=read_only)
        try:
            db.row_factory = sqlite3.Row
            if read_only:
                db.execute(f"PRAGMA busy_timeout={int(WAIT_SECONDS * 1000)}")
                return db
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={int(WAIT_SECONDS * 1000)}")
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


