"""``recordgen store copy --to postgresql://...``: the whole record moves, verify passes on the copy,
and a copy interrupted half-way is simply run again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_FAULT, cli
from recordgen.clock import UK, FixedClock
from recordgen.records import copy as store_copy
from recordgen.records.opening import copy_to
from recordgen.records.postgres import Database, PostgresStore
from recordgen.records.store import SqliteStore
from recordgen.settings import load_settings

from conftest import REPO, example

CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))
TABLES = ("submissions", "documents", "clocks", "versions", "audit", "seals")


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj=CLOCK)
    return result.exit_code, result.output


@pytest.fixture
def config(tmp_path: Path, postgres_database: Database,
           monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite store with two runs' worth of records (every kind, a second version of a plan,
    a clock closed, seals written), and PostgreSQL's password where libpq looks for it."""
    monkeypatch.setenv("PGPASSWORD", postgres_database.password or "")
    path = tmp_path / "recordgen.toml"
    path.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"'
                    '\n[output]\npdf = false\n')
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for kind in ("needs_assessment", "support_plan", "exit_letter", "serious_incident"):
        (inbox / f"{kind}.json").write_text(json.dumps(example(kind)))
    assert run(path, "process")[0] == 0
    plan = example("support_plan")
    plan["data"]["hours_per_week"] = 2
    (inbox / "plan-2.json").write_text(json.dumps(plan))
    assert run(path, "process")[0] == 0
    return path


def using_postgresql(config: Path, database: Database) -> Path:
    """The same settings, with [store] url naming the copy."""
    secret = config.parent / "db-password"
    secret.write_text(f"{database.password}\n")
    secret.chmod(0o600)
    copy = config.with_name("recordgen-pg.toml")
    copy.write_text(config.read_text() + f'[store]\nurl = "{database.url}"\n'
                    f'password_file = "{secret}"\n')
    return copy


def table_rows(store: Any) -> dict[str, list[dict[str, Any]]]:
    return {table: store.rows_after(table, 0, None) for table in TABLES}


def test_the_whole_record_is_copied_and_verifies(config: Path,
                                                 postgres_database: Database) -> None:
    code, output = run(config, "store", "copy", "--to", postgres_database.url)
    assert code == 0, output
    assert "Copied into" in output and "recordgen verify passes on the copy" in output
    with SqliteStore(config.parent / "var" / "recordgen.sqlite3", clock=CLOCK) as old, \
            PostgresStore(postgres_database, clock=CLOCK) as new:
        before, after = table_rows(old), table_rows(new)
        for table in TABLES:
            copied = after[table][:len(before[table])]
            assert copied == before[table], table  # every row, exactly, ids included
        assert len(after["audit"]) == len(before["audit"]) + 1
        last = new.audit_entries()[-1]
        assert last.action == "store copied" and last.detail["from"].endswith("recordgen.sqlite3")
        assert before["versions"] and before["seals"] and before["clocks"]
    pg = using_postgresql(config, postgres_database)
    code, output = run(pg, "verify")
    assert code == 0 and "The record is intact" in output, output
    assert run(pg, "history", "THS-2026-0142")[1] == run(config, "history", "THS-2026-0142")[1]
    # The copy is where recordgen now records: a new case file goes on from the copied versions.
    plan = example("support_plan")
    plan["data"]["hours_per_week"] = 1
    (config.parent / "inbox" / "plan-3.json").write_text(json.dumps(plan))
    assert run(pg, "process")[0] == 0
    assert list((config.parent / "outbox" / "THS-2026-0142").glob("*support-plan_v3.docx"))
    assert run(pg, "verify")[0] == 0


def test_an_interrupted_copy_is_run_again_and_completes(config: Path,
                                                        postgres_database: Database,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_copy, "BATCH", 4)  # many batches, so it stops half-way
    settings = load_settings(config)
    batches = 0

    def power_cut(table: str, count: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_to(settings, postgres_database.url, CLOCK, progress=power_cut)
    with PostgresStore(postgres_database, clock=CLOCK) as half:
        assert 0 < sum(len(rows) for rows in table_rows(half).values()) < 60
    code, output = run(config, "store", "copy", "--to", postgres_database.url)
    assert code == 0, output
    assert "recordgen verify passes on the copy" in output
    code, output = run(config, "store", "copy", "--to", postgres_database.url)
    assert code == 0 and "already holds a complete copy" in output
    with SqliteStore(config.parent / "var" / "recordgen.sqlite3", clock=CLOCK) as old, \
            PostgresStore(postgres_database, clock=CLOCK) as new:
        for table, rows in table_rows(old).items():
            assert table_rows(new)[table][:len(rows)] == rows  # nothing twice, nothing missing
    assert run(using_postgresql(config, postgres_database), "verify")[0] == 0


def test_a_database_holding_another_record_is_refused(config: Path,
                                                      postgres_database: Database) -> None:
    PostgresStore(postgres_database, clock=CLOCK, create="another service's store").close()
    code, output = run(config, "store", "copy", "--to", postgres_database.url)
    assert code == EXIT_FAULT
    assert "already holds a records store that is not a copy" in output
    assert "Nothing was copied" in output


def test_a_copy_address_with_a_password_is_refused(config: Path) -> None:
    code, output = run(config, "store", "copy", "--to", "postgresql://owner:secret@db/records")
    assert code == EXIT_FAULT and "holds a password" in output
    assert "secret" not in output  # a password is never repeated back
