"""``recordgen process PATH...``: every path given is taken or answered, and files from outside the
inbox are copied in, never moved.

An admin who runs ``recordgen process examples/*.json`` must find the examples folder as it was, and
one who mistypes a name, gives a folder or a link, or points at a Word document must be told, path
by path, why it was not taken.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.cli.exit_codes import EXIT_PROBLEMS
from recordgen.clock import UK, FixedClock
from recordgen.pipeline import FileStatus, Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file's bytes, mode and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


def test_every_path_not_taken_is_reported_with_the_reason(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    good = elsewhere / "plan.json"
    good.write_text(json.dumps(example("support_plan")))
    (elsewhere / "link.json").symlink_to(good)
    (elsewhere / "folder").mkdir()
    (elsewhere / "~$plan.json").write_text("{}")
    word = docx.Document()
    word.add_paragraph("a letter")
    word.save(str(elsewhere / "letter.docx"))
    paths = [good, elsewhere / "missing.json", elsewhere / "link.json", elsewhere / "folder",
             elsewhere / "~$plan.json", elsewhere / "letter.docx"]
    outcomes = process_inbox(services, paths)
    by_name = {o.file_name: o for o in outcomes}
    assert by_name["plan.json"].status == "produced"
    reasons = {Path(name).name: o.message for name, o in by_name.items()
               if o.status == FileStatus.NOT_TAKEN}
    assert set(reasons) == {"missing.json", "link.json", "folder", "~$plan.json", "letter.docx"}
    assert "There is no file or folder by this name" in reasons["missing.json"]
    assert "It is a link" in reasons["link.json"] and "never follows links" in reasons["link.json"]
    assert "It is a folder" in reasons["folder"] and "folder/*.json" in reasons["folder"]
    assert "temporary or system file" in reasons["~$plan.json"]
    assert "It seems to be a Word document (.docx), not a case file" in reasons["letter.docx"]
    # Nothing given was moved or changed: the good file was copied in, the others left alone.
    assert good.exists() and (elsewhere / "letter.docx").exists()
    assert (elsewhere / "link.json").is_symlink()
    assert services.store.submissions()[0].file_name == "plan.json"
    assert len(services.store.submissions()) == 1


def test_a_word_document_in_the_inbox_given_by_path_is_answered_like_any_in_the_inbox(
    services: Services, settings: Settings
) -> None:
    word = docx.Document()
    word.add_paragraph("a letter")
    path = settings.folders.inbox / "letter.docx"
    word.save(str(path))
    (outcome,) = process_inbox(services, [path])
    assert outcome.status == "rejected"
    assert (settings.folders.rejected / "letter.docx").exists() and not path.exists()


def test_a_file_in_the_inbox_given_by_path_is_taken_from_it(
    services: Services, settings: Settings
) -> None:
    path = settings.folders.inbox / "plan.json"
    path.write_text(json.dumps(example("support_plan")))
    (outcome,) = process_inbox(services, [path])
    assert outcome.status == "produced" and not path.exists()


def test_a_file_from_elsewhere_is_copied_in_and_never_moved_or_changed(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    bad = elsewhere / "bad.json"
    bad.write_bytes(b'{"kind": "support_plan"}')
    bad.chmod(0o600)
    before = snapshot(elsewhere)
    (outcome,) = process_inbox(services, [bad])
    assert outcome.status == "rejected"
    assert snapshot(elsewhere) == before
    copy = settings.folders.rejected / "bad.json"
    assert copy.read_bytes() == bad.read_bytes() and copy.stat().st_ino != bad.stat().st_ino
    assert copy.stat().st_mode & 0o777 == 0o600  # never readable by more than the original


def test_process_examples_leaves_the_examples_folder_untouched(tmp_path: Path) -> None:
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = '
                      f'"{REPO / "schemas"}"\n[output]\npdf = false\n', encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    before = snapshot(REPO / "examples")
    paths = [str(p) for p in sorted((REPO / "examples").glob("*.json"))]
    result = CliRunner().invoke(cli, ["--config", str(config), "process", *paths],
                                obj=FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=UK)))
    assert "7 produced, 3 recorded" in result.output, result.output
    assert snapshot(REPO / "examples") == before


def test_the_summary_lists_each_path_not_taken_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = '
                      f'"{REPO / "schemas"}"\n[output]\npdf = false\n', encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    os.symlink(REPO / "examples", tmp_path / "linked")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "process", str(tmp_path / "nope.json"),
              str(tmp_path / "linked")],
        obj=FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=UK)), env={"COLUMNS": "400"})
    assert result.exit_code == EXIT_PROBLEMS
    assert "2 not taken" in result.output
    assert "Files not taken were left where they are" in result.output
    assert "There is no file or folder by this name" in result.output
    assert "It is a link to another file" in result.output
