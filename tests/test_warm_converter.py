"""LibreOffice kept running between documents (the watcher's converter): real conversions, the
LibreOffice replaced when it crashes, wears out or grows, and its faults played by stand-in helpers.
No LibreOffice outlives the converter, the watcher, or a watcher killed with kill -9."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from recordgen.documents.warm import HELPER, SYSTEM_PYTHON, WarmConverter
from recordgen.errors import ConversionError, ConverterMissing

from conftest import REPO, example
from test_convert import TRICKY, alive, make_docx, pdf_text, processes_mentioning

pytestmark = pytest.mark.real_clock

has_uno = shutil.which("soffice") is not None and subprocess.run(
    [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False).returncode == 0
needs_uno = pytest.mark.skipif(not has_uno, reason="LibreOffice or python3-uno is not installed: "
                                                   "run scripts/setup")


def gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    """The pids still alive after waiting up to ``timeout`` for them to go."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


# ---------------------------------------------------------------- real LibreOffice


@pytest.mark.libreoffice
@needs_uno
def test_one_libreoffice_serves_call_after_call_and_is_gone_after_close(tmp_path: Path) -> None:
    sources = [make_docx(tmp_path / f"letter {n} – Siân.docx", f"Letter {n}: {TRICKY}")
               for n in range(4)]
    converter = WarmConverter(processes=2, timeout_seconds=60)
    try:
        converter.warm_up()
        first = converter.convert(sources[:1], tmp_path / "one")
        pids = converter.pids
        assert len(pids) >= 1
        rest = converter.convert(sources[1:], tmp_path / "rest")
        assert set(pids) <= set(converter.pids)  # the same LibreOffice, still running
    finally:
        converter.close()
    for n, (source, pdf) in enumerate({**first, **rest}.items()):
        assert pdf == pdf.parent / f"{source.stem}.pdf"
        assert f"Letter {sources.index(source)}: {TRICKY}" in pdf_text(pdf), n
        assert pdf.stat().st_mode & 0o137 == 0
    assert gone(pids) == []
    assert processes_mentioning(f"recordgen-uno-{os.getpid()}-") == []


@pytest.mark.libreoffice
@needs_uno
def test_a_crashed_libreoffice_is_started_again(tmp_path: Path) -> None:
    sources = [make_docx(tmp_path / f"d{n}.docx", f"Document {n}") for n in range(3)]
    with WarmConverter(processes=1, timeout_seconds=60) as converter:
        converter.convert(sources[:1], tmp_path / "before")
        (crashed,) = converter.pids
        os.kill(crashed, signal.SIGKILL)
        assert gone([crashed]) == []
        result = converter.convert(sources[1:], tmp_path / "after")
        (restarted,) = converter.pids
    assert restarted != crashed
    assert [f"Document {n}" in pdf_text(result[s]) for n, s in enumerate(sources[1:], 1)] == \
        [True, True]


@pytest.mark.libreoffice
@needs_uno
@pytest.mark.parametrize("limits", [{"max_documents": 2}, {"max_memory_bytes": 1}])
def test_a_worn_or_swollen_libreoffice_is_replaced(tmp_path: Path,
                                                   limits: dict[str, int]) -> None:
    sources = [make_docx(tmp_path / f"d{n}.docx", f"Document {n}") for n in range(3)]
    with WarmConverter(processes=1, timeout_seconds=60, **limits) as converter:
        for n, source in enumerate(sources):
            result = converter.convert([source], tmp_path / f"out{n}")
            assert f"Document {n}" in pdf_text(result[source])
        seen = list(converter.started)
    assert len(seen) >= 2  # replaced at least once
    assert gone(seen) == []


@pytest.mark.libreoffice
@needs_uno
def test_without_python3_uno_each_batch_starts_libreoffice_afresh(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = make_docx(tmp_path / "plan.docx", "Still converted")
    # recordgen's own Python has no UNO module: the helper says so and the converter falls back.
    with WarmConverter(timeout_seconds=60, helper_command=(sys.executable, str(HELPER))) as converter:
        result = converter.convert([source], tmp_path / "out")
    assert "Still converted" in pdf_text(result[source])
    assert "install python3-uno" in caplog.text


def test_missing_libreoffice_says_how_to_install_it(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "plan.docx", "P")
    with WarmConverter(soffice=str(tmp_path / "no-such-soffice")) as converter, \
            pytest.raises(ConverterMissing) as caught:
        converter.convert([source], tmp_path / "out")
    assert "sudo apt-get install libreoffice-writer-nogui" in str(caught.value)


# ---------------------------------------------------------------- the watcher, killed


def write_config(folder: Path) -> Path:
    config = folder / "recordgen.toml"
    config.write_text(
        '[folders]\ninbox = "inbox"\noutbox = "outbox"\nrejected = "rejected"\n'
        'store = "var/store.sqlite3"\n'
        f"templates = {json.dumps(str(REPO / 'templates'))}\n"
        f"schemas = {json.dumps(str(REPO / 'schemas'))}\n"
        "[output]\npdf = true\nconversion_processes = 2\n"
        "[watch]\nsettle_seconds = 0.2\n", encoding="utf-8")
    (folder / "inbox").mkdir()
    (folder / "staging").mkdir()
    return config


def wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.libreoffice
@needs_uno
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_no_libreoffice_outlives_the_watcher_even_after_kill_9(tmp_path: Path, stop: str) -> None:
    """A watcher with PDF output keeps LibreOffice running; a renamed-in case file gets its PDF;
    stopped (or killed with kill -9, no clean-up of any kind), no LibreOffice or helper is left."""
    config = write_config(tmp_path)
    log = (tmp_path / "watch.log").open("wb")
    watcher = subprocess.Popen([sys.executable, str(REPO / "tests" / "watch_runner.py"),
                                "--config", str(config), "watch"], stdout=log,
                               stderr=subprocess.STDOUT)
    marker = f"recordgen-uno-{watcher.pid}-"
    try:
        wait_for(lambda: len(processes_mentioning(marker)) >= 4, "two LibreOffice and helpers")
        staged = tmp_path / "staging" / "case.json"
        staged.write_text(json.dumps(example("exit_letter")), encoding="utf-8")
        staged.rename(tmp_path / "inbox" / "case.json")
        wait_for(lambda: list((tmp_path / "outbox").rglob("*.pdf")), "the PDF")
        (pdf,) = (tmp_path / "outbox").rglob("*.pdf")
        assert "Siân O'Brien" in pdf_text(pdf)
        running = processes_mentioning(marker)
        watcher.send_signal(getattr(signal, stop))
        watcher.wait(60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        log.close()
    assert gone(running) == []
    assert processes_mentioning(marker) == []


# ---------------------------------------------------------------- faults, played by stand-ins

STAND_IN = """
import json, os, subprocess, sys, time
here = {here!r}
print(json.dumps({{"ready": True, "pid": os.getpid()}}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    with open(os.path.join(here, "calls.log"), "a") as log:
        log.write(os.path.basename(request["source"]) + "\\n")
{body}
"""


def stand_in(tmp_path: Path, body: str) -> tuple[str, ...]:
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN.format(here=str(tmp_path), body=textwrap.indent(body, "    ")))
    return (sys.executable, str(script))


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def converter_with(tmp_path: Path, body: str, **options: float) -> WarmConverter:
    # Any executable stands in for LibreOffice: the helper stand-in never runs it.
    return WarmConverter(timeout_seconds=options.get("timeout", 2), soffice=sys.executable,
                         helper_command=stand_in(tmp_path, body))


def test_a_hung_libreoffice_is_killed_with_its_helper_and_tried_twice(tmp_path: Path) -> None:
    body = ("child = subprocess.Popen(['sleep', '1000'])\n"
            "open(os.path.join(here, 'pids'), 'a').write(f'{os.getpid()} {child.pid}\\n')\n"
            "time.sleep(1000)")
    source = make_docx(tmp_path / "assessment.docx", "A")
    started = time.monotonic()
    with converter_with(tmp_path, body, timeout=1) as converter, \
            pytest.raises(ConversionError) as caught:
        converter.convert([source], tmp_path / "out")
    assert time.monotonic() - started < 15
    assert calls(tmp_path) == ["doc0000.docx", "doc0000.docx"]
    message = str(caught.value)
    assert "assessment.docx" in message and "made no progress for 1 s" in message
    assert "tried twice" in message
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 4 and gone(pids) == []  # two helpers, two children, all killed
    assert not (tmp_path / "out").exists()


def test_an_answer_without_a_pdf_is_a_failure_naming_the_document(tmp_path: Path) -> None:
    body = 'print(json.dumps({"ok": True, "rss": 1}), flush=True)'
    source = make_docx(tmp_path / "exit-letter.docx", "Goodbye")
    with converter_with(tmp_path, body) as converter, pytest.raises(
            ConversionError, match=r"exit-letter\.docx: LibreOffice made no PDF \(tried twice\)"):
        converter.convert([source], tmp_path / "out")
    assert len(calls(tmp_path)) == 2


def test_a_crash_mid_document_is_tried_again_in_a_fresh_libreoffice(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    valid = tmp_path / "valid.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with valid.open("wb") as handle:
        writer.write(handle)
    # The first helper dies on its first document; the second makes a PDF.
    body = ("if len(open(os.path.join(here, 'calls.log')).read().split()) == 1:\n"
            "    os._exit(139)\n"
            f"import shutil; shutil.copyfile({str(valid)!r}, request['target'])\n"
            'print(json.dumps({"ok": True, "rss": 1}), flush=True)')
    source = make_docx(tmp_path / "plan.docx", "P")
    with converter_with(tmp_path, body) as converter:
        result = converter.convert([source], tmp_path / "out")
    assert result == {source: tmp_path / "out" / "plan.pdf"}
    assert len(calls(tmp_path)) == 2


def test_a_refused_document_holds_back_the_call_but_not_the_libreoffice(tmp_path: Path) -> None:
    body = 'print(json.dumps({"ok": False, "error": "General Error", "alive": True}), flush=True)'
    sources = [make_docx(tmp_path / f"d{n}.docx", "x") for n in range(2)]
    with converter_with(tmp_path, body) as converter, \
            pytest.raises(ConversionError) as caught:
        converter.convert(sources, tmp_path / "out")
    assert "d0.docx: LibreOffice could not convert it (General Error) (tried twice)" in \
        str(caught.value)
    assert not (tmp_path / "out").exists()
