"""Counting a return pauses Python's cyclic garbage collector while it reads every case's facts
(the speed of the quarterly return over a large store), and always restarts it as it was."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Mapping, Sequence

import pytest

from recordgen.errors import StoreError
from recordgen.records.case_files import StoredCaseFile
from recordgen.records.rows import ClockRecord
from recordgen.returns.build import monitoring_return
from recordgen.returns.period import quarter
from recordgen.settings import Returns

RECEIVED = dt.datetime(2026, 7, 1, 9, 0)


class OneCaseStore:
    """A store holding one case whose support started on 1 July 2026; it notes whether the
    collector was running while it was read, and can fail part-way through."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.collecting_while_read: list[bool] = []

    def accepted_by_case(self, after: tuple[str, int], limit: int,
                         fields: Mapping[str, Sequence[str]]
                         ) -> tuple[list[StoredCaseFile], tuple[str, int] | None]:
        self.collecting_while_read.append(gc.isenabled())
        if self.fail:
            raise StoreError("The records store could not be read.")
        plan = StoredCaseFile("support_plan", "CASE-1", {
            "support_started_on": "2026-07-01", "plan_date": "2026-07-01",
            "worker": {"name": "Priya Natarajan"}}, RECEIVED, 1)
        return [plan], None

    def clocks(self, case_ref: str | None = None, open_only: bool = False
               ) -> list[ClockRecord]:
        return []


@pytest.fixture
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def count(store: OneCaseStore) -> int:
    found = monitoring_return(store, Returns(), quarter("2026-Q3"), dt.date(2026, 12, 1),
                              quarterly=True)
    return next(f.value for f in found.quarterly if f.name == "People supported")


@pytest.mark.usefixtures("collector_restored")
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_reading_and_left_as_it_was(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    store = OneCaseStore()
    assert count(store) == 1
    assert store.collecting_while_read == [False]
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("collector_restored")
def test_the_collector_runs_again_when_reading_the_store_fails() -> None:
    gc.enable()
    store = OneCaseStore(fail=True)
    with pytest.raises(StoreError, match="could not be read"):
        count(store)
    assert gc.isenabled()
