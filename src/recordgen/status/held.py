"""Why each held file is held: the reason the last run gave, kept for the status page. A held file
stays claimed in the work area and is tried again (a fault on recordgen's side: the store, the
outbox or LibreOffice). The reason is in the log, which admin staff do not read, so after each batch
the reasons of the files it held are kept in one small note in the notes folder of the inbox
(``.recordgen-status/held.json``, readable by the service account only), keyed by the file's name as
it was dropped, with the case reference and the time; a file that is no longer held is dropped from
it. Two workers writing at the same moment may lose one reason: the page then says the reason is in
the log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from recordgen import permissions
from recordgen.status.heartbeat import make_notes_folder, moment_with_offset, write_whole

NOTE_NAME = "held.json"
_NOTE_BYTES = 1 << 20
_MAX_REASONS = 500  # the newest are kept; a reason is at most a few hundred characters
_REASON_CHARACTERS = 600
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class FileResult(Protocol):
    """What a run says about one file (the pipeline's outcome), as far as this module reads it."""

    @property
    def file_name(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def case_ref(self) -> str | None: ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class HeldReason:
    case_ref: str | None
    reason: str  # the file's name taken out: it may be a person's name
    at: dt.datetime


def note_results(notes: Path, results: Iterable[FileResult], now: dt.datetime) -> None:
    """Keep the reason of each file just held, and forget each file just settled otherwise.
    Raises OSError if the note cannot be written (the caller logs it)."""
    results = list(results)
    if not results:
        return
    reasons = dict(read_reasons(notes))
    for result in results:
        if str(result.status) == "held":
            reason = result.message.replace(result.file_name, "the case file") \
                if result.file_name else result.message
            reasons[result.file_name] = HeldReason(result.case_ref, reason[:_REASON_CHARACTERS],
                                                   now)
        else:
            reasons.pop(result.file_name, None)
    newest = sorted(reasons.items(), key=lambda item: item[1].at, reverse=True)[:_MAX_REASONS]
    _write(notes, {name: {"case_ref": held.case_ref, "reason": held.reason,
                         "at": held.at.isoformat()} for name, held in newest})


def read_reasons(notes: Path) -> Mapping[str, HeldReason]:
    """The reasons kept, by the held file's name as it was dropped; {} if there are none."""
    try:
        folder = os.open(notes, _FOLDER)
    except OSError:
        return {}
    try:
        descriptor = os.open(NOTE_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
                             | os.O_NONBLOCK, dir_fd=folder)
        with os.fdopen(descriptor, "rb") as handle:
            raw = json.loads(handle.read(_NOTE_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    finally:
        os.close(folder)
    reasons = {}
    if isinstance(raw, dict):
        for name, entry in raw.items():
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                case_ref = entry.get("case_ref")
                reasons[str(name)] = HeldReason(
                    case_ref if isinstance(case_ref, str) else None,
                    str(entry["reason"])[:_REASON_CHARACTERS],
                    moment_with_offset(entry["at"]))
    return reasons


def _write(notes: Path, content: Mapping[str, object]) -> None:
    make_notes_folder(notes)
    write_whole(notes, NOTE_NAME, json.dumps(content, ensure_ascii=False).encode("utf-8"),
                permissions.PRIVATE_FILE)
