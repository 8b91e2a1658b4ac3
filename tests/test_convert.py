"""The convert stage: real LibreOffice conversions, and its faults played by stand-in scripts."""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from recordgen.documents.convert import (
    LibreOfficeConverter,
    NoPdfConverter,
    ParallelConverter,
    convert_parallel,
    verify_pdf,
)
from recordgen.errors import ConversionError, ConverterMissing

# Real processes that sleep and wait on the real clock: left out of the faked-date runs
# (TESTING.md, "Faked dates").
pytestmark = pytest.mark.real_clock

TRICKY = "Siân O'Brien & Sons <Ltd>"

needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice is not installed: run scripts/setup "
    "(or sudo apt-get install libreoffice-writer-nogui)",
)


def make_docx(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    document.add_heading("Support plan", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def processes_mentioning(text: str) -> list[int]:
    """Live processes, other than this one, whose command line contains ``text`` (a LibreOffice
    profile's folder, say)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and int(proc.name) != os.getpid() and alive(int(proc.name)):
            found.append(int(proc.name))
    return found


# ---------------------------------------------------------------- real LibreOffice


@pytest.mark.libreoffice
@needs_libreoffice
def test_pdf_holds_the_word_text_with_awkward_characters(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "plan.docx", f"Landlord: {TRICKY}", "Review in 12 weeks.")
    out = tmp_path / "out"
    with LibreOfficeConverter() as converter:
        result = converter.convert([source], out)
    assert result == {source: out / "plan.pdf"}
    text = pdf_text(out / "plan.pdf")
    assert TRICKY in text
    assert "Review in 12 weeks." in text
    assert stat.S_IMODE((out / "plan.pdf").stat().st_mode) & 0o137 == 0  # 0o640 or stricter


@pytest.mark.libreoffice
@needs_libreoffice
def test_one_start_converts_a_batch_and_leaves_nothing_else(tmp_path: Path) -> None:
    sources = [
        make_docx(tmp_path / f"letter {n} – Siân.docx", f"Letter number {n}") for n in range(5)
    ]
    out = tmp_path / "out"
    converter = LibreOfficeConverter()
    try:
        result = converter.convert(sources, out)
        profile = converter._profile
        assert profile is not None and profile.is_dir()
    finally:
        converter.close()
    assert not profile.exists()  # the profile goes on close
    assert sorted(result) == sorted(sources)
    for n, source in enumerate(sources):
        assert result[source] == out / f"{source.stem}.pdf"
        assert f"Letter number {n}" in pdf_text(result[source])
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s.stem}.pdf" for s in sources)
    assert processes_mentioning(str(profile)) == []


@pytest.mark.libreoffice
@needs_libreoffice
def test_two_converters_at_once_each_with_its_own_profile(tmp_path: Path) -> None:
    converters = [LibreOfficeConverter(), LibreOfficeConverter()]
    results: dict[int, dict[Path, Path]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        sources = [
            make_docx(tmp_path / f"c{n}-{i}.docx", f"From converter {n} doc {i}") for i in range(3)
        ]
        try:
            results[n] = converters[n].convert(sources, tmp_path / f"out{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    profiles = [c._profile for c in converters]
    for converter in converters:
        converter.close()
    assert errors == []
    assert profiles[0] != profiles[1]
    for n in (0, 1):
        assert len(results[n]) == 3
        for source, pdf in results[n].items():
            assert f"From converter {n} doc {source.stem[-1]}" in pdf_text(pdf)


@pytest.mark.libreoffice
@needs_libreoffice
def test_convert_parallel_splits_a_batch_over_two_processes(tmp_path: Path) -> None:
    sources = [make_docx(tmp_path / f"d{i}.docx", f"Document {i}") for i in range(5)]
    result = convert_parallel(sources, tmp_path / "out", processes=2)
    assert list(result) == sources
    assert all(f"Document {i}" in pdf_text(result[s]) for i, s in enumerate(sources))


# ---------------------------------------------------------------- checks made before LibreOffice


def test_bad_inputs_are_named_before_libreoffice_runs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.docx"
    empty.touch()
    text = tmp_path / "text.docx"
    text.write_text("not a zip")  # LibreOffice would print this as plain text
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "same.docx").write_bytes(b"PK\x03\x04")
    twin = second / "same.docx"
    twin.write_bytes(b"PK\x03\x04")
    never = fake_soffice(tmp_path, "touch ran; exit 1")
    with pytest.raises(ConversionError) as caught:
        LibreOfficeConverter(soffice=str(never)).convert(
            [empty, text, tmp_path / "missing.docx", twin, twin], tmp_path / "out"
        )
    message = str(caught.value)
    for name in ("empty.docx: the file is empty", "text.docx: this is not a Word document",
                 "missing.docx: the file does not exist", "would also make same.pdf"):  # fmt: skip
        assert name in message
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "out").exists()


def test_no_pdf_converter_makes_nothing(tmp_path: Path) -> None:
    with NoPdfConverter() as converter:
        assert converter.convert([tmp_path / "x.docx"], tmp_path) == {}


def test_an_empty_batch_starts_nothing(tmp_path: Path) -> None:
    with LibreOfficeConverter(soffice=str(tmp_path / "absent")) as converter:
        assert converter.convert([], tmp_path / "out") == {}


def test_verify_pdf_counts_pages_and_rejects_junk(tmp_path: Path) -> None:
    good = valid_pdf(tmp_path)
    assert verify_pdf(good) == 1
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nthis is not really a PDF\n")
    with pytest.raises(ConversionError, match="cannot be opened"):
        verify_pdf(junk)


# ---------------------------------------------------------------- faults, played by stand-ins

# Every stand-in logs its inputs (one line per start), finds --outdir, then runs a body.
PRELUDE = """#!/bin/sh
here='{here}'
out=""; prev=""; inputs=""
for arg in "$@"; do
  [ "$prev" = "--outdir" ] && out="$arg"
  case "$arg" in *.docx) inputs="$inputs $(basename "$arg")";; esac
  prev="$arg"
done
echo "${{inputs# }}" >> "$here/calls.log"
"""


def fake_soffice(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-soffice"
    script.write_text(PRELUDE.format(here=tmp_path) + body + "\n")
    script.chmod(0o755)
    return script


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def valid_pdf(tmp_path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    path = tmp_path / "valid.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def two_docs(tmp_path: Path) -> list[Path]:
    return [make_docx(tmp_path / "assessment.docx", "A"), make_docx(tmp_path / "plan.docx", "P")]


def test_a_hung_libreoffice_is_killed_with_its_children_and_tried_twice(tmp_path: Path) -> None:
    soffice = fake_soffice(tmp_path, f"echo $$ >> '{tmp_path}/pids'\nsleep 1000 &\n"
                                     f"echo $! >> '{tmp_path}/pids'\nwait")  # fmt: skip
    started = time.monotonic()
    with (
        LibreOfficeConverter(timeout_seconds=1, soffice=str(soffice)) as converter,
        pytest.raises(ConversionError) as caught,
    ):
        converter.convert(two_docs(tmp_path), tmp_path / "out")
    assert time.monotonic() - started < 10
    assert len(calls(tmp_path)) == 2
    assert "made no progress for 1 s and was stopped" in str(caught.value)
    assert "assessment.docx" in str(caught.value) and "plan.docx" in str(caught.value)
    pids = [int(line) for line in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 4  # two shells, two grandchildren
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if alive(pid)] == []
    assert not (tmp_path / "out").exists()


def test_slow_but_progressing_is_not_a_hang(tmp_path: Path) -> None:
    pdf = valid_pdf(tmp_path)
    soffice = fake_soffice(tmp_path, f"for n in $inputs; do sleep 0.6; "
                                     f"cp '{pdf}' \"$out/${{n%.docx}}.pdf\"; done")  # fmt: skip
    sources = [make_docx(tmp_path / f"d{i}.docx", "x") for i in range(4)]
    started = time.monotonic()
    with LibreOfficeConverter(timeout_seconds=1.5, soffice=str(soffice)) as converter:
        result = converter.convert(sources, tmp_path / "out")
    assert time.monotonic() - started > 1.5  # longer than the timeout, in all
    assert len(result) == 4 and len(calls(tmp_path)) == 1


def test_a_non_zero_exit_is_reported_with_what_libreoffice_said(tmp_path: Path) -> None:
    soffice = fake_soffice(tmp_path, "echo 'Error: something broke' >&2; exit 3")
    with pytest.raises(ConversionError) as caught:
        LibreOfficeConverter(timeout_seconds=2, soffice=str(soffice)).convert(
            two_docs(tmp_path), tmp_path / "out"
        )
    message = str(caught.value)
    assert "plan.docx: LibreOffice made no PDF (it exited with code 3)" in message
    assert "Error: something broke" in message
    assert len(calls(tmp_path)) == 2


def test_exit_zero_without_a_pdf_is_a_failure_naming_the_document(tmp_path: Path) -> None:
    soffice = fake_soffice(tmp_path, "exit 0")
    source = make_docx(tmp_path / "exit-letter.docx", "Goodbye")
    with pytest.raises(ConversionError, match=r"exit-letter\.docx: LibreOffice made no PDF"):
        LibreOfficeConverter(timeout_seconds=2, soffice=str(soffice)).convert(
            [source], tmp_path / "out"
        )


@pytest.mark.parametrize("junk", ["not a pdf at all", "%PDF-1.7 truncated garbage"])
def test_a_garbage_pdf_is_rejected_by_verification(tmp_path: Path, junk: str) -> None:
    soffice = fake_soffice(
        tmp_path, f"for n in $inputs; do printf '{junk}' > \"$out/${{n%.docx}}.pdf\"; done"
    )
    source = make_docx(tmp_path / "plan.docx", "P")
    with pytest.raises(ConversionError, match=r"plan\.docx: the (file|PDF) LibreOffice made"):
        LibreOfficeConverter(timeout_seconds=2, soffice=str(soffice)).convert(
            [source], tmp_path / "out"
        )
    assert not (tmp_path / "out").exists()


def test_the_retry_converts_only_what_is_missing_suspect_last(tmp_path: Path) -> None:
    pdf = valid_pdf(tmp_path)
    # The first start converts only the first document and then crashes.
    soffice = fake_soffice(
        tmp_path,
        f"""
if [ "$(wc -l < "$here/calls.log")" -eq 1 ]; then
  set -- $inputs; cp '{pdf}' "$out/${{1%.docx}}.pdf"; exit 139
fi
for n in $inputs; do cp '{pdf}' "$out/${{n%.docx}}.pdf"; done""",
    )
    sources = [make_docx(tmp_path / f"d{i}.docx", "x") for i in range(3)]
    with LibreOfficeConverter(timeout_seconds=2, soffice=str(soffice)) as converter:
        result = converter.convert(sources, tmp_path / "out")
    assert sorted(result) == sources
    assert calls(tmp_path) == ["doc0000.docx doc0001.docx doc0002.docx",
                               "doc0002.docx doc0001.docx"]  # fmt: skip


def test_one_failure_means_no_pdfs_are_delivered(tmp_path: Path) -> None:
    pdf = valid_pdf(tmp_path)
    soffice = fake_soffice(tmp_path, f"for n in $inputs; do [ $n = doc0001.docx ] || "
                                     f"cp '{pdf}' \"$out/${{n%.docx}}.pdf\"; done")  # fmt: skip
    sources = [make_docx(tmp_path / f"d{i}.docx", "x") for i in range(3)]
    with pytest.raises(ConversionError) as caught:
        convert_parallel(sources, tmp_path / "out", timeout_seconds=2, soffice=str(soffice))
    assert "d1.docx" in str(caught.value) and "d0.docx" not in str(caught.value)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_missing_libreoffice_says_how_to_install_it(tmp_path: Path) -> None:
    source = make_docx(tmp_path / "plan.docx", "P")
    for converter in (
        LibreOfficeConverter(soffice=str(tmp_path / "no-such-soffice")),
        ParallelConverter(2, soffice=str(tmp_path / "no-such-soffice")),
    ):
        with converter, pytest.raises(ConverterMissing) as caught:
            converter.convert([source], tmp_path / "out")
        assert "sudo apt-get install libreoffice-writer-nogui" in str(caught.value)
        assert "scripts/setup" in str(caught.value)
