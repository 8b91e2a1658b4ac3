"""The notes the watchers leave in the inbox's hidden folder: a look is noted at most every ten
seconds (a watcher polling every second does not write a note every second), unless forced."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from recordgen.settings import load_settings
from recordgen.status.board import LOOK_SECONDS, StatusBoard
from recordgen.status.heartbeat import Command, notes_folder, read_looks

from status_scenes import MORNING, shared_folder


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

