"""The PostgreSQL store, against a real server the test session starts: the settings and where the
password comes from, least-privilege roles enforced by the database, the audit chain kept in order
by many writers at once, ``recordgen verify`` on PostgreSQL, and the server restarting."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_FAULT, EXIT_PROBLEMS, cli
from recordgen.clock import UK, FixedClock
from recordgen.errors import SettingsError, StoreError
from recordgen.records.chain import GENESIS_HASH, audit_hash
from recordgen.records.migrations import MIGRATIONS
from recordgen.records.postgres import Database, PostgresStore, read_password_file
from recordgen.records.rows import ClockRecord, DocumentRecord, SubmissionRecord
from recordgen.records.seal import write_seal
from recordgen.records.store import VersionRequest
from recordgen.records.verify import verify_records
from recordgen.settings import settings_from_mapping

from conftest import REPO, example

CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))
RECEIVED = dt.datetime(2026, 11, 23, 9, 30, tzinfo=UK)


def submission(claim_id: str) -> SubmissionRecord:
    return SubmissionRecord(claim_id=claim_id, file_name="plan.json",
                            sha256=hashlib.sha256(b"{}").hexdigest(),
                            received_at=RECEIVED, outcome="accepted", raw=b"{}",
                            case_ref="THS-1", kind="support_plan")


def document(version: int, submission_id: int | None = None) -> DocumentRecord:
    return DocumentRecord(
        submission_id=submission_id, case_ref="THS-1", kind="support_plan",
        series="support_plan", version=version, document_date=dt.date(2026, 11, 23),
        file_name=f"THS-1/plan_v{version}.docx", sha256="b" * 64, content_sha256="c" * 64,
        template_sha256="d" * 64, context_sha256=f"{version:064d}", software_version="0.1.0",
        produced_at=RECEIVED)


# --- settings: the address, and where the password comes from -------------------------------------


def settings_with(tmp_path: Path, store: dict[str, Any]) -> Any:
    return settings_from_mapping({"store": store}, base_dir=tmp_path)


@pytest.mark.parametrize(("store", "message"), [
    ({"url": "postgresql://watcher:secret@db/recordgen"}, "holds a password. Never put"),
    ({"url": "postgresql://watcher@db/recordgen?password=secret"}, "holds a password"),
    ({"url": "mysql://watcher@db/recordgen"}, "is not a PostgreSQL address"),
    ({"url": "postgresql://watcher@db"}, "names no database"),
    ({"url": "postgresql://w@db/r", "password_env": "X", "password_file": "p"},
     "both password_env and password_file"),
    ({"url": "postgresql://w@db/r", "password_env": "MY PASSWORD"},
     "must be the name of an environment variable"),
    ({"password_env": "RECORDGEN_DB_PASSWORD"}, "but [store] url is not set"),
    ({"url": "postgresql://w@db/r", "pasword_file": "p"}, 'Did you mean "password_file"?'),
    ({"url": 5}, "[store] url must be text"),
])
def test_bad_store_settings_are_refused_in_plain_english(tmp_path: Path, store: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(tmp_path, store)
    assert message in str(caught.value)


def test_sqlite_stays_the_default_with_nothing_to_set(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, {})
    assert not settings.store.postgresql
    assert settings.folders.store == tmp_path / "var" / "recordgen.sqlite3"


def test_a_password_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o640)
    with pytest.raises(StoreError, match=r"can be read or written by other accounts \(its mode "
                                         r"is 0640\)\. Make it private .*chmod 600"):
        read_password_file(secret)
    secret.chmod(0o600)
    assert read_password_file(secret) == "s3cret"


def test_a_password_file_that_is_a_link_or_not_ours_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "db-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(secret)
    with pytest.raises(StoreError, match=r"cannot be opened .*not a link"):
        read_password_file(link)
    if os.geteuid() == 0:
        os.chown(secret, 65534, 65534)  # nobody
        with pytest.raises(StoreError, match="belongs to another account"):
            read_password_file(secret)


# --- recordgen on PostgreSQL, through the command line ---------------------------------------------


@pytest.fixture
def pg_config(tmp_path: Path, postgres_database: Database) -> Path:
    """A settings file naming the test's database, its password in a private file."""
    secret = tmp_path / "db-password"
    secret.write_text(f"{postgres_database.password}\n")
    secret.chmod(0o600)
    path = tmp_path / "recordgen.toml"
    path.write_text(
        f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"\n'
        f'[output]\npdf = false\n[store]\nurl = "{postgres_database.url}"\n'
        f'password_file = "{secret}"\n')
    return path


def db_name(database: Database) -> str:
    return urlsplit(database.url).path.strip("/")


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj=CLOCK)
    return result.exit_code, result.output


def processed(config: Path) -> Path:
    inbox = config.parent / "inbox"
    inbox.mkdir(exist_ok=True)
    for kind in ("needs_assessment", "support_plan", "exit_letter", "serious_incident"):
        (inbox / f"{kind}.json").write_text(json.dumps(example(kind)))
    code, output = run(config, "process")
    assert code == 0, output
    return config


def test_process_history_and_verify_on_postgresql(pg_config: Path,
                                                  postgres_database: Database) -> None:
    processed(pg_config)
    assert not (pg_config.parent / "var").exists()  # no SQLite store was made
    code, output = run(pg_config, "verify")
    assert code == 0, output
    assert "The record is intact" in output
    code, output = run(pg_config, "history", "THS-2026-0142")
    assert code == 0 and "support-plan_v1.docx (version 1)" in output
    with PostgresStore(postgres_database, clock=CLOCK) as store:
        assert {s.kind for s in store.submissions()} == {
            "needs_assessment", "support_plan", "exit_letter", "serious_incident"}


def test_a_wrong_password_stops_recordgen_with_a_plain_message(pg_config: Path) -> None:
    (pg_config.parent / "db-password").write_text("not-the-password\n")
    code, output = run(pg_config, "process")
    assert code == EXIT_FAULT
    assert "could not be reached: " in output and "password authentication failed" in output
    assert "Traceback" not in output


def test_the_password_may_come_from_an_environment_variable(
        pg_config: Path, postgres_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    text = pg_config.read_text().replace(
        f'password_file = "{pg_config.parent / "db-password"}"',
        'password_env = "RECORDGEN_TEST_DB_PASSWORD"')
    pg_config.write_text(text)
    code, output = run(pg_config, "process")
    assert code == EXIT_FAULT and "RECORDGEN_TEST_DB_PASSWORD, but it is not set" in output
    monkeypatch.setenv("RECORDGEN_TEST_DB_PASSWORD", postgres_database.password or "")
    processed(pg_config)


def test_a_missing_store_in_a_database_with_documents_in_the_outbox_stops_recordgen(
        pg_config: Path, postgres_cluster: Any, postgres_database: Database) -> None:
    processed(pg_config)
    name = db_name(postgres_database)
    postgres_cluster.drop_database(name)  # a restore that put back an empty database
    postgres_cluster.create_database(name)
    code, output = run(pg_config, "process")
    assert code == EXIT_FAULT
    assert "holds no records store, but the outbox" in output and "store init" in output


PG_DOCUMENT_EDITS = {
    "case_ref": "'THS-2026-0097'", "version": "7", "document_date": "'2026-11-30'",
    "met": "0", "file_name": "'THS-2026-0142/other.docx'", "sha256": "'0000'",
    "reason": "'regenerated: for no reason'", "pdf_file_name": "'THS-2026-0142/x.pdf'",
}
PG_SUBMISSION_EDITS = {
    "outcome": "'rejected'", "reasons": "'[\"made up\"]'", "claim_id": "'someone'",
    "raw": "convert_to('{}', 'UTF8')",
}
PG_CLOCK_EDITS = {"due": "'2026-12-31'", "closed": "'2026-11-30'", "working_days_late": "9"}


@pytest.mark.parametrize(("table", "column", "value"), [
    *(("documents", c, v) for c, v in PG_DOCUMENT_EDITS.items()),
    *(("submissions", c, v) for c, v in PG_SUBMISSION_EDITS.items()),
    *(("clocks", c, v) for c, v in PG_CLOCK_EDITS.items()),
])
def test_verify_names_an_edit_made_in_the_database(pg_config: Path, postgres_cluster: Any,
                                                   postgres_database: Database, table: str,
                                                   column: str, value: str) -> None:
    processed(pg_config)
    name = db_name(postgres_database)
    with postgres_cluster.connect(name) as db:
        row = db.execute(f"SELECT id FROM {table} WHERE " + {  # noqa: S608
            "documents": "kind = 'exit_letter'", "submissions": "kind = 'exit_letter'",
            "clocks": "clock = 'exit-letter'"}[table]).fetchone()[0]
        db.execute(f"UPDATE {table} SET {column} = {value} WHERE id = %s", (row,))  # noqa: S608
    code, output = run(pg_config, "verify")
    assert code == EXIT_PROBLEMS, output
    assert any(line.startswith(f"{table} row {row}") and "was changed after it was recorded"
               in line for line in output.splitlines()), output


def test_verify_names_an_audit_entry_rewritten_behind_the_triggers_on_postgresql(
        pg_config: Path, postgres_cluster: Any, postgres_database: Database) -> None:
    processed(pg_config)
    name = db_name(postgres_database)
    with postgres_cluster.connect(name) as db:  # the superuser, who can switch triggers off
        db.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        db.execute("UPDATE audit SET action = 'submission rejected' WHERE id = 3")
    code, output = run(pg_config, "verify")
    assert code == EXIT_PROBLEMS
    assert "audit entry 3" in output and "altered" in output


# --- roles: the watcher's rights, enforced by the database ------------------------------------------


@pytest.fixture
def roles(postgres_cluster: Any, postgres_database: Database) -> tuple[Database, Database]:
    """An owner role that owns the database and made the store, and a watcher role granted a
    watcher's rights by ``store init --grant-to``: (owner, watcher)."""
    suffix = secrets.token_hex(4)
    owner, watcher = f"owner_{suffix}", f"watcher_{suffix}"
    postgres_cluster.create_role(owner, "owner-pw")
    postgres_cluster.create_role(watcher, "watcher-pw")
    name = f"records_{suffix}"
    postgres_cluster.create_database(name, owner=owner)
    with postgres_cluster.connect(name) as admin:
        admin.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
        admin.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{watcher}"')
    as_owner = Database(postgres_cluster.url(name, owner), "owner-pw")
    with PostgresStore(as_owner, clock=CLOCK, create="a test") as store:
        store.grant_to(watcher)
    return as_owner, Database(postgres_cluster.url(name, watcher), "watcher-pw")


def test_the_watcher_role_records_everything_a_watcher_does(roles: tuple[Database, Database],
                                                            tmp_path: Path) -> None:
    _, watcher = roles
    with PostgresStore(watcher, clock=CLOCK) as store:
        sid = store.record_submission(submission("c1"))
        reserved = store.reserve_version(VersionRequest("THS-1", "support_plan", "c1",
                                                        "d" * 64, "1" * 64))
        doc = store.record_document(document(reserved.version, sid))
        store.attach_pdf(doc, "THS-1/plan_v1.pdf", "f" * 64)
        clock = store.open_clock(ClockRecord("THS-1", "review", "support_plan", "2026-11-23",
                                             "2027-02-15", opened_by=doc))
        store.close_clock(clock, "2027-02-01", True, 0, doc)
        store.reserve_version(VersionRequest("THS-1", "support_plan", "c2", "d" * 64, "2" * 64))
        store.release_version("c2")
        assert write_seal(store, tmp_path / "outbox") is not None  # notes the seal in the store
        # Only the files are missing (this test wrote none): every row is as the trail says.
        assert [f for f in verify_records(store, tmp_path / "outbox") if f.about != "file"] == []


@pytest.mark.parametrize("statement", [
    "UPDATE audit SET action = 'nothing happened'",
    "DELETE FROM audit",
    "TRUNCATE audit",
    "DROP TRIGGER audit_no_update ON audit",
    "ALTER TABLE audit DISABLE TRIGGER USER",
    "UPDATE submissions SET raw = convert_to('{}', 'UTF8')",
    "UPDATE documents SET sha256 = '0000'",
    "DELETE FROM documents",
    "DELETE FROM submissions",
    "UPDATE clocks SET due = '2030-01-01'",
    "CREATE TABLE planted (id int)",
    "DROP TABLE seals",
])
def test_the_watcher_role_cannot_alter_the_record(roles: tuple[Database, Database],
                                                  statement: str) -> None:
    owner, watcher = roles
    with PostgresStore(owner, clock=CLOCK) as store:
        store.record_document(document(1, store.record_submission(submission("c1"))))
    with psycopg.connect(watcher.url, password=watcher.password, autocommit=True) as db, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute(statement)


def test_even_the_owner_cannot_edit_or_delete_an_audit_entry(
        roles: tuple[Database, Database]) -> None:
    owner, _ = roles
    with psycopg.connect(owner.url, password=owner.password, autocommit=True) as db:
        for statement in ("UPDATE audit SET action = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(statement)


def test_the_watcher_role_may_not_migrate_and_says_who_must(
        postgres_cluster: Any, roles: tuple[Database, Database]) -> None:
    owner, watcher = roles
    later = (*MIGRATIONS, MIGRATIONS[-1].__class__(
        99, "a change of a later recordgen", "", postgresql="CREATE TABLE later (id BIGINT)"))
    with pytest.raises(StoreError, match=r"does not own the store's tables .*store migrate"):
        PostgresStore(watcher, migrations=later, clock=CLOCK)
    with PostgresStore(owner, migrations=later, clock=CLOCK) as store:
        assert store.applied_migrations()[-1] == 99


# --- many writers at once: no fork, no gap --------------------------------------------------------


def test_many_writers_at_once_leave_one_unbroken_chain(postgres_database: Database,
                                                       tmp_path: Path) -> None:
    """Eight connections released together, each recording 40 case files with a document each
    (three audit entries per document, with version numbers reserved on one shared document):
    the trail is one chain, numbered 1 to N without a gap, each entry after the one before."""
    PostgresStore(postgres_database, clock=CLOCK, create="a test").close()
    writers, each = 8, 40
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            with PostgresStore(postgres_database, clock=CLOCK) as store:
                start.wait()
                for n in range(each):
                    holder = f"w{number}-{n}"
                    with store.transaction():
                        sid = store.record_submission(submission(holder))
                        reserved = store.reserve_version(VersionRequest(
                            "THS-1", "support_plan", holder, "d" * 64, f"{number:032d}{n:032d}"))
                        store.record_document(document(reserved.version, sid))
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with PostgresStore(postgres_database, clock=CLOCK) as store:
        entries = store.audit_entries()
        assert [e.id for e in entries] == list(range(1, 1 + 1 + writers * each * 2))
        assert entries[0].prev_hash == GENESIS_HASH
        for before, entry in itertools.pairwise(entries):
            assert entry.prev_hash == before.hash
            assert entry.hash == audit_hash(entry.prev_hash, entry.at, entry.action,
                                            entry.case_ref, entry.text)
        versions = sorted(d.version for d in store.documents())
        assert versions == list(range(1, writers * each + 1))  # no number lost or shared
        assert [f for f in verify_records(store, tmp_path / "outbox") if f.about != "file"] == []


def test_the_database_refuses_an_entry_that_does_not_follow_the_head(
        postgres_database: Database) -> None:
    """A writer that went round recordgen's lock with a stale head would fork the chain: the
    database refuses it, so the trail keeps one line whoever writes."""
    with PostgresStore(postgres_database, clock=CLOCK, create="a test") as store:
        store.record_submission(submission("c1"))
        first, second = store.audit_entries()
    with psycopg.connect(postgres_database.url, password=postgres_database.password,
                         autocommit=True) as db:
        fork = (3, "2026-11-23", "forged", None, "{}", first.hash, "f" * 64)  # after entry 1
        with pytest.raises(psycopg.errors.RaiseException, match="does not follow the last"):
            db.execute("INSERT INTO audit VALUES (%s, %s, %s, %s, %s, %s, %s)", fork)
        gap = (4, "2026-11-23", "forged", None, "{}", second.hash, "f" * 64)  # skips entry 3
        with pytest.raises(psycopg.errors.RaiseException, match="does not follow the last"):
            db.execute("INSERT INTO audit VALUES (%s, %s, %s, %s, %s, %s, %s)", gap)


# --- the server restarting ----------------------------------------------------------------------


@pytest.mark.real_clock
def test_the_store_carries_on_after_the_server_restarts(postgres_cluster: Any,
                                                        postgres_database: Database) -> None:
    with PostgresStore(postgres_database, clock=CLOCK, create="a test") as store:
        store.record_submission(submission("before"))
        postgres_cluster.restart()
        store.record_submission(submission("after"))  # connects again, waiting if need be
        assert [s.claim_id for s in store.submissions()] == ["before", "after"]


@pytest.mark.real_clock
def test_a_step_cut_off_by_a_restart_is_refused_whole_and_can_be_done_again(
        postgres_cluster: Any, postgres_database: Database) -> None:
    with PostgresStore(postgres_database, clock=CLOCK, create="a test") as store:
        with pytest.raises(StoreError, match="tried again"), store.transaction():
            store.record_submission(submission("cut"))
            postgres_cluster.restart()
            store.record_document(document(1))
        assert store.submissions() == []  # nothing half-recorded
        with store.transaction():
            sid = store.record_submission(submission("cut"))
            store.record_document(document(1, sid))
        assert [e.action for e in store.audit_entries()] == [
            "store created", "submission accepted", "document produced"]


def test_store_init_and_migrate_as_the_owner_then_watchers_record_as_the_watcher_role(
        tmp_path: Path, postgres_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's way: the owner makes the tables and grants the watcher role its rights; the
    settings name the watcher role; a later `store migrate` finds nothing to do."""
    suffix = secrets.token_hex(4)
    owner, watcher, name = f"owner_{suffix}", f"watcher_{suffix}", f"records_{suffix}"
    postgres_cluster.create_role(owner, "owner-pw")
    postgres_cluster.create_role(watcher, "watcher-pw")
    postgres_cluster.create_database(name, owner=owner)
    owner_url = postgres_cluster.url(name, owner)
    secret = tmp_path / "db-password"
    secret.write_text("watcher-pw\n")
    secret.chmod(0o600)
    config = tmp_path / "recordgen.toml"
    config.write_text(
        f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"\n'
        f'[output]\npdf = false\n[store]\nurl = "{postgres_cluster.url(name, watcher)}"\n'
        f'password_file = "{secret}"\n')
    code, output = run(config, "process")  # the watcher role may not make the tables
    assert code == EXIT_FAULT and "does not own the store's tables" in output
    monkeypatch.setenv("PGPASSWORD", "owner-pw")  # the owner's password, as ~/.pgpass would give
    code, output = run(config, "store", "init", "--url", owner_url, "--grant-to", watcher)
    assert code == 0, output
    assert "A new, empty records store was made" in output and watcher in output
    monkeypatch.delenv("PGPASSWORD")
    processed(config)
    assert run(config, "verify")[0] == 0
    monkeypatch.setenv("PGPASSWORD", "owner-pw")
    code, output = run(config, "store", "migrate", "--url", owner_url, "--grant-to", watcher)
    assert code == 0 and "is up to date" in output
    code, output = run(config, "store", "init", "--url", owner_url)
    assert code == EXIT_FAULT and "already exists" in output
