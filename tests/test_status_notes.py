"""The notes the watchers leave in the inbox's hidden folder: a look is noted at most every ten
seconds (a watcher polling every second does not write a note every second), unless forced; and a
notes folder that is a link is never followed, and the page says so in words."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from recordgen.cli.exit_codes import EXIT_NOT_WATCHING
from recordgen.clock import FixedClock
from recordgen.settings import load_settings
from recordgen.status.board import LOOK_SECONDS, StatusBoard
from recordgen.status.heartbeat import Command, notes_folder, read_looks

from status_scenes import MORNING, drop_examples, run, shared_folder


class Moments:
    """One injected time for the board: its monotonic seconds and its clock move together."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> dt.datetime:
        return MORNING + dt.timedelta(seconds=self.seconds)


def test_looks_closer_together_than_ten_seconds_are_noted_once_and_force_notes_always(
        tmp_path: Path) -> None:
    settings = load_settings(shared_folder(tmp_path))
    moments = Moments()
    board = StatusBoard(settings, None, moments, Command.WATCH,  # type: ignore[arg-type]
                        host="housing-srv1", monotonic=moments.monotonic)
    notes = notes_folder(settings.folders.inbox)

    def look_at(seconds: float, *, force: bool = False) -> float:
        moments.seconds = seconds
        board.looked(force=force)
        (look,) = read_looks(notes)
        return (look.looked_at - MORNING).total_seconds()

    assert LOOK_SECONDS == 10.0
    assert look_at(0) == 0  # the first look is noted
    assert look_at(1) == 0  # polling every second: not noted again
    assert look_at(9.5) == 0
    assert look_at(10) == 10  # ten seconds after the last note: noted
    assert look_at(15) == 10
    assert look_at(16, force=True) == 16  # forced (a rescan, a batch): noted at once
    assert look_at(17, force=True) == 17
    assert look_at(26) == 17  # and the ten seconds count from the forced note
    assert look_at(27) == 27


def link_in_place_of_the_notes(tmp_path: Path, config: Path) -> tuple[Path, dict[str, bytes]]:
    """The inbox's notes folder replaced by a link to a folder holding a watcher's note and a
    held-files note, as someone might leave it; returns that folder and what it holds."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "look-watch-other-srv.json").write_text(json.dumps({
        "command": "watch", "host": "other-srv", "looked_at": MORNING.isoformat(),
        "started_at": MORNING.isoformat()}), encoding="utf-8")
    (elsewhere / "held.json").write_text(json.dumps({"x.json": {
        "case_ref": "THS-2026-0001", "reason": "read through a link",
        "at": MORNING.isoformat()}}), encoding="utf-8")
    notes_folder(config.parent / "inbox").symlink_to(elsewhere, target_is_directory=True)
    return elsewhere, {p.name: p.read_bytes() for p in elsewhere.iterdir()}


def test_a_notes_folder_that_is_a_link_is_not_followed_and_the_page_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = shared_folder(tmp_path)
    elsewhere, before = link_in_place_of_the_notes(tmp_path, config)
    drop_examples(config)  # the subject access request is held (PDF output is off)
    with caplog.at_level(logging.WARNING, logger="recordgen"):
        result = run(config, "process")
    assert result.exit_code == 1, result.output  # held, and processing went on
    assert "4 produced" in result.output
    # Nothing was written through the link, and the link is left as it is.
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before
    assert notes_folder(config.parent / "inbox").is_symlink()
    warnings = [r.getMessage() for r in caplog.records]
    assert any("could not be written" in w and "(it is a link to somewhere else, and recordgen "
               "never follows links); processing goes on." in w for w in warnings), warnings
    assert not [w for w in warnings if "Not a directory" in w or "symbolic" in w]

    # Nothing was read through it either: the watcher's note and the held reason behind the link
    # are not taken for recordgen's, and the page says plainly why it cannot tell.
    page = (tmp_path / "status.html").read_text(encoding="utf-8")
    assert ("<strong>Warning: recordgen cannot tell whether a watcher is looking at the inbox."
            "</strong>") in page
    assert (".recordgen-status in the inbox, cannot be used: it is a link to somewhere else, and "
            "recordgen never follows links.") in page
    assert "other-srv" not in page and "read through a link" not in page
    assert "THS-2026-0001" not in page

    result = run(config, "status")
    assert result.exit_code == EXIT_NOT_WATCHING, result.output
    text = " ".join(result.output.split())
    assert ("Warning: recordgen cannot tell whether a watcher is looking at the inbox. The folder "
            "where it keeps its notes, .recordgen-status in the inbox, cannot be used: it is a "
            "link to somewhere else, and recordgen never follows links.") in text
    assert "other-srv" not in text and "read through a link" not in text
    report = json.loads(run(config, "status", "--json").output)
    assert report["working"]["health"] == "not known"
    assert report["working"]["watchers"] == []
    assert "never follows links" in report["working"]["notes_problem"]
    assert [h["case_ref"] for h in report["held"]] == [None]  # the reason behind the link: unread
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before


def test_a_link_to_nowhere_in_place_of_the_notes_makes_nothing_where_it_points(
        tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    target = tmp_path / "not made"
    notes_folder(config.parent / "inbox").symlink_to(target)
    result = run(config, "process")
    assert result.exit_code == 0, result.output
    assert not target.exists()
    code = run(config, "status").exit_code
    assert code == EXIT_NOT_WATCHING
    assert "it is a link to somewhere else" in run(config, "status").output


def test_a_file_in_place_of_the_notes_folder_is_named_plainly(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    notes = notes_folder(config.parent / "inbox")
    notes.write_text("someone's file", encoding="utf-8")
    run(config, "process")
    assert notes.read_text(encoding="utf-8") == "someone's file"
    report = json.loads(run(config, "status", "--json").output)
    assert report["working"]["notes_problem"] == "it is a file, not a folder"
    assert report["verdict"] == "not watching"


def test_the_notes_folder_is_made_again_once_the_link_is_gone(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    settings = load_settings(config)
    notes = notes_folder(settings.folders.inbox)
    notes.symlink_to(tmp_path / "nowhere")
    board = StatusBoard(settings, None, FixedClock(MORNING), Command.WATCH,  # type: ignore[arg-type]
                        host="housing-srv1")
    board.looked(force=True)
    assert read_looks(notes) == []
    notes.unlink()
    board.looked(force=True)
    assert [look.host for look in read_looks(notes)] == ["housing-srv1"]
    assert notes.is_dir() and not notes.is_symlink()
