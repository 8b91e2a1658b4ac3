"""What the shared folders hold that staff need to know about: the files in the rejected folder
with their notes, the files held in the work area, and what waits in the inbox.

Nothing here is reached through a link, every folder listing and every file read is capped (a
folder of a hundred thousand files costs a bounded time; what is found says whether the listing was
cut short, so that a count is given as "at least"), and nothing is written. A file's name is
kept only for the rejected folder, where the page links to it; the inbox and the work area are
described without names (a file name is often a person's name).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

from recordgen.cases import case_ref_or_none
from recordgen.clock import UK
from recordgen.intake.claim import CLAIM_SEPARATOR, is_junk_name
from recordgen.intake.foreign import describe_by_name, identify
from recordgen.status.held import HeldReason

NOTE_SUFFIX = ".errors.txt"
MAX_LISTED = 10_000  # entries looked at in one folder
MAX_IDENTIFIED = 50  # files in the inbox whose first bytes are read to say what they are
_NOTE_BYTES = 16_384  # the start of a note: its first problem is near the top
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Names operating systems leave in every shared folder: never worth a word.
_SYSTEM_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    """What was found in a folder, and whether every entry was looked at (False: the folder holds
    more than MAX_LISTED entries, and only that many were)."""

    items: list[T]
    complete: bool = True


def file_moment(seconds: float) -> dt.datetime:
    """A file's own modification time as a UK moment (the file's time, not the clock's)."""
    return (_EPOCH + dt.timedelta(seconds=seconds)).astimezone(UK)


# --- the rejected folder ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """A file in the rejected folder with recordgen's note beside it."""

    name: str  # the file's name in the rejected folder, as staff chose it
    received: str  # as the note says it: "2:30pm on Monday 23 November 2026"
    problems: int
    where: str  # the first problem: where it is, in words
    what: str  # the first problem: what is wrong, with values from the file left out
    noted: dt.datetime  # when the note was written (its file time), for the order

    @property
    def note_name(self) -> str:
        return self.name + NOTE_SUFFIX


def rejected_files(folder: Path) -> Found[Rejection]:
    """Every file in the rejected folder that has its note beside it, newest first."""
    try:
        descriptor = os.open(folder, _FOLDER)
    except OSError:
        return Found([])  # nothing has been rejected yet
    found = []
    try:
        names, complete = _names(descriptor)
        present = set(names)
        for name in names:
            if not name.endswith(NOTE_SUFFIX) or name[:-len(NOTE_SUFFIX)] not in present:
                continue
            rejection = _read_note(descriptor, name[:-len(NOTE_SUFFIX)])
            if rejection is not None:
                found.append(rejection)
    finally:
        os.close(descriptor)
    return Found(sorted(found, key=lambda r: (r.noted, r.name), reverse=True), complete)


def _names(folder: int) -> tuple[list[str], bool]:
    """The names of up to MAX_LISTED entries of ``folder``, and whether that is all of them."""
    names: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if len(names) >= MAX_LISTED:
                return names, False
            names.append(entry.name)
    return names, True


def _read_note(folder: int, name: str) -> Rejection | None:
    try:
        if not stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
            return None
        descriptor = os.open(name + NOTE_SUFFIX, _READ, dir_fd=folder)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            return None
        text = handle.read(_NOTE_BYTES).decode("utf-8", errors="replace")
    return parse_note(name, text, file_moment(status.st_mtime))


_RECEIVED = re.compile(r"received at (.+?)\.\s*$", re.MULTILINE)
_COUNT = re.compile(r"^What needs fixing \((\d+) problems?\)", re.MULTILINE)
_FIRST = re.compile(r"^1\. Where: (.*)\n\s*What is wrong: (.*)$", re.MULTILINE)
_RAW_PATH = re.compile(r"^(.*?)\s+\((\$[^)]*)\)\s*$")


def parse_note(name: str, text: str, noted: dt.datetime) -> Rejection | None:
    """The facts of a note written by :func:`recordgen.intake.rejected.errors_text`; None for a
    text that is not one."""
    first = _FIRST.search(text)
    if not text.startswith("recordgen could not use the file") or first is None:
        return None
    received = _RECEIVED.search(text.split("\n", 1)[0])
    count = _COUNT.search(text)
    where, raw_path = first.group(1).strip(), ""
    split = _RAW_PATH.match(where)
    if split:
        where, raw_path = split.group(1), split.group(2)
    return Rejection(
        name=name,
        received=received.group(1) if received else "",
        problems=int(count.group(1)) if count else 1,
        where=without_values(where, raw_path or where),
        what=without_values(first.group(2).strip(), raw_path or where),
        noted=noted,
    )


_QUOTED = re.compile(r'"([^"\n]{0,200})"')
HIDDEN_VALUE = "[a value from the file]"


def without_values(message: str, path: str) -> str:
    """A problem's words with the values quoted from the case file left out (a value may be a
    person's name): a field name that the problem's own place names, or one recordgen suggests,
    stays."""
    fields = set(re.findall(r"\.([^.\[\]]+)", path)) | set(re.findall(r"[→]\s*([^→]+?)\s*(?=→|$)",
                                                                        path))

    def shown(match: re.Match[str]) -> str:
        quoted = match.group(1)
        suggested = message[max(0, match.start() - 13):match.start()] == "Did you mean "
        return match.group(0) if quoted in fields or suggested else HIDDEN_VALUE

    return _QUOTED.sub(shown, message)


# --- the work area: held files ------------------------------------------------------------------


class HeldState(StrEnum):
    HELD = "held"  # the last run held it, for the reason given
    IN_HAND = "in hand"  # taken moments ago, being processed
    LEFT = "left"  # taken a while ago, no reason known (a run stopped while working on it)


@dataclass(frozen=True)
class HeldFile:
    """A file taken from the inbox and not finished: no name (it may be a person's)."""

    state: HeldState
    taken_at: dt.datetime | None
    case_ref: str | None
    reason: str


def held_files(work: Path, reasons: Mapping[str, HeldReason], now: dt.datetime,
               in_hand_for: dt.timedelta) -> Found[HeldFile]:
    """The files claimed in every worker's folder of the work area, oldest first."""
    try:
        root = os.open(work, _FOLDER)
    except OSError:
        return Found([])
    found = []
    try:
        workers, complete = _names(root)
        for worker in workers:
            if worker.startswith("."):
                continue
            try:
                folder = os.open(worker, _FOLDER, dir_fd=root)
            except OSError:
                continue  # not a folder (a note), or a link: not a worker's
            try:
                names, all_of_them = _names(folder)
                complete = complete and all_of_them
                for name in names:
                    if name.startswith("."):  # the lock, a copy being made
                        continue
                    found.append(_held(name, reasons, now, in_hand_for))
            finally:
                os.close(folder)
    finally:
        os.close(root)
    return Found(sorted(found, key=lambda h: (h.taken_at or now, h.case_ref or "")), complete)


def _held(name: str, reasons: Mapping[str, HeldReason], now: dt.datetime,
          in_hand_for: dt.timedelta) -> HeldFile:
    claim_id, _, original = name.partition(CLAIM_SEPARATOR)
    taken = _claim_moment(claim_id)
    known = reasons.get(original)
    if known is not None:
        return HeldFile(HeldState.HELD, taken, case_ref_or_none(known.case_ref), known.reason)
    if taken is not None and now - taken < in_hand_for:
        return HeldFile(HeldState.IN_HAND, taken, None, "recordgen is working on it now.")
    return HeldFile(HeldState.LEFT, taken, None, (
        "recordgen stopped while it was working on it, or the reason was not kept; it is tried "
        "again at the next rescan or run. The log of the recordgen service says more."))


def _claim_moment(claim_id: str) -> dt.datetime | None:
    """When a file was taken: its claim id starts with the moment, in UTC."""
    stamp = claim_id.split("-")[0]
    if not re.fullmatch(r"\d{8}T\d{12}", stamp):
        return None
    try:
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC).astimezone(UK)
    except ValueError:
        return None


# --- the inbox: what waits in it ----------------------------------------------------------------


class Waiting(StrEnum):
    CASE_FILE = "case file"  # taken at the next look
    NOT_A_CASE_FILE = "not a case file"  # taken at the next look, and moved to rejected/
    FOLDER = "folder"  # never read
    LINK = "link"  # never followed
    TEMPORARY = "temporary"  # never read, by its name
    OTHER = "other"  # a device or a pipe


NEVER_READ = frozenset({Waiting.FOLDER, Waiting.LINK, Waiting.TEMPORARY, Waiting.OTHER})


@dataclass(frozen=True)
class InboxItem:
    """Something in the inbox recordgen has not taken (no name: it may be a person's)."""

    waiting: Waiting
    what: str  # "a folder", "a Word document (.docx)"
    since: dt.datetime  # its modification time
    advice: str


_ADVICE = {
    Waiting.FOLDER: ("recordgen reads only files put straight into the inbox, never folders "
                     "inside it. Move the case files out of the folder into the inbox, then "
                     "delete the empty folder."),
    Waiting.LINK: ("recordgen never follows links (the file a link points to may not be the one "
                   "meant). Put the case file itself into the inbox, then delete the link."),
    Waiting.OTHER: "Ask the system administrator to remove it.",
    Waiting.NOT_A_CASE_FILE: ("recordgen needs a JSON case file exported from the case "
                              "management system. At its next look it moves this file to the "
                              "rejected folder with a note."),
    Waiting.CASE_FILE: "recordgen takes it at its next look.",
}


def inbox_items(inbox: Path) -> Found[InboxItem]:
    """Everything in the inbox but recordgen's own hidden folders (the work area, the notes) and
    the files every operating system leaves (Thumbs.db, desktop.ini, hidden files), oldest
    first."""
    try:
        folder = os.open(inbox, _FOLDER)
    except OSError:
        return Found([])
    items = []
    identified = 0
    try:
        names, complete = _names(folder)
        for name in names:
            if name.startswith(".") or name.lower() in _SYSTEM_NAMES:
                continue
            try:
                found = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except OSError:
                continue  # taken or removed meanwhile
            item, identified = _item(folder, name, found, identified)
            items.append(item)
    finally:
        os.close(folder)
    return Found(sorted(items, key=lambda i: i.since), complete)


def _item(folder: int, name: str, found: os.stat_result, identified: int) -> tuple[InboxItem, int]:
    since = file_moment(found.st_mtime)
    if stat.S_ISDIR(found.st_mode):
        return InboxItem(Waiting.FOLDER, "a folder", since, _ADVICE[Waiting.FOLDER]), identified
    if stat.S_ISLNK(found.st_mode):
        return InboxItem(Waiting.LINK, "a link (shortcut) to somewhere else", since,
                         _ADVICE[Waiting.LINK]), identified
    if not stat.S_ISREG(found.st_mode):
        return InboxItem(Waiting.OTHER, "something that is not a file (a device or a pipe)",
                         since, _ADVICE[Waiting.OTHER]), identified
    if is_junk_name(name):
        temporary, advice = _temporary(name)
        return InboxItem(Waiting.TEMPORARY, temporary, since, advice), identified
    seems: str | None = None
    if identified < MAX_IDENTIFIED:
        identified += 1
        seems = _identify(folder, name)
    if seems is None:
        return InboxItem(Waiting.CASE_FILE, "a case file", since,
                         _ADVICE[Waiting.CASE_FILE]), identified
    return InboxItem(Waiting.NOT_A_CASE_FILE, seems, since,
                     _ADVICE[Waiting.NOT_A_CASE_FILE]), identified


def _identify(folder: int, name: str) -> str | None:
    try:
        descriptor = os.open(name, _READ, dir_fd=folder)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        what = identify(handle, name)
    return what or describe_by_name(name)


def _temporary(name: str) -> tuple[str, str]:
    if name.startswith("~$"):
        return ("an Office lock file (its name starts ~$)",
                "Word or Excel leaves one while a document from the inbox is open, and sometimes "
                "after it closes. Close the document; if the lock file stays, delete it.")
    ending = name[name.rfind("."):] if "." in name[1:] else name[-1:]
    return (f"a temporary file (its name ends {ending})",
            "A program was saving or downloading it and did not finish. recordgen never reads "
            "a file with such a name. If it is a whole case file, rename it to end .json; "
            "otherwise delete it.")
