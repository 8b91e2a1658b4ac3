"""One-shot processing of the inbox (``recordgen process``) and the services it needs."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from recordgen.claim import ClaimArea, Claimed, is_case_file_candidate
from recordgen.clock import Clock, SystemClock
from recordgen.convert import Converter, LibreOfficeConverter, NoPdfConverter, ParallelConverter
from recordgen.errors import InboxMissing, RecordgenError, StoreError, StoreMissing
from recordgen.pipeline import Outcome, Services, process_batch
from recordgen.seal import write_seal
from recordgen.settings import Settings
from recordgen.store import MISSING_ADVICE, SqliteStore, Store
from recordgen.validate import SchemaSet

log = logging.getLogger("recordgen")

# Files claimed and converted together: one LibreOffice start for up to this many documents.
BATCH_SIZE = 20


@contextmanager
def open_services(settings: Settings, clock: Clock | None = None,
                  pdf_processes: int = 1, *, read_only: bool = False) -> Iterator[Services]:
    """Open the store and load the schemas; afterwards seal the audit trail (see recordgen.seal)
    and close the store. ``pdf_processes`` > 1 spreads PDF conversion over that many LibreOffice
    processes (for bulk work). ``read_only`` (for ``verify``) never creates a store or writes a
    seal."""
    clock = clock or SystemClock()
    store = open_store(settings, clock, may_create=not read_only)
    timeout = settings.output.conversion_timeout_seconds
    converter: Converter = (
        NoPdfConverter() if not settings.output.pdf
        else ParallelConverter(pdf_processes, timeout) if pdf_processes > 1
        else LibreOfficeConverter(timeout)
    )
    try:
        yield Services(settings=settings, store=store, schemas=SchemaSet(settings.folders.schemas),
                       clock=clock, converter=converter)
    finally:
        try:
            converter.close()
            if not read_only:
                seal_quietly(store, settings.folders.outbox)
        finally:
            store.close()


def open_store(settings: Settings, clock: Clock, *, may_create: bool = True) -> SqliteStore:
    """The records store where the settings say it is. A missing store is created only on a first
    run, which is when the outbox is empty too; otherwise nothing is processed (exit code 3), so
    that a store on an unmounted disk or lost in a restore is never silently started again. A store
    that holds nothing while the outbox holds documents is refused the same way."""
    path, outbox = settings.folders.store, settings.folders.outbox
    if not path.exists():
        held = outbox_holdings(outbox)
        if held or not may_create:
            raise StoreMissing(_missing_message(path, outbox, held))
        return SqliteStore(path, clock=clock, create="the first run, with an empty outbox")
    store = SqliteStore(path, clock=clock)
    if store.chain_head() is None and (held := outbox_holdings(outbox)):
        store.close()
        raise StoreMissing(
            f"The records store {path} is empty, but the outbox {outbox} already holds "
            f"{_some(held)}, so recordgen has recorded work before. recordgen stopped without "
            "doing anything. "
            + MISSING_ADVICE + " " + _START_AGAIN)
    return store


def init_store(settings: Settings, clock: Clock | None = None) -> Path:
    """``recordgen store init``: make a new, empty store where the settings say, and refuse if
    there is one already (an existing record is never replaced)."""
    path = settings.folders.store
    if path.exists() or path.is_symlink():
        raise StoreError(f"A records store already exists at {path}; nothing was changed. "
                         "'recordgen store init' only makes a store where there is none.")
    held = outbox_holdings(settings.folders.outbox)
    why = "recordgen store init" + (
        f", with the outbox already holding {_some(held)}" if held else "")
    SqliteStore(path, clock=clock or SystemClock(), create=why).close()
    return path


def seal_quietly(store: Store, outbox: Path) -> None:
    """Write the seal after a run; a seal that cannot be written is logged, never a failed run
    (what was done is recorded; the next run's seal covers it)."""
    try:
        write_seal(store, outbox)
    except (RecordgenError, OSError, sqlite3.Error) as exc:
        log.warning("The seal of the records store could not be written: %s", exc)


# System files a file manager leaves in any folder it shows; they say nothing about past runs.
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}
_START_AGAIN = (
    "If the store is truly lost, tell your information governance lead before going on: "
    "'recordgen store init' makes a new, empty store, and the record starts again from nothing."
)


def outbox_holdings(outbox: Path) -> list[str]:
    """What is in the outbox (a few names), or nothing when it is missing or empty."""
    try:
        names = sorted(p.name for p in outbox.iterdir() if p.name.lower() not in _SYSTEM_FILES)
    except (FileNotFoundError, NotADirectoryError):
        return []  # no outbox folder yet (a file in its place is no record of a run either)
    except OSError as exc:
        return [f"something it could not list ({exc.strerror or exc})"]
    return names


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{len(names)} item{'s' if len(names) != 1 else ''} ({shown})"


def _missing_message(path: Path, outbox: Path, held: list[str]) -> str:
    if held:
        return (f"The records store {path} is missing, but the outbox {outbox} already holds "
                f"{_some(held)}, so recordgen has run here before. recordgen stopped without "
                "doing anything. "
                + MISSING_ADVICE + " " + _START_AGAIN)
    return (f"The records store {path} does not exist yet: nothing has been recorded here. The "
            "first 'recordgen process' or 'recordgen watch' makes it (while the outbox is empty), "
            "or 'recordgen store init' does. If it should exist, " + MISSING_ADVICE[0].lower()
            + MISSING_ADVICE[1:])


def check_inbox(settings: Settings) -> None:
    inbox = settings.folders.inbox
    if not inbox.is_dir():
        raise InboxMissing(
            f"The inbox folder {inbox} does not exist{' as a folder' if inbox.exists() else ''}. "
            "Create it, or set [folders] inbox in the settings file to the shared folder staff drop "
            "case files into. If it is on a network share, check that the share is mounted."
        )


def inbox_files(inbox: Path) -> list[Path]:
    """The case files waiting in the inbox, oldest name first; junk, links and folders ignored."""
    return sorted(p for p in inbox.iterdir() if is_case_file_candidate(p))


def process_inbox(services: Services, paths: Sequence[Path] = ()) -> list[Outcome]:
    """Finish anything left claimed by a crash, then process ``paths`` (default: the inbox)."""
    settings = services.settings
    check_inbox(settings)
    outcomes: list[Outcome] = []
    with ClaimArea(settings.folders.work, clock=services.clock) as area:
        outcomes.extend(process_logged(area.pending(), services, seal=False))
        waiting = list(paths or inbox_files(settings.folders.inbox))
        for start in range(0, len(waiting), BATCH_SIZE):
            claimed = [c for c in map(area.claim, waiting[start:start + BATCH_SIZE]) if c]
            outcomes.extend(process_logged(claimed, services, seal=False))
    return outcomes  # the run's seal is written when its services close


def process_logged(batch: Sequence[Claimed], services: Services, *,
                   seal: bool = True) -> list[Outcome]:
    """Process a batch of claimed files and log one line per file; then (for the watcher, whose
    run does not end) seal the audit trail."""
    outcomes = process_batch(batch, services) if batch else []
    if seal and batch:
        seal_quietly(services.store, services.settings.folders.outbox)
    for outcome in outcomes:
        # The log names the case reference and kind, never a person or what happened to them.
        log.info(
            "case=%s kind=%s outcome=%s documents=%d seconds=%.2f",
            outcome.case_ref or "-", outcome.kind or "-", outcome.status, len(outcome.documents),
            outcome.seconds,
        )
    return outcomes
