"""`recordgen status` and the records store it reads: a PostgreSQL store is always read (only a SQLite
file can be "not made yet"), and a store that is missing while the outbox holds documents stops it
with exit code 3 and a plain message, as it stops every other command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from recordgen.cli.exit_codes import EXIT_FAULT, EXIT_NOT_WATCHING
from recordgen.records.postgres import Database

from conftest import example
from status_scenes import run, shared_folder

# A paper copy of the plan asked for on Monday 9 November 2026 was due by 16 November (Support
# planning policy §5.10: within five working days) and sent on the 23rd: five working days late.
# Another person's, asked for on 20 November and not yet sent, is due by 27 November. Neither
# issues a document: the outbox stays empty.
LATE_COPY = {"requested_on": "2026-11-09", "sent_on": "2026-11-23", "sent_by": "post"}
OPEN_COPY = {"requested_on": "2026-11-20"}


def drop_copy_requests(config: Path) -> None:
    for name, case_ref, fields in (("late copy.json", "THS-2026-0142", LATE_COPY),
                                   ("open copy.json", "THS-2026-0150", OPEN_COPY)):
        request = {**example("hard_copy_request"), "case_ref": case_ref}
        request["data"].pop("sent_on", None)
        request["data"].update(fields)
        (config.parent / "inbox" / name).write_text(json.dumps(request, ensure_ascii=False),
                                                    encoding="utf-8")


def postgres_config(tmp_path: Path, database: Database) -> Path:
    secret = tmp_path / "db-password"
    secret.write_text(f"{database.password}\n", encoding="utf-8")
    secret.chmod(0o600)
    return shared_folder(tmp_path, f'[store]\nurl = "{database.url}"\npassword_file = "{secret}"\n')


def test_a_postgresql_store_with_an_empty_outbox_is_read(tmp_path: Path,
                                                         postgres_database: Database) -> None:
    config = postgres_config(tmp_path, postgres_database)
    drop_copy_requests(config)
    result = run(config, "process")
    assert result.exit_code == 0, result.output
    outbox = tmp_path / "outbox"
    assert [p.name for p in outbox.iterdir()] == [".recordgen-seals"]  # no document was issued
    (outbox / ".recordgen-seals").unlink()  # an outbox holding nothing at all
    assert not (tmp_path / "var").exists()  # and no SQLite file: the records are in the database

    result = run(config, "status")
    assert result.exit_code == EXIT_NOT_WATCHING, result.output  # only `process` has looked
    text = " ".join(result.output.split())
    assert "Needs your attention: 1" in text
    assert ("Produced late: hard copy of the support plan for case THS-2026-0142 was due by "
            "16 November 2026; met on 23 November 2026, 5 working days late.") in text
    assert "Due soon and overdue: 0 overdue, 0 due within two working days, 1 open in all" in text

    result = run(config, "status", "--json")
    report = json.loads(result.output)
    assert [(d["case_ref"], d["due"], d["working_days_late"]) for d in report["produced_late"]] == [
        ("THS-2026-0142", "2026-11-16", 5)]
    assert [(d["case_ref"], d["due"]) for d in report["due"]] == [("THS-2026-0150", "2026-11-27")]


def test_a_postgresql_database_without_a_store_is_reported_not_taken_for_a_first_run(
        tmp_path: Path, postgres_database: Database) -> None:
    config = postgres_config(tmp_path, postgres_database)
    result = run(config, "status")
    assert result.exit_code == EXIT_FAULT, result.output
    text = " ".join(result.output.split())
    assert "holds no records store yet: nothing has been recorded there" in text
    assert "'recordgen store init' makes it" in text
    assert "Traceback" not in result.output


def test_a_first_run_with_sqlite_has_no_store_yet_and_makes_none(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    result = run(config, "status")
    assert result.exit_code == EXIT_NOT_WATCHING, result.output
    assert "Due soon and overdue: 0 overdue, 0 due within two working days, 0 open in all" in \
        result.output
    assert not (tmp_path / "var").exists()


def test_a_missing_store_with_documents_in_the_outbox_stops_status_with_exit_3(
        tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    (config.parent / "inbox" / "letter.json").write_text(json.dumps(example("exit_letter")),
                                                         encoding="utf-8")
    assert run(config, "process").exit_code == 0
    page = tmp_path / "status.html"
    before = page.read_bytes()
    shutil.move(tmp_path / "var", tmp_path / "var-elsewhere")  # an unmounted disk
    for arguments in (["status"], ["status", "--json"]):
        result = run(config, *arguments)
        assert result.exit_code == EXIT_FAULT, result.output
        message = " ".join(result.output.split())
        assert f"The records store {tmp_path / 'var' / 'recordgen.sqlite3'} is missing" in message
        assert "so recordgen has run here before" in message
        assert "Check that the disk or folder holding it is mounted" in message
        assert "Traceback" not in result.output
        assert "Due soon and overdue" not in result.output  # no summary pretending all is known
    assert not (tmp_path / "var").exists()  # no new store made, not even its folder
    assert page.read_bytes() == before  # status only reads: the page is not written
    assert list((tmp_path / "outbox").rglob("*exit-confirmation-letter_v1.docx"))
