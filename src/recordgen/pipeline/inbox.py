"""One-shot processing of the inbox (``recordgen process``).

``recordgen process PATH...`` takes exactly the paths given: a file in the inbox is claimed from
it like any other; a file from elsewhere is copied in and left where it is. Every path it does not
take is reported with the reason (there is no such file, it is a link, a folder, or not a case
file), never passed over in silence.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from recordgen.documents.convert import warm_up
from recordgen.errors import InboxMissing, RecordgenError
from recordgen.intake.claim import ClaimArea, Claimed, is_inbox_file, is_junk_name
from recordgen.intake.foreign import describe_by_name, identify
from recordgen.pipeline.batch import process_batch
from recordgen.pipeline.stages import FileStatus, Outcome, Services, declared_at
from recordgen.records.opening import seal_quietly
from recordgen.settings import Settings

log = logging.getLogger("recordgen")

# Files claimed and converted together: one LibreOffice start for up to this many documents.
BATCH_SIZE = 20


def check_inbox(settings: Settings) -> None:
    inbox = settings.folders.inbox
    if not inbox.is_dir():
        raise InboxMissing(
            f"The inbox folder {inbox} does not exist{' as a folder' if inbox.exists() else ''}. "
            "Create it, or set [folders] inbox in the settings file to the shared folder staff drop "
            "case files into. If it is on a network share, check that the share is mounted."
        )


def inbox_files(inbox: Path) -> list[Path]:
    """The files waiting in the inbox, oldest name first: case files, and files that are not case
    files (which are answered with a note); temporary files, links and folders are left alone."""
    return sorted(p for p in inbox.iterdir() if is_inbox_file(p))


def process_inbox(services: Services, paths: Sequence[Path] = ()) -> list[Outcome]:
    """Finish anything left claimed by a crash, then process ``paths`` (default: the inbox).
    A path given and not taken has an outcome "not taken" saying why."""
    settings = services.settings
    check_inbox(settings)
    outcomes: list[Outcome] = []
    with ClaimArea(settings.folders.work, clock=services.clock,
                   registry=services.store.claim_registry()) as area:
        pending = area.pending()
        if pending:
            warm_up(services.converter)  # LibreOffice starts while the first files render
        outcomes.extend(process_logged(pending, services, seal=False))
        area.forget_finished(pending)
        outcomes.extend(Outcome(r.name, FileStatus.NOT_TAKEN, message=r.reason)
                        for r in area.take_refusals())
        if paths:
            waiting = []
            for path in paths:
                reason = why_not_taken(path, inbox=area.in_inbox(path))
                if reason is None:
                    waiting.append(path)
                else:
                    outcomes.append(Outcome(str(path), FileStatus.NOT_TAKEN, message=reason))
        else:
            waiting = inbox_files(settings.folders.inbox)
        if waiting:
            warm_up(services.converter)
        for batch in in_batches(waiting, services):
            claimed = []
            for path in batch:
                taken = area.claim(path)
                if taken is not None:
                    claimed.append(taken)
                elif paths:
                    outcomes.append(Outcome(str(path), FileStatus.NOT_TAKEN, message=(
                        "It was no longer there, or no longer a plain file, when recordgen came "
                        "to take it (another recordgen, or a person, moved it).")))
            outcomes.extend(process_logged(claimed, services, seal=False))
            area.forget_finished(claimed)
    return outcomes  # the run's seal is written when its services close


def in_batches(paths: Sequence[Path], services: Services) -> list[list[Path]]:
    """``paths`` in batches of :data:`BATCH_SIZE`, each in name order. With more than one batch,
    the files of one case are kept together, and a review (or a bundle) comes after the files it
    may depend on, so that a review dropped with its plan waits for it whatever the names, however
    many files there are (a batch orders the files of a case; two batches could not)."""
    if len(paths) <= BATCH_SIZE:
        return [list(paths)] if paths else []
    declared = [declared_at(path, services) for path in paths]
    first: dict[str, int] = {}
    for index, found in enumerate(declared):
        if found.case_ref is not None:
            first.setdefault(found.case_ref, index)

    def place(index: int) -> tuple[int, int, int]:
        found = declared[index]
        group = first[found.case_ref] if found.case_ref is not None else index
        return (group, found.place_in_case, index)

    ordered = [paths[index] for index in sorted(range(len(paths)), key=place)]
    return [sorted(ordered[start:start + BATCH_SIZE])
            for start in range(0, len(ordered), BATCH_SIZE)]


def why_not_taken(path: Path, *, inbox: bool) -> str | None:
    """Why ``recordgen process PATH`` does not take ``path``, in words for the admin team; None
    if it takes it. A file outside the inbox that is plainly not a case file (a Word document, a
    scan, a spreadsheet) is left where it is; in the inbox it is taken and answered with a note."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        return "There is no file or folder by this name. Check the name and the folder."
    except OSError as exc:
        return f"It could not be looked at ({exc.strerror or exc})."
    if stat.S_ISLNK(found.st_mode):
        return ("It is a link to another file, and recordgen never follows links (the file it "
                "points to may not be the one meant). Give the path of the file itself.")
    if stat.S_ISDIR(found.st_mode):
        return (f"It is a folder. Give the case files in it instead, for example "
                f"{path / '*.json'}.")
    if not stat.S_ISREG(found.st_mode):
        return "It is not a plain file (it is a device or a pipe)."
    if is_junk_name(path.name):
        return ("Its name marks it as a temporary or system file (an Office lock file, a download "
                "still in progress, a hidden file), which recordgen leaves alone.")
    if inbox:
        return None
    what = _what_it_seems(path)
    if what is not None:
        return (f"It seems to be {what}, not a case file: recordgen reads only JSON case files "
                "exported from the case management system. It was left where it is.")
    return None


def _what_it_seems(path: Path) -> str | None:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return "a link" if exc.errno == errno.ELOOP else None
    with os.fdopen(descriptor, "rb") as handle:
        what = identify(handle, path.name)
    return what or describe_by_name(path.name)


def process_logged(batch: Sequence[Claimed], services: Services, *,
                   seal: bool = True) -> list[Outcome]:
    """Process a batch of claimed files and log one line per file, as each file is settled; then
    (for the watcher, whose run does not end) seal the audit trail."""
    outcomes = _process_apart(batch, services)
    if seal and batch:
        seal_quietly(services.store, services.settings.folders.outbox)
    return outcomes


def _log_outcome(outcome: Outcome) -> None:
    # The log names the case reference and kind, never a person or what happened to them.
    log.info(
        "case=%s kind=%s outcome=%s documents=%d seconds=%.2f",
        outcome.case_ref or "-", outcome.kind or "-", outcome.status, len(outcome.documents),
        outcome.seconds,
    )


def _process_apart(batch: Sequence[Claimed], services: Services) -> list[Outcome]:
    """Process the batch together; if something unforeseen stops it (a fault in recordgen, memory
    running out), process its files one by one, so that one bad file never holds the others. A
    fault of the store or the inbox is not a file's: it stops the run, as before."""
    if not batch:
        return []
    try:
        return process_batch(batch, services, on_outcome=_log_outcome)
    except RecordgenError:
        raise
    except Exception as exc:  # one file's fault must not hold its batch
        if len(batch) > 1:
            return [outcome for claimed in batch for outcome in _process_apart([claimed], services)]
        log.debug("details", exc_info=True)
        held = Outcome(batch[0].original_name, FileStatus.HELD, message=(
            f"recordgen met a fault it did not expect while processing this file "
            f"({type(exc).__name__}). The file stays in the work folder and is tried again; if "
            "this keeps happening, tell the system administrator."))
        _log_outcome(held)
        return [held]
