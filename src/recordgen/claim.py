"""Claiming case files: a file is taken by an atomic rename before any work is done on it.

Each worker (one ``recordgen process`` or ``recordgen watch``) has its own folder in the work area
inside the inbox, locked with ``flock`` while the worker lives. A rename can succeed for only one
worker, so two workers never take the same file. After a crash, the next worker to start finds the
dead worker's folder unlocked and adopts what it had claimed, so nothing is lost (DESIGN.md §3).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import secrets
import shutil
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from recordgen.clock import Clock, SystemClock, filesystem_seconds
from recordgen.errors import InboxError

CLAIM_SEPARATOR = "--"
HOST = socket.gethostname()
# A worker touches its lock file at every start-up scan and rescan. flock does not reach across
# machines on every network share, so a folder of a worker on another machine is adopted only once
# its lock has not been touched for this long, as well as being unlocked.
STALE_AFTER_SECONDS = 600.0

# Files that editors, sync tools and operating systems leave in shared folders (issue 3 §3).
_JUNK_PREFIXES = ("~$", "._", ".")
_JUNK_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp")
_JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def is_case_file_candidate(path: Path) -> bool:
    """A regular, non-hidden ``.json`` file that is not a link or a known temporary file."""
    name = path.name
    lowered = name.lower()
    if lowered in _JUNK_NAMES or name.startswith(_JUNK_PREFIXES) or lowered.endswith(_JUNK_SUFFIXES):
        return False
    if not lowered.endswith(".json"):
        return False
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode)  # a symlink is not followed: lstat sees the link, not its target


@dataclass(frozen=True)
class Claimed:
    """A file this worker owns: ``path`` in its work folder, ``claim_id`` stable across retries."""

    path: Path
    claim_id: str
    original_name: str

    @classmethod
    def from_path(cls, path: Path) -> Claimed:
        claim_id, _, original = path.name.partition(CLAIM_SEPARATOR)
        return cls(path=path, claim_id=claim_id, original_name=original or path.name)


class ClaimArea:
    """This worker's claimed files, in ``<inbox>/.recordgen-work/<worker>/``."""

    def __init__(self, root: Path, worker_id: str | None = None, clock: Clock | None = None) -> None:
        self.root = root
        # The claim id carries the moment the file was taken, which becomes its received time.
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.folder = root / self.worker_id
        try:
            self._lock: IO[bytes] | None = self._make_locked_folder()
        except OSError as exc:
            raise InboxError(
                f"recordgen could not set up its work folder {self.folder} ({exc.strerror or exc}). "
                "Check that the inbox exists and that the service account may write to it."
            ) from exc

    def _make_locked_folder(self) -> IO[bytes]:
        """Create this worker's folder already locked: it is made and locked under a hidden name
        that adopters skip, then renamed into place, so no other worker can mistake it for a dead
        worker's folder in the moment between making and locking it."""
        staging = self.root / f".new-{self.worker_id}"
        staging.mkdir(parents=True, mode=0o700)
        lock = (staging / ".lock").open("ab")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            os.rename(staging, self.folder)
        except OSError:  # the folder exists already (a fixed worker id): lock it instead
            lock.close()
            shutil.rmtree(staging, ignore_errors=True)
            lock = (self.folder / ".lock").open("ab")
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return lock

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        # Leave the folder if anything is still claimed in it; the next worker adopts it.
        try:
            (self.folder / ".lock").unlink()
            self.folder.rmdir()
        except OSError:
            pass

    def __enter__(self) -> ClaimArea:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def claim(self, path: Path) -> Claimed | None:
        """Take ``path`` by renaming it into this worker's folder; None if another worker (or a
        person) took it first, or it is not a file we take."""
        if not is_case_file_candidate(path):
            return None
        stamp = self.clock.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        claim_id = f"{stamp}-{secrets.token_hex(4)}"
        target = self.folder / f"{claim_id}{CLAIM_SEPARATOR}{path.name}"
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != 18:  # EXDEV: a path given on the command line, on another filesystem
                raise InboxError(f"{path.name} could not be taken from the inbox: {exc}.") from exc
            shutil.copy2(path, target)
            path.unlink()
        return Claimed(path=target, claim_id=claim_id, original_name=path.name)

    def pending(self) -> list[Claimed]:
        """What this worker holds, after adopting what dead workers left claimed."""
        self.heartbeat()
        self._adopt_orphans()
        return sorted(
            (Claimed.from_path(p) for p in self.folder.iterdir() if p.name != ".lock"),
            key=lambda c: c.claim_id,
        )

    def heartbeat(self) -> None:
        """Show workers on other machines that this one is alive."""
        with contextlib.suppress(OSError):
            os.utime(self.folder / ".lock")

    def _adopt_orphans(self) -> None:
        if not self.root.is_dir():
            return
        for other in self.root.iterdir():
            if (other == self.folder or other.name.startswith(".") or not other.is_dir()
                    or other.is_symlink()):
                continue
            if not other.name.startswith(f"{HOST}-") and _touched_lately(other / ".lock"):
                continue  # another machine's worker, alive as far as we can tell
            try:
                with (other / ".lock").open("ab") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    for orphan in other.iterdir():
                        if orphan.name != ".lock":
                            os.rename(orphan, self.folder / orphan.name)
                    (other / ".lock").unlink()
                other.rmdir()
            except BlockingIOError:
                continue  # that worker is alive
            except FileNotFoundError:
                continue  # another worker adopted it first
            except OSError:
                continue


def _touched_lately(lock: Path) -> bool:
    try:
        return lock.stat().st_mtime > filesystem_seconds() - STALE_AFTER_SECONDS
    except OSError:
        return False
