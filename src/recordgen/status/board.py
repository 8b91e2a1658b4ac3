"""Keeping the status page and the heartbeat up to date, for the watcher and ``recordgen process``.

A :class:`StatusBoard` is what the pipeline calls: :meth:`~StatusBoard.looked` each time the inbox
is looked at, :meth:`~StatusBoard.after_batch` after each batch, :meth:`~StatusBoard.refresh_due`
to know when a minute has passed without a page, and :meth:`~StatusBoard.stopped` at the end. None
of them ever raises: a page or a note that cannot be written is logged (once, until it can be
written again) and processing goes on. The page is written to a temporary name beside it and
renamed over it, so a reader never sees half a page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from recordgen import permissions
from recordgen.clock import Clock
from recordgen.records.store import Store
from recordgen.settings import Settings
from recordgen.status.facts import StatusReport, gather
from recordgen.status.heartbeat import (
    Command,
    Look,
    notes_folder,
    this_host,
    write_look,
    write_whole,
)
from recordgen.status.held import FileResult, note_results
from recordgen.status.page import render_page

log = logging.getLogger("recordgen")

REFRESH_SECONDS = 60.0  # the page is written at least this often by a running watcher
# After a batch the page waits until the last page's cost is at most a tenth of the time since.
PAGE_SHARE_LIMIT = 10.0
LOOK_SECONDS = 10.0  # a look is noted at most this often (polling may look every second)
PAGE_MODE = permissions.GROUP_READABLE  # staff read it; never everyone


def write_page(page: Path, html: str) -> None:
    """Write the page whole: to a hidden temporary name in its folder, flushed, then renamed over
    the page (a link in its place is replaced, never followed). Raises OSError."""
    write_whole(page.parent, page.name, html.encode("utf-8"), PAGE_MODE, through_link=True,
                fsync=True)


class StatusBoard:
    """The status page and heartbeat of one running command."""

    def __init__(self, settings: Settings, store: Store, clock: Clock, command: Command, *,
                 host: str | None = None, refresh_seconds: float = REFRESH_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.store, self.clock, self.command = settings, store, clock, command
        self.host = host or this_host()
        self.refresh_seconds = refresh_seconds
        self.notes = notes_folder(settings.folders.inbox)
        self.started_at = clock.now()
        self._monotonic = monotonic
        self._written_at: float | None = None  # when the page was last written (monotonic)
        self._looked_at: float | None = None
        self._failing: set[str] = set()  # what failed last time, so it is logged once
        self.last_seconds = 0.0  # how long the last page took to gather, render and write
        self.pages_written = 0  # attempts, written or not
        self._behind = False  # a batch was processed since the page was last written

    # --- what the pipeline calls ----------------------------------------------------------------

    def looked(self, *, force: bool = False) -> None:
        """The inbox was just looked at: note it (at most every LOOK_SECONDS unless ``force``)."""
        moment = self._monotonic()
        if not force and self._looked_at is not None and moment - self._looked_at < LOOK_SECONDS:
            return
        self._looked_at = moment
        self._quietly("note", lambda: write_look(self.notes, self._look()))

    def after_batch(self, results: Iterable[FileResult]) -> None:
        """A batch was processed: keep the held files' reasons, then write the page, unless
        writing pages would then take more than a tenth of the time (a very large store): the
        page is then written as soon as that share allows (see :meth:`refresh_due`)."""
        results = list(results)
        self._quietly("held", lambda: note_results(self.notes, results, self.clock.now()))
        self._behind = True
        if self._monotonic() >= self.refresh_due():
            self.refresh()

    def refresh_due(self) -> float:
        """The monotonic time by which the page must be written again: at once after a batch
        (or once writing it has taken no more than a tenth of the time since the last), and at
        least every ``refresh_seconds``."""
        if self._written_at is None:
            return 0.0  # never written: due now
        due = self._written_at + self.refresh_seconds
        if self._behind:
            due = min(due, self._written_at + PAGE_SHARE_LIMIT * self.last_seconds)
        return due

    def refresh(self) -> None:
        """Write the page now."""
        started = self._monotonic()
        self._written_at, self._behind = started, False
        self._quietly("page", self._write)
        self.pages_written += 1
        self.last_seconds = self._monotonic() - started

    def stopped(self, reason: str) -> None:
        """The watcher stops: say so in its note and on the page."""
        now = self.clock.now()
        self._quietly("note", lambda: write_look(self.notes, Look(
            self.command, self.host, now, self.started_at, stopped_at=now, stop_reason=reason)))
        self.refresh()

    def report(self) -> StatusReport:
        return gather(self.settings, self.store, self.clock)

    # --- inside ---------------------------------------------------------------------------------

    def _look(self) -> Look:
        return Look(self.command, self.host, self.clock.now(), self.started_at)

    def _write(self) -> None:
        page = self.settings.status_page
        write_page(page, render_page(self.report(), page, self.settings.folders))

    def _quietly(self, what: str, action: Callable[[], None]) -> None:
        """Run ``action``; a failure is logged once (until it succeeds again), never raised:
        the status page must never stop or slow the processing of case files."""
        try:
            action()
        except Exception as exc:  # a page is never worth stopping the service for
            if what not in self._failing:
                self._failing.add(what)
                log.warning("%s", _failed(what, self.settings, exc))
                log.debug("details", exc_info=True)
            return
        if what in self._failing:
            self._failing.discard(what)
            log.info("The status %s can be written again.", _WORD[what])


def after_run(settings: Settings, store: Store, clock: Clock, results: Iterable[FileResult], *,
              looked: bool) -> StatusBoard:
    """After a ``recordgen process`` run: note the look (if it ``looked`` at the whole inbox)
    and the held files' reasons, then write the page. Never raises."""
    board = StatusBoard(settings, store, clock, Command.PROCESS)
    if looked:
        board.looked(force=True)
    board.after_batch(results)
    return board


_WORD = {"page": "page", "note": "heartbeat note", "held": "note of held files"}


def _failed(what: str, settings: Settings, exc: Exception) -> str:
    reason = (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) \
        else type(exc).__name__
    if what == "page":
        return (f"The status page {settings.status_page} could not be written ({reason}); "
                "processing goes on, and it is tried again after the next batch.")
    note = "when recordgen last looked at the inbox" if what == "note" else "why files are held"
    return (f"The note of {note} could not be written in "
            f"{notes_folder(settings.folders.inbox)} ({reason}); "
            "processing goes on.")
