"""The speed of the quarterly return over a large store, as far as it changes what happens:
counting pauses Python's cyclic garbage collector while it reads every case's facts, and always
restarts it as it was; the next page of case files is read while the page before is counted, one
read at a time, and a page that cannot be read stops the count."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Iterator, Mapping, Sequence

import pytest

from recordgen.errors import StoreError
from recordgen.records.case_files import StoredCaseFile
from recordgen.records.rows import ClockRecord
from recordgen.returns import facts
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
                         fields: Mapping[str, Sequence[str]], before: str | None = None
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


class PagedStore:
    """A store of ``cases`` cases, a support plan each, read a page (of ``limit`` case files) at
    a time. It notes which pages were read, whether two reads were ever under way at once, and,
    as each page after the first begins to be read, whether the first case of the page before
    it had been counted yet; it can fail on one page."""

    def __init__(self, cases: int, limit: int, fail_on: int | None = None) -> None:
        self.plans = [StoredCaseFile("support_plan", f"CASE-{n:03d}", {
            "support_started_on": "2026-07-01", "plan_date": "2026-07-01",
            "worker": {"name": "Priya Natarajan"}}, RECEIVED, n + 1) for n in range(cases)]
        self.limit = limit
        self.fail_on = fail_on
        self.reading = threading.Lock()
        self.pages_read: list[int] = []
        self.at_once = False
        self.counted: set[str] = set()
        self.begun = [threading.Event() for _ in range(0, cases, limit)]
        self.counted_before_read: list[bool] = []

    def first_of(self, page: int) -> str:
        return self.plans[page * self.limit].case_ref

    def accepted_by_case(self, after: tuple[str, int], limit: int,
                         fields: Mapping[str, Sequence[str]], before: str | None = None
                         ) -> tuple[list[StoredCaseFile], tuple[str, int] | None]:
        if not self.reading.acquire(blocking=False):
            self.at_once = True
            self.reading.acquire()
        try:
            start = next(i for i, p in enumerate(self.plans)
                         if (p.case_ref, p.submission_id or 0) > after)
            number = start // self.limit
            self.pages_read.append(number)
            if number:
                self.counted_before_read.append(self.first_of(number - 1) in self.counted)
            self.begun[number].set()
            if number == self.fail_on:
                raise StoreError("The records store could not be read.")
            page = self.plans[start:start + self.limit]
            last = page[-1]
            return page, ((last.case_ref, last.submission_id or 0)
                          if start + self.limit < len(self.plans) else None)
        finally:
            self.reading.release()


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[PagedStore]]:
    """Counting that waits, at the first case of each page, for the next page to begin to be
    read (two seconds at most): read one after the other, the next page would only begin once
    the page before was counted."""
    stores: list[PagedStore] = []
    counted = facts.case_facts

    def case_facts(case_ref: str, case_files: Sequence[StoredCaseFile]) -> facts.CaseFacts:
        store = stores[0]
        page = {store.first_of(n): n for n in range(len(store.begun))}.get(case_ref)
        if page is not None and page + 1 < len(store.begun):
            store.begun[page + 1].wait(timeout=2)
        store.counted.add(case_ref)
        return counted(case_ref, case_files)

    monkeypatch.setattr(facts, "case_facts", case_facts)
    yield stores


@pytest.mark.real_clock  # waits on a helper thread, with a timeout
def test_the_next_page_is_read_while_the_page_before_is_counted(
        counting: list[PagedStore]) -> None:
    store = PagedStore(cases=50, limit=7)
    counting.append(store)
    found = facts.case_facts_of_store(store, page=7)
    assert [f.case_ref for f in found] == [p.case_ref for p in store.plans]
    assert store.pages_read == list(range(8))
    assert store.counted_before_read == [False] * 7
    assert not store.at_once


@pytest.mark.real_clock
def test_a_page_that_cannot_be_read_stops_the_count_and_no_page_after_it_is_read(
        counting: list[PagedStore]) -> None:
    store = PagedStore(cases=50, limit=7, fail_on=3)
    counting.append(store)
    with pytest.raises(StoreError, match="could not be read"):
        facts.case_facts_of_store(store, page=7)
    assert store.pages_read == [0, 1, 2, 3]
    assert not store.at_once
