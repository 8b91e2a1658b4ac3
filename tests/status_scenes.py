"""Shared folders after real runs, for the status page's tests (and its browser tests): a settings
file with relative folders, the bundled examples processed by `recordgen process` with a fixed
clock, a rejection whose file is named after the person, a held subject access request, and a
watcher's note of its last look."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

from click.testing import CliRunner, Result

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.settings import Settings, load_settings
from recordgen.status.heartbeat import Command, Look, notes_folder, write_look

from conftest import EXAMPLES, REPO, example

MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UK)
# Names that are in the examples and must never be on the page (the person, her sister, the
# person in the incident).
NAMES = ("Siân", "O'Brien", "O&#39;Brien", "Okafor", "Daniel")
# A rejected file named after the person, as staff do; its first problem quotes a value that is a
# name ("Siân O'Brien" where a date belongs).
NAMED_FILE = "Siân O'Brien plan.json"


def shared_folder(tmp_path: Path, extra: str = "") -> Path:
    """A settings file with the inbox, outbox, rejected folder and store under ``tmp_path``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "recordgen.toml"
    config.write_text(
        f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = "{REPO / "schemas"}"\n'
        f'[output]\npdf = false\n{extra}', encoding="utf-8")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return config


def run(config: Path, *args: str, clock: FixedClock | None = None) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args],
                              obj=clock or FixedClock(MORNING), catch_exceptions=False)


# The scenes are told with the examples of the documents staff see most (four produced, one
# subject access request held); the other kinds' examples would only change the counts.
SCENE_KINDS = ("needs_assessment", "support_plan", "exit_letter", "serious_incident",
               "subject_access_request")


def drop_examples(config: Path, *, request: bool = True) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        kind = path.stem.split("_", 2)[2]
        if kind in SCENE_KINDS and (request or kind != "subject_access_request"):
            shutil.copy(path, config.parent / "inbox" / path.name)


def drop_named_rejection(config: Path) -> None:
    plan = example("support_plan")
    plan["data"]["plan_date"] = "Siân O'Brien"
    (config.parent / "inbox" / NAMED_FILE).write_text(json.dumps(plan, ensure_ascii=False),
                                                      encoding="utf-8")


def drop_word_document(config: Path, name: str = "letter to Siân.docx") -> None:
    with zipfile.ZipFile(config.parent / "inbox" / name, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")


def note_watcher(settings: Settings, looked_at: dt.datetime, *, host: str = "housing-srv1",
                 stopped: bool = False) -> None:
    write_look(notes_folder(settings.folders.inbox), Look(Command.WATCH, host, looked_at,
                                           looked_at - dt.timedelta(hours=2),
                                           stopped_at=looked_at if stopped else None,
                                           stop_reason="SIGTERM" if stopped else ""))


def busy_morning(tmp_path: Path) -> tuple[Path, Settings]:
    """The examples (the subject access request is held: PDF output is off), a file named after
    the person rejected, a Word document dropped by mistake (rejected), all processed at 10am on
    23 November 2026."""
    config = shared_folder(tmp_path)
    drop_examples(config)
    drop_named_rejection(config)
    drop_word_document(config)
    result = run(config, "process")
    assert result.exit_code == 1, result.output  # rejected and held files
    return config, load_settings(config)
