"""When recordgen last looked at the inbox, and on which server: a small note per server and
command in the work area, which the status page and ``recordgen status`` read.

The watcher writes its note every time it looks at the inbox (each poll, each rescan, and at least
once a minute), and once more when it stops; ``recordgen process`` writes one after its run. The
note lives in a hidden folder of the inbox (``.recordgen-status/look-watch-SERVER.json``, beside
the work area, which holds only claimed files), so every server sharing an inbox sees every
other's, whatever store each uses; it is never part of the records store or its audit trail.
Hidden names in the inbox are never taken as case files. Each note is written to a temporary
name and renamed, so a reader never sees half of one. A notes folder that is a link is never
followed: nothing is read or written through it, and the page says why it cannot tell who looked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import re
import secrets
import socket
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from recordgen import permissions

log = logging.getLogger("recordgen")

NOTES_FOLDER = ".recordgen-status"
_PREFIX = "look-"
_NOTE_BYTES = 4096  # a note is a few hundred bytes; anything bigger is not ours
_MAX_NOTES = 200  # servers x commands; past this the work area holds something else
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class Command(StrEnum):
    """Which recordgen command looked."""

    WATCH = "watch"
    PROCESS = "process"


@dataclass(frozen=True)
class Look:
    """The last look of one command on one server."""

    command: Command
    host: str
    looked_at: dt.datetime
    started_at: dt.datetime
    stopped_at: dt.datetime | None = None  # a watcher that stopped (by Ctrl-C or SIGTERM)
    stop_reason: str = ""

    def as_json(self) -> dict[str, str | None]:
        return {
            "command": self.command.value,
            "host": self.host,
            "looked_at": self.looked_at.isoformat(),
            "started_at": self.started_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "stop_reason": self.stop_reason,
        }


def notes_folder(inbox: Path) -> Path:
    """Where recordgen keeps the notes the status page reads (the last looks, held reasons)."""
    return inbox / NOTES_FOLDER


def notes_trouble(notes: Path) -> str | None:
    """Why the notes folder cannot be used, in words ("it is a link ..."), or None when it is a
    folder or is not made yet. A link is never followed, wherever it points."""
    try:
        found = os.lstat(notes)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(found.st_mode):
        return "it is a link to somewhere else, and recordgen never follows links"
    if not stat.S_ISDIR(found.st_mode):
        return "it is a file, not a folder"
    return None


def make_notes_folder(notes: Path) -> None:
    """Make the notes folder if it is not there yet. Raises OSError, saying why in words, if
    something else is in its place (a link, a file): nothing is written through a link."""
    try:
        notes.mkdir(mode=permissions.PRIVATE_FOLDER)
    except FileExistsError:
        trouble = notes_trouble(notes)
        if trouble is not None:
            raise OSError(errno.ENOTDIR, trouble, str(notes)) from None


def this_host() -> str:
    """The server's name, as the page shows it."""
    return socket.gethostname() or "this server"


def _file_name(command: Command, host: str) -> str:
    return f"{_PREFIX}{command.value}-{re.sub(r'[^A-Za-z0-9._-]', '_', host)[:100]}.json"


def write_look(notes: Path, look: Look) -> None:
    """Write ``look`` as its server's note in the notes folder, replacing the last one. Raises
    OSError if it cannot (the caller logs it: a note is never worth stopping for)."""
    make_notes_folder(notes)
    write_whole(notes, _file_name(look.command, look.host), json.dumps(look.as_json()).encode(),
                permissions.GROUP_READABLE)


def write_whole(folder: Path, name: str, content: bytes, mode: int, *,
                through_link: bool = False, fsync: bool = False) -> None:
    """Write ``content`` as ``name`` in ``folder`` whole: to a hidden temporary name beside it,
    then renamed over it (a link in its place is replaced, never followed), so a reader never sees
    half of it. ``folder`` itself may be a link only if ``through_link``. Raises OSError."""
    folder_flags = _FOLDER & ~os.O_NOFOLLOW if through_link else _FOLDER
    directory = os.open(folder, folder_flags)
    try:
        temporary = f".{name}.{secrets.token_hex(4)}.tmp"
        descriptor = os.open(temporary, _NEW, mode, dir_fd=directory)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                if fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.rename(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=directory)
            raise
    finally:
        os.close(directory)


def read_looks(notes: Path) -> list[Look]:
    """Every server's last look, latest first; a note that cannot be read is passed over."""
    try:
        folder = os.open(notes, _FOLDER)
    except OSError:
        return []  # no notes yet: nothing has looked
    looks = []
    try:
        names = sorted(n for n in os.listdir(folder) if n.startswith(_PREFIX))[:_MAX_NOTES]
        for name in names:
            look = _read_note(folder, name)
            if look is not None:
                looks.append(look)
    finally:
        os.close(folder)
    return sorted(looks, key=lambda look: look.looked_at, reverse=True)


def _read_note(folder: int, name: str) -> Look | None:
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                             dir_fd=folder)
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            raw = json.loads(handle.read(_NOTE_BYTES).decode("utf-8"))
        stopped = raw.get("stopped_at")
        return Look(
            command=Command(raw["command"]),
            host=str(raw["host"])[:100],
            looked_at=moment_with_offset(raw["looked_at"]),
            started_at=moment_with_offset(raw["started_at"]),
            stopped_at=moment_with_offset(stopped) if stopped else None,
            stop_reason=str(raw.get("stop_reason") or "")[:100],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        log.debug("a note of recordgen's last look could not be read", exc_info=True)
        return None


def moment_with_offset(value: object) -> dt.datetime:
    """A moment as a note keeps it (ISO 8601 with its offset); ValueError for anything else."""
    moment = dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a moment without its offset")
    return moment
