"""A running watcher keeps the status page and its note of the last look up to date: after every
batch, at least once a refresh interval with nothing to do, and once more when it stops; a page
it cannot write never stops it processing."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from recordgen.clock import SystemClock
from recordgen.pipeline.watch import Watcher, WatchOptions
from recordgen.services import open_services
from recordgen.settings import Settings
from recordgen.status.board import StatusBoard
from recordgen.status.heartbeat import Command, notes_folder, read_looks
from test_watch import wait_for

from conftest import example, make_settings

# A real watcher in a thread, waited on with the real clock.
pytestmark = pytest.mark.real_clock


class Watching(threading.Thread):
    """A watcher polling the inbox, whose status board refreshes every ``refresh`` seconds."""

    def __init__(self, settings: Settings, refresh: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.refresh = settings, refresh
        self.watcher: Watcher | None = None
        self.board: StatusBoard | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with open_services(self.settings, SystemClock()) as services:
                self.board = StatusBoard(self.settings, services.store, services.clock,
                                         Command.WATCH, host="watch-srv",
                                         refresh_seconds=self.refresh)
                self.watcher = Watcher(services, WatchOptions(settle_seconds=0.1,
                                                              poll_seconds=0.2,
                                                              rescan_seconds=30),
                                       status=self.board)
                self.watcher.run()
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop("asked by the test")
        self.join(30)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error


def test_the_watcher_writes_the_page_after_a_batch_and_every_interval_and_when_it_stops(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    page = settings.status_page
    thread = Watching(settings, refresh=0.5)
    thread.start()
    try:
        wait_for(lambda: page.exists(), "the first page")
        assert "Yes.</strong> The watcher on <strong>watch-srv</strong>" in page.read_text()
        # Nothing to do: the page is still written every interval, and the last look noted.
        written = thread.board.pages_written if thread.board else 0
        wait_for(lambda: thread.board and thread.board.pages_written >= written + 3,
                 "three more pages with nothing to do", timeout=10)
        (look,) = read_looks(notes_folder(settings.folders.inbox))
        assert look.host == "watch-srv" and look.stopped_at is None
        # A batch: the page shows what it produced straight away.
        (settings.folders.inbox / "incident.json").write_text(
            json.dumps(example("serious_incident")), encoding="utf-8")
        wait_for(lambda: "Serious incident report, version 1" in page.read_text(),
                 "the produced document on the page")
    finally:
        thread.stop()
    (look,) = read_looks(notes_folder(settings.folders.inbox))
    assert look.stopped_at is not None and look.stop_reason == "asked by the test"
    assert "Warning: the watcher is not running." in page.read_text()


def test_a_page_that_cannot_be_written_never_stops_the_watcher(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, status={"page": str(tmp_path / "gone" / "status.html")})
    thread = Watching(settings, refresh=0.2)
    with caplog.at_level(logging.INFO, logger="recordgen"):
        thread.start()
        try:
            for number in range(3):
                case = example("serious_incident")
                case["case_ref"] = f"THS-S-{number}"
                (settings.folders.inbox / f"{number}.json").write_text(json.dumps(case))
            wait_for(lambda: len(list(settings.folders.outbox.glob("THS-S-*/*.docx"))) == 3,
                     "three documents")
            wait_for(lambda: thread.board and thread.board.pages_written >= 5, "more attempts")
        finally:
            thread.stop()
    failures = [r for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
