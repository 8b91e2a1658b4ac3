"""`recordgen history` and `recordgen verify`: the record answers, and proves it was not altered."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_PROBLEMS, cli
from recordgen.clock import UK, FixedClock

from conftest import REPO, example

CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "recordgen.toml"
    path.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"'
                    '\n[output]\npdf = false\n')
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for kind in ("needs_assessment", "support_plan", "exit_letter", "serious_incident"):
        (inbox / f"{kind}.json").write_text(json.dumps(example(kind)))
    result = CliRunner().invoke(cli, ["--config", str(path), "process"], obj=CLOCK)
    assert result.exit_code == 0, result.output
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj=CLOCK)
    return result.exit_code, result.output


def store(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "var" / "recordgen.sqlite3")


def test_history_lists_what_was_received_and_produced_in_order(config: Path) -> None:
    code, output = run(config, "history", "THS-2026-0142", "--json")
    assert code == 0
    events = json.loads(output)
    whats = [e["what"] for e in events]
    received = [w for w in whats if w.startswith("received")]
    produced = [w for w in whats if w.startswith("produced")]
    assert len(received) == 3 and len(produced) == 3
    assert all("THS-2026-0097" not in w for w in whats)  # nothing from another case
    # each receipt comes before the document it produced
    assert whats.index(received[0]) < whats.index(produced[0])
    plan = next(e for e in events if e["what"].startswith("produced") and
                "support-plan" in e["what"])
    path = config.parent / "outbox" / plan["what"].split()[1]
    import hashlib

    assert plan["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    clocks = [e for e in events if "clock" in e]
    assert {c["clock"] for c in clocks} == {"assessment", "referral", "review", "exit-letter"}
    assert next(c for c in clocks if c["clock"] == "exit-letter")["met"] is True


def test_history_table_and_an_unknown_case(config: Path) -> None:
    code, output = run(config, "history", "THS-2026-0097")
    assert code == 0 and "History of case THS-2026-0097" in output
    code, output = run(config, "history", "NO-SUCH-CASE")
    assert code == EXIT_PROBLEMS and "Nothing is recorded" in output


def test_verify_passes_on_an_untouched_record(config: Path) -> None:
    code, output = run(config, "verify")
    assert code == 0, output
    assert "The record is intact" in output


def test_verify_names_an_altered_output_file(config: Path) -> None:
    (plan,) = (config.parent / "outbox" / "THS-2026-0142").glob("*support-plan_v1.docx")
    plan.write_bytes(plan.read_bytes() + b"tampered")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert f"{plan.name}: was altered" in output


def test_verify_names_a_missing_and_an_added_file(config: Path) -> None:
    (letter,) = (config.parent / "outbox" / "THS-2026-0142").glob("*exit-confirmation*.docx")
    letter.unlink()
    (config.parent / "outbox" / "THS-2026-0142" / "planted.pdf").write_bytes(b"%PDF-1.4")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert f"{letter.name}: is missing" in output
    assert "planted.pdf: was added" in output


def test_verify_names_an_edited_document_row(config: Path) -> None:
    with store(config) as db:
        db.execute("UPDATE documents SET version = 7 WHERE id = 2")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "documents row 2" in output and "version was changed" in output


def test_verify_names_an_edited_stored_case_file(config: Path) -> None:
    with store(config) as db:
        db.execute("UPDATE submissions SET raw = CAST('{}' AS BLOB) WHERE id = 1")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "submissions row 1" in output and "stored copy of the case file was altered" in output


def test_verify_names_an_audit_entry_rewritten_behind_the_triggers(config: Path) -> None:
    with store(config) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET action = 'submission rejected' WHERE id = 3")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "audit entry 3" in output and "altered" in output


def test_verify_names_a_deleted_audit_entry(config: Path) -> None:
    with store(config) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE id = 4")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "audit entry 5" in output and "does not follow" in output
