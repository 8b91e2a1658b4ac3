"""Files recordgen will not read are answered: moved to the rejected folder with a note saying what
they seem to be and what recordgen needs instead.

Each sample is made the way the real thing is (python-docx for Word, pypdf for PDF, zlib for PNG,
the ZIP parts of a spreadsheet, the header and stream names of an Outlook message), dropped into
the inbox, and the note is read back. What a file is comes from its content, so a Word document
renamed ``.json`` is still named as a Word document.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from pypdf import PdfWriter

from recordgen.cli import cli
from recordgen.cli.exit_codes import EXIT_PROBLEMS
from recordgen.clock import UK, FixedClock
from recordgen.pipeline import Services
from recordgen.pipeline.inbox import process_inbox
from recordgen.services import open_services
from recordgen.settings import Settings

from conftest import REPO, example


def word_document() -> bytes:
    document = docx.Document()
    document.add_paragraph("Support plan for Siân O'Brien")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_document() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def spreadsheet() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


def compound_file(*streams: str) -> bytes:
    """The start of an OLE2 compound file (Word 97-2003, Outlook .msg) naming its streams."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
                         for name in ("Root Entry", *streams))
    return header + directory + b"\x00" * 2048


def png_picture() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + b"\x08" * 64 + \
    bytes.fromhex("ffd9")
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00" \
      b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"

SAMPLES: dict[str, tuple[Callable[[], bytes], str]] = {
    "plan.docx": (word_document, "a Word document (.docx)"),
    "letter.doc": (lambda: compound_file("WordDocument", "1Table"),
                   "a Word 97-2003 document (.doc)"),
    "scan.pdf": (pdf_document, "a PDF document"),
    "caseload.xlsx": (spreadsheet, "an Excel spreadsheet (.xlsx)"),
    "caseload.csv": (lambda: "case,name,date\nTHS-1,Siân,2026-11-23\nTHS-2,Jo,2026-11-24\n"
                     .encode(), "a spreadsheet saved as CSV"),
    "notes.txt": (lambda: b"Please process the support plan for THS-2026-0142.\nThanks",
                  "a plain text file (.txt)"),
    "email.msg": (lambda: compound_file("__substg1.0_0037001F", "__properties_version1.0"),
                  "an Outlook email message (.msg)"),
    "photo.png": (png_picture, "a picture (PNG image)"),
    "photo.jpg": (lambda: JPEG, "a photo or scan (JPEG image)"),
    "photo.gif": (lambda: GIF, "a picture (GIF image)"),
}


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    with open_services(settings, clock) as opened:
        yield opened


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_file_that_is_not_a_case_file_is_moved_out_of_the_inbox_with_a_note(
    name: str, services: Services, settings: Settings
) -> None:
    make, what = SAMPLES[name]
    content = make()
    (settings.folders.inbox / name).write_bytes(content)
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    assert not (settings.folders.inbox / name).exists()
    assert (settings.folders.rejected / name).read_bytes() == content  # kept, unchanged
    note = (settings.folders.rejected / f"{name}.errors.txt").read_text(encoding="utf-8")
    assert f"This seems to be {what}" in note
    assert "JSON files exported from the case management system" in note
    assert "the examples folder shows what one looks like" in note
    assert "UTF-8" not in note and "Notepad" not in note
    (submission,) = services.store.submissions()
    assert submission.outcome == "rejected" and submission.file_name == name


@pytest.mark.parametrize(("make", "what"), [
    (word_document, "a Word document (.docx)"), (pdf_document, "a PDF document"),
    (png_picture, "a picture (PNG image)"),
    (lambda: b"name,date\nSian,2026-11-23\nJo,2026-11-24\n", "a spreadsheet saved as CSV"),
])
def test_what_a_file_is_comes_from_its_content_not_its_name(
    make: Callable[[], bytes], what: str, services: Services, settings: Settings
) -> None:
    (settings.folders.inbox / "case.json").write_bytes(make())
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    note = (settings.folders.rejected / "case.json.errors.txt").read_text(encoding="utf-8")
    assert f"This seems to be {what}" in note


def test_a_large_word_document_is_named_as_one_not_as_a_big_case_file(
    services: Services, settings: Settings
) -> None:
    path = settings.folders.inbox / "minutes.docx"
    path.write_bytes(word_document())
    with zipfile.ZipFile(path, "a") as archive:  # a photo pasted into it
        archive.writestr("word/media/image1.jpeg", JPEG + os.urandom(1_200_000))
    assert path.stat().st_size > settings.limits.max_case_file_bytes
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    note = (settings.folders.rejected / "minutes.docx.errors.txt").read_text(encoding="utf-8")
    assert "This seems to be a Word document (.docx), 1." in note  # its size: "1.x MB"
    assert "larger than" not in note


def test_a_case_file_saved_with_another_ending_is_still_read(
    services: Services, settings: Settings
) -> None:
    (settings.folders.inbox / "plan.txt").write_text(json.dumps(example("support_plan")))
    (outcome,) = process_inbox(services)
    assert outcome.status == "produced"


def test_a_damaged_case_file_still_gets_the_json_message(
    services: Services, settings: Settings
) -> None:
    (settings.folders.inbox / "plan.json").write_text('{"kind": "support_plan",')
    (outcome,) = process_inbox(services)
    assert outcome.status == "rejected"
    note = (settings.folders.rejected / "plan.json.errors.txt").read_text(encoding="utf-8")
    assert "not valid JSON" in note and "This seems to be" not in note


def test_temporary_and_system_files_are_still_left_alone(
    services: Services, settings: Settings
) -> None:
    for name in ("~$plan.docx", "~WRL0001.tmp", ".~lock.plan.docx#", "Thumbs.db", "desktop.ini",
                 ".DS_Store", "scan.pdf.part", "scan.pdf.crdownload"):
        (settings.folders.inbox / name).write_bytes(word_document())
    assert process_inbox(services) == []
    assert len(list(settings.folders.inbox.iterdir())) == 9  # the eight, and the work folder


@pytest.mark.parametrize("name", ["plan.docx", "scan.pdf", "email.msg", "notes.txt"])
def test_validate_says_what_the_file_seems_to_be(name: str, tmp_path: Path) -> None:
    make, what = SAMPLES[name]
    path = tmp_path / name
    path.write_bytes(make())
    config = tmp_path / "recordgen.toml"
    config.write_text(f'[folders]\ntemplates = "{REPO / "templates"}"\nschemas = '
                      f'"{REPO / "schemas"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "validate", str(path)],
                                obj=FixedClock(dt.datetime(2026, 11, 23, 10, tzinfo=UK)))
    assert result.exit_code == EXIT_PROBLEMS
    assert f"This seems to be {what}" in result.output
    assert "UTF-8" not in result.output and "Notepad" not in result.output
