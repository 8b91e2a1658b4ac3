"""The monitoring returns against a hand-counted fixture (tests/returns_fixture.py: 30 people over
2026). Every expected figure below was worked out by hand from the fixture's lines; the comment
beside it says which people make it up."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from recordgen.cli import cli
from recordgen.clock import UK, FixedClock
from recordgen.deadlines.clocks import ClockName
from recordgen.documents.publish import publish
from recordgen.errors import ConverterMissing, PublishError
from recordgen.records.case_files import StoredCaseFile, accepted_case_files
from recordgen.records.rows import ClockRecord, SubmissionOutcome, SubmissionRecord
from recordgen.records.store import SqliteStore
from recordgen.returns import filing
from recordgen.returns.build import monitoring_return
from recordgen.returns.facts import all_case_facts, case_facts, case_facts_of_store
from recordgen.returns.figures import MonitoringReturn, MonthCounts, Result
from recordgen.returns.filing import file_counted, file_return
from recordgen.returns.period import between, month, quarter
from recordgen.returns.tables import clocks_table
from recordgen.settings import Returns, Settings
from returns_fixture import case_file, fill_store, record

from conftest import REPO, example, make_settings
from docx_text import docx_tables, docx_text

TODAY = dt.date(2027, 1, 15)  # after every period counted here: "overdue" is judged at its end
RULES = Returns()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[SqliteStore]:
    with SqliteStore(settings.folders.store, create="tests", clock=FixedClock(
            dt.datetime(2027, 1, 15, 9, 0, tzinfo=UK))) as opened:
        fill_store(opened)
        yield opened


def figures(found: MonitoringReturn) -> dict[str, tuple[int, list[str]]]:
    return {f.name: (f.value, sorted(f.refs)) for f in (*found.monthly, *found.quarterly)}


def kpis(found: MonitoringReturn) -> dict[str, tuple[list[str], list[str], str, Result]]:
    return {k.name: (sorted(k.numerator), sorted(k.denominator), k.percentage_words, k.result)
            for k in found.kpis}


def refs(text: str) -> list[str]:
    return sorted(text.split())


# --- Two months ---------------------------------------------------------------------------------


def test_september_2026_by_hand(store: SqliteStore) -> None:
    found = figures(monitoring_return(store, RULES, month("2026-09"), TODAY, quarterly=False))
    # Open at the end of 30 September: P04 closed that day, so is not; P18 opened 5 October.
    assert found["Open caseload"] == (13, refs(
        "P01 P07 P08 P09 P10 P11 P12 P15 P16 P25 P27 P28 P30"))
    # P15 (1 Sep), P16 (15 Sep), P17 (23:30 on 30 September, British Summer Time).
    assert found["Referrals received"] == (3, refs("P15 P16 P17"))
    assert found["Cases opened"] == (2, refs("P15 P16"))  # 7 and 21 September
    # Every spell opened from 1 January to 30 September 2026 (P24 and P25 opened in 2025, P26's
    # second spell in October).
    assert found["Cases opened this year"] == (20, refs(
        "P01 P02 P03 P04 P05 P06 P07 P08 P09 P10 P11 P12 P14 P15 P16 P26 P27 P28 P29 P30"))
    assert found["Cases closed"] == (3, refs("P04 P05 P06"))  # 30, 14 and 3 September
    assert found["Money secured: Discretionary Housing Payment"] == (48000, ["P01"])  # £480.00
    assert found["Money secured: other hardship fund"] == (7500, ["P15"])  # £75.00
    assert found["Money secured: Emergency Local Fund"] == (0, [])
    assert found["Money secured: other funds"] == (0, [])
    assert found["Money secured: food vouchers"] == (0, [])


def test_november_2026_by_hand(store: SqliteStore) -> None:
    found = figures(monitoring_return(store, RULES, month("2026-11"), TODAY, quarterly=False))
    # P11 (18 Nov), P21 (30 Nov) and P27 (4 Nov) closed; P23 opens in December; P26 is open in its
    # second spell.
    assert found["Open caseload"] == (14, refs(
        "P01 P07 P08 P10 P12 P15 P16 P18 P19 P20 P25 P26 P28 P30"))
    assert found["Referrals received"] == (3, refs("P20 P21 P22"))
    assert found["Cases opened"] == (2, refs("P20 P21"))
    # September's 20, and P18, P19, P26 (second spell), P20, P21.
    assert found["Cases opened this year"] == (25, refs(
        "P01 P02 P03 P04 P05 P06 P07 P08 P09 P10 P11 P12 P14 P15 P16 P26 P27 P28 P29 P30 "
        "P18 P19 P26 P20 P21"))
    assert found["Cases closed"] == (3, refs("P11 P21 P27"))
    # P12's DHP-2 was applied for in October and awarded on 25 November (the later case file
    # counts); P20's DHP-3 was refused; P30's DHP-4 was awarded in December.
    assert found["Money secured: Discretionary Housing Payment"] == (35025, ["P12"])
    assert found["Money secured: Emergency Local Fund"] == (12050, ["P07"])  # £120.50
    assert found["Money secured: other funds"] == (20000, ["P19"])  # awarded 30 November
    assert found["Money secured: food vouchers"] == (3000, ["P11"])  # FV-2 only applied for
    assert found["Money secured: other hardship fund"] == (0, [])


# --- Two quarters -------------------------------------------------------------------------------

Q3_SUPPORTED = refs("P01 P02 P03 P04 P05 P06 P07 P08 P09 P10 P11 P12 P14 P15 P16 P25 P27 P28 P30")
Q4_SUPPORTED = refs("P01 P07 P08 P09 P10 P11 P12 P15 P16 P18 P19 P20 P21 P23 P25 P26 P27 P28 "
                    "P30")


def test_2026_q3_by_hand(store: SqliteStore) -> None:
    found = monitoring_return(store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    counts, kpi = figures(found), kpis(found)
    # Open on a day from 1 July to 30 September: P02 until 15 July, P10 from 1 July; not P29
    # (closed 30 June), P26 (between spells), P13 and P17 (never opened).
    assert counts["People supported"] == (19, Q3_SUPPORTED)
    assert counts["Leavers"] == (6, refs("P02 P03 P04 P05 P06 P14"))
    assert counts["Outcomes forms missing"] == (1, ["P05"])
    assert counts["Leavers who died"] == (1, ["P06"])
    # Paid work: P02 needed it and got it, P04 needed it and did not. Training: P03 yes, P04 no.
    assert kpi["Obtaining paid work"] == (["P02"], refs("P02 P04"), "50.0%", Result.NO_TARGET)
    assert kpi["Participating in training or education"] == (
        ["P03"], refs("P03 P04"), "50.0%", Result.NO_TARGET)
    assert kpi["Meaningful occupation: paid work or training or education"] == (
        refs("P02 P03"), refs("P02 P03 P04"), "66.7%", Result.MISSED)  # target 90%
    # Leavers with a form, P06 (died) left out: all four kept their independence; P03 did not
    # move on in a planned way.
    assert kpi["KPI 1: independence maintained"] == (
        refs("P02 P03 P04 P14"), refs("P02 P03 P04 P14"), "100.0%", Result.MET)
    assert kpi["KPI 2: planned move-on"] == (
        refs("P02 P04 P14"), refs("P02 P03 P04 P14"), "75.0%", Result.MISSED)
    # Registered as last recorded by 30 September: reviews (P01, P08, P25, P30) and forms (P02,
    # P03, P06, P14); P04's form and P07's review say not registered; nine have nothing yet.
    assert kpi["Registered with a GP"] == (
        refs("P01 P02 P03 P06 P08 P14 P25 P30"), Q3_SUPPORTED, "42.1%", Result.MISSED)
    assert counts["GP registration not recorded"] == (9, refs(
        "P05 P09 P10 P11 P12 P15 P16 P27 P28"))
    # P07 in on 1 August, out on 6 August (5 nights); P08 in on 28 September, out on 3 October
    # (3 nights in Q3, the other 2 in Q4).
    assert counts["Hospital admissions"] == (2, refs("P07 P08"))
    assert counts["Days in hospital"] == (8, refs("P07 P08"))
    assert kpi["Admitted to hospital"][0] == refs("P07 P08")


def test_2026_q4_by_hand(store: SqliteStore) -> None:
    found = monitoring_return(store, RULES, quarter("2026-Q4"), TODAY, quarterly=True)
    counts, kpi = figures(found), kpis(found)
    assert counts["People supported"] == (19, Q4_SUPPORTED)
    assert counts["Leavers"] == (5, refs("P09 P11 P21 P27 P28"))
    assert counts["Outcomes forms missing"] == (1, ["P21"])  # listed, never guessed
    assert counts["Leavers who died"] == (0, [])
    # Independence: P09 and P28 yes, P11 and P27 no. Planned: P09 and P27 yes.
    assert kpi["KPI 1: independence maintained"] == (
        refs("P09 P28"), refs("P09 P11 P27 P28"), "50.0%", Result.MISSED)
    assert kpi["KPI 2: planned move-on"] == (
        refs("P09 P27"), refs("P09 P11 P27 P28"), "50.0%", Result.MISSED)
    # Needs: P09 paid work (got it) and training (not), P11 paid work (not), P27 training (got it).
    assert kpi["Meaningful occupation: paid work or training or education"] == (
        refs("P09 P27"), refs("P09 P11 P27"), "66.7%", Result.MISSED)
    # P26 counts from the form that closed its first spell (registered); P28's form says not;
    # P07's review in August says not.
    assert kpi["Registered with a GP"] == (
        refs("P01 P08 P09 P11 P12 P25 P26 P27 P30"), Q4_SUPPORTED, "47.4%", Result.MISSED)
    # P12 in on 2 November, discharge given by a later review (9 November): 7 nights; P08's last
    # 2 nights (1 to 3 October) of a Q3 admission.
    assert counts["Hospital admissions"] == (1, ["P12"])
    assert counts["Days in hospital"] == (9, refs("P08 P12"))


def test_clocks_for_2026_q3_by_hand(store: SqliteStore) -> None:
    found = monitoring_return(store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    clocks = {c.clock.value: c for c in found.clocks}
    # P15 contacted in time, P16 a working day late; P17's falls due in October.
    assert (clocks["referral"].fell_due, clocks["referral"].met) == (("P15", "P16"), ("P15",))
    assert clocks["referral"].late == ("P16",)
    assert (clocks["referral"].median_late, clocks["referral"].worst_late) == (1, 1)
    # First plans: P12 5 working days late, P30 3: median 4, worst 5.
    assert sorted(clocks["plan"].late) == ["P12", "P30"]
    assert (clocks["plan"].median_late, clocks["plan"].worst_late) == (4, 5)
    # Reviews: P01 on time; P10's, due 23 September, never answered: overdue at 30 September.
    assert clocks["review"].met == ("P01",)
    assert clocks["review"].still_open == ("P10",)
    assert clocks["review"].overdue == ("P10",)
    # P05 left without an outcomes form: due 28 September, overdue.
    assert clocks["outcomes-form"].overdue == ("P05",)
    assert clocks["sar"].fell_due == () and clocks["sar"].median_late is None


def test_clocks_for_2026_q4_judged_at_its_end(store: SqliteStore) -> None:
    found = monitoring_return(store, RULES, quarter("2026-Q4"), TODAY, quarterly=True)
    clocks = {c.clock.value: c for c in found.clocks}
    assert clocks["outcomes-form"].met == ("P04",)  # due 14 October, done 12 October
    # P17's first contact, due 2 October, still not recorded at 31 December; P10's review too.
    assert clocks["referral"].overdue == ("P17",)
    assert clocks["review"].overdue == ("P10",)
    assert found.as_of == dt.date(2026, 12, 31)


def test_a_clock_this_version_does_not_know_is_counted_under_its_stored_name(
        store: SqliteStore) -> None:
    # A store written by a later recordgen may hold a clock this version has never heard of: the
    # return counts it under the name stored, after the others, never leaves it out unsaid.
    store.open_clock(ClockRecord(case_ref="P10", clock="tenancy-check", subject="support_plan",
                                 started="2026-09-01", due="2026-09-15"))
    found = monitoring_return(store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    last = found.clocks[-1]
    assert [c.clock for c in found.clocks[:-1]] == [c for c in ClockName
                                                    if c is not ClockName.SUPPORT_LIMIT]
    assert last.clock == "tenancy-check"
    assert (last.fell_due, last.still_open, last.overdue) == (("P10",), ("P10",), ("P10",))
    assert last.words.startswith('"tenancy-check" (a deadline this version of recordgen does '
                                 "not know")
    row = clocks_table(found).rows[-1]
    assert row[0] == last.words and row[1:4] == (1, 0, 0)
    # It is Tom Reilly's case, overdue at the end of September with P05's and P10's own.
    workers = {w.worker: w for w in found.workers}
    assert sorted(workers["Tom Reilly"].overdue) == ["P05", "P10", "P10"]


def test_support_workers_for_2026_q3_by_hand(store: SqliteStore) -> None:
    found = monitoring_return(store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    workers = {w.worker: w for w in found.workers}
    # The 13 open at the end of September, by worker.
    assert sorted(workers["Priya Natarajan"].caseload) == refs("P01 P09 P12 P15 P27 P30")
    assert sorted(workers["Tom Reilly"].caseload) == refs("P07 P10 P16 P25 P28")
    assert sorted(workers["Jo Evans"].caseload) == refs("P08 P11")
    assert sorted(workers["Priya Natarajan"].plans_due) == ["P12", "P30"]
    assert workers["Priya Natarajan"].plans_on_time == ()
    assert workers["Priya Natarajan"].reviews_on_time == ("P01",)
    assert (workers["Tom Reilly"].reviews_due, workers["Tom Reilly"].reviews_on_time) == (
        ("P10",), ())
    assert sorted(workers["Tom Reilly"].overdue) == ["P05", "P10"]


# --- Boundaries, empty periods, no leavers ------------------------------------------------------


def test_a_case_closed_on_the_last_day_of_a_quarter_counts_in_that_quarter(
        store: SqliteStore) -> None:
    q3 = figures(monitoring_return(store, RULES, quarter("2026-Q3"), TODAY, quarterly=True))
    q4 = figures(monitoring_return(store, RULES, quarter("2026-Q4"), TODAY, quarterly=True))
    assert "P04" in q3["Leavers"][1] and "P04" not in q4["Leavers"][1]
    assert "P04" in q3["People supported"][1] and "P04" not in q4["People supported"][1]
    # Referred at 23:30 on 30 September (UK time): September's, not October's.
    assert "P17" in q3["Referrals received"][1]
    october = figures(monitoring_return(store, RULES, month("2026-10"), TODAY, quarterly=False))
    assert "P17" not in october["Referrals received"][1]
    assert "P18" in october["Referrals received"][1]  # ten past midnight on 1 October


def test_an_empty_period_counts_nothing_and_says_so(store: SqliteStore) -> None:
    found = monitoring_return(store, RULES, quarter("2024-Q1"), TODAY, quarterly=True)
    assert all(value == 0 for value, _ in figures(found).values())
    words = {k.name: k.percentage_words for k in found.kpis}
    assert words["KPI 1: independence maintained"] == "no leavers"
    assert words["Registered with a GP"] == "no one supported"
    assert all(k.percentage is None for k in found.kpis)


def test_a_period_with_no_leavers_shows_no_leavers_never_a_percentage(store: SqliteStore) -> None:
    # From the day after P09 left to the day before P27 left: people supported, no one left.
    found = monitoring_return(store, RULES, between(dt.date(2026, 10, 21), dt.date(2026, 11, 3)),
                              TODAY, quarterly=True)
    assert figures(found)["Leavers"] == (0, [])
    assert figures(found)["People supported"][0] > 0
    for name in ("KPI 1: independence maintained", "KPI 2: planned move-on",
                 "Meaningful occupation: paid work or training or education"):
        kpi = next(k for k in found.kpis if k.name == name)
        assert (kpi.percentage_words, kpi.result) == ("no leavers", Result.NO_LEAVERS)


def test_financial_year_quarters_are_numbered_from_april() -> None:
    assert (quarter("2026-Q1", 4).first, quarter("2026-Q1", 4).last) == (
        dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert (quarter("2026-Q4", 4).first, quarter("2026-Q4", 4).last) == (
        dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert quarter("2026-Q3").label == "2026-Q3 (July to September 2026)"


def test_targets_are_settings(store: SqliteStore) -> None:
    lenient = Returns(planned_move_on_target=70.0)
    found = monitoring_return(store, lenient, quarter("2026-Q3"), TODAY, quarterly=True)
    assert kpis(found)["KPI 2: planned move-on"][3] is Result.MET  # 75% against 70%


# --- The command and its files -------------------------------------------------------------------


def run(settings: Settings, *args: str, today: dt.date = TODAY) -> Any:
    clock = FixedClock(dt.datetime.combine(today, dt.time(9, 0), tzinfo=UK))
    return CliRunner().invoke(cli, ["--config", str(settings_file(settings)), *args], obj=clock)


@pytest.mark.parametrize(("args", "label", "first"), [
    (["monthly", "--month", "2027-02"], "February 2027", "1 February 2027"),
    (["quarterly", "--quarter", "2027-Q2"], "2027-Q2", "1 April 2027"),
    (["monthly", "--from", "2027-01-16", "--to", "2027-01-31"], "", "16 January 2027")])
def test_a_period_that_has_not_begun_is_refused_and_nothing_is_filed(
        store: SqliteStore, settings: Settings, args: list[str], label: str, first: str) -> None:
    store.close()
    result = run(settings, "report", *args)  # today is 15 January 2027
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"has not begun: its first day is {first}, after today (15 January 2027)" in said
    assert label in said
    assert "no return is filed" in said
    assert not (settings.folders.outbox / "_returns").exists()


def settings_file(settings: Settings) -> Path:
    path = settings.folders.inbox.parent / "recordgen.toml"
    if not path.exists():
        folders = settings.folders
        path.write_text(
            "[folders]\n" + "".join(
                f'{name} = "{getattr(folders, name)}"\n'
                for name in ("inbox", "outbox", "rejected", "store", "templates", "schemas"))
            + f"[output]\npdf = {'true' if settings.output.pdf else 'false'}\n",
            encoding="utf-8")
    return path


def test_report_quarterly_files_workbooks_and_csvs_read_back(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    result = run(settings, "report", "quarterly", "--quarter", "2026-Q3")
    assert result.exit_code == 0, result.output
    assert "Version 1, filed" in result.output
    folder = settings.folders.outbox / "_returns"
    internal = load_workbook(folder / "2026-Q3_quarterly-return_v1_internal.xlsx")
    assert internal.sheetnames == ["About", "Monthly figures", "Appendix 1", "Quarterly counts",
                                   "Statutory clocks", "Counted"]
    about = internal["About"]
    assert about["B5"].value == dt.datetime(2026, 7, 1)  # a date, not text
    assert about["B6"].value == dt.datetime(2026, 9, 30)
    assert about["B5"].number_format == "d mmmm yyyy"
    appendix = internal["Appendix 1"]
    assert appendix.freeze_panes == "A2"
    rows = {row[1]: row for row in appendix.iter_rows(min_row=2, values_only=True)}
    kpi2 = rows["KPI 2: planned move-on"]
    assert kpi2[2:7] == (3, 4, 0.75, 0.8, "missed")  # numbers as numbers
    counted = [row for row in internal["Counted"].iter_rows(min_row=2, values_only=True)]
    assert ("Appendix 1", "6 KPI 2: planned move-on: denominator", "P03") in counted
    # The commissioner's copy: no case references and no names anywhere in it.
    commissioner = load_workbook(folder / "2026-Q3_quarterly-return_v1_commissioner.xlsx")
    assert "Counted" not in commissioner.sheetnames
    text = " ".join(str(cell) for sheet in commissioner for row in sheet.iter_rows(
        values_only=True) for cell in row)
    assert "P0" not in text and "P1" not in text and "Person " not in text
    assert "Priya" not in text
    monthly_sheet = {row[0]: row for row in commissioner["Monthly figures"].iter_rows(
        min_row=2, values_only=True)}
    assert float(monthly_sheet["Money secured: Discretionary Housing Payment"][1]) == 480.0
    # A CSV per table, for the commissioner's systems.
    with (folder / "2026-Q3_quarterly-return_v1_appendix-1.csv").open(encoding="utf-8-sig") as f:
        table = {row["Indicator"]: row for row in csv.DictReader(f)}
    assert table["KPI 1: independence maintained"]["Percentage"] == "100.0"
    clocks_csv = (folder / "2026-Q3_quarterly-return_v1_statutory-clocks.csv").read_text(
        encoding="utf-8-sig")
    assert "P1" not in clocks_csv
    workers = load_workbook(folder / "2026-Q3_quarterly-return_v1_support-workers.xlsx")
    staff = {row[0]: row for row in workers["Support workers"].iter_rows(
        min_row=2, values_only=True)}
    assert staff["Priya Natarajan"][1] == 6


def test_the_same_return_over_the_same_records_is_filed_once(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    first = run(settings, "report", "monthly", "--month", "2026-11")
    again = run(settings, "report", "monthly", "--month", "2026-11")
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert "already filed, unchanged" in again.output
    # The same bytes whenever it is made: no time of saving inside the workbook.
    book = settings.folders.outbox / "_returns" / "2026-11_monthly-return_v1_internal.xlsx"
    with zipfile.ZipFile(book) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    assert "2000-01-01T00:00:00Z</dcterms:modified>" in core
    names = sorted(p.name for p in (settings.folders.outbox / "_returns").iterdir())
    assert all("_v1_" in name for name in names)
    verified = run(settings, "verify")
    assert verified.exit_code == 0, verified.output


def test_a_return_over_changed_records_is_a_new_version_and_verify_checks_it(
        store: SqliteStore, settings: Settings) -> None:
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    record(store, [case_file("money_secured", "P01", "Priya Natarajan", money_ref="DHP-9",
                                 type="Discretionary Housing Payment", status="awarded",
                                 amount=10.0, decided_on="2026-11-02", applied_on=None)],
           start=1000)
    store.close()
    again = run(settings, "report", "monthly", "--month", "2026-11")
    assert "Version 2, filed" in again.output
    folder = settings.folders.outbox / "_returns"
    book = load_workbook(folder / "2026-11_monthly-return_v2_commissioner.xlsx")
    values = {row[0]: row[1] for row in book["Monthly figures"].iter_rows(min_row=2,
                                                                          values_only=True)}
    assert float(values["Money secured: Discretionary Housing Payment"]) == 360.25
    altered = folder / "2026-11_monthly-return_v1_monthly-figures.csv"
    altered.chmod(0o600)
    altered.write_bytes(b"Figure,Value\r\nOpen caseload,999\r\n")
    checked = run(settings, "verify")
    assert checked.exit_code != 0
    assert "2026-11_monthly-return_v1_monthly-figures.csv" in checked.output
    assert "altered" in checked.output


@pytest.mark.parametrize(("args", "expected"), [
    (["monthly", "--month", "2026-13"], '"2026-13" is not a month'),
    (["monthly", "--month", "November"], "for example 2026-11"),
    (["quarterly", "--quarter", "2026-Q5"], '"2026-Q5" is not a quarter'),
    (["quarterly", "--from", "2026-10-01"], "Give both --from and --to"),
    (["quarterly", "--from", "2026-10-01", "--to", "2026-09-01"], "before it starts"),
    (["monthly", "--month", "2026-11", "--from", "2026-10-01", "--to", "2026-10-02"],
     "not both"),
    (["quarterly"], "Say which period"),
])
def test_a_period_that_is_not_one_is_refused_plainly(
        store: SqliteStore, settings: Settings, args: list[str], expected: str) -> None:
    store.close()
    result = run(settings, "report", *args)
    assert result.exit_code == 2
    assert expected in result.output
    assert not (settings.folders.outbox / "_returns").exists()


def test_a_return_is_not_made_from_a_store_that_does_not_exist(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    result = run(settings, "report", "monthly", "--month", "2026-11")
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert not settings.folders.store.exists()


def test_csv_money_is_pounds_and_pence(store: SqliteStore, settings: Settings) -> None:
    store.close()
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    text = (settings.folders.outbox / "_returns" / "2026-11_monthly-return_v1_monthly-figures.csv"
            ).read_text(encoding="utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert rows["Money secured: Discretionary Housing Payment"][1] == "350.25"
    assert rows["Money secured: Emergency Local Fund"][1] == "120.50"


# --- The Word report, its PDF, and regenerating it ------------------------------------------------


def test_the_word_report_holds_the_figures_and_three_charts_and_no_one(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    assert run(settings, "report", "quarterly", "--quarter", "2026-Q3").exit_code == 0
    path = settings.folders.outbox / "_returns" / "2026-Q3_quarterly-return_v1_report.docx"
    document = docx.Document(str(path))
    text = docx_text(document)
    assert "Quarterly return: 2026-Q3 (July to September 2026)" in text
    assert "1 July 2026 to 30 September 2026" in text
    rows = {row[1]: row for table in docx_tables(document) for row in table if len(row) == 6}
    assert rows["KPI 2: planned move-on"] == ["6", "KPI 2: planned move-on", "3 of 4", "75.0%",
                                              "80%", "missed"]
    assert rows["KPI 1: independence maintained"][3:] == ["100.0%", "85%", "met"]
    monthly = {row[0]: row[1] for table in docx_tables(document) for row in table
               if len(row) == 2}
    assert monthly["Money secured: Discretionary Housing Payment"] == "£480.00"
    assert monthly["Outcomes forms missing"] == "1"
    # The charts: KPIs over four quarters, referrals and closures by month, the clocks.
    assert len(document.inline_shapes) == 3
    assert "P05" not in text and "Person P" not in text and "Priya" not in text


def test_a_quarter_with_no_leavers_says_so_in_the_report(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    result = run(settings, "report", "quarterly", "--from", "2026-10-21", "--to", "2026-11-03")
    assert result.exit_code == 0, result.output
    report = next((settings.folders.outbox / "_returns").glob("*_report.docx"))
    rows = {row[1]: row for table in docx_tables(report) for row in table if len(row) == 6}
    assert rows["KPI 1: independence maintained"][2:] == ["0 of 0", "no leavers", "85%",
                                                          "no leavers"]


@pytest.mark.libreoffice
@pytest.mark.real_clock
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_report_is_filed_as_pdf_too_and_says_what_the_word_report_says(
        store: SqliteStore, tmp_path: Path) -> None:
    pdf_settings = make_settings(tmp_path, output={"pdf": True})
    store.close()
    result = run(pdf_settings, "report", "quarterly", "--quarter", "2026-Q3")
    assert result.exit_code == 0, result.output
    pdf = pdf_settings.folders.outbox / "_returns" / "2026-Q3_quarterly-return_v1_report.pdf"
    assert pdf.stat().st_mode & 0o777 == 0o440
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for fact in ("Quarterly return", "KPI 2: planned move-on", "75.0%", "3 of 4",
                 "Statutory clocks", "£480.00"):
        assert fact in text
    # Filed and recorded: verify checks the PDF as it checks every document.
    again = run(pdf_settings, "report", "quarterly", "--quarter", "2026-Q3")
    assert "already filed, unchanged" in again.output
    assert run(pdf_settings, "verify").exit_code == 0


def with_own_templates(tmp_path: Path) -> tuple[Settings, Path]:
    """Settings whose settings file names a copy of the bundled templates, to edit; the copy."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    settings = make_settings(tmp_path)
    path = settings_file(settings)
    path.write_text(path.read_text(encoding="utf-8").replace(str(REPO / "templates"),
                                                             str(templates)), encoding="utf-8")
    return settings, templates


def test_regenerate_remakes_a_return_whose_template_changed(
        store: SqliteStore, tmp_path: Path) -> None:
    settings, templates = with_own_templates(tmp_path)
    store.close()
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    dry = run(settings, "regenerate", "--dry-run")
    assert "return" not in dry.output  # the template has not changed
    edited = docx.Document(str(templates / "monitoring_return.docx"))
    edited.add_paragraph("Prepared for the contract monitoring officer.")
    (templates / "monitoring_return.docx").chmod(0o644)
    edited.save(str(templates / "monitoring_return.docx"))
    dry = run(settings, "regenerate", "--dry-run")
    assert "would regenerate: the monthly return for November 2026 (template changed)" in \
        dry.output
    result = run(settings, "regenerate")
    assert result.exit_code == 0, result.output
    assert "now version 2" in result.output
    remade = settings.folders.outbox / "_returns" / "2026-11_monthly-return_v2_report.docx"
    assert "Prepared for the contract monitoring officer." in docx_text(remade)
    assert (settings.folders.outbox / "_returns" / "2026-11_monthly-return_v1_report.docx"
            ).exists()  # the first version is kept
    again = run(settings, "regenerate")
    assert "return" not in again.output  # made once
    assert run(settings, "verify").exit_code == 0


# --- Reading a large record a page at a time, on SQLite and PostgreSQL ----------------------------


@pytest.mark.parametrize("page", [1, 3, 7, 2000])
def test_reading_the_store_a_page_at_a_time_gives_every_case_whole(store: SqliteStore,
                                                                   page: int) -> None:
    whole = all_case_facts(accepted_case_files(store))
    assert list(case_facts_of_store(store, page=page)) == whole
    assert len(whole) == 30


def _tampered(store: Any) -> None:
    """A referral in crisis (a true value read back as true) and a case file of every other kind
    the returns read, and an accepted row whose case file can no longer be read as JSON (verify's
    to report; the returns leave it out)."""
    record(store, [case_file("referral", "X01", "Jo Evans", received_at="2026-08-03T10:00",
                             crisis=True)]
           + [case_file(kind, "X01", "Jo Evans") for kind in (
               "needs_assessment", "exit_letter", "hard_copy_request", "subject_access_request",
               "support_plan", "support_review", "leaver_outcomes")], start=2000)
    store.record_submission(SubmissionRecord(
        claim_id="broken", file_name="broken.json", sha256="0" * 64,
        received_at=dt.datetime(2027, 1, 3, tzinfo=dt.UTC), outcome=SubmissionOutcome.ACCEPTED,
        raw=b"{not json", case_ref="X02", kind="referral"))


def test_the_database_picks_out_what_python_would_read(store: SqliteStore) -> None:
    _tampered(store)
    whole = all_case_facts(accepted_case_files(store))
    assert list(case_facts_of_store(store, page=5)) == whole
    crisis = next(c for c in whole if c.case_ref == "X01")
    assert crisis.referrals[0].crisis is True
    assert "X02" not in {c.case_ref for c in whole}


def test_the_same_figures_from_a_postgresql_store(postgres_database: Any) -> None:
    from recordgen.records.postgres import PostgresStore

    with PostgresStore(postgres_database, clock=FixedClock(dt.datetime(2027, 1, 15, tzinfo=UK)),
                       create="a test") as pg:
        fill_store(pg)
        found = monitoring_return(pg, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
        _tampered(pg)  # PostgreSQL refuses to read the broken one as JSON: read whole instead
        picked = list(case_facts_of_store(pg, page=5))
        assert picked == all_case_facts(accepted_case_files(pg))
        assert next(c for c in picked if c.case_ref == "X01").referrals[0].crisis is True
    assert figures(found)["People supported"] == (19, Q3_SUPPORTED)
    assert kpis(found)["KPI 2: planned move-on"][2] == "75.0%"
    assert figures(found)["Money secured: Discretionary Housing Payment"] == (48000, ["P01"])
    clocks = {c.clock.value: c for c in found.clocks}
    assert (clocks["plan"].median_late, clocks["plan"].worst_late) == (4, 5)


class MissingConverter:
    """LibreOffice is not installed."""

    def convert(self, docx_paths: Any, out_dir: Path) -> dict[Path, Path]:
        raise ConverterMissing("LibreOffice was not found. Install it with `sudo apt-get "
                               "install libreoffice-writer-nogui`, or run scripts/setup.")

    def close(self) -> None:
        pass


def test_without_libreoffice_the_rest_is_filed_and_recorded_and_asking_again_adds_the_pdf(
        store: SqliteStore, tmp_path: Path) -> None:
    pdf_settings = make_settings(tmp_path, output={"pdf": True})
    with pytest.raises(ConverterMissing, match="apt-get install libreoffice"):
        file_return(store, pdf_settings, month("2026-11"), TODAY, quarterly=False,
                    converter=MissingConverter())
    folder = pdf_settings.folders.outbox / "_returns"
    assert (folder / "2026-11_monthly-return_v1_report.docx").exists()
    assert not (folder / "2026-11_monthly-return_v1_report.pdf").exists()
    store.close()
    assert run(pdf_settings, "verify").exit_code == 0  # nothing filed is unrecorded


def test_a_return_with_no_version_left_is_refused_plainly_and_the_filed_ones_are_kept(
        store: SqliteStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filing, "_MOST_VERSIONS", 1)
    file_return(store, settings, month("2026-11"), TODAY, quarterly=False,
                converter=MissingConverter())
    folder = settings.folders.outbox / "_returns"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    record(store, [case_file("money_secured", "P01", "Priya Natarajan", money_ref="DHP-9",
                             type="Discretionary Housing Payment", status="awarded",
                             amount=10.0, decided_on="2026-11-02", applied_on=None)],
           start=1000)
    with pytest.raises(PublishError, match="November 2026 has 1 version of its monthly return "
                                           "already; move the old ones out of the outbox's "
                                           "_returns folder"):
        file_return(store, settings, month("2026-11"), TODAY, quarterly=False,
                    converter=MissingConverter())
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_pdf_off_for_monitoring_return_files_the_word_report_without_a_pdf(
        store: SqliteStore, tmp_path: Path) -> None:
    no_pdf = make_settings(tmp_path, output={"pdf": True, "pdf_off_for": ["monitoring_return"]})
    filed = file_return(store, no_pdf, month("2026-11"), TODAY, quarterly=False,
                        converter=MissingConverter())  # never asked to convert
    folder = no_pdf.folders.outbox / "_returns"
    assert (folder / "2026-11_monthly-return_v1_report.docx").is_file()
    assert not list(folder.glob("*.pdf"))
    assert not any(name.endswith(".pdf") for name in filed.files)


def test_templates_check_looks_at_the_report_template_too(tmp_path: Path) -> None:
    settings, templates = with_own_templates(tmp_path)
    assert run(settings, "templates", "check").exit_code == 0
    report = templates / "monitoring_return.docx"
    edited = docx.Document(str(report))
    edited.add_paragraph("{{ data.person.name }}")  # a person's name has no place in a return
    report.chmod(0o644)
    edited.save(str(report))
    result = run(settings, "templates", "check")
    assert result.exit_code != 0
    assert 'monitoring_return.docx: uses "data"' in result.output


def test_a_case_is_its_worker_s_from_the_day_a_case_file_names_them() -> None:
    files = [case_file("support_plan", "W01", "Priya Natarajan", plan_date="2026-07-01",
                       support_started_on="2026-07-01"),
             case_file("support_review", "W01", "Tom Reilly", review_date="2026-09-15")]
    stored = [StoredCaseFile(f["kind"], "W01", f["data"], dt.datetime(2026, 10, 1, 9, n, tzinfo=UK),
                             n) for n, f in enumerate(files)]
    facts = case_facts("W01", stored)
    assert facts.worker_on(dt.date(2026, 6, 1)) == "Priya Natarajan"  # before any: the first
    assert facts.worker_on(dt.date(2026, 9, 14)) == "Priya Natarajan"
    assert facts.worker_on(dt.date(2026, 9, 15)) == "Tom Reilly"
    assert facts.worker_on(dt.date(2026, 12, 31)) == "Tom Reilly"


def test_a_worker_named_on_many_case_files_is_held_once_with_the_same_answers() -> None:
    """A case's facts keep only where its worker (and its GP registration) changes: held for
    every case at once while a return is counted, they cost a tenth of the memory, and say the
    same worker and the same registration for every day."""
    names = ["Priya Natarajan"] * 6 + ["Tom Reilly"] * 5 + ["Priya Natarajan"] * 4
    gp = [True] * 7 + [False] * 3 + [True] * 5
    files = [case_file("support_plan", "W01", names[0], plan_date="2026-01-05",
                       support_started_on="2026-01-05")]
    files += [case_file("support_review", "W01", names[n], review_date=f"2026-{n // 2 + 1:02d}-"
                        f"{10 + n % 2 * 10}", hard_outcomes={"registered_with_gp": gp[n]})
              for n in range(1, 15)]
    stored = [StoredCaseFile(f["kind"], "W01", f["data"], dt.datetime(2026, 10, 1, 9, n, tzinfo=UK),
                             n) for n, f in enumerate(files)]
    facts = case_facts("W01", stored)
    assert [name for _, name in facts.workers] == ["Priya Natarajan", "Tom Reilly",
                                                   "Priya Natarajan"]
    assert [registered for _, registered in facts.gp_records] == [True, False, True]
    # Every day of the year, as the case files say it: the latest on or before the day.
    dated = sorted((dt.date.fromisoformat(f["data"].get("review_date")
                                          or f["data"]["plan_date"]), n)
                   for n, f in enumerate(files))
    day = dt.date(2025, 12, 25)
    while day <= dt.date(2026, 12, 31):
        before = [n for on, n in dated if on <= day]
        assert facts.worker_on(day) == names[before[-1] if before else 0]
        reviews = [n for n in before if n > 0]
        assert facts.gp_registered_on(day) == (gp[reviews[-1]] if reviews else None)
        day += dt.timedelta(days=1)


@pytest.mark.real_clock
def test_two_filers_of_one_period_over_different_records_get_a_version_each(
        store: SqliteStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two people ask for November's return at the same moment, one before a money-secured record
    # arrived and one after: each return is filed whole under its own version, none is lost.
    # Writing a file is slowed, so that both would have chosen a version before either wrote.
    def slow_publish(*args: Any) -> Any:
        time.sleep(0.2)
        return publish(*args)

    monkeypatch.setattr(filing, "publish", slow_publish)
    before = monitoring_return(store, settings.returns, month("2026-11"), TODAY, quarterly=False)
    record(store, [case_file("money_secured", "P01", "Priya Natarajan", money_ref="DHP-9",
                             type="Discretionary Housing Payment", status="awarded",
                             amount=10.0, decided_on="2026-11-02", applied_on=None)],
           start=1000)
    after = monitoring_return(store, settings.returns, month("2026-11"), TODAY, quarterly=False)
    store.close()
    start = threading.Barrier(2)
    filed: dict[str, int] = {}
    failed: list[BaseException] = []

    def file(name: str, found: MonitoringReturn) -> None:
        try:
            with SqliteStore(settings.folders.store, clock=FixedClock(
                    dt.datetime(2027, 1, 15, 9, 0, tzinfo=UK))) as own:
                start.wait()
                filed[name] = file_counted(own, settings, found, "monthly",
                                           MissingConverter()).version
        except BaseException as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=file, args=pair)
               for pair in (("before", before), ("after", after))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert sorted(filed.values()) == [1, 2]
    folder = settings.folders.outbox / "_returns"
    for version in (1, 2):
        assert (folder / f"2026-11_monthly-return_v{version}_internal.xlsx").is_file()
    assert run(settings, "verify").exit_code == 0  # every file filed is recorded


def test_each_return_prints_the_seal_written_outside_the_store(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    filed = run(settings, "report", "quarterly", "--quarter", "2026-Q3")
    assert filed.exit_code == 0, filed.output
    printed = re.search(r"The records store's seal after filing it, made at .*?: audit entry "
                        r"(\d+), (\d+) entries in all, SHA-256 ([0-9a-f]{64})\. Keep this line",
                        " ".join(filed.output.split()))
    assert printed is not None, filed.output
    # The same seal as the one written to the outbox's seal file, which verify checks against.
    seals = (settings.folders.outbox / ".recordgen-seals").read_text(encoding="utf-8")
    last = json.loads(seals.splitlines()[-1])
    assert (str(last["entry"]), str(last["entries"]), last["hash"]) == printed.groups()
    assert run(settings, "verify").exit_code == 0


# --- Money that cannot be placed in the totals ----------------------------------------------------

NOT_COUNTED = "Money secured not counted"


def unreadable_award(ref: str, money_ref: str, amount: Any, decided_on: str) -> dict[str, Any]:
    """An award whose amount validation would refuse, as an old record may hold one: recorded
    here straight into the store, past validation."""
    return case_file("money_secured", ref, "Priya Natarajan", money_ref=money_ref,
                     type="Discretionary Housing Payment" if money_ref.startswith("DHP")
                     else "other hardship fund", status="awarded", amount=amount,
                     decided_on=decided_on, applied_on=None)


def not_counted(found: MonitoringReturn) -> list[tuple[str, str]]:
    """(case reference, what and why) for each award the return could not count."""
    (figure,) = [f for f in found.monthly if f.name == NOT_COUNTED] or [None]
    return [] if figure is None else list(zip(figure.refs, figure.notes, strict=True))


def test_an_award_whose_amount_cannot_be_read_is_listed_as_not_counted_never_dropped(
        store: SqliteStore) -> None:
    record(store, [unreadable_award("P01", "DHP-X", "four hundred pounds", "2026-11-03"),
                   # A later case file for P15's £75.00 of September, its amount now unreadable:
                   # it replaces the earlier, so nothing is counted for HSF-1, and it is listed.
                   unreadable_award("P15", "HSF-1", 75.001, "2026-09-22")], start=1000)
    november = monitoring_return(store, RULES, month("2026-11"), TODAY, quarterly=False)
    found = figures(november)
    assert found["Money secured: Discretionary Housing Payment"] == (35025, ["P12"])  # as before
    assert found[NOT_COUNTED] == (1, ["P01"])
    assert not_counted(november) == [
        ("P01", "Discretionary Housing Payment, money reference DHP-X, decided 3 November 2026: "
                "the amount cannot be read")]
    september = monitoring_return(store, RULES, month("2026-09"), TODAY, quarterly=False)
    assert figures(september)["Money secured: other hardship fund"] == (0, [])
    assert not_counted(september) == [
        ("P15", "other hardship fund, money reference HSF-1, decided 22 September 2026: the "
                "amount cannot be read")]
    # A month with nothing that cannot be counted has no such line.
    october = figures(monitoring_return(store, RULES, month("2026-10"), TODAY, quarterly=False))
    assert NOT_COUNTED not in october


def test_the_return_says_how_many_awards_are_not_counted_and_lists_them_internally(
        store: SqliteStore, settings: Settings) -> None:
    record(store, [unreadable_award("P01", "DHP-X", "four hundred pounds", "2026-11-03"),
                   unreadable_award("P19", "DHP-Y", None, "2026-11-20")], start=1000)
    store.close()
    result = run(settings, "report", "monthly", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "2 awards of money secured are not counted, so the money totals may be short: the " \
        "internal workbook's Counted sheet gives each one's case and money reference and why" \
        in said
    folder = settings.folders.outbox / "_returns"
    internal = load_workbook(folder / "2026-11_monthly-return_v1_internal.xlsx")
    counted = list(internal["Counted"].iter_rows(min_row=2, values_only=True))
    assert ("Monthly figures", "Money secured not counted: Discretionary Housing Payment, money "
            "reference DHP-X, decided 3 November 2026: the amount cannot be read", "P01") in counted
    assert ("Monthly figures", "Money secured not counted: Discretionary Housing Payment, money "
            "reference DHP-Y, decided 20 November 2026: the amount cannot be read", "P19") in counted
    sheet = {row[0]: row for row in internal["Monthly figures"].iter_rows(min_row=2,
                                                                         values_only=True)}
    assert sheet[NOT_COUNTED][1:3] == (2, "awards")
    assert float(sheet["Money secured: Discretionary Housing Payment"][1]) == 350.25
    # The commissioner is told the total may be short, by how many, and nothing about whom.
    commissioner = load_workbook(folder / "2026-11_monthly-return_v1_commissioner.xlsx")
    text = " ".join(str(cell) for sheet in commissioner for row in sheet.iter_rows(
        values_only=True) for cell in row)
    assert "Money secured not counted 2 awards" in text
    assert "DHP-X" not in text and "P01" not in text
    report = docx_tables(folder / "2026-11_monthly-return_v1_report.docx")
    rows = {row[0]: row[1] for table in report for row in table if len(row) == 2}
    assert rows[NOT_COUNTED] == "2"


def test_an_award_whose_decision_date_cannot_be_read_is_listed_where_it_was_recorded(
        store: SqliteStore, settings: Settings) -> None:
    # It belongs to no period's totals (its date is never guessed), and it is never dropped: the
    # return for the period its case file arrived in lists it: at 23:30 and 23:31 on 30 November
    # (GMT), November's.
    received = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # a minute apart from here
    record(store, [unreadable_award("P01", "DHP-Z", 120, "the 3rd"),
                   unreadable_award("P19", "HSF-Z", 40, "")], start=1000,
           base=received - dt.timedelta(minutes=1000))
    november = monitoring_return(store, RULES, month("2026-11"), TODAY, quarterly=False)
    assert not_counted(november) == [
        ("P01", "Discretionary Housing Payment, money reference DHP-Z, recorded 30 November "
                "2026: the decision date cannot be read"),
        ("P19", "other hardship fund, money reference HSF-Z, recorded 30 November 2026: the "
                "decision date cannot be read")]
    found = figures(november)
    assert found["Money secured: Discretionary Housing Payment"] == (35025, ["P12"])  # as before
    for other in ("2026-09", "2026-12"):
        assert NOT_COUNTED not in figures(
            monitoring_return(store, RULES, month(other), TODAY, quarterly=False))
    # Received at 23:30 UTC on 30 September, 00:30 on 1 October in British Summer Time: October's.
    record(store, [unreadable_award("P15", "HSF-Y", 10, "?")], start=2000,
           base=dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC) - dt.timedelta(minutes=2000))
    october = figures(monitoring_return(store, RULES, month("2026-10"), TODAY, quarterly=False))
    assert october[NOT_COUNTED] == (1, ["P15"])
    assert NOT_COUNTED not in figures(
        monitoring_return(store, RULES, month("2026-09"), TODAY, quarterly=False))
    store.close()
    result = run(settings, "report", "monthly", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "2 awards of money secured are not counted" in said
    internal = load_workbook(settings.folders.outbox / "_returns"
                             / "2026-11_monthly-return_v1_internal.xlsx")
    counted = list(internal["Counted"].iter_rows(min_row=2, values_only=True))
    assert ("Monthly figures", "Money secured not counted: Discretionary Housing Payment, money "
            "reference DHP-Z, recorded 30 November 2026: the decision date cannot be read",
            "P01") in counted


def money(ref: str, money_ref: str | None, money_type: str, amount: Any,
          status: str = "awarded") -> dict[str, Any]:
    """A money_secured case file decided on 10 November 2026, recorded straight into the store
    as an old record may hold it (``money_ref`` None: it gives none)."""
    return case_file("money_secured", ref, "Jo Evans", money_ref=money_ref, type=money_type,
                     status=status, amount=amount, decided_on="2026-11-10", applied_on=None)


def test_an_award_of_a_type_or_status_recordgen_does_not_know_is_listed_never_dropped(
        store: SqliteStore, settings: Settings) -> None:
    record(store, [
        money("P01", "HSF-9", "Household Support Fund", 250.00),  # not one of the five types
        money("P07", "DHP-7", "Discretionary Housing Payment", 300.00, status="Awarded"),
        money("P08", "DHP-8", "Discretionary Housing Payment", 80.00, status="pending"),
        # Neither an application nor a refusal is money secured, nor listed.
        money("P10", "DHP-9", "Discretionary Housing Payment", 90.00, status="refused"),
    ], start=1000)
    november = monitoring_return(store, RULES, month("2026-11"), TODAY, quarterly=False)
    # Only "awarded", exactly, is money secured: the totals are the fixture's, as before.
    assert figures(november)["Money secured: Discretionary Housing Payment"] == (35025, ["P12"])
    assert not_counted(november) == [
        ("P01", 'Household Support Fund, money reference HSF-9, decided 10 November 2026: the '
                'type "Household Support Fund" is not one of the five the Service standard lists'),
        ("P07", 'Discretionary Housing Payment, money reference DHP-7, decided 10 November '
                '2026: the status "Awarded" is not one recordgen knows (applied for, awarded or '
                'refused)'),
        ("P08", 'Discretionary Housing Payment, money reference DHP-8, decided 10 November '
                '2026: the status "pending" is not one recordgen knows (applied for, awarded or '
                'refused)')]
    store.close()
    result = run(settings, "report", "monthly", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert "3 awards of money secured are not counted" in " ".join(result.output.split())
    internal = load_workbook(settings.folders.outbox / "_returns"
                             / "2026-11_monthly-return_v1_internal.xlsx")
    counted = [row[1:] for row in internal["Counted"].iter_rows(min_row=2, values_only=True)
               if row[1].startswith(NOT_COUNTED)]
    assert [ref for _, ref in counted] == ["P01", "P07", "P08"]
    assert "Household Support Fund" in counted[0][0] and '"Awarded"' in counted[1][0]


def test_old_awards_without_a_money_reference_are_each_counted_none_replacing_another(
        store: SqliteStore) -> None:
    record(store, [money("P11", None, "food vouchers", 40.00),
                   money("P11", None, "food vouchers", 60.00),
                   money("P11", None, "food vouchers", "unknown")], start=1000)
    november = monitoring_return(store, RULES, month("2026-11"), TODAY, quarterly=False)
    # P11's FV-1 (£30.00, the fixture's) and both vouchers without a reference: £130.00.
    assert figures(november)["Money secured: food vouchers"] == (13000, ["P11", "P11", "P11"])
    assert not_counted(november) == [
        ("P11", "food vouchers, no money reference, decided 10 November 2026: the amount cannot "
                "be read")]


def test_a_return_with_every_amount_readable_says_nothing_of_awards_not_counted(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    result = run(settings, "report", "monthly", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert "not counted" not in result.output


# --- What the command prints -----------------------------------------------------------------------


def printed_line(output: str, name: str) -> str:
    (line,) = [line for line in output.splitlines() if name in line]
    return " ".join(line.replace("│", " ").split())


def test_the_command_prints_each_kpi_against_its_target(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    result = run(settings, "report", "quarterly", "--quarter", "2026-Q3")
    assert result.exit_code == 0, result.output
    assert printed_line(result.output, "KPI 2: planned move-on") == \
        "6 KPI 2: planned move-on 3 of 4: 75.0% (missed)"
    assert printed_line(result.output, "KPI 1: independence maintained") == \
        "5 KPI 1: independence maintained 4 of 4: 100.0% (met)"
    assert printed_line(result.output, "Obtaining paid work") == \
        "1 Obtaining paid work 1 of 2: 50.0% (no target)"


def test_the_command_says_no_leavers_once_never_a_percentage(
        store: SqliteStore, settings: Settings) -> None:
    store.close()
    result = run(settings, "report", "quarterly", "--from", "2026-10-21", "--to", "2026-11-03")
    assert result.exit_code == 0, result.output
    assert printed_line(result.output, "KPI 1: independence maintained") == \
        "5 KPI 1: independence maintained 0 of 0: no leavers"
    assert printed_line(result.output, "KPI 2: planned move-on") == \
        "6 KPI 2: planned move-on 0 of 0: no leavers"
    assert "%" not in printed_line(result.output, "KPI 2: planned move-on")


def test_the_terminal_separates_thousands_as_the_report_does(
        store: SqliteStore, settings: Settings) -> None:
    # 1,000 more referrals received in November, and 1,000 first contacts due in it (met).
    record(store, [case_file("referral", f"R{n:04d}", "Jo Evans",
                             received_at=f"2026-11-{1 + n % 28:02d}T10:00", first_contact_at=None)
                   for n in range(1000)], start=3000)
    for n in range(1000):
        store.open_clock(ClockRecord(f"R{n:04d}", "referral", "fixture", "2026-11-02T10:00",
                                     "2026-11-04T10:00", "2026-11-03T10:00", True, 0))
    store.close()
    result = run(settings, "report", "monthly", "--month", "2026-11")
    assert result.exit_code == 0, result.output
    assert printed_line(result.output, "Referrals received") == "Referrals received 1,003"
    assert "1003" not in result.output
    report = docx_tables(settings.folders.outbox / "_returns"
                         / "2026-11_monthly-return_v1_report.docx")
    monthly = {row[0]: row[1] for table in report for row in table if len(row) == 2}
    assert monthly["Referrals received"] == "1,003"
    (first_contact,) = [row for table in report for row in table
                        if row[0] == ClockName.REFERRAL.description]
    assert first_contact[1:3] == ["1,000", "1,000"]  # fell due, met


# --- The monthly report's charts ------------------------------------------------------------------


def test_the_monthly_report_holds_its_two_charts(store: SqliteStore, settings: Settings) -> None:
    store.close()
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    path = settings.folders.outbox / "_returns" / "2026-11_monthly-return_v1_report.docx"
    document = docx.Document(str(path))
    # Referrals and closures by month, and the clocks; no KPI chart in a monthly return.
    assert len(document.inline_shapes) == 2
    pictures = [part for part in document.part.package.parts
                if part.partname.endswith(".png")]
    assert len(pictures) == 2
    assert all(part.blob.startswith(b"\x89PNG") for part in pictures)
    assert pictures[0].blob != pictures[1].blob


# --- Two runs filing the same return at once ------------------------------------------------------


class WaitingPdfConverter:
    """Makes a "PDF", different bytes each time, as LibreOffice stamps each with the time; only
    once ``ready`` is set (both runs have looked for the PDF and found none)."""

    def __init__(self) -> None:
        self.made = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()

    def convert(self, docx_paths: Any, out_dir: Path) -> dict[Path, Path]:
        assert self.ready.wait(timeout=30)
        with self.lock:
            self.made += 1
            made = self.made
        out_dir.mkdir(parents=True, exist_ok=True)
        found = {}
        for source in docx_paths:
            target = out_dir / f"{source.stem}.pdf"
            target.write_bytes(b"%PDF-1.4\n% made " + str(made).encode() + b"\n%%EOF\n")
            found[source] = target
        return found

    def close(self) -> None:
        pass


@pytest.mark.real_clock
def test_two_runs_filing_the_same_return_at_once_file_it_once(
        store: SqliteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf_settings = make_settings(tmp_path, output={"pdf": True})

    def slow_publish(*args: Any) -> Any:
        time.sleep(0.05)
        return publish(*args)

    converter = WaitingPdfConverter()
    looked_for_pdf: list[str] = []

    def read_published(outbox: Path, folder: str, name: str) -> bytes | None:
        found = filing_read_published(outbox, folder, name)
        if name.endswith("_report.pdf"):
            looked_for_pdf.append(name)
            if len(looked_for_pdf) == 2:  # both runs make the PDF at once: one is filed
                converter.ready.set()
        return found

    filing_read_published = filing.read_published
    monkeypatch.setattr(filing, "publish", slow_publish)
    monkeypatch.setattr(filing, "read_published", read_published)
    store.close()
    start = threading.Barrier(2)
    filed: list[filing.FiledReturn] = []
    failed: list[BaseException] = []

    def report() -> None:
        try:
            with SqliteStore(pdf_settings.folders.store, clock=FixedClock(
                    dt.datetime(2027, 1, 15, 9, 0, tzinfo=UK))) as own:
                start.wait()
                filed.append(file_return(own, pdf_settings, month("2026-11"), TODAY,
                                         quarterly=False, converter=converter))
        except BaseException as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=report) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    # Both succeed, with version 1; one filed it, the other found it filed.
    assert [f.version for f in filed] == [1, 1]
    assert sorted(f.already_filed for f in filed) == [False, True]
    assert converter.made == 2  # both made a PDF at once; one was filed
    folder = pdf_settings.folders.outbox / "_returns"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(Path(name).name for name in filed[0].files)
    assert all(name.startswith("2026-11_monthly-return_v1_") for name in names)  # nothing else
    assert "2026-11_monthly-return_v1_report.pdf" in names
    for book in folder.glob("*.xlsx"):
        load_workbook(book)  # whole
    with SqliteStore(pdf_settings.folders.store, clock=FixedClock(
            dt.datetime(2027, 1, 15, 9, 0, tzinfo=UK))) as own:
        recorded = [e.detail["file"] for e in own.audit_entries(filing.RETURN_WRITTEN)]
    assert sorted(recorded) == sorted(f"_returns/{name}" for name in names)  # each once
    assert run(pdf_settings, "verify").exit_code == 0  # the PDF filed is the one recorded


# --- Regenerating returns: a broken audit entry, a missing template --------------------------------


def break_audit_entry(settings: Settings, file_suffix: str, detail: str) -> int:
    """Alter the detail of the audit entry recording the return's file ending ``file_suffix``,
    as someone editing the database by hand would (the trigger that forbids it dropped first).
    Returns the entry's number."""
    with sqlite3.connect(settings.folders.store) as database:
        (number,) = database.execute(
            "SELECT id FROM audit WHERE action = ? AND detail LIKE ?",
            (filing.RETURN_WRITTEN, f"%{file_suffix}%")).fetchone()
        database.execute("DROP TRIGGER audit_no_update")
        database.execute("UPDATE audit SET detail = ? WHERE id = ?", (detail, number))
    return int(number)


@pytest.mark.parametrize("detail", ["{not json", '{"file": "_returns/x_report.docx"}', "{}"])
def test_a_broken_audit_entry_for_a_return_stops_regenerate_naming_it(
        store: SqliteStore, tmp_path: Path, detail: str) -> None:
    settings, templates = with_own_templates(tmp_path)
    store.close()
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    number = break_audit_entry(settings, "_report.docx", detail)
    edited = docx.Document(str(templates / "monitoring_return.docx"))
    edited.add_paragraph("Prepared for the contract monitoring officer.")
    (templates / "monitoring_return.docx").chmod(0o644)
    edited.save(str(templates / "monitoring_return.docx"))
    for args in (["regenerate", "--dry-run"], ["regenerate"]):
        result = run(settings, *args)
        assert result.exit_code == 3, result.output
        said = " ".join(result.output.split())
        assert f'Audit entry {number} ("monitoring return written", made at' in said
        assert "cannot be read" in said
        assert "Run `recordgen verify`" in said
    assert not list((settings.folders.outbox / "_returns").glob("*_v2_*"))
    if detail == "{not json":  # altered after it was written: verify names the same entry
        checked = run(settings, "verify")
        assert checked.exit_code != 0
        assert f"audit entry {number}" in checked.output


def test_regenerate_says_plainly_when_the_report_template_is_missing(
        store: SqliteStore, tmp_path: Path) -> None:
    settings, templates = with_own_templates(tmp_path)
    store.close()
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    (templates / "monitoring_return.docx").unlink()
    for args in (["regenerate", "--dry-run"], ["regenerate"]):
        result = run(settings, *args)
        assert result.exit_code == 3, result.output
        said = " ".join(result.output.split())
        assert "The monitoring return's report template" in said
        assert "monitoring_return.docx could not be read" in said
        assert "the 1 return filed so far" in said
        assert "run `recordgen templates check`" in said
        # What was done to the documents is said before the stop, not lost with it.
        assert said.index("No documents match.") < said.index("report template")
    assert not list((settings.folders.outbox / "_returns").glob("*_v2_*"))


def test_without_returns_filed_a_missing_report_template_does_not_stop_regenerate(
        store: SqliteStore, tmp_path: Path) -> None:
    settings, templates = with_own_templates(tmp_path)
    store.close()
    (templates / "monitoring_return.docx").unlink()
    result = run(settings, "regenerate", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "return" not in result.output


# --- A period that has not ended is counted so far ------------------------------------------------

SIAN = "THS-2026-0142"  # the bundled examples' case


@pytest.fixture
def bare_store(settings: Settings) -> Iterator[SqliteStore]:
    """A store holding nothing yet: each test records its own case files."""
    with SqliteStore(settings.folders.store, create="tests", clock=FixedClock(
            dt.datetime(2027, 1, 15, 9, 0, tzinfo=UK))) as opened:
        yield opened


def sheet_rows(book: Any, sheet: str) -> dict[Any, tuple[Any, ...]]:
    """A workbook sheet's rows read back, by their first cell."""
    return {row[0]: row for row in book[sheet].iter_rows(min_row=2, values_only=True)}


def test_a_leaving_date_still_to_come_is_not_a_closure_in_a_month_counted_so_far(
        bare_store: SqliteStore, settings: Settings) -> None:
    # Siân's exit letter of 16 November says she leaves on 30 November. On 20 November her case
    # is still open, her support worker's, and she is not a leaver yet.
    record(bare_store, [example(kind) for kind in (
        "referral", "needs_assessment", "support_plan", "exit_letter")],
        base=dt.datetime(2026, 11, 17, 9, 0, tzinfo=dt.UTC))
    today = dt.date(2026, 11, 20)
    found = monitoring_return(bare_store, RULES, month("2026-11"), today, quarterly=False)
    counted = figures(found)
    assert counted["Open caseload"] == (1, [SIAN])
    assert counted["Cases closed"] == (0, [])
    assert (found.period, found.as_of, found.so_far) == (month("2026-11"), today, True)
    assert [(w.worker, w.caseload) for w in found.workers] == [("Priya Natarajan", (SIAN,))]
    assert found.month_history[-1] == MonthCounts("Nov 2026", 0, 0)
    q4 = monitoring_return(bare_store, RULES, quarter("2026-Q4"), today, quarterly=True)
    assert figures(q4)["Leavers"] == (0, []) and figures(q4)["Outcomes forms missing"] == (0, [])
    label, history = q4.kpi_history[-1]  # the chart's last quarter, counted so far too
    kpi1 = next(k for k in history if k.number == "5")
    assert (label, kpi1.denominator, kpi1.percentage_words) == ("2026-Q4", (), "no leavers")
    # Once the month is over, she left on its last day, without an outcomes form yet.
    ended = monitoring_return(bare_store, RULES, month("2026-11"), dt.date(2026, 12, 1),
                              quarterly=False)
    assert not ended.so_far and ended.as_of == dt.date(2026, 11, 30)
    assert figures(ended)["Open caseload"] == (0, [])
    assert figures(ended)["Cases closed"] == (1, [SIAN])
    assert ended.month_history[-1] == MonthCounts("Nov 2026", 0, 1)
    # Filed on 20 November: under the month's own name, saying it is counted so far.
    bare_store.close()
    result = run(settings, "report", "monthly", "--month", "2026-11", today=today)
    assert result.exit_code == 0, result.output
    assert "November 2026 has not ended: every figure is counted so far, up to today, 20 " \
        "November 2026. File the return again after 30 November 2026" in " ".join(
            result.output.split())
    folder = settings.folders.outbox / "_returns"
    internal = load_workbook(folder / "2026-11_monthly-return_v1_internal.xlsx")
    about = sheet_rows(internal, "About")
    assert about["Period"][1] == "November 2026"
    assert about["Days counted"][1] == "so far, up to 20 November 2026: the period has not ended"
    monthly = sheet_rows(internal, "Monthly figures")
    assert (monthly["Open caseload"][1], monthly["Cases closed"][1]) == (1, 0)
    staff = sheet_rows(load_workbook(folder / "2026-11_monthly-return_v1_support-workers.xlsx"),
                       "Support workers")
    assert staff["Priya Natarajan"][1] == 1
    report = docx_text(folder / "2026-11_monthly-return_v1_report.docx")
    assert "November 2026, so far: counted up to 20 November 2026" in report


def test_a_stay_in_hospital_not_ended_counts_the_nights_up_to_today_in_a_quarter_not_over(
        bare_store: SqliteStore) -> None:
    record(bare_store, [
        case_file("referral", "X01", "Jo Evans", received_at="2026-03-20T10:00",
                  decision={"outcome": "accepted", "decided_on": "2026-03-20"},
                  first_contact_at=None),
        case_file("support_plan", "X01", "Jo Evans", plan_date="2026-04-01",
                  support_started_on="2026-04-01", review_date="2026-04-01"),
        case_file("support_review", "X01", "Jo Evans", review_date="2026-11-16",
                  next_review_date="2026-12-16", hard_outcomes={
                      "registered_with_gp": True, "hospital_stays": [{"admitted_on": "2026-11-02"}]}),
    ])
    # In on 2 November and not out: on 20 November, the 18 nights from the 2nd to the 20th
    # (tonight is still to come), not the 60 to the quarter's end.
    so_far = figures(monitoring_return(bare_store, RULES, quarter("2026-Q4"), dt.date(2026, 11, 20),
                                       quarterly=True))
    assert so_far["Days in hospital"] == (18, ["X01"])
    assert so_far["Hospital admissions"] == (1, ["X01"])
    ended = figures(monitoring_return(bare_store, RULES, quarter("2026-Q4"), TODAY, quarterly=True))
    assert ended["Days in hospital"] == (60, ["X01"])  # 29 nights in November, 31 in December


def with_plan(ref: str, worker: str) -> dict[str, Any]:
    return case_file("support_plan", ref, worker, plan_date="2026-07-01",
                     support_started_on="2026-07-01", review_date="2026-07-01")


def test_in_a_month_counted_so_far_a_clock_due_later_has_not_fallen_due_and_overdue_is_as_due_says(
        bare_store: SqliteStore) -> None:
    record(bare_store, [with_plan(ref, "Jo Evans") for ref in ("X01", "X02", "X03")])
    for ref, due in (("X01", "2026-11-19"), ("X02", "2026-11-20"), ("X03", "2026-11-25")):
        bare_store.open_clock(ClockRecord(ref, "review", "support_plan", "2026-10-01", due))
    found = monitoring_return(bare_store, RULES, month("2026-11"), dt.date(2026, 11, 20),
                              quarterly=False)
    review = next(c for c in found.clocks if c.clock is ClockName.REVIEW)
    # X03's review falls due on the 25th: not yet. X02's is due today: not overdue until
    # tomorrow, as `recordgen due` says; X01's was due yesterday.
    assert review.fell_due == ("X01", "X02")
    assert review.still_open == ("X01", "X02")
    assert review.overdue == ("X01",)
    (jo,) = found.workers
    assert (jo.worker, jo.reviews_due, jo.overdue) == ("Jo Evans", ("X01", "X02"), ("X01",))
    # Once the month is over, all three fell due in it and are overdue at its end.
    ended = monitoring_return(bare_store, RULES, month("2026-11"), TODAY, quarterly=False)
    review = next(c for c in ended.clocks if c.clock is ClockName.REVIEW)
    assert review.fell_due == review.overdue == ("X01", "X02", "X03")


# --- Overdue at the end of the period's last day --------------------------------------------------


def test_a_clock_due_on_the_last_day_and_unanswered_at_its_end_is_overdue_at_the_end(
        bare_store: SqliteStore, settings: Settings) -> None:
    record(bare_store, [with_plan(ref, "Tom Reilly") for ref in ("X01", "X02", "X03", "X04")])
    for clock in (
            ClockRecord("X01", "referral", "referral", "2026-09-28T10:00", "2026-09-30T10:00"),
            ClockRecord("X02", "crisis", "referral", "2026-09-29T09:00", "2026-09-30T09:00"),
            # Due 30 September, answered (late) on 5 October: unanswered at the end of Q3.
            ClockRecord("X03", "review", "support_plan", "2026-07-01", "2026-09-30",
                        "2026-10-05", False, 3),
            # Due 30 September at 10:00, answered at 15:00 that day: late, but answered.
            ClockRecord("X04", "referral", "referral", "2026-09-28T10:00", "2026-09-30T10:00",
                        "2026-09-30T15:00", False, 1)):
        bare_store.open_clock(clock)
    found = monitoring_return(bare_store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    clocks = {c.clock: c for c in found.clocks}
    assert clocks[ClockName.REFERRAL].overdue == ("X01",)
    assert clocks[ClockName.CRISIS].overdue == ("X02",)
    assert clocks[ClockName.REVIEW].overdue == ("X03",)
    assert [(w.worker, sorted(w.overdue)) for w in found.workers] == [
        ("Tom Reilly", ["X01", "X02", "X03"])]
    bare_store.close()
    assert run(settings, "report", "quarterly", "--quarter", "2026-Q3").exit_code == 0
    folder = settings.folders.outbox / "_returns"
    internal = load_workbook(folder / "2026-Q3_quarterly-return_v1_internal.xlsx")
    sheet = internal["Statutory clocks"]
    headings = next(sheet.iter_rows(max_row=1, values_only=True))
    assert headings[-1] == "Overdue at the end of 30 September 2026"
    rows = sheet_rows(internal, "Statutory clocks")
    assert rows[ClockName.REFERRAL.description][1:] == (2, 0, 1, 1, 1, 1, 1)
    assert rows[ClockName.CRISIS.description][-1] == 1
    staff = load_workbook(folder / "2026-Q3_quarterly-return_v1_support-workers.xlsx")
    headings = next(staff["Support workers"].iter_rows(max_row=1, values_only=True))
    assert headings[-1] == "Clocks overdue at the end of 30 September 2026"
    assert sheet_rows(staff, "Support workers")["Tom Reilly"][-1] == 3


# --- Referrals that ended before support started ---------------------------------------------------


def test_a_referral_that_ends_before_support_starts_is_not_a_case_closed_nor_a_leaver(
        bare_store: SqliteStore) -> None:
    # X01 died on the waiting list; X02 was sent an exit letter ("unwilling to engage") before
    # support began. Neither was supported: both are referrals received, and nothing more.
    letter = example("exit_letter")
    letter["case_ref"] = "X02"
    letter["data"].update(ended_by="provider", provider_reason="unwilling to engage",
                          leaving_date="2026-09-10", request_received_on="2026-09-01")
    record(bare_store, [
        case_file("referral", "X01", "Jo Evans", received_at="2026-07-06T10:00",
                  decision={"outcome": "waiting list", "decided_on": "2026-07-06"},
                  first_contact_at=None),
        case_file("support_ended", "X01", "Jo Evans", support_ended_on="2026-08-20",
                  reason="died", learned_on="2026-08-21"),
        case_file("referral", "X02", "Jo Evans", received_at="2026-07-07T10:00",
                  decision={"outcome": "accepted", "decided_on": "2026-07-08"},
                  first_contact_at=None),
        letter,
    ])
    found = monitoring_return(bare_store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    counted = figures(found)
    assert counted["Referrals received"] == (2, ["X01", "X02"])
    assert counted["People supported"] == (0, [])
    for name in ("Cases closed", "Leavers", "Outcomes forms missing", "Leavers who died"):
        assert counted[name] == (0, []), name
    assert [m.closed for m in found.month_history[-3:]] == [0, 0, 0]
    assert all(k.result is Result.NO_LEAVERS for k in found.kpis if k.number in ("5", "6"))


# --- The support worker -----------------------------------------------------------------------------


def test_only_a_support_worker_is_given_the_case_never_who_handled_a_request(
        bare_store: SqliteStore, settings: Settings) -> None:
    # Siân's referral was taken by the duty officer and her request for a copy of her plan by
    # reception; the Information Governance Officer handled her subject access request, last.
    # Priya Natarajan, who assessed her, wrote her plan and reviewed it, is her support worker.
    files = [example(kind) for kind in ("referral", "needs_assessment", "support_plan",
                                        "money_secured", "support_review", "hard_copy_request",
                                        "subject_access_request")]
    files[0]["data"]["worker"] = {"name": "Sam Duty", "role": "Duty Officer"}
    files[5]["data"]["worker"] = {"name": "Dee Front", "role": "Receptionist"}
    assert files[6]["data"]["worker"]["name"] == "Gareth Pryce"
    # X09's referral, taken by the duty officer too, is not yet assessed: no support worker is
    # named, so its first contact, overdue, is no one's yet.
    files.append(case_file("referral", "X09", "Sam Duty", received_at="2026-11-02T10:00",
                           decision={"outcome": "accepted", "decided_on": "2026-11-02"},
                           first_contact_at=None))
    record(bare_store, files, base=dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC))
    bare_store.open_clock(ClockRecord("X09", "referral", "referral", "2026-11-02T10:00",
                                      "2026-11-04T10:00"))
    found = monitoring_return(bare_store, RULES, month("2026-11"), TODAY, quarterly=False)
    assert [(w.worker, w.caseload, w.overdue) for w in found.workers] == [
        ("Priya Natarajan", (SIAN,), ()), ("no support worker named", (), ("X09",))]
    bare_store.close()
    assert run(settings, "report", "monthly", "--month", "2026-11").exit_code == 0
    book = load_workbook(settings.folders.outbox / "_returns"
                         / "2026-11_monthly-return_v1_support-workers.xlsx")
    staff = sheet_rows(book, "Support workers")
    assert list(staff) == ["Priya Natarajan", "no support worker named"]
    assert staff["Priya Natarajan"][1] == 1 and staff["no support worker named"][-1] == 1
    text = " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                    for cell in row)
    assert not any(name in text for name in ("Gareth Pryce", "Sam Duty", "Dee Front"))


# --- A KPI with no one to count says why -------------------------------------------------------------


def leaver(ref: str, closed: str, died: bool = False, form: bool = True) -> list[dict[str, Any]]:
    """A person supported from 1 April 2026 whose support ended on ``closed``: with an outcomes
    form (recording their death when ``died``, and no need for work or training), or none."""
    files = [
        case_file("referral", ref, "Jo Evans", received_at="2026-03-20T10:00",
                  decision={"outcome": "accepted", "decided_on": "2026-03-20"},
                  first_contact_at=None),
        case_file("support_plan", ref, "Jo Evans", plan_date="2026-04-01",
                  support_started_on="2026-04-01", review_date="2026-04-01"),
        case_file("support_ended", ref, "Jo Evans", support_ended_on=closed,
                  reason="died" if died else "evicted", learned_on=closed)]
    if form:
        no_need = {"need_identified": False, "achieved": False}
        files.append(case_file(
            "leaver_outcomes", ref, "Jo Evans", support_started_on="2026-04-01",
            support_ended_on=closed, completed_on=closed,
            ended_because="died" if died else "goals achieved", planned_move_on=False,
            destination="not applicable: the person died" if died else "stayed in their own home",
            notes=None, hard_outcomes={"paid_work": no_need, "training_or_education": no_need,
                                       "registered_with_gp": True, "hospital_stays": [],
                                       "independence_maintained": False}))
    return files


def test_a_kpi_with_leavers_but_no_one_to_count_says_why_not_no_leavers(
        bare_store: SqliteStore, settings: Settings) -> None:
    # Q3: X01 died (an outcomes form says so), X02 has no form yet. Q4: X03 has no form yet.
    record(bare_store, leaver("X01", "2026-08-10", died=True) + leaver("X02", "2026-09-01",
                                                                      form=False)
           + leaver("X03", "2026-10-12", form=False))
    q3 = monitoring_return(bare_store, RULES, quarter("2026-Q3"), TODAY, quarterly=True)
    assert figures(q3)["Leavers"] == (2, ["X01", "X02"])
    words = {k.number: (k.percentage_words, k.result) for k in q3.kpis}
    for number in ("1 and 2", "1", "2"):  # X01's form records no need for work or training
        assert words[number] == ("no leavers with this need", Result.NO_NEED)
    for number in ("5", "6"):
        assert words[number] == ("every leaver with an outcomes form died", Result.ALL_DIED)
    q4 = monitoring_return(bare_store, RULES, quarter("2026-Q4"), TODAY, quarterly=True)
    assert figures(q4)["Leavers"] == (1, ["X03"])
    assert {(k.percentage_words, k.result) for k in q4.kpis if k.number not in ("3", "4a")} == {
        ("no leavers with an outcomes form", Result.NO_FORMS)}
    bare_store.close()
    result = run(settings, "report", "quarterly", "--quarter", "2026-Q3")
    assert result.exit_code == 0, result.output
    assert printed_line(result.output, "KPI 1: independence maintained") == \
        "5 KPI 1: independence maintained 0 of 0: every leaver with an outcomes form died"
    assert printed_line(result.output, "Obtaining paid work") == \
        "1 Obtaining paid work 0 of 0: no leavers with this need"
    appendix = sheet_rows(load_workbook(settings.folders.outbox / "_returns"
                                        / "2026-Q3_quarterly-return_v1_commissioner.xlsx"),
                          "Appendix 1")
    assert appendix["6"][4] == appendix["6"][6] == "every leaver with an outcomes form died"
    assert run(settings, "report", "quarterly", "--quarter", "2026-Q4").exit_code == 0
    appendix = sheet_rows(load_workbook(settings.folders.outbox / "_returns"
                                        / "2026-Q4_quarterly-return_v1_commissioner.xlsx"),
                          "Appendix 1")
    assert appendix["5"][2:5] == (0, 0, "no leavers with an outcomes form")

