"""Many recordgen processes on one store, started at the same moment: every document issued is
recorded under its own version, and a store opened by ten processes at once opens for all ten.

Each child process gets ready, then waits on a pipe the test closes, so that they all begin
together (tests/concurrent_runner.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock, SystemClock
from recordgen.records.store import SqliteStore
from recordgen.records.verify import verify_records

from conftest import REPO, example

# Real processes, waited on with the real clock: left out of the faked-date runs.
pytestmark = pytest.mark.real_clock

RUNNER = Path(__file__).with_name("concurrent_runner.py")
CLOCK = FixedClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK))


@dataclass
class Child:
    process: subprocess.Popen[str]

    def result(self, timeout: float = 300) -> tuple[int, str]:
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out + err


def start_together(commands: list[list[str]]) -> list[Child]:
    """Start every child and wait until each says it is ready; then close the pipe they all wait
    on, so that they all begin at the same moment."""
    environment = {**os.environ, "COLUMNS": "200"}
    wait, release = os.pipe()
    ready_in, ready_out = os.pipe()
    try:
        children = [Child(subprocess.Popen(
            [sys.executable, str(RUNNER), f"{wait},{ready_out}", *command],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
            pass_fds=(wait, ready_out))) for command in commands]
    finally:
        os.close(wait)
        os.close(ready_out)
    ready = b""
    while len(ready) < len(commands):
        more = os.read(ready_in, len(commands))
        if not more:
            break  # a child died before it was ready: its result says why
        ready += more
    os.close(ready_in)
    os.close(release)
    return children


def write_config(folder: Path, templates: Path | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inbox").mkdir(exist_ok=True)
    path = folder / "recordgen.toml"
    path.write_text(f'[folders]\ntemplates = "{templates or REPO / "templates"}"\n'
                    f'schemas = "{REPO / "schemas"}"\n[output]\npdf = false\n')
    return path


# --- reserving and recording versions, straight on the store ---------------------------------------


def race_for_versions(folder: Path, producers: int, each: int, cases: int) -> None:
    path = folder / "store.sqlite3"
    SqliteStore(path, clock=CLOCK, create="the test").close()
    children = start_together([
        ["versions", str(path), f"producer{n}", str(each), str(cases)] for n in range(producers)])
    recorded, released = [], []
    for child in children:
        code, output = child.result()
        assert code == 0, output
        answer = json.loads(output.splitlines()[-1])
        recorded += [tuple(r) for r in answer["recorded"]]
        released += answer["released"]
    with SqliteStore(path, clock=CLOCK) as store:
        stored = {(d.case_ref, d.version, d.sha256) for d in store.documents()}
    # Every version a producer recorded is in the store, as that producer's document: none lost,
    # none shared, none overwritten.
    assert stored == set(recorded)
    assert len(recorded) == producers * each - len(released)
    per_case = Counter((case, version) for case, version, _ in recorded)
    assert max(per_case.values()) == 1


def test_producers_racing_on_the_same_cases_each_record_their_own_version(
    tmp_path: Path,
) -> None:
    race_for_versions(tmp_path, producers=4, each=50, cases=3)  # 200 versions, ~180 recorded


@pytest.mark.slow
def test_producers_racing_on_the_same_cases_hundreds_of_times(tmp_path: Path) -> None:
    for round_ in range(5):
        race_for_versions(tmp_path / f"round{round_}", producers=8, each=100, cases=5)


# --- two process runs and a regeneration on the same cases --------------------------------------------


def plan(case_ref: str, plan_date: str, objective: str) -> dict[str, object]:
    case = example("support_plan")
    case["case_ref"] = case_ref
    case["data"]["plan_date"] = plan_date
    case["data"]["objectives"][0]["objective"] = objective
    return case


def edit_template(folder: Path) -> None:
    path = folder / "support_plan.docx"
    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            if "What we will work on together" in run.text:
                run.text = run.text.replace("together", "together this quarter")
                document.save(str(path))
                return
    raise AssertionError("the heading to edit is not in the template")


def race_process_process_regenerate(folder: Path, cases: int) -> Counter[str]:
    """Version 1 of each case's plan is recorded; the template changes; then a regeneration and
    two ``process`` runs, each with its own update of every case, start at the same moment. The
    updates move the plan's date, so the three write files of different names (where the lost
    records used to hide)."""
    templates = folder / "templates"
    shutil.copytree(REPO / "templates", templates)
    config = write_config(folder, templates)
    refs = [f"RACE-{n:03d}" for n in range(cases)]
    for ref in refs:
        (folder / "inbox" / f"{ref}.json").write_text(json.dumps(plan(ref, "2026-09-14", "First")))
    assert CliRunner().invoke(cli, ["--config", str(config), "process"], obj=CLOCK).exit_code == 0
    edit_template(templates)
    for name, day in (("a", "2026-09-15"), ("b", "2026-09-16")):
        (folder / name).mkdir()
        for ref in refs:
            (folder / name / f"{ref}.json").write_text(
                json.dumps(plan(ref, day, f"Updated by run {name}")))
    children = start_together([
        ["cli", "--config", str(config), "process", *sorted(map(str, (folder / "a").iterdir()))],
        ["cli", "--config", str(config), "process", *sorted(map(str, (folder / "b").iterdir()))],
        ["cli", "--config", str(config), "regenerate", "--workers", "1"],
    ])
    results = [child.result() for child in children]
    for code, output in results:
        assert code == 0, output
    for _, output in results[:2]:
        assert f"{cases} produced" in output, output
    outbox = folder / "outbox"
    with SqliteStore(folder / "var" / "recordgen.sqlite3", clock=SystemClock()) as store:
        # Every file issued is recorded, unaltered, and nothing unrecorded is in the outbox.
        assert verify_records(store, outbox) == []
        versions: dict[str, list[int]] = defaultdict(list)
        made = Counter[str]()
        for document in store.documents():
            versions[document.case_ref].append(document.version)
            made["regenerated" if document.reason else "from a case file"] += 1
        accepted = [s for s in store.submissions() if s.outcome == "accepted"]
    assert len(accepted) == 3 * cases  # version 1, and both updates of every case
    for ref in refs:
        numbers = sorted(versions[ref])
        assert numbers == list(range(1, len(numbers) + 1)), (ref, numbers)  # no gap, no repeat
        assert len(numbers) in (3, 4), (ref, numbers)  # regenerated, or overtaken first
    docx_files = sorted(p.name for p in outbox.rglob("*.docx"))
    assert len(docx_files) == sum(len(v) for v in versions.values())
    return made


def test_two_process_runs_and_a_regeneration_on_the_same_cases_record_every_document(
    tmp_path: Path,
) -> None:
    made = race_process_process_regenerate(tmp_path, cases=8)
    assert made["from a case file"] == 3 * 8


@pytest.mark.slow
def test_two_process_runs_and_a_regeneration_race_again_and_again(tmp_path: Path) -> None:
    totals = Counter[str]()
    for round_ in range(6):
        totals += race_process_process_regenerate(tmp_path / f"round{round_}", cases=20)
    assert totals["from a case file"] == 6 * 3 * 20


# --- ten processes opening one store at once ------------------------------------------------------------


def open_together(folder: Path, config: Path, round_: int) -> list[tuple[int, str]]:
    """Eight processes open the store the way every command does, the moment they are released;
    a ``process`` run and a ``due`` start with them."""
    commands = [["open", str(config)] for _ in range(8)]
    commands += [["cli", "--config", str(config), "process"], ["cli", "--config", str(config), "due"]]
    children = start_together(commands)
    return [child.result(timeout=120) for child in children]


def open_ten_at_once(folder: Path, rounds: int) -> None:
    """Round 0 is on a fresh store (made by whichever starts first); the rest on the same store."""
    config = write_config(folder)
    for round_ in range(rounds):
        for code, output in open_together(folder, config, round_):
            assert code == 0, f"round {round_}: {output}"
    with SqliteStore(folder / "var" / "recordgen.sqlite3", clock=CLOCK) as store:
        assert [e.action for e in store.audit_entries()] == ["store created"]  # made once


def test_ten_processes_start_together_on_a_fresh_and_an_existing_store(tmp_path: Path) -> None:
    open_ten_at_once(tmp_path, rounds=2)


@pytest.mark.slow
def test_ten_processes_start_together_twenty_times(tmp_path: Path) -> None:
    for fresh in range(20):  # twenty fresh stores, each opened by ten processes, then ten more
        open_ten_at_once(tmp_path / f"store{fresh}", rounds=2)
