"""A store is made only on first use; a missing or emptied one stops recordgen (exit code 3) before
anything is processed, so that a store on an unmounted disk is never silently started again."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

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
    (tmp_path / "inbox").mkdir()
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj=CLOCK)
    return result.exit_code, result.output


def drop(config: Path, name: str, case_ref: str = "THS-2026-0142") -> Path:
    path = config.parent / "inbox" / name
    path.write_text(json.dumps({**example("support_plan"), "case_ref": case_ref}))
    return path


def store_path(config: Path) -> Path:
    return config.parent / "var" / "recordgen.sqlite3"


def actions(config: Path) -> list[str]:
    with sqlite3.connect(store_path(config)) as db:
        return [row[0] for row in db.execute("SELECT action FROM audit ORDER BY id")]


def test_the_first_run_with_an_empty_outbox_makes_the_store_and_says_why(config: Path) -> None:
    drop(config, "plan.json")
    code, output = run(config, "process")
    assert code == 0, output
    assert actions(config)[0] == "store created"
    with sqlite3.connect(store_path(config)) as db:
        (detail,) = db.execute("SELECT detail FROM audit WHERE id = 1").fetchone()
    assert json.loads(detail) == {"why": "the first run, with an empty outbox"}


@pytest.mark.parametrize("command", [["process"], ["watch", "--poll", "1"], ["due"],
                                     ["regenerate"], ["history", "THS-2026-0142"]])
def test_a_moved_store_stops_every_command_with_exit_3_and_nothing_is_processed(
    config: Path, command: list[str]
) -> None:
    drop(config, "plan.json")
    assert run(config, "process")[0] == 0
    shutil.move(config.parent / "var", config.parent / "var-elsewhere")  # an unmounted disk
    waiting = drop(config, "new plan.json", "THS-2026-0143")
    code, output = run(config, *command)
    assert code == EXIT_FAULT, output
    message = " ".join(output.split())
    assert f"The records store {store_path(config)} is missing" in message
    assert "the outbox" in message and "so recordgen has run here before" in message
    assert "Check that the disk or folder holding it is mounted" in message
    assert "a restore from backup" in message
    assert waiting.exists()  # not taken, not moved
    assert not (config.parent / "var").exists()  # no new store, not even its folder
    assert list((config.parent / "outbox").rglob("*THS-2026-0143*")) == []


def test_an_emptied_store_with_documents_in_the_outbox_stops_with_exit_3(config: Path) -> None:
    drop(config, "plan.json")
    assert run(config, "process")[0] == 0
    store_path(config).write_bytes(b"")  # a restore gone wrong: the file is there, the data not
    for suffix in ("-wal", "-shm"):
        store_path(config).with_name(store_path(config).name + suffix).unlink(missing_ok=True)
    waiting = drop(config, "again.json", "THS-2026-0143")
    code, output = run(config, "process")
    assert code == EXIT_FAULT
    assert "is empty, but the outbox" in " ".join(output.split())
    assert waiting.exists()


def test_store_init_refuses_to_replace_a_store(config: Path) -> None:
    drop(config, "plan.json")
    assert run(config, "process")[0] == 0
    before = store_path(config).read_bytes()
    code, output = run(config, "store", "init")
    assert code == EXIT_FAULT
    assert "A records store already exists" in output and "nothing was changed" in output
    assert store_path(config).read_bytes() == before


def test_store_init_starts_a_new_record_when_the_old_one_is_truly_lost(config: Path) -> None:
    drop(config, "plan.json")
    assert run(config, "process")[0] == 0
    shutil.rmtree(config.parent / "var")
    code, output = run(config, "store", "init")
    assert code == 0, output
    assert "A new, empty records store was made" in output
    assert "'recordgen verify' will list each one" in " ".join(output.split())
    with sqlite3.connect(store_path(config)) as db:
        (detail,) = db.execute("SELECT detail FROM audit WHERE id = 1").fetchone()
    assert "recordgen store init, with the outbox already holding" in json.loads(detail)["why"]
    drop(config, "next.json", "THS-2026-0143")
    assert run(config, "process")[0] == 0  # recordgen works again
    code, output = run(config, "verify")  # and the documents issued before are not hidden
    assert code == EXIT_PROBLEMS
    assert "support-plan_v1.docx: was added: the store has no record of it" in output


def test_verify_never_makes_a_store(config: Path) -> None:
    code, output = run(config, "verify")
    assert code == EXIT_FAULT
    assert "does not exist yet: nothing has been recorded here" in " ".join(output.split())
    assert not (config.parent / "var").exists()
