"""Counting a return in several processes, each reading a run of cases through a connection of its
own: the same figures as one process counts, on SQLite and on PostgreSQL, whatever the number of
runs; the helpers' connections cannot write; a helper that fails or dies stops the count with a
plain reason, and no helper is left running."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.errors import RecordgenError, SettingsError, StoreError
from recordgen.records.case_files import StoredCaseFile, accepted_case_files
from recordgen.records.store import SqliteStore
from recordgen.returns import facts
from recordgen.returns.aside import aside, fork_is_safe, waiting
from recordgen.returns.build import monitoring_return
from recordgen.returns.facts import all_case_facts, case_facts_of_store
from recordgen.returns.period import quarter
from recordgen.settings import Returns, Settings, settings_from_mapping
from returns_fixture import fill_store

from conftest import make_settings

TODAY = dt.date(2027, 1, 15)
CLOCK = FixedClock(dt.datetime(2027, 1, 15, 9, 0, tzinfo=UK))

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="helpers are forked; elsewhere one process counts")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[SqliteStore]:
    with SqliteStore(settings.folders.store, create="tests", clock=CLOCK) as opened:
        fill_store(opened)
        yield opened


@pytest.fixture
def helpers_started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """The runs (first case, case before which it stops) handed to helper processes."""
    runs: list[tuple[str, str | None]] = []
    real = facts.aside

    def noted(work: Any, doing: str) -> Any:
        _, first, before, _ = work.args  # partial(_facts_aside, store, first, before, page)
        runs.append((first, before))
        return real(work, doing)

    monkeypatch.setattr(facts, "aside", noted)
    return runs


def count(store: Any, processes: int) -> Any:
    return monitoring_return(store, Returns(counting_processes=processes), quarter("2026-Q3"),
                             TODAY, quarterly=True)


def people_supported(found: Any) -> int:
    return int(next(f.value for f in found.quarterly if f.name == "People supported"))


@pytest.mark.parametrize("processes", [2, 3, 7, 40])
def test_several_processes_count_exactly_what_one_counts(
        store: SqliteStore, processes: int, helpers_started: list[tuple[str, str | None]]) -> None:
    alone = count(store, 1)
    assert helpers_started == []
    shared = count(store, processes)
    assert shared == alone
    assert people_supported(shared) == 19  # the hand-counted figure (tests/test_returns.py)
    # The runs after the first went to helpers, one each, in order, and every one has ended.
    assert len(helpers_started) == min(processes, 30) - 1
    firsts = [first for first, _ in helpers_started]
    assert firsts == sorted(firsts) and len(set(firsts)) == len(firsts)
    assert [before for _, before in helpers_started] == [*firsts[1:], None]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(("processes", "page"), [(2, 1), (3, 4), (5, 2000)])
def test_every_case_is_read_once_and_whole_whatever_the_runs_and_pages(
        store: SqliteStore, processes: int, page: int) -> None:
    whole = all_case_facts(accepted_case_files(store))
    assert case_facts_of_store(store, page=page, processes=processes) == whole
    assert len(whole) == 30


def test_the_runs_divide_the_cases_in_order_without_dividing_a_case(store: SqliteStore) -> None:
    refs = sorted({c.case_ref for c in accepted_case_files(store)})
    assert store.case_ref_splits(1) == []
    splits = store.case_ref_splits(3)
    assert splits == [refs[10], refs[20]]  # 30 cases: three runs of ten
    # Each run read alone holds its own cases, all of them, and nothing of another's.
    seen: list[str] = []
    for first, before in zip(["", *splits], [*splits, None], strict=True):
        page, after = store.accepted_by_case((first, 0), 10_000, facts.FIELDS, before)
        assert after is None
        mine = sorted({c.case_ref for c in page})
        assert all(first <= ref and (before is None or ref < before) for ref in mine)
        seen.extend(mine)
    assert seen == refs
    # More runs than cases: a run per case, never an empty one.
    assert store.case_ref_splits(100) == refs[1:]


def test_an_empty_store_is_counted_by_one_process(settings: Settings,
                                                   helpers_started: list[Any]) -> None:
    with SqliteStore(settings.folders.store, create="tests", clock=CLOCK) as empty:
        assert empty.case_ref_splits(4) == []
        assert people_supported(count(empty, 4)) == 0
    assert helpers_started == []


def test_a_helper_s_connection_cannot_change_the_record(store: SqliteStore) -> None:
    entries = len(store.audit_entries())
    reader = store.another_reader()
    try:
        assert len(accepted_case_files(reader)) == len(accepted_case_files(store))
        # SQLite itself refuses: the connection was opened read-only.
        with pytest.raises(sqlite3.OperationalError, match="readonly database"):
            reader.audit("written by a reader", None, {})
    finally:
        reader.close()
    assert len(store.audit_entries()) == entries


def _in_helpers_only(monkeypatch: pytest.MonkeyPatch, then: Any) -> None:
    """Working out a case's facts does ``then`` in a helper process, and as usual here."""
    parent, real = os.getpid(), facts.case_facts

    def case_facts(case_ref: str, case_files: Sequence[StoredCaseFile]) -> facts.CaseFacts:
        if os.getpid() != parent:
            then()
        return real(case_ref, case_files)

    monkeypatch.setattr(facts, "case_facts", case_facts)


def test_a_helper_that_fails_stops_the_count_with_its_reason(
        store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise StoreError("The records store could not be read: disk I/O error.")

    _in_helpers_only(monkeypatch, fail)
    with pytest.raises(StoreError, match="disk I/O error"):
        count(store, 3)
    assert multiprocessing.active_children() == []


class OddError(Exception):
    """An exception that cannot be rebuilt in another process from what pickle keeps."""

    def __init__(self, code: int, words: str) -> None:
        super().__init__(words)
        self.code = code


def test_a_helper_s_failure_that_cannot_be_sent_arrives_in_words(
        store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise OddError(5, "the case file index is damaged")

    _in_helpers_only(monkeypatch, fail)
    with pytest.raises(RecordgenError, match=r"Counting the return failed \(OddError: the case "
                                             r"file index is damaged\)"):
        count(store, 2)
    assert multiprocessing.active_children() == []


def test_a_helper_that_dies_stops_the_count_plainly(store: SqliteStore,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _in_helpers_only(monkeypatch, lambda: os._exit(9))
    with pytest.raises(RecordgenError, match=r"ended without an answer \(exit code 9\)\. Nothing was "
                                         r"filed; run the command again"):
        count(store, 2)
    assert multiprocessing.active_children() == []


def test_when_this_process_fails_no_helper_is_left_running(
        store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    parent, real = os.getpid(), facts.case_facts

    def case_facts(case_ref: str, case_files: Sequence[StoredCaseFile]) -> facts.CaseFacts:
        if os.getpid() == parent:
            raise StoreError("The records store could not be read.")
        return real(case_ref, case_files)

    monkeypatch.setattr(facts, "case_facts", case_facts)
    with pytest.raises(StoreError, match="could not be read"):
        count(store, 3)
    assert multiprocessing.active_children() == []


def test_the_report_command_counts_in_the_processes_set_and_files_the_same_return(
        tmp_path: Path, store: SqliteStore) -> None:
    """``[returns] counting_processes`` as a user sets it: one process and three file the same
    workbook rows, and the second run is the same return, filed once."""
    config = tmp_path / "recordgen.toml"
    base = make_settings(tmp_path)
    config.write_text(
        "[folders]\n" + "".join(f'{name} = "{getattr(base.folders, name)}"\n' for name in (
            "inbox", "outbox", "rejected", "store", "templates", "schemas"))
        + "[output]\npdf = false\n[returns]\ncounting_processes = 3\n", encoding="utf-8")
    for folder in ("inbox", "rejected"):
        (tmp_path / folder).mkdir(exist_ok=True)
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(config), "report", "quarterly", "--quarter",
                                "2026-Q3"])
    assert first.exit_code == 0, first.output
    assert "People supported" in first.output and "19" in first.output
    config.write_text(config.read_text(encoding="utf-8").replace(
        "counting_processes = 3", "counting_processes = 1"), encoding="utf-8")
    again = runner.invoke(cli, ["--config", str(config), "report", "quarterly", "--quarter",
                                "2026-Q3"])
    assert again.exit_code == 0, again.output
    assert "already filed" in again.output.lower()


@pytest.mark.parametrize(("value", "words"), [
    (-1, "must be a number of zero or more"),
    (65, "from 1 to 64, or 0 for one per core"),
    (2.5, "must be a whole number"),
])
def test_a_number_of_processes_that_is_not_one_is_refused_plainly(
        tmp_path: Path, value: float, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        settings_from_mapping({"returns": {"counting_processes": value}}, base_dir=tmp_path)


def test_the_same_figures_counted_in_parts_from_postgresql(postgres_database: Any) -> None:
    from recordgen.records.postgres import PostgresStore

    with PostgresStore(postgres_database, clock=CLOCK, create="a test") as pg:
        fill_store(pg)
        alone, shared = count(pg, 1), count(pg, 3)
        assert shared == alone and people_supported(shared) == 19
        assert case_facts_of_store(pg, page=4, processes=4) == all_case_facts(
            accepted_case_files(pg))
        entries = len(pg.audit_entries())
        reader = pg.another_reader()
        try:
            with pytest.raises(StoreError, match="read-only"):
                reader.audit("written by a reader", None, {})
        finally:
            reader.close()
        assert len(pg.audit_entries()) == entries
        assert pg.audit_entries()  # the parent's connection still answers after the helpers
    assert multiprocessing.active_children() == []


def test_inside_a_transaction_one_process_counts(store: SqliteStore,
                                                 helpers_started: list[Any]) -> None:
    """Another connection could not see what the transaction has written."""
    with store.transaction():
        assert store.case_ref_splits(3) == []
        assert people_supported(count(store, 3)) == 19
    assert helpers_started == []


def _filed(settings: Settings) -> list[str]:
    folder = settings.folders.outbox / "_returns"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(("then", "words"), [
    (lambda: (_ for _ in ()).throw(ValueError("no fonts could be found")),
     r"Drawing the report's charts failed \(ValueError: no fonts could be found\)"),
    (lambda: os._exit(3), r"Drawing the report's charts stopped: a process working on it ended "
                          r"without an answer \(exit code 3\)\. Nothing was filed"),
])
def test_charts_that_cannot_be_drawn_stop_the_filing_and_nothing_is_filed(
        store: SqliteStore, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        then: Any, words: str) -> None:
    """The charts are drawn in a process of their own while the workbooks are written: when
    that process fails or dies, the user is told, and no file of the return is in the outbox
    or recorded, so running the command again files it whole."""
    from recordgen.documents.convert import NoPdfConverter
    from recordgen.returns import report
    from recordgen.returns.filing import RETURN_WRITTEN, file_return

    parent, real = os.getpid(), report.report_charts

    def charts(found: Any) -> dict[str, bytes]:
        if os.getpid() != parent:
            then()
        return real(found)

    monkeypatch.setattr(report, "report_charts", charts)
    with pytest.raises(RecordgenError, match=words):
        file_return(store, settings, quarter("2026-Q3"), TODAY, quarterly=True,
                    converter=NoPdfConverter())
    assert _filed(settings) == []
    assert store.audit_entries(RETURN_WRITTEN) == []
    assert multiprocessing.active_children() == []
    monkeypatch.setattr(report, "report_charts", real)
    filed = file_return(store, settings, quarter("2026-Q3"), TODAY, quarterly=True,
                        converter=NoPdfConverter())
    assert not filed.already_filed and len(_filed(settings)) == len(filed.files) == 9


@pytest.fixture
def another_thread() -> Iterator[None]:
    """A second thread of this process running (as the watcher's, or a test's two runs, are)."""
    done = threading.Event()
    waiting = threading.Thread(target=done.wait, name="another")
    waiting.start()
    try:
        yield
    finally:
        done.set()
        waiting.join()


def test_work_aside_is_forked_only_when_no_other_thread_is_running(another_thread: None
                                                                   ) -> None:
    """A thread holding a lock when a process is forked leaves the copy of that lock held for
    ever, and a helper that needs it hangs the command: with another thread running, the work
    is done here, with the same answer."""
    assert not fork_is_safe()
    with aside(os.getpid, "Counting the return") as helper:
        assert helper.result() == os.getpid()  # done here
    assert multiprocessing.active_children() == []


def test_work_aside_is_forked_when_this_thread_is_the_only_one() -> None:
    assert fork_is_safe()
    with aside(os.getpid, "Counting the return") as helper:
        assert helper.result() != os.getpid()


def test_with_another_thread_running_one_process_counts_the_same_figures(
        store: SqliteStore, helpers_started: list[Any], another_thread: None) -> None:
    assert people_supported(count(store, 3)) == 19
    assert helpers_started == []
    assert multiprocessing.active_children() == []


def test_with_another_thread_running_the_charts_are_drawn_here_and_the_return_filed(
        store: SqliteStore, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        another_thread: None) -> None:
    from recordgen.documents.convert import NoPdfConverter
    from recordgen.returns import report
    from recordgen.returns.filing import file_return

    drawn_in: list[int] = []
    real = report.report_charts

    def charts(found: Any) -> dict[str, bytes]:
        drawn_in.append(os.getpid())
        return real(found)

    monkeypatch.setattr(report, "report_charts", charts)
    filed = file_return(store, settings, quarter("2026-Q3"), TODAY, quarterly=True,
                        converter=NoPdfConverter())
    assert drawn_in == [os.getpid()]
    assert len(_filed(settings)) == len(filed.files) == 9


def test_a_waiting_helper_works_on_what_it_is_given_in_a_process_of_its_own() -> None:
    with waiting(lambda given: (os.getpid(), given * 2), "Drawing the report's charts") as helper:
        helper.give(21)
        pid, answer = helper.result()
    assert answer == 42 and pid != os.getpid()
    assert multiprocessing.active_children() == []


def test_a_waiting_helper_never_given_anything_is_ended_with_the_block() -> None:
    with pytest.raises(StoreError), waiting(lambda given: given, "Drawing the report's charts"):
        raise StoreError("The records store could not be read.")  # the count failed
    assert multiprocessing.active_children() == []


def test_a_waiting_helper_that_dies_is_said_plainly() -> None:
    with waiting(lambda given: os._exit(4), "Drawing the report's charts") as helper:
        helper.give(1)
        with pytest.raises(RecordgenError, match=r"ended without an answer \(exit code 4\)"):
            helper.result()


def test_with_another_thread_running_a_waiting_helper_works_here(another_thread: None) -> None:
    with waiting(lambda given: (os.getpid(), given), "Drawing the report's charts") as helper:
        helper.give("figures")
        assert helper.result() == (os.getpid(), "figures")


def test_the_charts_helper_is_started_before_the_count_while_this_process_is_small(
        store: SqliteStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked after the count, the helper shares little of this process's memory (over 200,000
    case files it held about 70 MB more of its own): it is forked first and given the figures."""
    from recordgen.documents.convert import NoPdfConverter
    from recordgen.returns import filing

    helpers_at_count: list[int] = []
    real = filing.monitoring_return

    def counted(*args: Any, **kwargs: Any) -> Any:
        helpers_at_count.append(len(multiprocessing.active_children()))
        return real(*args, **kwargs)

    monkeypatch.setattr(filing, "monitoring_return", counted)
    filed = filing.file_return(store, settings, quarter("2026-Q3"), TODAY, quarterly=True,
                               converter=NoPdfConverter())
    assert helpers_at_count == [1]
    assert len(_filed(settings)) == len(filed.files) == 9
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("processes", [1, 3])
def test_the_clocks_are_read_once_while_the_helpers_count(store: SqliteStore,
                                                          processes: int) -> None:
    read: list[int] = []
    found = case_facts_of_store(store, processes=processes,
                                meanwhile=lambda: read.append(len(store.clocks())))
    assert read == [len(store.clocks())] and read[0] > 0
    assert [f.case_ref for f in found] == sorted(f.case_ref for f in found)


def test_clocks_that_cannot_be_read_stop_the_count_and_no_helper_is_left(
        store: SqliteStore) -> None:
    def fail() -> None:
        raise StoreError("The records store's clocks could not be read.")

    with pytest.raises(StoreError, match="clocks could not be read"):
        case_facts_of_store(store, processes=3, meanwhile=fail)
    assert multiprocessing.active_children() == []
