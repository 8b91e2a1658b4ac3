"""The watcher on real folders, with native events and with polling: every complete file is taken
exactly once, through slow writers, floods, junk, crashes, a second watcher and a stop signal."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from watchdog.observers.api import BaseObserver

from recordgen.cli import cli
from recordgen.cli.exit_codes import (
    EXIT_CANNOT_WATCH,
    EXIT_INBOX_MISSING,
    EXIT_INBOX_NOT_WRITABLE,
    EXIT_SETTINGS,
    exit_code_for,
)
from recordgen.cli.watch import watch
from recordgen.clock import SystemClock
from recordgen.errors import CannotWatch, InboxMissing, SettingsError
from recordgen.intake.claim import HOST
from recordgen.pipeline.inbox import inbox_files
from recordgen.pipeline.watch import Watcher, WatchOptions, filesystem_type
from recordgen.records.store import SqliteStore, SubmissionRecord
from recordgen.services import open_services
from recordgen.settings import Settings, load_settings

from conftest import REPO, example, make_settings

# Real processes that sleep and wait on the real clock: left out of the faked-date runs
# (TESTING.md, "Faked dates").
pytestmark = pytest.mark.real_clock

RUNNER = Path(__file__).with_name("watch_runner.py")
# Poll interval per mode: 0 is native file events; polling is kept short so the tests stay quick.
MODES = {"native": 0.0, "poll": 0.2}


# --- helpers --------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def case_file(number: int) -> bytes:
    """A valid case file whose bytes (through its case reference) are unique to ``number``."""
    case = example("serious_incident")
    case["case_ref"] = f"THS-W-{number:04d}"
    return json.dumps(case, ensure_ascii=False, indent=1).encode("utf-8")


def drop_cases(settings: Settings, numbers: range) -> list[bytes]:
    """Even numbers are written in place; odd ones are written beside the inbox, then renamed in."""
    staging = settings.folders.inbox.parent / "staging"
    staging.mkdir(exist_ok=True)
    contents = []
    for number in numbers:
        content = case_file(number)
        name = f"case {number:04d}.json"
        if number % 2:
            (staging / name).write_bytes(content)
            os.rename(staging / name, settings.folders.inbox / name)
        else:
            (settings.folders.inbox / name).write_bytes(content)
        contents.append(content)
    return contents


def documents(settings: Settings) -> list[Path]:
    outbox = settings.folders.outbox
    return sorted(p for p in outbox.rglob("*.docx") if not p.name.startswith(".")) \
        if outbox.exists() else []


def claimed_files(settings: Settings) -> list[Path]:
    work = settings.folders.work
    return [p for p in work.rglob("*") if p.is_file() and p.name != ".lock"] if work.exists() else []


def waiting_in_inbox(settings: Settings) -> list[Path]:
    return list(settings.folders.inbox.glob("*.json"))


def submissions(settings: Settings) -> list[SubmissionRecord]:
    with SqliteStore(settings.folders.store) as store:
        return store.submissions()


def assert_each_processed_once(settings: Settings, sources: list[bytes]) -> None:
    records = submissions(settings)
    assert len(records) == len(sources)
    assert sorted(r.raw for r in records) == sorted(sources)  # no source file recorded twice
    assert len({r.claim_id for r in records}) == len(sources)
    assert {r.outcome for r in records} == {"accepted"}
    docs = documents(settings)
    assert len(docs) == len(sources)
    assert len({d.parent for d in docs}) == len(sources)  # one document in each case's folder
    assert all(d.name.endswith("_v1.docx") for d in docs)
    with SqliteStore(settings.folders.store) as store:
        assert len(store.documents()) == len(sources)
    assert waiting_in_inbox(settings) == [] and claimed_files(settings) == []
    assert not settings.folders.rejected.exists()


def watch_settings(tmp_path: Path, mode: str, *, settle: float = 0.3, rescan: float = 30.0,
                   poll: float | None = None, **sections: dict[str, Any]) -> Settings:
    timing = {"settle_seconds": settle, "rescan_seconds": rescan,
              "poll_seconds": MODES[mode] if poll is None else poll}
    return make_settings(tmp_path, watch=timing, **sections)


class WatchThread(threading.Thread):
    """A real watcher in a thread of this process (the store is opened in that thread)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.settings, self.kwargs = settings, kwargs
        self.watcher: Watcher | None = None
        self.error: BaseException | None = None
        self.opened = threading.Event()

    def run(self) -> None:
        try:
            with open_services(self.settings, SystemClock()) as services:
                options = WatchOptions.from_settings(self.settings.watch)
                self.watcher = Watcher(services, options, **self.kwargs)
                self.opened.set()
                self.watcher.run()
        except BaseException as exc:
            self.error = exc
        finally:
            self.opened.set()


@contextmanager
def watching(settings: Settings, **kwargs: Any) -> Iterator[Watcher]:
    """Run a watcher until the block ends; the start-up scan is done when the block begins."""
    thread = WatchThread(settings, **kwargs)
    thread.start()
    thread.opened.wait(30)
    try:
        watcher = thread.watcher
        wait_for(lambda: not thread.is_alive() or (watcher and watcher.rescans), "the start-up scan")
        if thread.error is not None:
            raise thread.error
        assert watcher is not None
        yield watcher
    finally:
        if thread.watcher is not None:
            thread.watcher.stop()
        thread.join(60)
    assert not thread.is_alive()
    if thread.error is not None:
        raise thread.error


def write_config(tmp_path: Path, mode: str, *, settle: float = 0.3, rescan: float = 30.0) -> Path:
    """A settings file for watcher processes, with every folder under ``tmp_path``."""
    path = tmp_path / "recordgen.toml"
    path.write_text(
        "[folders]\n"
        'inbox = "inbox"\noutbox = "outbox"\nrejected = "rejected"\nstore = "var/store.sqlite3"\n'
        f"templates = {json.dumps(str(REPO / 'templates'))}\n"
        f"schemas = {json.dumps(str(REPO / 'schemas'))}\n"
        "[output]\npdf = false\n"
        f"[watch]\nsettle_seconds = {settle}\npoll_seconds = {MODES[mode]}\n"
        f"rescan_seconds = {rescan}\n",
        encoding="utf-8",
    )
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return path


class WatchProcess:
    """``recordgen watch`` in a child process, its log in a file."""

    def __init__(self, config: Path, log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(RUNNER), "--config", str(config), "watch", *args],
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_started(self) -> None:
        wait_for(lambda: "watching" in self.log() or self.process.poll() is not None,
                 "the watcher to start")
        assert self.process.poll() is None, self.log()

    def files_done(self) -> int:
        return self.log().count(" outcome=")

    def signal_and_wait(self, number: int, timeout: float = 60.0) -> int:
        self.process.send_signal(number)
        return self.process.wait(timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        self._log.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., WatchProcess]]:
    started: list[WatchProcess] = []

    def _spawn(config: Path, *args: str) -> WatchProcess:
        started.append(WatchProcess(config, tmp_path / f"watch-{len(started)}.log", *args))
        return started[-1]

    yield _spawn
    for process in started:
        process.close()


def run_cli(*args: str) -> tuple[int, str]:
    if watch.name not in cli.commands:
        cli.add_command(watch)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


# --- complete files only --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_file_written_slowly_is_taken_once_and_only_when_complete(
    tmp_path: Path, mode: str
) -> None:
    settings = watch_settings(tmp_path, mode, settle=1.0)
    content = case_file(1)
    size = len(content) // 5 + 1
    with watching(settings) as watcher:
        with (settings.folders.inbox / "slow.json").open("wb") as handle:
            for start in range(0, len(content), size):
                handle.write(content[start:start + size])
                handle.flush()
                time.sleep(0.3)  # a slow writer: five chunks, 0.3 s apart
        wait_for(lambda: watcher.counts.total(), "the file to be processed")
    assert watcher.counts == Counter(produced=1)
    assert_each_processed_once(settings, [content])


@pytest.mark.parametrize("mode", MODES)
def test_a_word_document_written_slowly_is_answered_only_once_it_is_complete(
    tmp_path: Path, mode: str
) -> None:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("Support plan for Siân O'Brien " * 200)
    out = io.BytesIO()
    document.save(out)
    content = out.getvalue()
    size = len(content) // 5 + 1
    settings = watch_settings(tmp_path, mode, settle=1.0)
    rejected = settings.folders.rejected / "plan.docx"
    with watching(settings) as watcher:
        with (settings.folders.inbox / "plan.docx").open("wb") as handle:
            for start in range(0, len(content), size):
                handle.write(content[start:start + size])
                handle.flush()
                time.sleep(0.3)  # five chunks, 0.3 s apart: never taken half-written
                assert not rejected.exists()
        wait_for(lambda: watcher.counts.total(), "the Word document to be answered")
    assert watcher.counts == Counter(rejected=1)
    assert rejected.read_bytes() == content
    note = (settings.folders.rejected / "plan.docx.errors.txt").read_text(encoding="utf-8")
    assert "This seems to be a Word document (.docx), " in note and "not a case file" in note
    assert list(settings.folders.inbox.glob("plan*")) == []


def test_a_file_renamed_into_the_inbox_is_taken_without_waiting_to_settle(tmp_path: Path) -> None:
    settings = watch_settings(tmp_path, "native", settle=600)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(case_file(1))
    partial = settings.folders.inbox / "upload.json.part"  # a browser or sync tool's temporary name
    partial.write_bytes(case_file(2))
    with watching(settings) as watcher:
        os.rename(elsewhere, settings.folders.inbox / "moved in.json")
        os.rename(partial, settings.folders.inbox / "upload.json")
        wait_for(lambda: watcher.counts.total() == 2, "both renamed files to be processed")
    assert_each_processed_once(settings, [case_file(1), case_file(2)])


@pytest.mark.parametrize("mode", MODES)
def test_500_files_dropped_at_once_are_each_processed_exactly_once(
    tmp_path: Path, mode: str
) -> None:
    settings = watch_settings(tmp_path, mode, rescan=5.0)
    with watching(settings) as watcher:
        sources = drop_cases(settings, range(500))
        wait_for(lambda: watcher.counts.total() >= 500, "500 files to be processed", timeout=300)
    assert watcher.counts == Counter(produced=500)
    assert_each_processed_once(settings, sources)


def test_a_review_dropped_with_its_plan_among_many_files_waits_for_it(tmp_path: Path) -> None:
    # 27 files waiting in the inbox are ready together: taken 20 at a time by name, the review
    # ("b_review.json") went in the first batch and its plan ("z_plan.json") in the next, and the
    # review was rejected. A case's files now go in one batch, the plan first.
    settings = watch_settings(tmp_path, "native")
    staging = tmp_path / "staging"
    staging.mkdir()
    files = {"b_review.json": example("support_review"), "z_plan.json": example("support_plan")}
    for number in range(25):
        money = example("money_secured")
        money["case_ref"] = f"OTHER-{number:02d}"
        files[f"m_{number:02d}.json"] = money
    for name, content in files.items():
        (staging / name).write_text(json.dumps(content), encoding="utf-8")
    for name in files:  # waiting when the watcher starts: all found, and ready, at once
        os.rename(staging / name, settings.folders.inbox / name)
    with watching(settings) as watcher:
        wait_for(lambda: watcher.counts.total() == 27, "the 27 files to be processed")
    assert watcher.counts == Counter(produced=2, recorded=25)
    assert not settings.folders.rejected.exists() or not list(settings.folders.rejected.iterdir())


JUNK = ("~$plan.json", "plan.json.tmp", ".hidden.json", "._plan.json", "Thumbs.db", "desktop.ini",
        ".DS_Store", "plan.json~", "download.crdownload", "copy.part")


@pytest.mark.parametrize("mode", MODES)
def test_junk_links_and_subfolders_are_left_alone_without_complaint(
    tmp_path: Path, mode: str
) -> None:
    settings = watch_settings(tmp_path, mode, rescan=0.3)
    inbox = settings.folders.inbox
    outside = tmp_path / "outside.json"
    outside.write_bytes(case_file(2))
    with watching(settings) as watcher:
        for name in JUNK:
            (inbox / name).write_bytes(b"{}")
        (inbox / "link.json").symlink_to(outside)
        (inbox / "folder.json").mkdir()
        (inbox / "sub").mkdir()
        (inbox / "sub" / "inside.json").write_bytes(case_file(3))
        (inbox / "real.json").write_bytes(case_file(1))
        wait_for(lambda: watcher.counts.total(), "the real case file to be processed")
        seen = watcher.rescans
        wait_for(lambda: watcher.rescans >= seen + 2, "two more rescans")
    assert watcher.counts == Counter(produced=1)
    assert all((inbox / name).read_bytes() == b"{}" for name in JUNK)
    assert (inbox / "link.json").is_symlink() and outside.read_bytes() == case_file(2)
    assert (inbox / "sub" / "inside.json").read_bytes() == case_file(3)
    assert (inbox / "folder.json").is_dir()
    assert not settings.folders.rejected.exists()
    assert [r.raw for r in submissions(settings)] == [case_file(1)]


# --- rescans, held files, start-up --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_file_that_appears_while_a_rescan_runs_is_handled_once(tmp_path: Path, mode: str) -> None:
    # In polling mode the poll is slowed down, so that the second listing is a periodic rescan.
    settings = watch_settings(tmp_path, mode, rescan=0.3, poll=5.0 if mode == "poll" else None)
    inbox = settings.folders.inbox
    calls = []

    def listing_with_drops(folder: Path) -> list[Path]:
        calls.append(folder)
        if len(calls) != 2:
            return inbox_files(folder)
        (inbox / "before listing.json").write_bytes(case_file(1))  # listed and an event
        listed = inbox_files(folder)
        (inbox / "after listing.json").write_bytes(case_file(2))  # appears mid-rescan
        return listed

    with watching(settings, list_inbox=listing_with_drops) as watcher:
        wait_for(lambda: watcher.counts.total() == 2, "both files to be processed")
        seen = watcher.rescans
        wait_for(lambda: watcher.rescans >= seen + 2, "two more rescans")
    assert watcher.counts == Counter(produced=2)
    assert_each_processed_once(settings, [case_file(1), case_file(2)])


@pytest.mark.parametrize("mode", MODES)
def test_a_held_file_is_tried_again_at_the_next_rescan(tmp_path: Path, mode: str) -> None:
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox folder should be")
    settings = watch_settings(tmp_path, mode, rescan=0.3)
    with watching(settings) as watcher:
        (settings.folders.inbox / "case.json").write_bytes(case_file(1))
        wait_for(lambda: watcher.counts["held"], "the file to be held")
        assert len(claimed_files(settings)) == 1  # kept, claimed
        blocked.unlink()
        wait_for(lambda: watcher.counts["produced"], "the retry to produce the document")
    assert_each_processed_once(settings, [case_file(1)])


@pytest.mark.parametrize("mode", MODES)
def test_files_waiting_and_claims_left_by_a_dead_worker_are_processed_at_start_up(
    tmp_path: Path, mode: str
) -> None:
    settings = watch_settings(tmp_path, mode)
    dead = settings.folders.work / f"{HOST}-999-abc"
    dead.mkdir(parents=True)
    (dead / ".lock").touch()
    (dead / "20261123T090000000000-deadbeef--left.json").write_bytes(case_file(1))
    (settings.folders.inbox / "waiting.json").write_bytes(case_file(2))
    with watching(settings) as watcher:
        wait_for(lambda: watcher.counts.total() == 2, "both files to be processed")
    assert_each_processed_once(settings, [case_file(1), case_file(2)])
    assert not dead.exists()


def test_the_log_has_one_line_per_file_with_the_case_but_never_the_person(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = watch_settings(tmp_path, "native")
    with caplog.at_level(logging.INFO, logger="recordgen"), watching(settings) as watcher:
        (settings.folders.inbox / "Daniel Okafor overdose.json").write_bytes(case_file(1))
        (settings.folders.inbox / "Daniel Okafor again.json").write_bytes(b"{not json")
        wait_for(lambda: watcher.counts.total() == 2, "both files to be processed")
    lines = [r.getMessage() for r in caplog.records if "outcome=" in r.getMessage()]
    assert len(lines) == 2
    assert any(line.startswith("case=THS-W-0001 kind=serious_incident outcome=produced "
                               "documents=1 seconds=") for line in lines)
    assert any("outcome=rejected documents=0" in line for line in lines)
    for private in ("Daniel", "Okafor", "overdose"):
        assert private not in caplog.text


# --- crashes, several watchers, stopping ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_kill_9_in_the_middle_then_a_restart_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, mode: str, spawn: Callable[..., WatchProcess]
) -> None:
    config = write_config(tmp_path, mode)
    settings = load_settings(config)
    sources = drop_cases(settings, range(90))
    left_claimed = 0
    for enough in (10, 35, 60):
        watcher = spawn(config)
        wait_for(lambda: len(documents(settings)) >= enough and claimed_files(settings),  # noqa: B023
                 f"{enough} documents with more files in hand", timeout=60)
        watcher.process.kill()  # SIGKILL: no clean-up of any kind
        watcher.process.wait(30)
        left_claimed += len(claimed_files(settings))
    assert left_claimed  # the kills did leave work in hand
    last = spawn(config)
    wait_for(lambda: len(documents(settings)) == 90 and not claimed_files(settings)
             and not waiting_in_inbox(settings), "every file to be processed", timeout=120)
    assert last.signal_and_wait(signal.SIGTERM) == 0
    assert_each_processed_once(settings, sources)
    assert [p.name for p in settings.folders.work.iterdir()] == []  # dead workers' folders adopted


@pytest.mark.parametrize("mode", MODES)
def test_two_watcher_processes_on_one_inbox_never_process_a_file_twice(
    tmp_path: Path, mode: str, spawn: Callable[..., WatchProcess]
) -> None:
    config = write_config(tmp_path, mode)
    settings = load_settings(config)
    first, second = spawn(config), spawn(config)
    first.wait_started()
    second.wait_started()
    sources = drop_cases(settings, range(120))
    wait_for(lambda: first.files_done() + second.files_done() >= 120, "120 files", timeout=120)
    assert first.signal_and_wait(signal.SIGTERM) == 0
    assert second.signal_and_wait(signal.SIGTERM) == 0
    assert first.files_done() and second.files_done()  # both took part
    assert first.files_done() + second.files_done() == 120
    assert_each_processed_once(settings, sources)


@pytest.mark.parametrize(("mode", "number"), [("native", signal.SIGTERM), ("poll", signal.SIGTERM),
                                              ("native", signal.SIGINT)])
def test_a_stop_signal_finishes_the_file_in_hand_and_exits_0(
    tmp_path: Path, mode: str, number: signal.Signals, spawn: Callable[..., WatchProcess]
) -> None:
    config = write_config(tmp_path, mode)
    settings = load_settings(config)
    watcher = spawn(config)
    watcher.wait_started()
    sources = drop_cases(settings, range(60))
    wait_for(lambda: watcher.files_done() >= 3, "some files to be processed")
    assert watcher.signal_and_wait(number) == 0, watcher.log()
    assert f"stopped ({number.name})" in watcher.log()
    assert claimed_files(settings) == []  # nothing left half-done
    records = submissions(settings)
    assert len(records) == len(documents(settings)) == watcher.files_done()
    waiting = {p.read_bytes() for p in waiting_in_inbox(settings)}
    assert sorted([r.raw for r in records] + list(waiting)) == sorted(sources)  # nothing lost


@pytest.mark.slow
def test_sigterm_stops_a_watcher_whose_template_runs_away(
    tmp_path: Path, spawn: Callable[..., WatchProcess]
) -> None:
    import docx

    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    document = docx.Document(str(templates / "support_plan.docx"))
    document.add_paragraph("{% for i in range(100000) %}{% for j in range(100000) %}x"
                           "{% endfor %}{% endfor %}")
    document.save(str(templates / "support_plan.docx"))
    config = write_config(tmp_path, "poll")
    config.write_text(config.read_text().replace(json.dumps(str(REPO / "templates")),
                                                 json.dumps(str(templates))))
    settings = load_settings(config)
    watcher = spawn(config)
    watcher.wait_started()
    for number in range(5):
        plan = example("support_plan")
        plan["case_ref"] = f"THS-RUN-{number}"
        (settings.folders.inbox / f"plan-{number}.json").write_text(json.dumps(plan))
    (settings.folders.inbox / "letter.json").write_text(json.dumps(example("exit_letter")))
    wait_for(lambda: "took more than" in watcher.log(), "a runaway render to be stopped")
    started = time.monotonic()
    assert watcher.signal_and_wait(signal.SIGTERM, timeout=60) == 0, watcher.log()
    assert time.monotonic() - started < 30
    assert "stopped (SIGTERM)" in watcher.log()
    # Nothing lost: each plan is held in the work folder or still waiting in the inbox.
    plans = {p.name.split("--")[-1] for p in claimed_files(settings)} | {
        p.name for p in settings.folders.inbox.glob("plan-*.json")}
    assert plans == {f"plan-{n}.json" for n in range(5)}


# --- what an operator sees when something is wrong ------------------------------------------------


def test_a_missing_inbox_exits_4_with_a_message(tmp_path: Path) -> None:
    config = write_config(tmp_path, "native")
    (tmp_path / "inbox").rmdir()
    code, output = run_cli("--config", str(config), "watch")
    assert code == EXIT_INBOX_MISSING == 4
    assert f"The inbox folder {tmp_path / 'inbox'} does not exist" in output
    assert "Traceback" not in output


def test_an_inbox_recordgen_cannot_write_to_exits_5_with_a_message(tmp_path: Path) -> None:
    config = write_config(tmp_path, "poll")
    (tmp_path / "inbox" / ".recordgen-work").write_text("in the way of the work folder")
    code, output = run_cli("--config", str(config), "watch")
    assert code == EXIT_INBOX_NOT_WRITABLE == 5
    assert "cannot write to the inbox folder" in output and "permission to create" in output


@pytest.mark.parametrize("mode", MODES)
def test_an_inbox_that_disappears_stops_the_watcher_with_a_message(tmp_path: Path, mode: str) -> None:
    settings = watch_settings(tmp_path, mode, rescan=0.3)
    with pytest.raises(InboxMissing) as caught, watching(settings):
        shutil.rmtree(settings.folders.inbox)  # a share that is unmounted, say
        wait_for(lambda: not any(isinstance(t, WatchThread) for t in threading.enumerate()),
                 "the watcher to stop")
    assert str(settings.folders.inbox) in str(caught.value)
    assert exit_code_for(caught.value) == EXIT_INBOX_MISSING


def test_a_filesystem_that_cannot_be_watched_suggests_polling(tmp_path: Path) -> None:
    def no_inotify_left() -> BaseObserver:
        raise OSError(errno.EMFILE, "Too many open files")

    settings = watch_settings(tmp_path, "native")
    with pytest.raises(CannotWatch) as caught, watching(settings, observer_factory=no_inotify_left):
        pass
    message = str(caught.value)
    assert "cannot be watched" in message and "inotify" in message and "--poll 5" in message
    assert exit_code_for(caught.value) == EXIT_CANNOT_WATCH == 6


def test_bad_timings_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "native", rescan=0)
    code, output = run_cli("--config", str(config), "watch")
    assert code == EXIT_SETTINGS
    assert "rescan_seconds more than 0" in output
    code, _ = run_cli("--config", str(config), "watch", "--poll", "-1")
    assert code == 2
    with pytest.raises(SettingsError):
        WatchOptions(settle_seconds=-1)


def test_the_filesystem_type_of_the_inbox_is_read_from_the_mount_table() -> None:
    mounts = (
        "/dev/vda / ext4 rw 0 0\n"
        "//fileserver/housing /srv/shared\\040drive cifs rw 0 0\n"
        "server:/export /srv/nfs nfs4 rw 0 0\n"
    )
    assert filesystem_type(Path("/srv/shared drive/inbox"), mounts) == "cifs"
    assert filesystem_type(Path("/srv/nfs"), mounts) == "nfs4"
    assert filesystem_type(Path("/home/recordgen/inbox"), mounts) == "ext4"
