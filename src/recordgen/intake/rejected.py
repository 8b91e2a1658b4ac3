"""The rejected folder: a file that cannot be used is moved here, unchanged, with a note beside it
(``NAME.errors.txt``) that tells a non-technical reader what is wrong, where, and how to fix it.

Nothing in the rejected folder is reached through a link: the note is created relative to the
folder and only where nothing (not even a link) has its name, and the file is moved in under a
free name, never over another. The file keeps the permissions it had when it was dropped:
recordgen changes no permission on a file it did not make.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from recordgen import permissions
from recordgen.dates import uk_date_time
from recordgen.documents.publish import FOLDER_MODE
from recordgen.errors import Problem
from recordgen.intake.claim import NEW_FILE, Claimed, write_copy

NOTE_MODE = permissions.GROUP_READABLE


def friendly_path(path: str) -> str:
    """'$.data.objectives[1].measure' -> 'data → objectives → item 2 → measure'."""
    if not path.startswith("$"):
        return path
    parts = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        parts.append(name if name else f"item {int(index) + 1}")
    return " → ".join(parts) if parts else "the whole file"


def errors_text(file_name: str, problems: Sequence[Problem], received: dt.datetime) -> str:
    count = len(problems)
    lines = [
        f'recordgen could not use the file "{file_name}", received at {uk_date_time(received)}.',
        "Nothing was produced from it. The file is kept here, unchanged, beside this note.",
        "",
        f"What needs fixing ({count} {'problem' if count == 1 else 'problems'}):",
        "",
    ]
    for number, problem in enumerate(problems, start=1):
        where = friendly_path(problem.path)
        lines.append(f"{number}. Where: {where}" + (f"   ({problem.path})" if where != problem.path
                                                    else ""))
        lines.append(f"   What is wrong: {problem.message}")
        lines.append(f"   How to fix it: {problem.fix}")
        lines.append("")
    lines.append("When you have fixed the file (or found the right one), drop it into the inbox "
                 "again.")
    return "\n".join(lines) + "\n"


def reject_file(
    claimed: Claimed, problems: Sequence[Problem], rejected: Path, received: dt.datetime
) -> Path:
    """Move the claimed file into the rejected folder (never over a file or a link already
    there, never through a link) and write its note. Returns the file's new path."""
    source = os.stat(claimed.path, follow_symlinks=False)
    if not stat.S_ISREG(source.st_mode):
        raise OSError(errno.ELOOP, f"{claimed.original_name} in the work folder is not a plain "
                      "file (a link, or a folder), so it was not moved")
    note_text = errors_text(claimed.original_name, problems, received).encode("utf-8")
    rejected.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    folder = os.open(rejected, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in _names(claimed.original_name):
            note = f"{name}.errors.txt"
            if _taken(folder, name):
                continue
            try:
                descriptor = os.open(note, NEW_FILE, NOTE_MODE, dir_fd=folder)
            except FileExistsError:
                continue  # a note, or a link, already has that name
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(note_text)
            try:
                _move_in(claimed.path, folder, name)
            except FileExistsError:
                os.unlink(note, dir_fd=folder)  # another worker took the name meanwhile
                continue
            except BaseException:
                os.unlink(note, dir_fd=folder)
                raise
            return rejected / name
    finally:
        os.close(folder)
    raise OSError(errno.EEXIST, "no free name in the rejected folder")  # pragma: no cover


def _names(original: str) -> Iterator[str]:
    """``case.json``, then ``case (2).json``, ``case (3).json``..."""
    yield original
    stem, suffix = os.path.splitext(original)
    for number in range(2, 100_000):
        yield f"{stem} ({number}){suffix}"


def _taken(folder: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _move_in(source: Path, folder: int, name: str) -> None:
    """Give the file its new name in the rejected folder without replacing anything there: a
    hard link (which fails if the name exists), then the old name removed. Across filesystems the
    bytes are copied into a new file (recordgen's own) and the claimed file removed."""
    try:
        os.link(source, name, dst_dir_fd=folder, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise
        if exc.errno != errno.EXDEV and exc.errno not in (errno.EPERM, errno.ENOTSUP,
                                                          errno.EOPNOTSUPP, errno.EMLINK):
            raise
        _copy_in(source, folder, name)
    source.unlink()


def _copy_in(source: Path, folder: int, name: str) -> None:
    reading = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(reading, "rb") as original:
        mode = stat.S_IMODE(os.fstat(original.fileno()).st_mode) & NOTE_MODE
        write_copy(original, folder, name, mode)
