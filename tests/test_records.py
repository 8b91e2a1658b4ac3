"""`recordgen history` and `recordgen verify`: the record answers, and proves it was not altered."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recordgen.cli import EXIT_FAULT, EXIT_PROBLEMS, cli
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
    assert {c["clock"] for c in clocks} == {"assessment", "referral", "plan", "review",
                                            "support-limit", "exit-letter", "outcomes-form"}
    assert next(c for c in clocks if c["clock"] == "exit-letter")["met"] is True


def test_history_table_and_an_unknown_case(config: Path) -> None:
    code, output = run(config, "history", "THS-2026-0097")
    assert code == 0 and "History of case THS-2026-0097" in output
    # Dates and times as staff write them, and each deadline in words.
    assert "2:20am on Thursday 19 November 2026  Serious incident notification started, due " \
        "by 2:20am on Friday 20 November 2026: met" in output
    assert "10am on Monday 23 November 2026  received serious_incident.json (accepted)" in output
    code, output = run(config, "history", "THS-2026-0142")
    assert "16 November 2026  Exit confirmation letter started, due by 25 November 2026: met" \
        in output
    assert "7 September 2026  First support plan started, due by 14 September 2026: late by " \
        "55 working days" in output
    assert "Leaver's outcomes form started, due by 14 December 2026: still open" in output
    assert "2026-" not in output.replace("THS-2026-", "").split("produced")[0]
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


# --- every column is covered ------------------------------------------------------------------------

DOCUMENT_EDITS = {
    "case_ref": "'THS-2026-0097'", "kind": "'support_plan'", "series": "'exit_letter/2'",
    "version": "7", "document_date": "'2026-11-30'", "due_on": "'2026-12-25'", "met": "0",
    "working_days_late": "4", "template_sha256": "'0000'", "content_sha256": "'0000'",
    "context_sha256": "'0000'", "file_name": "'THS-2026-0142/other.docx'", "sha256": "'0000'",
    "reason": "'regenerated: for no reason'", "submission_id": "2", "software_version": "'9.9'",
    "produced_at": "'2020-01-01T00:00:00+00:00'", "pdf_file_name": "'THS-2026-0142/x.pdf'",
    "pdf_sha256": "'0000'",
}
SUBMISSION_EDITS = {
    "case_ref": "'THS-2026-0097'", "kind": "'support_plan'", "outcome": "'rejected'",
    "reasons": "'[\"made up\"]'", "file_name": "'other.json'",
    "received_at": "'2026-01-01T00:00:00+00:00'", "sha256": "'0000'", "claim_id": "'someone'",
    "raw": "CAST('{}' AS BLOB)",
}
CLOCK_EDITS = {
    "case_ref": "'THS-2026-0097'", "clock": "'review'", "subject": "'support_plan'",
    "started": "'2026-11-01'", "due": "'2026-12-31'", "closed": "'2026-11-30'", "met": "0",
    "working_days_late": "9", "opened_by": "2", "closed_by": "2",
}


def lines_about(output: str, where: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(where)]


@pytest.mark.parametrize(("table", "column", "value"), [
    *(("documents", c, v) for c, v in DOCUMENT_EDITS.items()),
    *(("submissions", c, v) for c, v in SUBMISSION_EDITS.items()),
    *(("clocks", c, v) for c, v in CLOCK_EDITS.items()),
])
def test_verify_names_an_edit_to_any_column(config: Path, table: str, column: str,
                                            value: str) -> None:
    with store(config) as db:
        # The exit letter and its case file, and its clock: a clock with every column filled in.
        row = db.execute(f"SELECT id FROM {table} WHERE " + {  # noqa: S608
            "documents": "kind = 'exit_letter'", "submissions": "kind = 'exit_letter'",
            "clocks": "clock = 'exit-letter'"}[table]).fetchone()[0]
        db.execute(f"UPDATE {table} SET {column} = {value} WHERE id = ?", (row,))  # noqa: S608
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS, output
    found = lines_about(output, f"{table} row {row}")
    assert any(column in line and "was changed after it was recorded" in line
               for line in found), output
    assert "tell your information governance lead" in output


def test_moving_an_incident_report_to_another_persons_case_is_found(config: Path) -> None:
    """The attack found in review: the report would have gone into another person's bundle."""
    with store(config) as db:
        db.execute("UPDATE submissions SET case_ref = 'THS-2026-0142' "
                   "WHERE kind = 'serious_incident'")
        db.execute("UPDATE documents SET case_ref = 'THS-2026-0142' "
                   "WHERE kind = 'serious_incident'")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    changed = [line for line in output.splitlines()
               if "the case reference (case_ref) was changed" in line
               and "recorded 'THS-2026-0097', now 'THS-2026-0142'" in line]
    assert len(changed) == 2, output  # the case file received and the report


@pytest.mark.parametrize(("edit", "where", "named"), [
    ("UPDATE submissions SET raw = CAST(raw AS TEXT) WHERE id = 1", "submissions row 1",
     "raw holds the text"),
    ("UPDATE documents SET version = 'two' WHERE id = 2", "documents row 2",
     "the version holds the text 'two' where a whole number belongs"),
    ("UPDATE documents SET met = 'yes' WHERE kind = 'exit_letter'", "documents row",
     "whether the deadline was met (met) holds the text 'yes' where 0 or 1 belongs"),
    ("UPDATE clocks SET working_days_late = 'late' WHERE clock = 'review'", "clocks row",
     "the working days late (working_days_late) holds the text 'late' where a whole number "
     "belongs"),
    ("UPDATE documents SET document_date = X'00' WHERE id = 2", "documents row 2",
     "the document date (document_date) holds bytes where a date belongs"),
])
def test_a_value_of_the_wrong_type_is_named_by_verify_and_history(
    config: Path, edit: str, where: str, named: str
) -> None:
    with store(config) as db:
        db.execute(edit)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert any(named in line for line in lines_about(output, where)), output
    code, output = run(config, "history", "THS-2026-0142")
    assert code == EXIT_FAULT
    assert "cannot be read" in output and "recordgen verify" in output
    assert "Traceback" not in output


def test_deleting_only_the_newest_audit_entry_is_found(config: Path) -> None:
    with store(config) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "its newest entries were removed" in output  # the seal names the entry removed
    assert "is in the store but not in the audit trail" in output  # the row it recorded


def test_cutting_off_the_newest_entries_with_their_rows_and_files_is_found_by_the_seal(
    config: Path,
) -> None:
    """The last case file processed, its document, its clock and their entries all removed, and
    the document deleted from the outbox: only the seal written after the run remembers them."""
    with store(config) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        (sub, doc, name) = db.execute(
            "SELECT submission_id, id, file_name FROM documents ORDER BY id DESC").fetchone()
        first, _ = entry_of(db, "submissions", sub)
        db.execute("DELETE FROM audit WHERE id >= ?", (first,))
        db.execute("DELETE FROM clocks WHERE opened_by = ?", (doc,))
        db.execute("DELETE FROM documents WHERE id = ?", (doc,))
        db.execute("DELETE FROM submissions WHERE id = ?", (sub,))
    (config.parent / "outbox" / name).unlink()
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert lines_about(output, "outbox/.recordgen-seals")
    assert "its newest entries were removed, or the store was put back from an older backup" \
        in output


def entry_of(db: sqlite3.Connection, table: str, row: int) -> tuple[int, dict[str, Any]]:
    """The first audit entry that recorded a row, and its detail."""
    for entry_id, detail in db.execute("SELECT id, detail FROM audit ORDER BY id"):
        facts = json.loads(detail)
        if facts.get("table") == table and facts.get("id") == row:
            return entry_id, facts
    raise AssertionError(f"no audit entry for {table} row {row}")


def rechain(db: sqlite3.Connection, start: int) -> None:
    """What someone with the database alone can do: recompute every hash from entry ``start``."""
    from recordgen.records.chain import audit_hash

    prev = db.execute("SELECT hash FROM audit WHERE id = ?", (start - 1,)).fetchone()[0]
    for entry_id, at, action, case_ref, detail in db.execute(
            "SELECT id, at, action, case_ref, detail FROM audit WHERE id >= ? ORDER BY id",
            (start,)).fetchall():
        digest = audit_hash(prev, at, action, case_ref, detail)
        db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?",
                   (prev, digest, entry_id))
        prev = digest


def test_a_case_file_rewritten_and_the_trail_rechained_is_found_by_the_seals(
    config: Path,
) -> None:
    with store(config) as db:
        db.execute("DROP TRIGGER audit_no_update")
        sub, raw = db.execute("SELECT id, raw FROM submissions WHERE kind = 'support_plan'"
                              ).fetchone()
        forged = bytes(raw).replace(b'"review_date": "2026', b'"review_date": "2027')
        assert forged != raw
        digest = hashlib.sha256(forged).hexdigest()
        db.execute("UPDATE submissions SET raw = ?, sha256 = ? WHERE id = ?", (forged, digest, sub))
        entry_id, facts = entry_of(db, "submissions", sub)
        facts["row"].update(sha256=digest, raw_sha256=digest)
        db.execute("UPDATE audit SET detail = ? WHERE id = ?",
                   (json.dumps(facts, ensure_ascii=False, sort_keys=True), entry_id))
        rechain(db, entry_id)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    (seal_line,) = lines_about(output, "outbox/.recordgen-seals")
    assert "is not the entry sealed at 10am on Monday 23 November 2026: the trail was " \
           "rewritten" in seal_line
    assert not lines_about(output, "submissions row")  # the row itself matches the forged trail
    # ... and removing the seal file as well leaves the store's note of the seals it wrote
    (config.parent / "outbox" / ".recordgen-seals").unlink()
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "1 seal(s) the store says were written, the latest at 10am on Monday 23 November " \
           "2026, are not in the seal file: it was cut short, replaced or removed" in output


def test_an_edited_seal_line_is_named(config: Path) -> None:
    seals = config.parent / "outbox" / ".recordgen-seals"
    seals.write_text(seals.read_text().replace('"entries": ', '"entries": "'))
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "outbox/.recordgen-seals: line 3 is not a seal recordgen wrote" in output


# --- seals ------------------------------------------------------------------------------------------


def test_a_seal_is_written_after_each_run_that_recorded_something(config: Path) -> None:
    seals = config.parent / "outbox" / ".recordgen-seals"
    assert seals.stat().st_mode & 0o777 == 0o640
    lines = [line for line in seals.read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 1
    first = json.loads(lines[0])
    code, output = run(config, "store", "seal")
    assert code == 0 and first["hash"] in output and f"{first['entries']} entries" in output
    run(config, "process")  # nothing waiting: nothing recorded, no new seal
    assert len(seals.read_text().splitlines()) == 3
    (config.parent / "inbox" / "plan.json").write_text(json.dumps(
        {**example("support_plan"), "case_ref": "THS-2026-0200"}))
    run(config, "process")
    lines = [json.loads(line) for line in seals.read_text().splitlines()
             if not line.startswith("#")]
    assert len(lines) == 2 and lines[1]["entries"] > lines[0]["entries"]
    with store(config) as db:
        last_id, last_hash = db.execute("SELECT id, hash FROM audit ORDER BY id DESC").fetchone()
        assert (lines[1]["entry"], lines[1]["hash"]) == (last_id, last_hash)
    code, output = run(config, "verify")
    assert code == 0 and "it agrees with all 2 seals written outside the store" in output


# --- what staff are told ------------------------------------------------------------------------------


def test_an_edited_document_is_met_with_how_to_change_a_document(config: Path) -> None:
    (letter,) = (config.parent / "outbox" / "THS-2026-0142").glob("*exit-confirmation*.docx")
    letter.write_bytes(letter.read_bytes() + b"edited in Word")
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "correct the case file and drop it into the inbox again: a new version is issued, " \
           "and the old one stays on record" in output
    assert "information governance lead" not in output  # nothing in the store was touched


def test_the_process_summary_says_how_to_change_a_document(config: Path) -> None:
    (config.parent / "inbox" / "plan.json").write_text(json.dumps(
        {**example("support_plan"), "case_ref": "THS-2026-0300"}))
    code, output = run(config, "process")
    assert code == 0
    assert "To change what a document says, correct the case file and drop it into the inbox " \
           "again" in " ".join(output.split())


# --- stores made before every column was chained -----------------------------------------------------

FIXTURE = Path(__file__).with_name("fixtures") / "store-made-by-0.1.0.sqlite3"


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A store made by recordgen 0.1.0 before this change (four examples, a rejected file and a
    second support plan, PDFs off), in a settings folder with an empty outbox."""
    (tmp_path / "var").mkdir()
    shutil.copy(FIXTURE, tmp_path / "var" / "recordgen.sqlite3")
    (tmp_path / "inbox").mkdir()
    path = tmp_path / "recordgen.toml"
    path.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = '
                    f'"{REPO / "schemas"}"\n[output]\npdf = false\n')
    return path


def test_an_old_store_is_adopted_into_the_chain_and_keeps_verifying(old_store: Path) -> None:
    code, output = run(old_store, "verify")
    assert code == EXIT_PROBLEMS
    # The outbox of the fixture is not kept: its five documents are reported missing, and nothing
    # else is wrong.
    findings = [line for line in output.splitlines() if line.startswith(("outbox/", "audit",
                                                                          "documents", "clocks",
                                                                          "submissions"))]
    assert len(findings) == 5 and all(line.endswith(": is missing") for line in findings), output
    assert "information governance lead" not in output
    with store(old_store) as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit ORDER BY id")]
        migration = db.execute("SELECT name FROM migrations WHERE version = 6").fetchone()[0]
        rows = sum(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
                   for table in ("submissions", "documents", "clocks"))
    # 17 entries written by 0.1.0, then the migration's.
    assert actions[17] == "chain extended"
    assert actions[18:] == ["row adopted into the chain"] * rows and rows == 16
    assert "every column" in migration


def test_a_change_made_to_an_old_store_before_it_was_adopted_is_still_found(
    old_store: Path,
) -> None:
    with store(old_store) as db:
        db.execute("UPDATE documents SET file_name = 'THS-2026-0142/swapped.docx' WHERE id = 2")
        db.execute("UPDATE submissions SET outcome = 'duplicate' WHERE id = 3")
    code, output = run(old_store, "verify")
    assert code == EXIT_PROBLEMS
    assert "documents row 2: the file name (file_name) was changed before 10am on Monday 23 " \
           "November 2026, when it was taken into the chain" in output
    assert "submissions row 3: the outcome was changed before" in output


def test_after_adoption_a_change_to_an_old_clock_is_found(old_store: Path) -> None:
    run(old_store, "verify")  # opening the store migrates it
    with store(old_store) as db:
        db.execute("UPDATE clocks SET due = '2027-06-01' WHERE clock = 'review'")
    code, output = run(old_store, "verify")
    assert code == EXIT_PROBLEMS
    assert "the due date (due) was changed after it was recorded (recorded '2026-12-07', now " \
           "'2027-06-01')" in output


def test_a_seal_line_cut_off_is_named_and_the_next_seal_starts_a_line_of_its_own(
    config: Path,
) -> None:
    seals = config.parent / "outbox" / ".recordgen-seals"
    seals.write_bytes(seals.read_bytes() + b'{"sealed_at": "2026-11-2')  # a power cut mid-line
    (config.parent / "inbox" / "plan.json").write_text(json.dumps(
        {**example("support_plan"), "case_ref": "THS-2026-0400"}))
    assert run(config, "process")[0] == 0
    *_, cut, last = seals.read_text().splitlines()
    assert cut == '{"sealed_at": "2026-11-2' and json.loads(last)["entries"] > 0
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert "line 4 is not a seal recordgen wrote: it was altered, or cut off by a power cut" \
        in output


def test_a_link_in_place_of_an_issued_document_is_named_even_to_a_true_copy(config: Path) -> None:
    (plan,) = (config.parent / "outbox" / "THS-2026-0142").glob("*support-plan_v1.docx")
    copy = config.parent / "elsewhere.docx"
    shutil.copy(plan, copy)
    plan.unlink()
    plan.symlink_to(copy)
    code, output = run(config, "verify")
    assert code == EXIT_PROBLEMS
    assert f"{plan.name}: is a link (or sits in a linked folder), not the file issued" in output
