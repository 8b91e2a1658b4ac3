"""Claiming case files: a file is taken by an atomic rename before any work is done on it.

Each worker (one ``recordgen process`` or ``recordgen watch``) has its own folder in the work area
inside the inbox, locked with ``flock`` while the worker lives. A rename can succeed for only one
worker, so two workers never take the same file. After a crash, the next worker to start finds the
dead worker's folder unlocked and adopts what it had claimed, so nothing is lost.

With a store shared by several machines (PostgreSQL), the database decides who owns a file: a
:class:`ClaimRegistry` is passed in, a file is claimed by a row in the database before it is moved,
and a dead worker's claims are taken over when the database says it is dead (within a minute),
not when its folder's lock looks free (see :mod:`recordgen.records.claims`). The rename stays: it
is how a file is taken off the share.

Nothing is reached through a link, and nothing recordgen did not make has its permissions changed.
A file in the inbox is taken only if it is a plain file; a file with other names elsewhere (a hard
link) is copied into the work folder, so the other names keep their contents and permissions. A
file given on the command line from outside the inbox is copied in and left where it is. A dead
worker's folder is read relative to its opened folder, and only plain files are adopted: a link
left there is never followed, and is reported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import logging
import os
import secrets
import shutil
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from recordgen import permissions
from recordgen.clock import Clock, SystemClock, filesystem_seconds
from recordgen.errors import InboxError
from recordgen.records.claims import ClaimRegistry, HeldClaim

log = logging.getLogger("recordgen")

CLAIM_SEPARATOR = "--"
HOST = socket.gethostname()
# A worker touches its lock file at every start-up scan and rescan. flock does not reach across
# machines on every network share, so a folder of a worker on another machine is adopted only once
# its lock has not been touched for this long, as well as being unlocked.
STALE_AFTER_SECONDS = 600.0
# A copy recordgen makes is never readable by more people than the file it copies, and never by
# everyone.
COPY_MODE = permissions.GROUP_READABLE
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

# Files that editors, sync tools, browsers and operating systems leave in shared folders while
# they work, or for themselves: never taken, never answered.
_JUNK_PREFIXES = ("~$", "._", ".")
_JUNK_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp",
                  "~")
_JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def is_junk_name(name: str) -> bool:
    """A temporary or system file by its name (Office lock files, downloads in progress...)."""
    lowered = name.lower()
    return (lowered in _JUNK_NAMES or name.startswith(_JUNK_PREFIXES)
            or lowered.endswith(_JUNK_SUFFIXES))


def is_inbox_file(path: Path) -> bool:
    """A plain file that is not a temporary or system file: recordgen takes it and answers it
    (a case file is processed; anything else is moved to the rejected folder with a note saying
    what it seems to be). A link is not followed: lstat sees the link, not its target."""
    if is_junk_name(path.name):
        return False
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode)


# The longest file name most file systems hold, in bytes (ext4, NTFS through Samba, APFS).
NAME_BYTES = 255
_SHORTENED = "\u2026"  # "…", where a name too long for the work area was cut
# Characters that would break a name over lines, or show it as something else (bidirectional
# overrides), wherever it is printed: the summary, the log, the rejected note, the status page.
_UNSHOWABLE = dict.fromkeys([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029,
                             *range(0x202A, 0x202F), *range(0x2066, 0x206A)], "_")


def shown_name(name: str, budget: int) -> str:
    """The name a file is worked on, recorded and rejected under: as dropped, unless it holds bytes
    that are not UTF-8 (each becomes "\ufffd"), a line break or another control or direction
    character (each becomes "_"), or is longer than ``budget`` bytes (its end is cut, its
    extension kept, and "…" marks the cut). Nothing else about the file changes."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace").translate(
        _UNSHOWABLE)
    if len(text.encode("utf-8")) <= budget:
        return text
    stem, dot, extension = text.rpartition(".")
    if not (dot and stem) or len(extension.encode("utf-8")) > 16:  # no extension worth keeping
        stem, extension = text, ""
    else:
        extension = f".{extension}"
    room = budget - len(extension.encode("utf-8")) - len(_SHORTENED.encode("utf-8"))
    cut = stem.encode("utf-8")[:max(room, 0)].decode("utf-8", "ignore")
    return f"{cut}{_SHORTENED}{extension}"


def work_name(claim_id: str, inbox_name: str) -> str:
    """A claimed file's name in the work folder: the claim, then the name it is known by
    (:func:`shown_name`, cut to fit the longest name a folder holds)."""
    prefix = f"{claim_id}{CLAIM_SEPARATOR}"
    return prefix + shown_name(inbox_name, NAME_BYTES - len(prefix.encode("utf-8")))


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

    def __init__(self, root: Path, worker_id: str | None = None, clock: Clock | None = None,
                 registry: ClaimRegistry | None = None) -> None:
        self.root = root
        self.inbox = root.parent
        # The claim id carries the moment the file was taken, which becomes its received time.
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.folder = root / self.worker_id
        # What dead workers left that was not adopted (a link, a folder): one message per item,
        # collected by :meth:`take_refusals`.
        self._refusals: list[Refusal] = []
        self._refused: set[tuple[str, str]] = set()
        self.registry = registry
        if registry is not None:
            # In the database before the folder exists: a folder no live worker names is a dead
            # worker's, never one being made.
            registry.join(self.worker_id, socket.gethostname(), self.worker_id)
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
        with contextlib.suppress(FileExistsError):
            self.root.mkdir(mode=permissions.PRIVATE_FOLDER)  # the work area is recordgen's alone
        staging = self.root / f".new-{self.worker_id}"
        staging.mkdir(mode=permissions.PRIVATE_FOLDER)
        lock = _open_lock(staging)
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            os.rename(staging, self.folder)
        except OSError:  # the folder exists already (a fixed worker id): lock it instead
            lock.close()
            shutil.rmtree(staging, ignore_errors=True)
            lock = _open_lock(self.folder)
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return lock

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if self.registry is not None:
            self.registry.leave()
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

    def in_inbox(self, path: Path) -> bool:
        """True if ``path`` is directly in the inbox (claimed by moving it; anything else is
        copied in and left where it is)."""
        try:
            return os.path.samefile(path.parent, self.inbox)
        except OSError:
            return False

    def claim(self, path: Path) -> Claimed | None:
        """Take ``path``: a file in the inbox is moved into this worker's folder, a file given from
        elsewhere is copied in and left untouched. None if another worker (or a person) took it
        first, or it is not a plain file."""
        if not is_inbox_file(path):
            return None
        stamp = self.clock.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        claim_id = f"{stamp}-{secrets.token_hex(4)}"
        name = work_name(claim_id, path.name)
        target = self.folder / name
        if not self.in_inbox(path):
            try:
                return self._copied_in(path, claim_id, name)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise InboxError(f"{path.name} could not be taken from the inbox "
                                 f"({exc.strerror or exc}).") from exc
        if self.registry is not None and not self.registry.claim(path.name, claim_id):
            return None  # another worker, perhaps on another machine, holds it in the database
        try:
            os.rename(path, target)
        except FileNotFoundError:
            self._release(claim_id)
            return None
        except OSError as exc:
            self._release(claim_id)
            raise InboxError(f"{path.name} could not be taken from the inbox "
                             f"({exc.strerror or exc}).") from exc
        taken = self._checked(target)
        if taken is None:
            self._release(claim_id)
        return taken

    def _release(self, claim_id: str) -> None:
        if self.registry is not None:
            self.registry.release(claim_id)

    def forget_finished(self, batch: list[Claimed]) -> None:
        """Tell the database the files of ``batch`` that were finished (removed from the work
        folder) are no longer claimed. One still there stays claimed, to be tried again."""
        if self.registry is None:
            return
        for claimed in batch:
            if not os.path.lexists(claimed.path):
                self.registry.release(claimed.claim_id)

    def _copied_in(self, path: Path, claim_id: str, name: str) -> Claimed | None:
        """A copy of a file from outside the inbox (``recordgen process PATH``): the file itself
        is never moved or changed."""
        try:
            source = os.open(path, _READ)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):
                return None  # gone, or replaced by a link since it was looked at
            raise
        with os.fdopen(source, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            folder = os.open(self.folder, _FOLDER)
            try:
                _copy(handle, folder, name)
            finally:
                os.close(folder)
        return Claimed.from_path(self.folder / name)

    def _checked(self, target: Path) -> Claimed | None:
        """The file just renamed into the work folder, made safe to work on: if something swapped
        it for a link between the look and the rename, the link is removed (never followed); if it
        has other names elsewhere (a hard link), its bytes are copied into a file of recordgen's
        own, so nothing done to it (moving it, rejecting it) reaches the other names."""
        folder = os.open(self.folder, _FOLDER)
        try:
            name = target.name
            found = os.stat(name, dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISREG(found.st_mode):
                log.warning("Something that is not a plain file (a link, or a folder) was put in "
                            "the inbox in place of a case file as it was taken; it was not "
                            "followed or read.")
                if not stat.S_ISDIR(found.st_mode):  # a link: removing it loses nothing
                    with contextlib.suppress(OSError):
                        os.unlink(name, dir_fd=folder)
                return None
            if found.st_nlink > 1:
                _replace_with_copy(folder, name)
        finally:
            os.close(folder)
        return Claimed.from_path(target)

    def pending(self) -> list[Claimed]:
        """What this worker holds, after adopting what dead workers left claimed."""
        self.heartbeat()
        if self.registry is not None:
            self._take_over(self.registry)
        self._adopt_orphans()
        if self.registry is not None:
            self._forget_gone(self.registry)
        return sorted(
            (Claimed.from_path(p) for p in self.folder.iterdir()
             if p.name != ".lock" and stat.S_ISREG(p.lstat().st_mode)),
            key=lambda c: c.claim_id,
        )

    def take_refusals(self) -> list[Refusal]:
        """What was found in dead workers' folders and not adopted since the last call."""
        refusals, self._refusals = self._refusals, []
        return refusals

    def heartbeat(self) -> None:
        """Show workers on other machines that this one is alive."""
        with contextlib.suppress(OSError):
            os.utime(self.folder / ".lock")

    def take_over_dead(self) -> list[Claimed]:
        """With claims in the database: the files of workers that died since the last look, now
        this worker's (the watcher looks every few seconds, not only at its rescans)."""
        if self.registry is None:
            return []
        return self._take_over(self.registry)

    def _take_over(self, registry: ClaimRegistry) -> list[Claimed]:
        """The database names the dead workers and gives this worker their claims: each file is
        moved here from wherever it was left (the dead worker's folder, or still the inbox if it
        died between claiming and moving it); a claim whose file is nowhere was finished."""
        fetched = []
        for held in registry.take_over():
            if self._fetch(held):
                fetched.append(Claimed.from_path(
                    self.folder / work_name(held.claim_id, held.inbox_name)))
            else:
                registry.release(held.claim_id)
        return fetched

    def _fetch(self, held: HeldClaim) -> bool:
        """Move the file of a claim taken over into this worker's folder; False if it is gone."""
        name = work_name(held.claim_id, held.inbox_name)
        if os.path.lexists(self.folder / name):
            return True
        if held.folder and held.folder != self.worker_id and not held.folder.startswith("."):
            try:
                root = os.open(self.root, _FOLDER)
                try:
                    folder = os.open(held.folder, _FOLDER, dir_fd=root)
                finally:
                    os.close(root)
            except OSError:
                folder = -1
            if folder >= 0:
                try:
                    ours = os.open(self.folder, _FOLDER)
                    try:
                        if os.path.lexists(self.root / held.folder / name) and \
                                self._adopt_one(folder, ours, held.folder, name):
                            return True
                    finally:
                        os.close(ours)
                finally:
                    os.close(folder)
        # Claimed in the database, never moved: it is still in the inbox.
        source = self.inbox / held.inbox_name
        if not is_inbox_file(source):
            return False
        try:
            os.rename(source, self.folder / name)
        except OSError:
            return False
        return self._checked(self.folder / name) is not None

    def _forget_gone(self, registry: ClaimRegistry) -> None:
        """Claims of this worker whose file is no longer here were finished: forget them."""
        for held in registry.held():
            if not os.path.lexists(self.folder / work_name(held.claim_id, held.inbox_name)):
                registry.release(held.claim_id)

    def _adopt_orphans(self) -> None:
        try:
            root = os.open(self.root, _FOLDER)
        except OSError:
            return
        # With claims in the database, a folder no worker there names is a dead worker's.
        alive = self.registry.live_folders() if self.registry is not None else None
        try:
            for entry in os.scandir(root):
                if entry.name == self.worker_id or entry.name.startswith("."):
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    continue  # a link to a folder elsewhere is never a worker's folder
                if alive is not None:
                    if entry.name in alive:
                        continue
                elif not entry.name.startswith(f"{HOST}-") and _touched_lately(root, entry.name):
                    continue  # another machine's worker, alive as far as we can tell
                with contextlib.suppress(OSError):
                    self._adopt(root, entry.name)
        finally:
            os.close(root)

    def _adopt(self, root: int, other: str) -> None:
        """Take over the plain files of a dead worker's folder, read relative to the opened
        folder so that no link on the way is followed."""
        folder = os.open(other, _FOLDER, dir_fd=root)
        try:
            lock_fd = os.open(".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                              permissions.PRIVATE_FILE, dir_fd=folder)
            with os.fdopen(lock_fd, "ab") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # that worker is alive
                ours = os.open(self.folder, _FOLDER)
                try:
                    left = [name for name in os.listdir(folder)
                            if name != ".lock" and not self._adopt_one(folder, ours, other, name)]
                finally:
                    os.close(ours)
                if left:
                    return  # what was refused stays where it is, reported
                os.unlink(".lock", dir_fd=folder)
            os.rmdir(other, dir_fd=root)
        finally:
            os.close(folder)

    def _adopt_one(self, folder: int, ours: int, other: str, name: str) -> bool:
        """Move one claimed file into this worker's folder; False if it is not taken."""
        try:
            found = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return True  # another worker adopted it first
        if not stat.S_ISREG(found.st_mode):
            self._refuse(other, name, found.st_mode)
            return False
        if found.st_nlink > 1:
            # A claimed file is recordgen's own and has one name; this one has others elsewhere.
            # Its bytes are copied, so nothing done to it reaches the other names.
            _replace_with_copy(folder, name)
        os.rename(name, name, src_dir_fd=folder, dst_dir_fd=ours)
        return True

    def _refuse(self, other: str, name: str, mode: int) -> None:
        if (other, name) in self._refused:
            return
        self._refused.add((other, name))
        what = "a link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else \
            "not a plain file"
        reason = (f"It is {what}, found in the work folder {self.root / other} of a recordgen "
                  "that stopped, where only the case files it had taken should be. recordgen did "
                  "not follow it, read it or move it. Ask the system administrator to look at it "
                  "and remove it; nobody but recordgen should write in the work folder.")
        self._refusals.append(Refusal(name, reason))
        # The log names the folder, never the file (a file name may be a person's name).
        log.warning("The work folder %s holds %s that recordgen did not put there; it was left "
                    "where it is, not followed and not read.", self.root / other, what)


@dataclass(frozen=True)
class Refusal:
    """Something recordgen did not take, and why, in words for the admin team."""

    name: str
    reason: str


def _open_lock(folder: Path) -> IO[bytes]:
    descriptor = os.open(folder / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
                         | os.O_CLOEXEC, permissions.PRIVATE_FILE)
    return os.fdopen(descriptor, "ab")


def _copy(source: IO[bytes], folder: int, name: str) -> None:
    """Copy ``source`` into a new file ``name`` in ``folder``, readable by no more people than the
    source (and never by everyone)."""
    mode = stat.S_IMODE(os.fstat(source.fileno()).st_mode) & COPY_MODE | permissions.PRIVATE_FILE
    write_copy(source, folder, name, mode)


def write_copy(source: IO[bytes], folder: int, name: str, mode: int) -> None:
    """Copy ``source`` into a new file ``name`` in the open ``folder``, never over a file or a link,
    flushed to disk; if the copy fails, nothing is left behind."""
    descriptor = os.open(name, NEW_FILE, mode, dir_fd=folder)
    try:
        with os.fdopen(descriptor, "wb") as copy:
            shutil.copyfileobj(source, copy, 1 << 20)
            copy.flush()
            os.fsync(copy.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder)
        raise


def _replace_with_copy(folder: int, name: str) -> None:
    """Replace the hard link ``name`` in ``folder`` (recordgen's own work folder) by a copy of its
    bytes: the other names of the file keep their contents and permissions."""
    copy_name = f".copy-{secrets.token_hex(4)}-{name}"
    source = os.open(name, _READ, dir_fd=folder)
    with os.fdopen(source, "rb") as handle:
        _copy(handle, folder, copy_name)
    os.rename(copy_name, name, src_dir_fd=folder, dst_dir_fd=folder)


def _touched_lately(root: int, other: str) -> bool:
    try:
        touched = os.stat(f"{other}/.lock", dir_fd=root, follow_symlinks=False).st_mtime
    except OSError:
        return False
    return touched > filesystem_seconds() - STALE_AFTER_SECONDS
