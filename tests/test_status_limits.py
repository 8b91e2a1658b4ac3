"""The status page and `recordgen status` with more than they list: each list shows its first 200
(newest, oldest or soonest first, as the page orders it) and says how many more there are, so
nothing is dropped silently; a folder of more entries than are looked at is counted "at least",
and the page stays small."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from pathlib import Path
from typing import Any

import pytest

from recordgen.clock import FixedClock
from recordgen.errors import Problem
from recordgen.intake.rejected import errors_text
from recordgen.records.store import ClockRecord, DocumentRecord
from recordgen.settings import Settings, load_settings
from recordgen.status.facts import MAX_ROWS, StatusReport, gather
from recordgen.status.folders import MAX_LISTED
from recordgen.status.page import render_page
from recordgen.status.summary import summary_json, summary_lines

from status_scenes import MORNING, shared_folder

OVER = MAX_ROWS + 5  # five more than a list shows


class Records:
    """What a store holds, as the status page reads it (its clocks and documents)."""

    def __init__(self, clocks: list[ClockRecord] | None = None,
                 documents: list[DocumentRecord] | None = None) -> None:
        self._clocks, self._documents = clocks or [], documents or []

    def clocks(self, case_ref: str | None = None, open_only: bool = False) -> list[ClockRecord]:
        return [c for c in self._clocks if not open_only or c.closed is None]

    def documents(self, case_ref: str | None = None) -> list[DocumentRecord]:
        return list(self._documents)


def settings_in(tmp_path: Path) -> Settings:
    return load_settings(shared_folder(tmp_path))


def everything(settings: Settings, records: Records | None = None) -> tuple[
        StatusReport, str, str, dict[str, Any]]:
    """The report, the page, the terminal summary and the JSON, at 10am on 23 November 2026."""
    report = gather(settings, records, FixedClock(MORNING))  # type: ignore[arg-type]
    page = html.unescape(render_page(report, settings.status_page, settings.folders))
    text = "\n".join(summary_lines(report, settings.status_page, settings.folders.rejected))
    return report, page, text, summary_json(report, settings.status_page)


def rows(page: str, table: str) -> list[str]:
    """The body rows of the page's table ``table``, as text."""
    found = re.search(rf'<table aria-labelledby="{table}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert found is not None, table
    return [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>",
                                                               found.group(1), re.S)]


def minutes_before(minutes: float) -> float:
    return (MORNING - dt.timedelta(minutes=minutes)).timestamp()


# --- what needs attention -----------------------------------------------------------------------


def test_rejected_files_past_the_cap_are_counted_newest_listed_first(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    rejected = settings.folders.rejected
    rejected.mkdir()
    for n in range(OVER):  # file 0 was rejected last
        name = f"case {n:03d}.json"
        (rejected / name).write_text("{", encoding="utf-8")
        note = rejected / f"{name}.errors.txt"
        note.write_text(errors_text(name, [Problem("$", "This is not JSON.", "Export it again.")],
                                    MORNING), encoding="utf-8")
        os.utime(note, (minutes_before(n), minutes_before(n)))
    _, page, text, report = everything(settings)
    listed = rows(page, "rejected")
    assert len(listed) == MAX_ROWS
    assert [re.findall(r"case \d+\.json", row)[0] for row in listed[:3]] == [
        "case 000.json", "case 001.json", "case 002.json"]
    assert "case 199.json" in listed[-1] and "case 200.json" not in page
    assert "Files rejected (205)" in page
    assert "And 5 more in the rejected folder." in page
    assert text.count("  Rejected: case ") == MAX_ROWS
    assert "And 5 more rejected files, in the rejected folder." in text
    assert f"Needs your attention: {OVER}" in text
    assert (len(report["rejected"]), report["rejected_total"]) == (MAX_ROWS, OVER)


def test_held_files_past_the_cap_are_counted_oldest_listed_first(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    worker = settings.folders.work / "housing-srv1-123-abc"
    worker.mkdir(parents=True)
    for n in range(OVER):  # file 0 was taken first, five hours ago; none is being worked on now
        taken = (MORNING - dt.timedelta(minutes=300 - n)).astimezone(dt.UTC)
        (worker / f"{taken:%Y%m%dT%H%M%S%f}-0a1b2c3d--case {n}.json").write_text("{}")
    _, page, text, report = everything(settings)
    listed = rows(page, "held")
    assert len(listed) == MAX_ROWS
    assert "|5am on Monday 23 November 2026|" in listed[0]
    assert "|5:01am on Monday 23 November 2026|" in listed[1]
    assert "Files held (205)" in page and "And 5 more in the work folder." in page
    assert text.count("  Held: case not known yet") == MAX_ROWS
    assert "And 5 more held files, in the work folder." in text
    assert (len(report["held"]), report["held_total"], report["needs_attention"]) == (
        MAX_ROWS, OVER, OVER)


def test_things_in_the_inbox_past_the_cap_are_counted_oldest_listed_first(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    for n in range(OVER):  # folder 0 was put there first
        folder = settings.folders.inbox / f"folder {n}"
        folder.mkdir()
        os.utime(folder, (minutes_before(1000 - n), minutes_before(1000 - n)))
    _, page, text, report = everything(settings)
    listed = rows(page, "never-read")
    assert len(listed) == MAX_ROWS
    assert "|5:20pm on Sunday 22 November 2026|" in listed[0]  # 1,000 minutes before
    assert "In the inbox, and not case files (205)" in page
    assert "And 5 more in the inbox." in page
    assert text.count("  In the inbox since ") == MAX_ROWS
    assert "And 5 more files in the inbox that are not case files." in text
    assert (len(report["not_case_files_in_inbox"]), report["not_case_files_in_inbox_total"]) == (
        MAX_ROWS, OVER)


def test_documents_produced_late_past_the_cap_are_counted(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    late = [ClockRecord(f"THS-2026-{1000 + n}", "exit-letter", "exit_letter", "2026-11-02",
                        "2026-11-11", closed="2026-11-23", met=False, working_days_late=8)
            for n in range(OVER)]
    _, page, text, report = everything(settings, Records(late))
    listed = rows(page, "late")
    assert len(listed) == MAX_ROWS
    assert listed[0].startswith("|THS-2026-1204|")  # the same day: by case reference, latest first
    assert "Documents produced late in the last seven days (205)" in page
    assert "And 5 more produced late in the last seven days." in page
    assert text.count("  Produced late: exit confirmation letter") == MAX_ROWS
    assert "And 5 more documents produced late in the last seven days." in text
    assert (len(report["produced_late"]), report["produced_late_total"]) == (MAX_ROWS, OVER)
    assert report["needs_attention"] == OVER


# --- due, and produced --------------------------------------------------------------------------


def test_open_deadlines_past_the_cap_are_counted_overdue_and_soon_in_full(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)

    def clock(n: int, due: str) -> ClockRecord:
        return ClockRecord(f"THS-2026-{2000 + n}", "exit-letter", "exit_letter", "2026-09-01", due)

    overdue = [clock(n, f"2026-10-{1 + n % 28:02d}") for n in range(220)]  # more than are shown
    soon = [clock(220 + n, "2026-11-24") for n in range(10)]  # tomorrow
    later = [clock(230 + n, "2027-01-15") for n in range(20)]
    report, page, text, json_report = everything(settings, Records(later + soon + overdue))
    assert (report.overdue, report.due_soon, report.due.total) == (220, 10, 250)
    listed = rows(page, "due")
    assert len(listed) == MAX_ROWS
    assert "|1 October 2026|" in listed[0]  # soonest first
    assert "<strong>220 overdue</strong>, 10 due soon" in page
    assert "Every statutory deadline still open, soonest first: 220 overdue, 10 due within" in page
    assert "And 50 more, due later than those above: recordgen due lists them all." in page
    assert "Due soon and overdue: 220 overdue, 10 due within two working days, 250 open in all" \
        in text
    assert text.count(": OVERDUE by ") == MAX_ROWS
    assert "And 30 more overdue or due soon: recordgen due lists every one." in text
    assert "And 20 due later: recordgen due lists every one." in text
    assert (json_report["overdue"], json_report["due_soon"], json_report["due_total"]) == (
        220, 10, 250)
    assert len(json_report["due"]) == MAX_ROWS


def test_documents_produced_today_past_the_cap_are_counted_latest_listed_first(
        tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    documents = [DocumentRecord(
        case_ref=f"THS-2026-{3000 + n}", kind="support_plan", series="support_plan", version=1,
        document_date=MORNING.date(), file_name=f"THS-2026-{3000 + n}/plan_v1.docx",
        sha256="a" * 64, content_sha256="b" * 64, template_sha256="c" * 64,
        context_sha256="d" * 64, software_version="0.1.0",
        produced_at=MORNING - dt.timedelta(minutes=n)) for n in range(OVER)]
    _, page, text, report = everything(settings, Records(documents=documents))
    listed = rows(page, "produced-today")
    assert len(listed) == MAX_ROWS
    assert listed[0].startswith("|THS-2026-3000|")  # the latest first
    assert "Produced today (205)" in page and "And 5 more in the outbox." in page
    assert "205 documents produced today" in page
    assert "205 document(s) produced today, 0 in the six days before." in text
    assert text.count("  THS-2026-3") == MAX_ROWS
    assert "And 5 more produced today, in the outbox." in text
    assert (len(report["produced_today"]), report["produced_today_total"]) == (MAX_ROWS, OVER)


# --- folders of more entries than are looked at -------------------------------------------------


@pytest.mark.slow  # ten thousand folders to make and remove: seconds on a busy disk
def test_an_inbox_of_more_entries_than_are_looked_at_is_counted_at_least_and_stays_small(
        tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    inbox = settings.folders.inbox
    for n in range(MAX_LISTED + 500):
        (inbox / f"folder {n}").mkdir()
    report, page, text, json_report = everything(settings)
    # Only MAX_LISTED entries are looked at: the count says "at least", never a wrong number.
    assert (report.never_read.total, report.never_read.complete) == (MAX_LISTED, False)
    assert "In the inbox, and not case files (at least 10,000)" in page
    assert ("And at least 9,800 more in the inbox. The folder holds more than 10,000 entries, and "
            "recordgen looks at 10,000 of them.") in page
    assert "at least 10,000 things need your attention" in page
    assert "Needs your attention: at least 10,000" in text
    assert "And at least 9,800 more files in the inbox that are not case files." in text
    assert json_report["lists_cut_short"] == ["not_case_files_in_inbox", "case_files_waiting"]
    # The page lists 200 of them and stays small enough to open at once.
    assert len(rows(page, "never-read")) == MAX_ROWS
    assert len(page.encode("utf-8")) < 250_000


def test_a_rejected_folder_of_more_entries_than_are_looked_at_is_counted_at_least(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_in(tmp_path)
    rejected = settings.folders.rejected
    rejected.mkdir()
    for n in range(30):
        name = f"case {n:02d}.json"
        (rejected / name).write_text("{", encoding="utf-8")
        (rejected / f"{name}.errors.txt").write_text(
            errors_text(name, [Problem("$", "This is not JSON.", "Export it again.")], MORNING),
            encoding="utf-8")
    for n in range(200):  # what else people leave in the folder: not recordgen's
        (rejected / f"scan {n}.pdf").write_bytes(b"%PDF-")
    # 50 of the 260 entries are looked at (10,000 in use): at most 25 of the 30 rejections.
    monkeypatch.setattr("recordgen.status.folders.MAX_LISTED", 50)
    report, page, text, json_report = everything(settings)
    found = report.rejected.total
    assert not report.rejected.complete and found <= 25
    cut = ("The folder holds more than 50 entries, and recordgen looks at 50 of them.")
    assert f"Files rejected (at least {found})" in page if found else "Files rejected" not in page
    if found:
        assert f"And perhaps more in the rejected folder. {cut}" in page
        assert f"Needs your attention: at least {found}" in text
        assert f"And perhaps more rejected files, in the rejected folder. {cut}" in text
    assert json_report["lists_cut_short"] == ["rejected"]
    monkeypatch.setattr("recordgen.status.folders.MAX_LISTED", 10_000)
    report, page, _, json_report = everything(settings)
    assert (report.rejected.total, report.rejected.complete) == (30, True)
    assert "Files rejected (30)" in page and "more in the rejected folder" not in page
    assert json_report["lists_cut_short"] == []


def test_a_deadline_this_version_does_not_know_is_shown_by_its_stored_name(
        tmp_path: Path) -> None:
    # A store written by a later recordgen (or altered) may name a clock this one does not know:
    # the status page and `recordgen status` still show it, by that name, and do not stop.
    settings = settings_in(tmp_path)
    unknown = [
        ClockRecord("THS-2026-3001", "tenancy-check", "support_plan", "2026-11-02", "2026-11-20"),
        ClockRecord("THS-2026-3002", "tenancy-check", "support_plan", "2026-11-02",
                    "2026-11-11", closed="2026-11-23", met=False, working_days_late=8),
    ]
    report, page, text, _ = everything(settings, Records(unknown))
    assert (report.overdue, report.due.total) == (1, 1)
    words = '"tenancy-check" (a deadline this version of recordgen does not know; run recordgen ' \
        "verify)"
    assert f"THS-2026-3001: {words}" in text
    assert f"Produced late: {words}" in text
    (due,) = rows(page, "due")
    assert due.startswith("|THS-2026-3001|") and words in html.unescape(due)
    (late,) = rows(page, "late")
    assert late.startswith("|THS-2026-3002|") and words in html.unescape(late)
