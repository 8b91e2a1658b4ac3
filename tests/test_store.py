"""The records store: migrations, idempotent recording, reserved versions and the hash-chained audit.

Every test that takes ``store`` (or ``place``) runs twice: on SQLite, and on a real PostgreSQL
started by the test session (a fresh database per test)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest

from recordgen.clock import UK, FixedClock
from recordgen.errors import StoreError, StoreMissing
from recordgen.records.postgres import Database, PostgresStore
from recordgen.records.store import (
    GENESIS_HASH,
    MIGRATIONS,
    ClockRecord,
    DocumentRecord,
    SqliteStore,
    SqlStore,
    SubmissionRecord,
    VersionRequest,
    audit_hash,
)

RECEIVED = dt.datetime(2026, 11, 23, 9, 30, tzinfo=UK)
CLOCK = FixedClock(RECEIVED)


def submission(claim_id: str = "c1", outcome: str = "accepted") -> SubmissionRecord:
    return SubmissionRecord(
        claim_id=claim_id, file_name="plan.json", sha256="a" * 64, received_at=RECEIVED,
        outcome=outcome, raw=b'{"kind": "support_plan"}', case_ref="THS-1", kind="support_plan",
    )


def document(version: int = 1, submission_id: int | None = None,
             sha256: str = "b" * 64) -> DocumentRecord:
    return DocumentRecord(
        submission_id=submission_id, case_ref="THS-1", kind="support_plan", series="support_plan",
        version=version, document_date=dt.date(2026, 11, 23),
        file_name=f"THS-1/2026-11-23_THS-1_support-plan_v{version}.docx", sha256=sha256,
        content_sha256="c" * 64, template_sha256="d" * 64, context_sha256="e" * 64,
        software_version="0.1.0", produced_at=RECEIVED,
    )


def ask(holder: str, context: str = "e" * 64, based_on: int | None = None) -> VersionRequest:
    return VersionRequest("THS-1", "support_plan", holder, template_sha256="d" * 64,
                          context_sha256=context, based_on=based_on)


def new_store(path: Path) -> SqliteStore:
    return SqliteStore(path, clock=CLOCK, create="a test")


@dataclass
class Place:
    """Where a test's store lives: a SQLite file, or a fresh PostgreSQL database."""

    backend: str
    path: Path
    database: Database | None = None

    def open(self, create: str | None = None, kind: type[SqlStore] | None = None) -> SqlStore:
        if self.database is not None:
            postgres = kind if kind is not None and issubclass(kind, PostgresStore) \
                else PostgresStore
            return postgres(self.database, clock=CLOCK, create=create)
        sqlite = kind if kind is not None and issubclass(kind, SqliteStore) else SqliteStore
        return sqlite(self.path, clock=CLOCK, create=create)

    def sql(self, store: SqlStore, statement: str) -> None:
        """Run SQL on the store's database directly, as someone going round recordgen would."""
        if isinstance(store, PostgresStore):
            store.db.execute(statement)
        else:
            assert isinstance(store, SqliteStore)
            store.db.execute(statement)


@pytest.fixture(params=["sqlite", "postgresql"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "postgresql":
        return Place("postgresql", tmp_path, request.getfixturevalue("postgres_database"))
    return Place("sqlite", tmp_path / "var" / "store.sqlite3")


@pytest.fixture
def store(place: Place) -> Iterator[SqlStore]:
    with place.open(create="a test") as opened:
        yield opened


def test_new_store_applies_and_records_every_migration(store: SqlStore) -> None:
    assert store.applied_migrations() == [m.version for m in MIGRATIONS]


def test_a_new_store_says_in_its_first_audit_entry_why_it_was_made(store: SqlStore) -> None:
    (entry,) = store.audit_entries()
    assert entry.action == "store created" and entry.detail == {"why": "a test"}


def test_reopening_a_store_applies_nothing_twice_and_adds_no_entry(place: Place) -> None:
    place.open(create="a test").close()
    with place.open() as again:
        assert again.applied_migrations() == [m.version for m in MIGRATIONS]
        assert [e.action for e in again.audit_entries()] == ["store created"]


def test_a_database_without_a_store_is_not_made_one_unless_asked(
        postgres_database: Database) -> None:
    with pytest.raises(StoreMissing, match=r"holds no records store .*Check that"):
        PostgresStore(postgres_database, clock=CLOCK)
    with PostgresStore(postgres_database, clock=CLOCK, create="a test") as made:
        assert [e.action for e in made.audit_entries()] == ["store created"]


def test_a_missing_store_is_not_made_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "var" / "store.sqlite3"
    with pytest.raises(StoreMissing,
                       match=r"does not exist\. Check that the disk or folder holding it is mounted"):
        SqliteStore(path, clock=CLOCK)
    assert not path.parent.exists()  # not even its folder


def test_store_file_is_private_to_the_service_account(tmp_path: Path) -> None:
    path = tmp_path / "var" / "store.sqlite3"
    new_store(path).close()
    assert path.stat().st_mode & 0o077 == 0


def test_recording_the_same_claim_twice_keeps_one_submission(store: SqlStore) -> None:
    first = store.record_submission(submission())
    second = store.record_submission(submission())
    assert first == second
    assert len(store.submissions()) == 1
    assert store.submissions()[0].raw == b'{"kind": "support_plan"}'


def test_only_accepted_submissions_count_as_already_processed(store: SqlStore) -> None:
    store.record_submission(submission("c1", outcome="rejected"))
    assert store.accepted_submission_with_sha("a" * 64) is None
    store.record_submission(submission("c2", outcome="accepted"))
    found = store.accepted_submission_with_sha("a" * 64)
    assert found is not None and found.claim_id == "c2"


def test_documents_are_versioned_and_recording_a_version_twice_is_a_no_op(
    store: SqlStore,
) -> None:
    sid = store.record_submission(submission())
    first = store.record_document(document(1, sid))
    assert store.record_document(document(1, sid)) == first
    store.record_document(document(2, sid))
    latest = store.latest_document("THS-1", "support_plan")
    assert latest is not None and latest.version == 2
    assert [d.version for d in store.documents("THS-1")] == [1, 2]
    assert store.documents("OTHER") == []


def test_a_different_document_under_a_recorded_version_is_refused_not_dropped(
    store: SqlStore,
) -> None:
    store.record_document(document(2))
    with pytest.raises(StoreError, match="Version 2 of support_plan for case THS-1 is already "
                                         "recorded"):
        store.record_document(replace(document(2, sha256="f" * 64),
                                      file_name="THS-1/2026-11-24_THS-1_support-plan_v2.docx"))
    assert [d.sha256 for d in store.documents()] == ["b" * 64]


# --- reserving version numbers --------------------------------------------------------------------


def test_each_holder_is_given_its_own_number_and_gets_it_back_on_a_retry(
    store: SqlStore,
) -> None:
    first = store.reserve_version(ask("claim A"))
    second = store.reserve_version(ask("claim B"))
    assert (first.status, first.version) == ("reserved", 1)
    assert (second.status, second.version) == ("reserved", 2)
    assert store.reserve_version(ask("claim A")).version == 1  # a retry after a crash
    store.record_document(document(2))
    store.record_document(document(1))  # the slower producer still records its own version
    assert sorted(d.version for d in store.documents()) == [1, 2]
    assert store.reserve_version(ask("claim C", context="9" * 64)).version == 3


def test_nothing_new_is_judged_against_the_latest_recorded_version(store: SqlStore) -> None:
    store.record_document(document(1))
    same = store.reserve_version(ask("claim A"))
    assert same.status == "unchanged" and same.latest is not None and same.latest.version == 1
    changed = store.reserve_version(ask("claim B", context="9" * 64))
    assert (changed.status, changed.version) == ("reserved", 2)
    # Not yet recorded: a file saying what version 1 says is still "unchanged" against version 1.
    assert store.reserve_version(ask("claim C")).status == "unchanged"


def test_a_released_number_is_given_again_but_never_one_already_used(store: SqlStore) -> None:
    assert store.reserve_version(ask("claim A")).version == 1
    store.release_version("claim A")
    assert store.reserve_version(ask("claim B")).version == 1
    store.record_document(document(1))
    store.release_version("claim B")  # a number something was recorded under is kept
    assert store.reserve_version(ask("claim C", context="9" * 64)).version == 2


def test_a_regeneration_is_superseded_by_a_newer_version_recorded_or_being_made(
    store: SqlStore,
) -> None:
    store.record_document(document(1))
    being_made = store.reserve_version(ask("claim A", context="9" * 64))
    assert being_made.version == 2
    assert store.reserve_version(ask("regen", context="8" * 64, based_on=1)).status == \
        "superseded"
    store.record_document(replace(document(2), context_sha256="9" * 64))
    assert store.reserve_version(ask("regen", context="8" * 64, based_on=1)).status == \
        "superseded"
    fresh = store.reserve_version(ask("regen 2", context="8" * 64, based_on=2))
    assert (fresh.status, fresh.version) == ("reserved", 3)


class LaggingStore(SqliteStore):
    """A store whose count of versions is out of date, as a second database connection's would be
    in the moment another producer takes a number (PostgreSQL read committed)."""

    def _highest_version(self, case_ref: str, series: str) -> int:
        return 0


class LaggingPostgresStore(PostgresStore):
    def _highest_version(self, case_ref: str, series: str) -> int:
        return 0


def test_a_producer_that_loses_the_race_for_a_number_takes_the_next(place: Place) -> None:
    kind = LaggingPostgresStore if place.database else LaggingStore
    with place.open(create="a test", kind=kind) as store:
        numbers = [store.reserve_version(ask(f"claim {n}", context=f"{n}" * 64)).version
                   for n in range(4)]
        # The transaction that met the broken constraint went on, and kept what it did.
        assert [e.action for e in store.audit_entries()] == ["store created"]
    assert numbers == [1, 2, 3, 4]


# --- transactions and the audit trail --------------------------------------------------------------


def test_a_failed_transaction_leaves_nothing_behind(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        sid = store.record_submission(submission())
        store.record_document(document(1, sid))
        raise RuntimeError("crash in the middle")
    assert store.submissions() == []
    assert store.documents() == []
    assert [e.action for e in store.audit_entries()] == ["store created"]


def test_audit_entries_are_chained_by_hash_and_carry_every_column(store: SqlStore) -> None:
    sid = store.record_submission(submission())
    store.record_document(document(1, sid))
    entries = store.audit_entries()
    assert [e.action for e in entries] == ["store created", "submission accepted",
                                           "document produced"]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, entry in itertools.pairwise(entries):
        assert entry.prev_hash == before.hash
    for entry in entries:
        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
        assert entry.hash == audit_hash(entry.prev_hash, entry.at, entry.action, entry.case_ref,
                                        detail)
    row = entries[2].detail["row"]
    assert row["case_ref"] == "THS-1" and row["version"] == 1 and row["submission_id"] == sid
    assert set(row) >= {"document_date", "due_on", "met", "working_days_late", "template_sha256",
                        "content_sha256", "context_sha256", "file_name", "sha256", "reason"}
    stored = entries[1].detail["row"]
    assert "raw" not in stored and len(stored["raw_sha256"]) == 64


def test_closing_a_clock_or_attaching_a_pdf_twice_is_audited_once(store: SqlStore) -> None:
    doc = store.record_document(document(1))
    clock = store.open_clock(ClockRecord("THS-1", "review", "support_plan", "2026-11-23",
                                         "2027-02-15", opened_by=doc))
    store.close_clock(clock, "2027-02-01", True, 0, doc)
    store.close_clock(clock, "2027-03-01", False, 10, doc)  # already closed: nothing changes
    store.attach_pdf(doc, "THS-1/a.pdf", "1" * 64)
    store.attach_pdf(doc, "THS-1/b.pdf", "2" * 64)
    actions = [e.action for e in store.audit_entries()]
    assert actions.count("clock closed") == 1 and actions.count("pdf produced") == 1
    (closed,) = store.clocks()
    assert (closed.closed, closed.met) == ("2027-02-01", True)
    assert store.documents()[0].pdf_file_name == "THS-1/a.pdf"


REFUSED: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.errors.RaiseException)


def test_the_audit_trail_cannot_be_edited_or_deleted(place: Place, store: SqlStore) -> None:
    store.record_submission(submission())
    with pytest.raises(REFUSED, match="append-only"):
        place.sql(store, "UPDATE audit SET action = 'nothing happened'")
    with pytest.raises(REFUSED, match="append-only"):
        place.sql(store, "DELETE FROM audit")
    if place.database is not None:
        with pytest.raises(REFUSED, match="append-only"):
            place.sql(store, "TRUNCATE audit")
    assert len(store.audit_entries()) == 2


def test_document_fields_round_trip(store: SqlStore) -> None:
    original = replace(document(1), due_on=dt.date(2026, 11, 25), met=False, working_days_late=2,
                       pdf_file_name="THS-1/x.pdf", pdf_sha256="f" * 64)
    store.record_document(original)
    (back,) = store.documents()
    assert replace(back, id=None) == original


@pytest.mark.parametrize(("edit", "named"), [
    ("UPDATE submissions SET raw = CAST(raw AS TEXT)", "submissions row 1, raw, holds text"),
    ("UPDATE documents SET version = 'two'", "documents row 1, version, holds text"),
    ("UPDATE documents SET document_date = 'yesterday'", "documents row 1, document_date"),
    ("UPDATE clocks SET met = 'yes'", "clocks row 1, met, holds text"),
])
def test_a_row_of_the_wrong_type_is_named_not_a_crash(tmp_path: Path, edit: str,
                                                       named: str) -> None:
    # SQLite only: a PostgreSQL column holds only values of its own type.
    store = new_store(tmp_path / "store.sqlite3")
    sid = store.record_submission(submission())
    doc = store.record_document(document(1, sid))
    store.open_clock(ClockRecord("THS-1", "review", "support_plan", "2026-11-23", "2027-02-15",
                                 opened_by=doc))
    store.db.execute(edit)
    with pytest.raises(StoreError) as caught:
        store.submissions()
        store.documents()
        store.clocks()
    assert named in str(caught.value) and "recordgen verify" in str(caught.value)
