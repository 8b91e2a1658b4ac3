"""The watcher behind ``recordgen watch``: each case file in the inbox is taken once it is complete.

The watcher only watches: it notices files, waits until each is complete, claims it by
an atomic rename (:mod:`recordgen.intake.claim`) and hands it to the pipeline. It notices files by native
file events (watchdog), or with ``poll_seconds`` above 0 by listing the inbox on a timer (on a
network share other machines' changes raise no events here); by a full rescan every
``rescan_seconds`` in either mode, which also retries held files and adopts dead workers' claims;
and at start-up (docs/design.md §3). A file is complete once its size and modification time
have been unchanged for ``settle_seconds``, or at once if it was renamed into the inbox. Each file
seen and not yet taken has one entry in :class:`Settling`, so a file noticed twice is queued once;
the claim's rename succeeds for one worker only, so work is done once across crashes and watchers.
:meth:`Watcher.stop` (SIGINT/SIGTERM with :func:`stop_on_signals`) lets the batch in hand finish.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import queue
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from recordgen.documents.convert import warm_up
from recordgen.errors import CannotWatch, InboxError, InboxMissing, InboxNotWritable, SettingsError
from recordgen.intake.claim import ClaimArea, Claimed, is_inbox_file
from recordgen.pipeline.inbox import (
    BATCH_SIZE,
    check_inbox,
    in_batches,
    inbox_files,
    process_logged,
)
from recordgen.pipeline.stages import Outcome, Services
from recordgen.settings import Settings, Watch
from recordgen.status import Command, StatusBoard

log = logging.getLogger("recordgen")

# Filesystems where another machine's changes raise no inotify events on this one.
NETWORK_FILESYSTEMS = frozenset({
    "cifs", "smb3", "smbfs", "nfs", "nfs4", "9p", "afs", "ceph", "davfs", "glusterfs",
    "fuse.glusterfs", "fuse.sshfs", "fuse.rclone",
})
# With claims in the database (a PostgreSQL store), how often the watcher looks for workers that
# died, between rescans: their files are taken over within a minute whatever rescan_seconds is.
TAKEOVER_SECONDS = 10.0
_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileMovedEvent,
]



@dataclass(frozen=True)
class WatchOptions:
    """How the watcher notices complete files (settings [watch], overridden on the command line)."""

    settle_seconds: float = 2.0
    poll_seconds: float = 0.0  # 0: native file events
    rescan_seconds: float = 60.0

    def __post_init__(self) -> None:
        if min(self.settle_seconds, self.poll_seconds) < 0 or self.rescan_seconds <= 0:
            raise SettingsError(
                "[watch] settle_seconds and poll_seconds must be 0 or more, and rescan_seconds more "
                f"than 0 (they are {self.settle_seconds:g}, {self.poll_seconds:g} and "
                f"{self.rescan_seconds:g})."
            )

    @classmethod
    def from_settings(cls, watch: Watch, *, settle: float | None = None, poll: float | None = None,
                      rescan: float | None = None) -> WatchOptions:
        return cls(
            settle_seconds=watch.settle_seconds if settle is None else settle,
            poll_seconds=watch.poll_seconds if poll is None else poll,
            rescan_seconds=watch.rescan_seconds if rescan is None else rescan,
        )

    @property
    def polling(self) -> bool:
        return self.poll_seconds > 0

    def describe(self) -> str:
        how = f"polling every {self.poll_seconds:g} s" if self.polling else "native file events"
        return (f"{how}, files taken once unchanged for {self.settle_seconds:g} s, "
                f"full rescan every {self.rescan_seconds:g} s")


@dataclass
class _Seen:
    first_seen: float
    signature: tuple[int, int] | None = None  # size and modification time (ns)
    since: float = 0.0  # when this signature was first seen
    complete: bool = False  # renamed in: written elsewhere, so complete when it appeared
    recheck: bool = True  # noticed again: look at it at the next chance


class Settling:
    """Files seen in the inbox and not yet taken: each is queued once however often it is noticed,
    and is ready when its size and modification time have been unchanged for the settle time."""

    def __init__(self, settle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}
        self._lock = threading.Lock()  # note() is called from watchdog's thread

    def note(self, path: Path, *, complete: bool = False) -> None:
        with self._lock:
            seen = self._seen.setdefault(path, _Seen(first_seen=self._clock()))
            seen.recheck = True
            seen.complete = seen.complete or complete

    def next_check(self) -> float:
        """The monotonic time at which :meth:`take_ready` next has something to look at."""
        with self._lock:
            return min((self._clock() if s.recheck or s.complete else s.since + self.settle_seconds
                        for s in self._seen.values()), default=math.inf)

    def take_ready(self, limit: int | None = None) -> list[Path]:
        """The complete files (up to ``limit``), first noticed first; they leave the table."""
        now, ready = self._clock(), []
        with self._lock:
            for path, seen in list(self._seen.items()):
                settled = now - seen.since >= self.settle_seconds
                if not (seen.recheck or seen.complete or settled):
                    continue
                seen.recheck = False
                signature = _signature(path)
                if signature is None:  # gone (claimed, deleted) or no longer a case file
                    del self._seen[path]
                elif seen.complete or (signature == seen.signature and settled):
                    ready.append((seen.first_seen, path))
                elif signature != seen.signature:
                    seen.signature, seen.since = signature, now
            taken = [path for _, path in sorted(ready)[:limit]]
            for path in taken:
                del self._seen[path]
        return taken


def _signature(path: Path) -> tuple[int, int] | None:
    if not is_inbox_file(path):  # junk, a link or a folder: never taken, never reported
        return None
    try:
        status = path.lstat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


class _InboxEvents(FileSystemEventHandler):
    """Turns watchdog's events into notes in the settling table (runs in watchdog's thread)."""

    def __init__(self, inbox: Path, settling: Settling, wake: queue.SimpleQueue[None]) -> None:
        self.inbox, self.settling, self.wake = inbox, settling, wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Renamed into the inbox (from elsewhere, or from a temporary name in it): written whole
        # before the rename, so complete at once. A move out (our own claims) has no destination.
        moved = isinstance(event, FileMovedEvent)
        raw = event.dest_path if moved else event.src_path
        path = Path(os.fsdecode(raw)) if raw else None
        if path and path.parent == self.inbox and is_inbox_file(path):  # no subfolders
            self.settling.note(path, complete=moved)
            self.wake.put(None)


def native_observer() -> BaseObserver:
    """watchdog's native observer. On Linux it reports a file moved in from outside the inbox as
    a move (not a creation), so that file counts as complete at once."""
    if sys.platform.startswith("linux"):
        from watchdog.observers.inotify import InotifyObserver

        return InotifyObserver(generate_full_events=True)
    return Observer()


def filesystem_type(path: Path, mounts: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (from /proc/self/mounts on Linux), or None."""
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    found, depth = None, -1
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1]))
        if (point == path or point in path.parents) and len(point.parts) > depth:
            found, depth = fields[2], len(point.parts)
    return found


def check_inbox_usable(settings: Settings) -> None:
    """Raise :class:`InboxMissing` or :class:`InboxNotWritable` with a message for the operator."""
    inbox = settings.folders.inbox
    check_inbox(settings)
    if not os.access(inbox, os.W_OK | os.X_OK):
        raise InboxNotWritable(_not_writable(inbox))


def _not_writable(inbox: Path, reason: str = "permission denied") -> str:
    return (
        f"recordgen cannot write to the inbox folder {inbox} ({reason}). It takes each case file "
        f"by moving it into its work folder {inbox / '.recordgen-work'}, so the account it runs as "
        "needs permission to create, rename and delete files in the inbox."
    )


def _cannot_watch(inbox: Path, exc: OSError) -> str:
    reason = {
        errno.EMFILE: "the system's limit on inotify instances is reached "
                      "(sysctl fs.inotify.max_user_instances)",
        errno.ENOSPC: "the system's limit on watched folders is reached "
                      "(sysctl fs.inotify.max_user_watches)",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return (
        f"The inbox folder {inbox} cannot be watched for changes: {reason}. Run with --poll 5 (or "
        "set [watch] poll_seconds = 5 in the settings file) to look for new files every 5 seconds "
        "instead; polling also suits network shares."
    )


class Watcher:
    """Processes every complete case file that is or appears in the inbox, until :meth:`stop`."""

    def __init__(
        self,
        services: Services,
        options: WatchOptions,
        *,
        observer_factory: Callable[[], BaseObserver] = native_observer,
        list_inbox: Callable[[Path], Sequence[Path]] = inbox_files,
        status: StatusBoard | None = None,
    ) -> None:
        self.services, self.options = services, options
        # The status page and the note of when the inbox was last looked at (never fatal).
        self.status = status or StatusBoard(services.settings, services.store, services.clock,
                                            Command.WATCH)
        self.inbox = services.settings.folders.inbox
        self.settling = Settling(options.settle_seconds)
        self.counts: Counter[str] = Counter()  # outcomes so far, by status
        self.rescans = 0  # full rescans finished, start-up included
        self._observer_factory, self._list_inbox = observer_factory, list_inbox
        self._observer: BaseObserver | None = None
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()  # put() is signal-safe
        self._stopping = False
        self.stop_reason = ""
        self._area: ClaimArea | None = None

    def stop(self, reason: str = "asked to stop") -> None:
        """Stop after the batch in hand. Safe from another thread and from a signal handler."""
        self.stop_reason = self.stop_reason or reason
        self._stopping = True
        self._wake.put(None)

    def run(self) -> Counter[str]:
        """Watch until stopped; return how many files had each outcome."""
        check_inbox_usable(self.services.settings)
        warm_up(self.services.converter)  # kept running between files: a PDF in a tenth of a second
        with self._claim_area() as area, self._events():
            log.info("watching %s: %s", self.inbox, self.options.describe())
            self._warn_if_network_share()
            self._rescan(area)
            self._loop(area)
            self.status.stopped(self.stop_reason)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        log.info("stopped (%s): %s", self.stop_reason, summary or "no files processed")
        return self.counts

    def _loop(self, area: ClaimArea) -> None:
        now = time.monotonic()
        rescan_at, poll_at = now + self.options.rescan_seconds, self._next_poll(now)
        takeover_at = self._next_takeover(area, now)
        while not self._stopping:
            self._sleep_until(min(rescan_at, poll_at, takeover_at, self.settling.next_check(),
                                  self.status.refresh_due()))
            if self._stopping:
                break
            now = time.monotonic()
            if now >= rescan_at:  # a rescan includes a poll's scan
                self._rescan(area)
                rescan_at = now + self.options.rescan_seconds
                poll_at = self._next_poll(now)
            elif now >= poll_at or now >= self.status.refresh_due():
                self._scan()  # the status page says when the inbox was last looked at
                poll_at = self._next_poll(now)
            if now >= takeover_at:  # claims in the database: a dead worker's, within a minute
                self._process(area.take_over_dead())
                takeover_at = self._next_takeover(area, now)
            # Every file ready now, in batches that keep a case's files together (a review
            # after its plan), whatever their names and however many were dropped at once.
            for batch in in_batches(self.settling.take_ready(), self.services):
                if self._stopping:
                    break  # what is not taken stays in the inbox for the next rescan
                self._process(self._claim(area, batch))
            if time.monotonic() >= self.status.refresh_due():  # at least once a minute
                self.status.refresh()

    @staticmethod
    def _next_takeover(area: ClaimArea, now: float) -> float:
        return now + TAKEOVER_SECONDS if area.registry is not None else math.inf

    def _next_poll(self, now: float) -> float:
        return now + self.options.poll_seconds if self.options.polling else math.inf

    def _sleep_until(self, moment: float) -> None:
        try:
            self._wake.get(timeout=max(0.0, min(moment - time.monotonic(), 3600.0)))
        except queue.Empty:
            return
        while not self._wake.empty():  # one wake-up serves every event that arrived meanwhile
            self._wake.get_nowait()

    @contextmanager
    def _claim_area(self) -> Iterator[ClaimArea]:
        # Claims coordinated through the database when the store is shared (PostgreSQL).
        registry = self.services.store.claim_registry()
        try:
            area = ClaimArea(self.services.settings.folders.work, clock=self.services.clock,
                             registry=registry)
        except InboxError as exc:
            if registry is not None:
                registry.leave()
            cause = exc.__cause__
            reason = (cause.strerror if isinstance(cause, OSError) else None) or str(exc)
            raise InboxNotWritable(_not_writable(self.inbox, reason)) from exc
        self._area = area
        with area:
            yield area

    @contextmanager
    def _events(self) -> Iterator[None]:
        if self.options.polling:
            yield
            return
        handler = _InboxEvents(self.inbox, self.settling, self._wake)
        try:
            observer = self._observer_factory()
            observer.schedule(handler, str(self.inbox), recursive=False, event_filter=_EVENTS)
            observer.start()
        except OSError as exc:
            raise CannotWatch(_cannot_watch(self.inbox, exc)) from exc
        self._observer = observer
        try:
            yield
        finally:
            observer.stop()
            observer.join(timeout=10)
            self._observer = None

    def _warn_if_network_share(self) -> None:
        kind = filesystem_type(self.inbox)
        if not self.options.polling and kind in NETWORK_FILESYSTEMS:
            log.warning(
                "The inbox is on a %s network share: files saved into it from other machines raise "
                "no file events here, so they are only found by the rescan every %g s. Run the "
                "watcher on the server that hosts the share, or run it with --poll 5.",
                kind, self.options.rescan_seconds,
            )

    def _rescan(self, area: ClaimArea) -> None:
        """Retry held files, adopt dead workers' claims, and look at everything in the inbox."""
        self._check_observer()
        try:
            waiting = area.pending()
        except OSError as exc:
            raise InboxMissing(f"The work folder in the inbox {self.inbox} can no longer be read "
                               f"({exc.strerror or exc}). Check that the share is mounted.") from exc
        for start in range(0, len(waiting), BATCH_SIZE):
            if self._stopping:
                return
            self._process(waiting[start:start + BATCH_SIZE])
        self._scan()
        self.rescans += 1

    def _scan(self) -> None:
        try:
            paths = self._list_inbox(self.inbox)
        except OSError as exc:
            raise InboxMissing(f"The inbox folder {self.inbox} can no longer be read "
                               f"({exc.strerror or exc}). Check that it exists and, if it is on "
                               "a network share, that the share is mounted.") from exc
        for path in paths:
            self.settling.note(path)
        self.status.looked()

    def _check_observer(self) -> None:
        observer = self._observer
        if observer is not None and not (observer.is_alive()
                                         and all(e.is_alive() for e in observer.emitters)):
            check_inbox_usable(self.services.settings)  # the usual cause: the inbox went away
            raise CannotWatch(f"File events for the inbox folder {self.inbox} stopped. Restart "
                              "the watcher, or run it with --poll 5 to poll instead.")

    def _claim(self, area: ClaimArea, paths: Sequence[Path]) -> list[Claimed]:
        claimed = []
        for path in paths:
            try:
                taken = area.claim(path)
            except InboxError as exc:  # the file stays in the inbox for the next rescan
                log.warning("A case file could not be taken from the inbox (%s); it is tried again "
                            "at the next rescan.", getattr(exc.__cause__, "strerror", None) or "error")
                continue
            if taken is not None:  # None: another worker (or a person) took it first
                claimed.append(taken)
        return claimed

    def _process(self, batch: Sequence[Claimed]) -> None:
        if not batch:
            return
        try:
            outcomes = process_logged(batch, self.services)
        except Exception as exc:  # one bad batch must not stop the service; its files stay claimed
            log.error("%d case file(s) could not be processed (%s); they stay in the work folder "
                      "and are tried again at the next rescan.", len(batch), type(exc).__name__)
            log.debug("details", exc_info=True)
            self.counts["held"] += len(batch)
            self.status.after_batch(())
            return
        for outcome in outcomes:
            self.counts[outcome.status] += 1
            if outcome.status == "held":
                _log_held(outcome)
        if self._area is not None:  # finished files are no longer claimed in the database
            self._area.forget_finished(list(batch))
        self.status.after_batch(outcomes)


def _log_held(outcome: Outcome) -> None:
    # The file name may be a person's name, so it is taken out of the reason.
    reason = outcome.message.replace(outcome.file_name, "the case file") if outcome.file_name \
        else outcome.message
    log.warning("case=%s held: it stays claimed and is tried again at the next rescan. %s",
                outcome.case_ref or "-", reason)


@contextmanager
def stop_on_signals(
    watcher: Watcher, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)
) -> Iterator[None]:
    """While inside, the first SIGINT or SIGTERM asks ``watcher`` to stop after the batch in hand;
    a second acts at once (what was in hand is finished at the next start). Main thread only."""
    previous: dict[signal.Signals, Any] = {}

    def handler(number: int, frame: FrameType | None) -> None:
        for each, action in previous.items():
            signal.signal(each, action)
        watcher.stop(signal.Signals(number).name)

    for each in signals:
        previous[each] = signal.signal(each, handler)
    try:
        yield
    finally:
        for each, action in previous.items():
            signal.signal(each, action)
