"""A monitoring return for one period, read from the store: the one function the command line
calls to count (:func:`monitoring_return`)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from recordgen.records.rows import ClockRecord
from recordgen.returns.facts import ReadsByCase, case_facts_of_store
from recordgen.returns.figures import (
    MonitoringReturn,
    clock_figures,
    month_history,
    monthly_figures,
    quarterly_figures,
    worker_figures,
)
from recordgen.returns.period import (
    Period,
    months_before,
    quarters_before,
    so_far,
    year_start,
)
from recordgen.settings import Returns


class HoldsRecords(ReadsByCase, Protocol):
    """What counting a return needs of a store: its case files and its clocks."""

    def clocks(self, case_ref: str | None = None, open_only: bool = False
               ) -> list[ClockRecord]: ...


def monitoring_return(store: HoldsRecords, settings: Returns, period: Period, today: dt.date,
                      *, quarterly: bool) -> MonitoringReturn:
    """Count the return for ``period`` from the store's accepted case files and clocks.
    A period that has ended is counted to the end of its last day; one that has not is counted
    so far (:func:`recordgen.returns.period.so_far`), up to ``today``, every figure alike. The
    Appendix 1 items are counted when ``quarterly``."""
    with _no_cycle_collection():
        return _counted(store, settings, period, today, quarterly=quarterly)


def _counted(store: HoldsRecords, settings: Returns, period: Period, today: dt.date,
             *, quarterly: bool) -> MonitoringReturn:
    counted = so_far(period, today)  # the period's label and key, its days up to today
    records: list[ClockRecord] = []
    # The clocks are read while the helpers counting the cases finish.
    cases = case_facts_of_store(store, processes=settings.processes,
                                meanwhile=lambda: records.extend(store.clocks()))
    kpis, counts = quarterly_figures(cases, counted, settings) if quarterly else ((), ())
    history = tuple((q.key, quarterly_figures(cases, so_far(q, today), settings)[0])
                    for q in quarters_before(counted, 4, settings.year_starts_in)) \
        if quarterly else ()
    return MonitoringReturn(
        period=period,
        as_of=counted.last,
        so_far=counted.so_far,
        monthly=monthly_figures(cases, counted,
                                year_start(counted.last, settings.year_starts_in)),
        kpis=kpis,
        quarterly=counts,
        clocks=clock_figures(records, counted),
        workers=worker_figures(cases, records, counted),
        kpi_history=history,
        month_history=month_history(cases, [so_far(m, today)
                                            for m in months_before(counted, 12)]),
    )


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a return is counted: reading every case's
    facts makes millions of small objects that all live until the count ends (and are then freed
    as soon as nothing refers to them), and the collector's passes over them took about a third
    of the time over 200,000 case files. Counting makes no reference cycles, so nothing waits
    longer to be freed; the collector is restarted after, as it was, even after an error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
