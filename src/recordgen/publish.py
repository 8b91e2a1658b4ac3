"""Publishing: finished documents appear in ``outbox/<case_ref>/`` whole, or not at all.

Each file is written under a temporary name, flushed to disk, then linked into place, which fails
rather than replace an existing file: a document that was issued is never overwritten (DESIGN.md
§3 "publish"). Files are readable by the service account and its group only.
"""

from __future__ import annotations

import glob
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from recordgen.errors import PublishError

FILE_MODE = 0o640
FOLDER_MODE = 0o750


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
    folder = outbox / case_ref
    # case_ref is already restricted by the schema; this is the second lock on the door.
    if folder.resolve().parent != outbox.resolve() or case_ref in ("", ".", ".."):
        raise PublishError(f"The case reference {case_ref!r} cannot be used as a folder name.")
    return folder


def publish(outbox: Path, case_ref: str, name: str, content: bytes) -> PublishedFile:
    """Write ``content`` to ``outbox/case_ref/name`` atomically. If that exact file is already
    there (a retry after a crash), it is kept as it is; if a different file is, nothing is written
    and :class:`PublishError` says so."""
    folder = case_folder(outbox, case_ref)
    target = folder / name
    digest = sha256_of(content)
    try:
        outbox.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        folder.mkdir(exist_ok=True, mode=FOLDER_MODE)
        if target.exists():
            if sha256_of(target.read_bytes()) == digest:
                return PublishedFile(target, f"{case_ref}/{name}", digest)
            raise PublishError(
                f"{case_ref}/{name} already exists in the outbox with different content, and an "
                "issued document is never overwritten. Ask the system administrator to check the "
                "outbox; the case file is kept and will be tried again."
            )
        for leftover in folder.glob(f".{glob.escape(name)}.*.tmp"):
            leftover.unlink(missing_ok=True)  # an earlier write of this file, cut off by a crash
        temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, FILE_MODE)  # the umask may have taken bits away; set exactly
            try:
                os.link(temporary, target)  # fails if target exists: never an overwrite
            except FileExistsError as exc:
                raise PublishError(
                    f"{case_ref}/{name} appeared in the outbox while it was written; it was not "
                    "overwritten. The case file is kept and will be tried again."
                ) from exc
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_folder(folder)
    except OSError as exc:
        raise PublishError(
            f"{case_ref}/{name} could not be written to the outbox ({exc.strerror or exc}). "
            "Check that the outbox exists, is writable and has free space; the case file is kept "
            "and will be tried again."
        ) from exc
    return PublishedFile(target, f"{case_ref}/{name}", digest)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
