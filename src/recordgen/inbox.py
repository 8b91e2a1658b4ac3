"""One-shot processing of the inbox (``recordgen process``) and the services it needs."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from recordgen.claim import ClaimArea, Claimed, is_case_file_candidate
from recordgen.clock import Clock, SystemClock
from recordgen.convert import Converter, LibreOfficeConverter, NoPdfConverter, ParallelConverter
from recordgen.errors import InboxMissing
from recordgen.pipeline import Outcome, Services, process_batch
from recordgen.settings import Settings
from recordgen.store import SqliteStore
from recordgen.validate import SchemaSet

log = logging.getLogger("recordgen")

# Files claimed and converted together: one LibreOffice start for up to this many documents.
BATCH_SIZE = 20


@contextmanager
def open_services(settings: Settings, clock: Clock | None = None,
                  pdf_processes: int = 1) -> Iterator[Services]:
    """Open the store and load the schemas; close the store afterwards. ``pdf_processes`` > 1
    spreads PDF conversion over that many LibreOffice processes (for bulk work)."""
    clock = clock or SystemClock()
    store = SqliteStore(settings.folders.store, clock=clock)
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
        converter.close()
        store.close()


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
        outcomes.extend(process_logged(area.pending(), services))
        waiting = list(paths or inbox_files(settings.folders.inbox))
        for start in range(0, len(waiting), BATCH_SIZE):
            claimed = [c for c in map(area.claim, waiting[start:start + BATCH_SIZE]) if c]
            outcomes.extend(process_logged(claimed, services))
    return outcomes


def process_logged(batch: Sequence[Claimed], services: Services) -> list[Outcome]:
    """Process a batch of claimed files and log one line per file, as each file is settled."""
    return process_batch(batch, services, on_outcome=_log_outcome) if batch else []


def _log_outcome(outcome: Outcome) -> None:
    # The log names the case reference and kind, never a person or what happened to them.
    log.info(
        "case=%s kind=%s outcome=%s documents=%d seconds=%.2f",
        outcome.case_ref or "-", outcome.kind or "-", outcome.status, len(outcome.documents),
        outcome.seconds,
    )
