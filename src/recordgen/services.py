"""The composition root: each command opens exactly the collaborators it needs, and closes them.

    process, watch              settings, store, schemas, converter, clock  -> Services
    regenerate                  settings, store, converter, clock           -> Producers
    history, due, verify, store settings, store                             -> a Store
    report                      settings, store, converter, clock           -> a Store, a Converter
    validate, templates check   settings, schemas                           -> a SchemaSet

Nothing else in recordgen opens a store, starts a converter or loads the schemas: they are passed in
(tests pass fakes). After a run that may have written, the audit trail's head is sealed outside the
store (:mod:`recordgen.records.seal`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from recordgen.clock import Clock, SystemClock
from recordgen.documents.convert import Converter, NoPdfConverter
from recordgen.documents.validate import SchemaSet
from recordgen.documents.warm import WarmConverter
from recordgen.pipeline import Services
from recordgen.records.opening import open_store, seal_quietly
from recordgen.records.store import Store
from recordgen.settings import Settings


@dataclass(frozen=True)
class Producers:
    """What remakes documents from what the store holds (``recordgen regenerate``): the pipeline's
    collaborators but the schemas, which only a case file arriving needs."""

    settings: Settings
    store: Store
    clock: Clock
    converter: Converter


def make_converter(settings: Settings, processes: int | None = None) -> Converter:
    """LibreOffice kept running between documents, in ``processes`` processes (default: the
    setting ``[output] conversion_processes``, one per core); none when PDF output is off."""
    if not settings.output.pdf:
        return NoPdfConverter()
    return WarmConverter(processes or settings.output.processes,
                         settings.output.conversion_timeout_seconds)


@contextmanager
def open_services(settings: Settings, clock: Clock | None = None,
                  pdf_processes: int | None = None) -> Iterator[Services]:
    """Everything the pipeline needs: the store, the schemas and a converter; afterwards the audit
    trail is sealed and the store closed. PDF conversion is spread over ``pdf_processes``
    LibreOffice processes (default: the setting)."""
    clock = clock or SystemClock()
    with open_records(settings, clock) as store, _converter(settings, pdf_processes) as converter:
        yield Services(settings=settings, store=store, schemas=SchemaSet(settings.folders.schemas),
                       clock=clock, converter=converter)


@contextmanager
def open_producers(settings: Settings, clock: Clock | None = None,
                   pdf_processes: int | None = None) -> Iterator[Producers]:
    """The store and a converter, for regeneration; the trail is sealed afterwards."""
    clock = clock or SystemClock()
    with open_records(settings, clock) as store, _converter(settings, pdf_processes) as converter:
        yield Producers(settings=settings, store=store, clock=clock, converter=converter)


@contextmanager
def open_records(settings: Settings, clock: Clock | None = None, *, may_create: bool = True,
                 seal: bool = True) -> Iterator[Store]:
    """The store alone. A command that only reads it (history, due) may still make it on a first
    run, as any first command does, but writes no seal; one that checks it (verify, store seal)
    never makes one (``may_create=False``)."""
    store = open_store(settings, clock or SystemClock(), may_create=may_create)
    try:
        yield store
    finally:
        try:
            if seal:
                seal_quietly(store, settings.folders.outbox)
        finally:
            store.close()


@contextmanager
def open_converter(settings: Settings) -> Iterator[Converter]:
    """A converter alone (``recordgen report``: the return's Word report as PDF), stopped after."""
    with _converter(settings, 1) as converter:
        yield converter


@contextmanager
def _converter(settings: Settings, processes: int | None) -> Iterator[Converter]:
    converter = make_converter(settings, processes)
    try:
        yield converter
    finally:
        converter.close()  # before the store is sealed and closed: LibreOffice stops first
