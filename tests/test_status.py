"""The status page and `recordgen status` after real runs: what a team leader reads each morning
(is recordgen working, what needs attention, what is due, what was produced), with no service
user's name on it, written whole and never at the cost of processing."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import re
import stat
import threading
from pathlib import Path

import pytest
from markupsafe import escape

from recordgen.cli.exit_codes import EXIT_NOT_WATCHING, EXIT_OK, EXIT_PROBLEMS
from recordgen.clock import UK, FixedClock
from recordgen.errors import Problem, SettingsError
from recordgen.intake.rejected import errors_text
from recordgen.records.store import ClockRecord
from recordgen.settings import load_settings
from recordgen.status.board import StatusBoard, write_page
from recordgen.status.facts import soonest
from recordgen.status.folders import HIDDEN_VALUE, parse_note, without_values
from recordgen.status.heartbeat import Command, notes_folder, read_looks
from recordgen.status.held import note_results, read_reasons
from recordgen.status.summary import Verdict

from conftest import example
from status_scenes import (
    MORNING,
    NAMED_FILE,
    NAMES,
    busy_morning,
    drop_examples,
    note_watcher,
    run,
    shared_folder,
)


def page_text(config: Path) -> str:
    return (config.parent / "status.html").read_text(encoding="utf-8")


def headings(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", h)).split(" (")[0]
            for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page)]


def status_json(config: Path, clock: FixedClock | None = None) -> tuple[int, dict[str, object]]:
    result = run(config, "status", "--json", clock=clock)
    return result.exit_code, json.loads(result.output)


# --- settings -------------------------------------------------------------------------------------


def test_the_page_is_beside_the_inbox_unless_the_settings_say_where(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    assert load_settings(config).status_page == tmp_path / "status.html"
    moved = shared_folder(tmp_path / "other", '[status]\npage = "shared/team status.html"\n')
    assert load_settings(moved).status_page == tmp_path / "other" / "shared" / "team status.html"


@pytest.mark.parametrize(("page", "words"), [
    ("inbox/status.html", "inside the inbox folder"),
    ("outbox/status.html", "recordgen verify would report it"),
    ("rejected/status.html", "inside the rejected folder"),
    ("status.txt", "name ending .html"),
])
def test_a_page_where_it_would_be_taken_or_reported_is_refused(tmp_path: Path, page: str,
                                                                words: str) -> None:
    config = shared_folder(tmp_path, f'[status]\npage = "{page}"\n')
    with pytest.raises(SettingsError, match=words) as info:
        load_settings(config)
    assert str(config) in str(info.value) and "[status] page" in str(info.value)


def test_a_misspelt_status_setting_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    config = shared_folder(tmp_path, '[status]\npages = "status.html"\n')
    with pytest.raises(SettingsError, match=r'\[status\] pages is not a setting.*"page"'):
        load_settings(config)


# --- the page after a real run ------------------------------------------------------------------


def test_after_a_run_the_page_shows_each_section_in_order_and_what_happened(tmp_path: Path) -> None:
    config, _ = busy_morning(tmp_path)
    page = page_text(config)
    assert headings(page) == ["Is recordgen working?", "Needs your attention",
                              "Due soon and overdue", "Today and this week"]
    assert "This page was written at <strong>10am on Monday 23 November 2026</strong>" in page
    # Nobody is watching: only `process` ran.
    assert "Warning: no recordgen watcher has looked at this inbox." in page
    assert "recordgen process, which last ran on" in page
    # Rejected: the file named after the person, with a link to its note; the Word document.
    assert 'href="rejected/Si%C3%A2n%20O%27Brien%20plan.json.errors.txt"' in page
    assert "This seems to be a Word document (.docx)" in page
    # Held: the subject access request (PDF output is off), by case reference only.
    assert re.search(r"<th scope=\"row\">THS-2026-0142</th><td>10am on Monday 23 November 2026"
                     r"</td><td>A subject access bundle is a PDF", page)
    # Produced today: four documents, each linked where it is in the outbox.
    assert "Produced today (4)" in page
    links = re.findall(r'href="(outbox/[^"]+)"', page)
    assert len(links) == 4
    assert all((tmp_path / link).is_file() for link in links)
    # Written for staff to read, not for everyone; nothing half-written left beside it.
    assert stat.S_IMODE((tmp_path / "status.html").stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "inbox", "outbox", "recordgen.toml", "rejected", "status.html", "var"]


def test_no_service_users_name_is_on_the_page_but_in_rejected_files_names(tmp_path: Path) -> None:
    config, _ = busy_morning(tmp_path)
    page = page_text(config)
    # The only names are those of the rejected files, which the page links to.
    for name in (NAMED_FILE, "letter to Siân.docx"):
        assert escape(name) in page
        page = page.replace(escape(name), "")
        page = re.sub(r'href="rejected/[^"]+"', "", page)
    assert [name for name in NAMES if name in page] == []
    # The first problem is shown, with the value quoted from the file (a name) left out.
    assert f"plan_date: {HIDDEN_VALUE} is not in the right form" in html.unescape(page)


def test_the_page_and_the_summary_escape_hostile_file_names(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    name = '<b onclick="x">bold<b> & #1 100%?.json'
    (config.parent / "inbox" / name).write_text("{", encoding="utf-8")
    run(config, "process")
    page = page_text(config)
    assert "<b onclick" not in page
    assert "&lt;b onclick=&#34;x&#34;&gt;bold&lt;b&gt; &amp; #1 100%?.json" in page
    assert ('href="rejected/%3Cb%20onclick%3D%22x%22%3Ebold%3Cb%3E%20%26%20%231%20100%25%3F.json'
            '.errors.txt"') in page
    assert name in run(config, "status").output  # a terminal shows it as it is


def test_files_in_the_inbox_recordgen_will_never_read_are_described_without_names(
        tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    inbox = config.parent / "inbox"
    (inbox / "Daniel Okafor").mkdir()  # a folder of case files
    (inbox / "Siân notes.json.part").write_text("{", encoding="utf-8")  # a download left behind
    (inbox / "~$Siân plan.docx").write_bytes(b"lock")
    (inbox / "Thumbs.db").write_bytes(b"windows")  # in every shared folder: not worth a word
    (inbox / "fresh.json.crdownload").write_text("{", encoding="utf-8")  # still downloading
    (inbox / "waiting.json").write_text(json.dumps(example("exit_letter")), encoding="utf-8")
    for name, minutes in (("Daniel Okafor", 30), ("Siân notes.json.part", 20),
                          ("~$Siân plan.docx", 60), ("fresh.json.crdownload", 2),
                          ("waiting.json", 3), ("Thumbs.db", 600)):
        moment = (MORNING - dt.timedelta(minutes=minutes)).timestamp()
        os.utime(inbox / name, (moment, moment))
    code, report = status_json(config)
    assert code == EXIT_NOT_WATCHING
    found = report["not_case_files_in_inbox"]
    assert isinstance(found, list)
    assert [item["what"] for item in found] == [
        "an Office lock file (its name starts ~$)", "a folder", "a temporary file (its name ends .part)"]
    assert "Move the case files out of the folder into the inbox" in found[1]["what_to_do"]
    assert report["working"]["case_files_waiting"] == 1  # type: ignore[index]
    text = run(config, "status").output
    assert "1 case file(s) waiting in the inbox, the oldest saved at 9:57am" in text
    assert [name for name in NAMES if name in text] == []


# --- recordgen status: the verdict and its exit code --------------------------------------------


def test_status_exits_7_when_no_watcher_has_looked(tmp_path: Path) -> None:
    config, _ = busy_morning(tmp_path)
    result = run(config, "status")
    assert result.exit_code == EXIT_NOT_WATCHING
    assert "Warning: no recordgen watcher has looked at this inbox." in result.output
    code, report = status_json(config)
    assert code == EXIT_NOT_WATCHING
    assert report["verdict"] == Verdict.NOT_WATCHING
    assert report["needs_attention"] == 3  # two rejected, one held
    assert report["working"]["health"] == "never"  # type: ignore[index]


def test_status_exits_1_when_a_watcher_is_looking_and_something_needs_attention(
        tmp_path: Path) -> None:
    config, settings = busy_morning(tmp_path)
    note_watcher(settings, MORNING - dt.timedelta(seconds=40))
    result = run(config, "status")
    assert result.exit_code == EXIT_PROBLEMS
    assert ("Yes: the watcher on housing-srv1 last looked at the inbox at 9:59am on Monday "
            "23 November 2026 (less than a minute ago).") in result.output
    assert f"Rejected: {NAMED_FILE} (received at 10am on Monday 23 November 2026)" in result.output
    assert f"{settings.folders.rejected / NAMED_FILE}.errors.txt" in result.output
    assert "Held: case THS-2026-0142" in result.output
    code, report = status_json(config)
    assert (code, report["verdict"], report["working"]["host"]) == (  # type: ignore[index]
        EXIT_PROBLEMS, "needs attention", "housing-srv1")


def test_status_exits_0_when_all_is_well(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    drop_examples(config, request=False)
    assert run(config, "process").exit_code == 0
    note_watcher(load_settings(config), MORNING - dt.timedelta(minutes=2))
    result = run(config, "status")
    assert result.exit_code == EXIT_OK, result.output
    assert "Needs your attention: nothing" in result.output
    assert "4 document(s) produced today" in result.output
    assert "Nothing needs your attention" in page_text(config)


@pytest.mark.parametrize(("minutes", "stopped", "expected"), [
    (10, False, "Warning: recordgen has not looked at the inbox since 9:50am on Monday 23 November "
                "2026 (10 minutes ago): the watcher on housing-srv1 has stopped or is stuck."),
    (3 * 60, True, "Warning: the watcher is not running. The watcher on housing-srv1 was stopped "
                   "at 7am on Monday 23 November 2026 (SIGTERM)."),
])
def test_a_stale_or_stopped_watcher_is_a_warning(tmp_path: Path, minutes: int, stopped: bool,
                                                 expected: str) -> None:
    config = shared_folder(tmp_path)
    note_watcher(load_settings(config), MORNING - dt.timedelta(minutes=minutes), stopped=stopped)
    result = run(config, "status")
    assert result.exit_code == EXIT_NOT_WATCHING
    assert expected in result.output


def test_one_live_watcher_among_stopped_ones_is_watching(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    settings = load_settings(config)
    note_watcher(settings, MORNING - dt.timedelta(hours=5), host="old-srv", stopped=True)
    note_watcher(settings, MORNING - dt.timedelta(seconds=20), host="new-srv")
    code, report = status_json(config)
    assert (code, report["verdict"]) == (EXIT_OK, "all well")
    assert [w["host"] for w in report["working"]["watchers"]] == [  # type: ignore[index]
        "new-srv", "old-srv"]


# --- due, overdue and late ----------------------------------------------------------------------


def test_overdue_and_due_soon_clocks_are_marked_in_words(tmp_path: Path) -> None:
    config, _ = busy_morning(tmp_path)
    # The request's response is due on Monday 21 December 2026; the plan's review on its date.
    friday = FixedClock(dt.datetime(2026, 12, 18, 9, 0, tzinfo=UK))
    text = run(config, "status", clock=friday).output
    assert ("THS-2026-0142: subject access response, due by 21 December 2026: due soon, in 1 "
            "working day") in text
    january = FixedClock(dt.datetime(2027, 1, 6, 9, 0, tzinfo=UK))
    text = run(config, "status", clock=january).output
    assert ("THS-2026-0142: subject access response, due by 21 December 2026: OVERDUE by "
            "9 working days") in text
    run(config, "process", clock=january)  # the page is written again, that day
    page = page_text(config)
    row = re.search(r'<tr class="overdue"><th scope="row">THS-2026-0142</th>'
                    r'<td>subject access response</td>.*?</tr>', page)
    assert row is not None and '<span class="badge overdue">Overdue</span> by 9 working days' in \
        row.group()


def test_a_document_produced_late_needs_attention_for_a_week(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    letter = example("exit_letter")
    letter["data"]["request_received_on"] = "2026-11-02"  # due 11 November: 8 working days late
    (config.parent / "inbox" / "letter.json").write_text(json.dumps(letter), encoding="utf-8")
    run(config, "process")
    page = page_text(config)
    assert "Documents produced late in the last seven days (1)" in page
    row = re.search(r"<tr><th scope=\"row\">THS-2026-0142</th><td>exit confirmation letter</td>"
                    r"<td>11 November 2026</td><td>23 November 2026</td>.*?</tr>", page)
    assert row is not None and "by 8 working days" in row.group()
    link = re.search(r'href="(outbox/THS-2026-0142/[^"]+exit-confirmation-letter_v1.docx)"',
                     row.group())
    assert link is not None and (tmp_path / link.group(1)).is_file()
    later = FixedClock(MORNING + dt.timedelta(days=7))
    _, report = status_json(config, later)
    assert report["produced_late"] == []


# --- held files ---------------------------------------------------------------------------------


def test_a_file_left_in_the_work_area_without_a_reason_says_so(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    settings = load_settings(config)
    worker = settings.folders.work / "another-srv-123-abc"
    worker.mkdir(parents=True)
    (worker / "20261123T090000000000-0a1b2c3d--Siân plan.json").write_text("{}")
    (worker / "20261123T095900000000-0a1b2c3e--Daniel.json").write_text("{}")
    _, report = status_json(config)
    held = report["held"]
    assert isinstance(held, list)
    assert [(h["state"], h["taken_at"]) for h in held] == [
        ("left", "2026-11-23T09:00:00+00:00"), ("in hand", "2026-11-23T09:59:00+00:00")]
    assert report["needs_attention"] == 1  # the one being worked on now does not count
    assert [name for name in NAMES if name in json.dumps(report, ensure_ascii=False)] == []


class _Result:
    def __init__(self, file_name: str, status: str, case_ref: str | None, message: str) -> None:
        self.file_name, self.status, self.case_ref, self.message = (file_name, status, case_ref,
                                                                    message)


def test_why_a_file_is_held_is_kept_without_its_name_and_forgotten_when_it_is_settled(
        tmp_path: Path) -> None:
    work = tmp_path / "work"
    note_results(work, [_Result("Siân.json", "held", "THS-1",
                                "Siân.json could not be published: disk full.")], MORNING)
    kept = read_reasons(work)
    assert kept["Siân.json"].reason == "the case file could not be published: disk full."
    assert kept["Siân.json"].case_ref == "THS-1"
    note_results(work, [_Result("Siân.json", "produced", "THS-1", "")], MORNING)
    assert read_reasons(work) == {}


def test_a_held_note_with_a_moment_without_its_offset_is_passed_over(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "held.json").write_text(json.dumps({"old.json": {
        "case_ref": "THS-0", "reason": "x", "at": "2026-11-23T09:00:00"}}), encoding="utf-8")
    assert read_reasons(work) == {}
    note_results(work, [_Result("new.json", "held", "THS-1", "disk full")], MORNING)
    assert list(read_reasons(work)) == ["new.json"]


# --- the rejection notes ------------------------------------------------------------------------


def test_a_note_is_read_back_as_it_was_written() -> None:
    problems = [Problem("$.data.objectives[1].measure", 'The field "measure" is missing.',
                        "Add it."), Problem("$.data.plan_date", "x", "y")]
    text = errors_text("plan.json", problems, MORNING)
    rejection = parse_note("plan (2).json", text, MORNING)
    assert rejection is not None
    assert (rejection.received, rejection.problems, rejection.where, rejection.what) == (
        "10am on Monday 23 November 2026", 2, "data → objectives → item 2 → measure",
        'The field "measure" is missing.')
    assert parse_note("notes.json", "Dear team,\nplease look at this.", MORNING) is None


@pytest.mark.parametrize(("message", "path", "shown"), [
    ('The field "measure" is missing.', "$.data.objectives[0].measure",
     'The field "measure" is missing.'),
    ('"Siân O\'Brien" is not in the right form.', "$.data.plan_date",
     f"{HIDDEN_VALUE} is not in the right form."),
    ('This should be a date, but it is the text "Daniel".', "$.data.plan_date",
     f"This should be a date, but it is the text {HIDDEN_VALUE}."),
    ('There is a field "plan_dat" that recordgen does not know here. Did you mean "plan_date"?',
     "$.data.plan_dat",
     'There is a field "plan_dat" that recordgen does not know here. Did you mean "plan_date"?'),
])
def test_values_quoted_from_the_file_are_left_out_field_names_stay(message: str, path: str,
                                                                   shown: str) -> None:
    assert without_values(message, path) == shown


# --- writing it: whole, and never at the cost of processing --------------------------------------


def test_a_page_that_cannot_be_written_is_logged_once_and_processing_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = shared_folder(tmp_path, '[status]\npage = "not mounted/status.html"\n')
    drop_examples(config, request=False)
    with caplog.at_level(logging.WARNING, logger="recordgen"):
        result = run(config, "process")
    assert result.exit_code == 0 and "4 produced" in result.output
    warnings = [r.getMessage() for r in caplog.records if "status page" in r.getMessage()]
    assert warnings == [f"The status page {tmp_path / 'not mounted' / 'status.html'} could not be "
                        "written (No such file or directory); processing goes on, and it is "
                        "tried again after the next batch."]


def test_a_page_written_again_after_failing_is_logged_once_more(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = shared_folder(tmp_path, '[status]\npage = "not mounted/status.html"\n')
    settings = load_settings(config)
    board = StatusBoard(settings, None, FixedClock(MORNING), Command.WATCH)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="recordgen"):
        board.refresh()
        board.refresh()
        settings.status_page.parent.mkdir()
        board.refresh()
        board.refresh()
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert caplog.records[1].getMessage() == "The status page can be written again."
    assert "recordgen status" in settings.status_page.read_text(encoding="utf-8")


def test_a_link_in_the_pages_place_is_replaced_not_followed(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    target = tmp_path / "elsewhere.html"
    target.write_text("someone else's file", encoding="utf-8")
    (tmp_path / "status.html").symlink_to(target)
    run(config, "process")
    assert target.read_text(encoding="utf-8") == "someone else's file"
    assert not (tmp_path / "status.html").is_symlink()
    assert "recordgen status" in page_text(config)


def test_a_reader_never_sees_half_a_page(tmp_path: Path) -> None:
    page = tmp_path / "status.html"
    write_page(page, "<html>first</html>\n")
    seen: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append(page.read_text(encoding="utf-8"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for number in range(300):
            write_page(page, f"<html>{'x' * (number * 997 % 200_000)}</html>\n")
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 10
    assert all(text.startswith("<html>") and text.endswith("</html>\n") for text in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["status.html"]


def test_the_watchers_note_of_its_last_look_is_read_back(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    settings = load_settings(config)
    note_watcher(settings, MORNING, host="srv/with odd:name")
    (look,) = read_looks(notes_folder(settings.folders.inbox))
    assert (look.host, look.looked_at, look.stopped_at) == ("srv/with odd:name", MORNING, None)
    (notes_folder(settings.folders.inbox) / "look-watch-broken.json").write_text("{not json")
    assert len(read_looks(notes_folder(settings.folders.inbox))) == 1


def test_the_notes_are_written_for_the_service_account_and_leave_nothing_half_written(
        tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    settings = load_settings(config)
    notes = notes_folder(settings.folders.inbox)
    note_watcher(settings, MORNING)
    note_results(notes, [_Result("a.json", "held", "THS-1", "disk full")], MORNING)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in notes.iterdir()}
    assert modes == {"look-watch-housing-srv1.json": 0o640, "held.json": 0o600}
    assert stat.S_IMODE(notes.stat().st_mode) == 0o700


def test_process_notes_its_look_only_when_it_looked_at_the_whole_inbox(tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    notes = notes_folder(load_settings(config).folders.inbox)
    letter = config.parent / "inbox" / "letter.json"
    letter.write_text(json.dumps(example("exit_letter")), encoding="utf-8")
    assert run(config, "process", str(letter)).exit_code == 0
    assert read_looks(notes) == []
    assert "Produced today (1)" in page_text(config)
    run(config, "process")
    assert [(look.command, look.looked_at) for look in read_looks(notes)] == [
        (Command.PROCESS, MORNING)]


def test_only_the_soonest_open_clocks_are_counted_out_and_ties_are_kept() -> None:
    clocks = [ClockRecord(f"THS-{n}", "review", "support_plan", "2026-01-01",
                          f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}") for n in range(500)]
    chosen = soonest(clocks, 10)
    last = max(c.due for c in chosen)
    assert len(chosen) >= 10 and all(c.due <= last for c in chosen)
    assert {c.case_ref for c in clocks if c.due <= last} == {c.case_ref for c in chosen}


def test_after_a_batch_the_page_waits_while_writing_it_would_cost_more_than_a_tenth(
        tmp_path: Path) -> None:
    config = shared_folder(tmp_path)
    settings = load_settings(config)
    now = [0.0]
    board = StatusBoard(settings, None, FixedClock(MORNING), Command.WATCH,  # type: ignore[arg-type]
                        monotonic=lambda: now[0])
    board.after_batch([])  # the first page: at once
    assert board.pages_written == 1
    board.last_seconds = 2.0  # as if it had taken 2 s (a very large store)
    now[0] = 5.0
    board.after_batch([])  # 10 x 2 s have not passed since
    assert board.pages_written == 1 and board.refresh_due() == 20.0
    now[0] = 25.0
    board.after_batch([])
    assert board.pages_written == 2
    assert "recordgen status" in settings.status_page.read_text(encoding="utf-8")
