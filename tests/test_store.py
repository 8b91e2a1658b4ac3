"""The records store: migrations, idempotent recording, versions and the hash-chained audit."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from recordgen.clock import UK
from recordgen.store import (
    GENESIS_HASH,
    MIGRATIONS,
    DocumentRecord,
    SqliteStore,
    SubmissionRecord,
    audit_hash,
)

RECEIVED = dt.datetime(2026, 11, 23, 9, 30, tzinfo=UK)


def submission(claim_id: str = "c1", outcome: str = "accepted") -> SubmissionRecord:
    return SubmissionRecord(
        claim_id=claim_id, file_name="plan.json", sha256="a" * 64, received_at=RECEIVED,
        outcome=outcome, raw=b'{"kind": "support_plan"}', case_ref="THS-1", kind="support_plan",
    )


def document(version: int = 1, submission_id: int | None = None) -> DocumentRecord:
    return DocumentRecord(
        submission_id=submission_id, case_ref="THS-1", kind="support_plan", series="support_plan",
        version=version, document_date=dt.date(2026, 11, 23),
        file_name=f"THS-1/2026-11-23_THS-1_support-plan_v{version}.docx", sha256="b" * 64,
        content_sha256="c" * 64, template_sha256="d" * 64, context_sha256="e" * 64,
        software_version="0.1.0", produced_at=RECEIVED,
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    with SqliteStore(tmp_path / "var" / "store.sqlite3") as opened:
        yield opened


def test_new_store_applies_and_records_every_migration(store: SqliteStore) -> None:
    assert store.applied_migrations() == [m.version for m in MIGRATIONS]


def test_reopening_a_store_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    SqliteStore(path).close()
    with SqliteStore(path) as again:
        assert again.applied_migrations() == [m.version for m in MIGRATIONS]


def test_store_file_is_private_to_the_service_account(tmp_path: Path) -> None:
    path = tmp_path / "var" / "store.sqlite3"
    SqliteStore(path).close()
    assert path.stat().st_mode & 0o077 == 0


def test_recording_the_same_claim_twice_keeps_one_submission(store: SqliteStore) -> None:
    first = store.record_submission(submission())
    second = store.record_submission(submission())
    assert first == second
    assert len(store.submissions()) == 1
    assert store.submissions()[0].raw == b'{"kind": "support_plan"}'


def test_only_accepted_submissions_count_as_already_processed(store: SqliteStore) -> None:
    store.record_submission(submission("c1", outcome="rejected"))
    assert store.accepted_submission_with_sha("a" * 64) is None
    store.record_submission(submission("c2", outcome="accepted"))
    found = store.accepted_submission_with_sha("a" * 64)
    assert found is not None and found.claim_id == "c2"


def test_documents_are_versioned_and_recording_a_version_twice_is_a_no_op(
    store: SqliteStore,
) -> None:
    sid = store.record_submission(submission())
    first = store.record_document(document(1, sid))
    assert store.record_document(document(1, sid)) == first
    store.record_document(document(2, sid))
    latest = store.latest_document("THS-1", "support_plan")
    assert latest is not None and latest.version == 2
    assert [d.version for d in store.documents("THS-1")] == [1, 2]
    assert store.documents("OTHER") == []


def test_a_failed_transaction_leaves_nothing_behind(store: SqliteStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        sid = store.record_submission(submission())
        store.record_document(document(1, sid))
        raise RuntimeError("crash in the middle")
    assert store.submissions() == []
    assert store.documents() == []
    assert store.audit_entries() == []


def test_audit_entries_are_chained_by_hash(store: SqliteStore) -> None:
    sid = store.record_submission(submission())
    store.record_document(document(1, sid))
    entries = store.audit_entries()
    assert [e.action for e in entries] == ["submission accepted", "document produced"]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    for entry in entries:
        import json

        detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
        assert entry.hash == audit_hash(entry.prev_hash, entry.at, entry.action, entry.case_ref,
                                        detail)


def test_the_audit_trail_cannot_be_edited_or_deleted(store: SqliteStore) -> None:
    store.record_submission(submission())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("UPDATE audit SET action = 'nothing happened'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("DELETE FROM audit")
    assert len(store.audit_entries()) == 1


def test_document_fields_round_trip(store: SqliteStore) -> None:
    original = replace(document(1), due_on=dt.date(2026, 11, 25), met=False, working_days_late=2,
                       pdf_file_name="THS-1/x.pdf", pdf_sha256="f" * 64)
    store.record_document(original)
    (back,) = store.documents()
    assert replace(back, id=None) == original
