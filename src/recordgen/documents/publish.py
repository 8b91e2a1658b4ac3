"""Publishing: finished documents appear in ``outbox/<case_ref>/`` whole, or not at all.

Each file is written under a temporary name, flushed to disk, then linked into place, which fails
rather than replace an existing file: a document that was issued is never overwritten (a change is
a new version). Issued documents are the record, so they are written read-only (0440), readable by
the service account and its group only.

Nothing in the outbox is reached through a link. The case folder is opened relative to the outbox
without following links, and every file in it relative to that folder, so a case folder that is a
link to another case's folder (or to anywhere else), or a link planted where a document belongs,
is refused with a message that says so, and nothing is written through it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from recordgen import permissions
from recordgen.errors import PublishError

FILE_MODE = permissions.ISSUED_FILE
FOLDER_MODE = permissions.OUTBOX_FOLDER
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0)
_KEPT = "The case file is kept and will be tried again."


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    relative: str  # to the outbox, as the store records it
    sha256: str


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sha256_of_file(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time (case files may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def case_folder(outbox: Path, case_ref: str) -> Path:
    """Where a case's documents go. The reference is checked by the schema; this is the second
    lock on the door (no separators, nothing that climbs out of the outbox)."""
    if case_ref in ("", ".", "..") or "/" in case_ref or "\\" in case_ref or "\0" in case_ref \
            or not case_ref.isprintable():
        raise PublishError(f"The case reference {case_ref!r} cannot be used as a folder name.")
    return outbox / case_ref


def read_published(outbox: Path, case_ref: str, name: str) -> bytes | None:
    """The bytes of ``outbox/case_ref/name`` if it is a file there, None if there is nothing by
    that name. A link (in place of the case folder or of the file) is never followed: it raises
    :class:`PublishError`, as does a folder that cannot be read."""
    case_folder(outbox, case_ref)
    try:
        folder = _open_case_folder(outbox, case_ref, create=False)
        if folder is None:
            return None
        try:
            return _read_regular(folder, case_ref, name)
        finally:
            os.close(folder)
    except OSError as exc:
        raise _cannot_write(case_ref, name, exc) from exc


def publish(outbox: Path, case_ref: str, name: str, content: bytes) -> PublishedFile:
    """Write ``content`` to ``outbox/case_ref/name`` atomically and read-only. If that exact file
    is already there (a retry after a crash), it is kept as it is; if a different file is, or a
    link, nothing is written and :class:`PublishError` says so."""
    target = case_folder(outbox, case_ref) / name
    relative = f"{case_ref}/{name}"
    digest = sha256_of(content)
    try:
        folder = _open_case_folder(outbox, case_ref, create=True)
        if folder is None:  # removed again between making and opening it
            raise FileNotFoundError(errno.ENOENT, "the case folder vanished as it was made")
        try:
            existing = _read_regular(folder, case_ref, name)
            if existing is not None:
                if sha256_of(existing) == digest:
                    return PublishedFile(target, relative, digest)
                raise PublishError(
                    f"{relative} already exists in the outbox with different content, and an "
                    "issued document is never overwritten. Ask the system administrator to check "
                    f"the outbox; the case file is kept and will be tried again."
                )
            _remove_leftovers(folder, name)
            _write_new(folder, case_ref, name, content)
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        raise _cannot_write(case_ref, name, exc) from exc
    return PublishedFile(target, relative, digest)


def _open_case_folder(outbox: Path, case_ref: str, *, create: bool) -> int | None:
    """A descriptor of the case folder, opened relative to the outbox without following a link;
    None if it does not exist (and ``create`` is false). The outbox itself is the folder the
    settings name, taken as configured."""
    if create:
        outbox.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    try:
        root = os.open(outbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        if create:
            raise
        return None
    try:
        if create:
            # Made before, or something else has the name: the open below tells which.
            with contextlib.suppress(FileExistsError):
                os.mkdir(case_ref, FOLDER_MODE, dir_fd=root)
        try:
            return os.open(case_ref, _DIRECTORY_FLAGS, dir_fd=root)
        except FileNotFoundError:
            if create:
                raise
            return None
        except OSError as exc:
            _refuse_what_is_in_the_way(outbox, case_ref, root)
            raise exc
    finally:
        os.close(root)


def _refuse_what_is_in_the_way(outbox: Path, case_ref: str, root: int) -> None:
    """The case folder could not be opened as a folder: say if a link or a file is in its place."""
    try:
        found = os.stat(case_ref, dir_fd=root, follow_symlinks=False)
    except OSError:
        return
    if stat.S_ISLNK(found.st_mode):
        raise PublishError(
            f"The case folder {case_ref} in the outbox {outbox} is a link to somewhere else, not "
            "a folder recordgen made. recordgen never writes through a link, because the "
            "documents would land wherever it points (another case's folder, or outside the "
            "outbox). Ask the system administrator to remove the link; recordgen then makes the "
            f"folder itself. {_KEPT}"
        )
    if not stat.S_ISDIR(found.st_mode):
        raise PublishError(
            f"There is a file called {case_ref} in the outbox {outbox} where the case's folder "
            "should be. Ask the system administrator to move it away; recordgen then makes the "
            f"folder itself. {_KEPT}"
        )


def _read_regular(folder: int, case_ref: str, name: str) -> bytes | None:
    """The bytes of the regular file ``name`` in ``folder``; None if there is nothing there."""
    try:
        descriptor = os.open(name, _READ_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _planted_link(case_ref, name) from exc
        raise
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise PublishError(
                f"{case_ref}/{name} in the outbox is not a file (it is a folder or a device); "
                f"nothing was written over it. Ask the system administrator to move it away. "
                f"{_KEPT}"
            )
        return handle.read()


def _planted_link(case_ref: str, name: str) -> PublishError:
    return PublishError(
        f"{case_ref}/{name} in the outbox is a link that recordgen did not make; it was neither "
        f"followed nor replaced. Ask the system administrator to remove it. {_KEPT}"
    )


def _remove_leftovers(folder: int, name: str) -> None:
    """Temporary files of an earlier write of this file, cut off by a crash (names only recordgen
    makes; unlinking a name never follows a link)."""
    prefix = f".{name}."
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and entry.endswith(".tmp"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry, dir_fd=folder)


def _write_new(folder: int, case_ref: str, name: str, content: bytes) -> None:
    temporary = f".{name}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(temporary, flags, FILE_MODE, dir_fd=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fchmod(handle.fileno(), FILE_MODE)  # the umask may have taken bits; set exactly
            os.fsync(handle.fileno())
        try:
            # link() fails if the name exists, so an issued document is never overwritten.
            os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder,
                    follow_symlinks=False)
        except FileExistsError as exc:
            raise _appeared(folder, case_ref, name) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)


def _appeared(folder: int, case_ref: str, name: str) -> PublishError:
    """Something took the document's name between the check and the write: say what it was."""
    try:
        found = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        found = None
    if found is not None and stat.S_ISLNK(found.st_mode):
        return _planted_link(case_ref, name)
    return PublishError(
        f"{case_ref}/{name} appeared in the outbox while it was written (another recordgen, or "
        f"a person, wrote a file by that name); it was not overwritten. {_KEPT}"
    )


def _cannot_write(case_ref: str, name: str, exc: OSError) -> PublishError:
    if exc.errno == errno.ELOOP:
        return PublishError(
            f"{case_ref}/{name} could not be written: a link stands in the way in the outbox, "
            f"and recordgen never follows links. Ask the system administrator to remove it. "
            f"{_KEPT}"
        )
    return PublishError(
        f"{case_ref}/{name} could not be written to the outbox ({exc.strerror or exc}). Check "
        "that the outbox exists, is writable and has free space; the case file is kept and will "
        "be tried again."
    )
