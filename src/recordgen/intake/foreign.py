"""Files recordgen will not read: what a file dropped into the inbox seems to be.

Admin staff sometimes drop the letter, the scan or the spreadsheet itself into the inbox instead of
the case file. Each is answered: it is moved to the rejected folder with a note saying what it
seems to be and what recordgen needs instead. What a file is comes from its content (the first
bytes of the format, and the parts inside a ZIP or an OLE2 compound file), not only its name, so a
Word document renamed ``.json`` is still named as a Word document.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from typing import BinaryIO

from recordgen.errors import LoadError

HEAD_BYTES = 8192
# An OLE2 compound file names its streams in UTF-16 in a directory that may sit anywhere in the
# file; this much of the file is searched for the names.
_OLE_SEARCH_BYTES = 1 << 20

_NEEDED = (
    "recordgen reads only case files: JSON files exported from the case management system, one "
    "per document."
)
_FIX = (
    "Export the case from the case management system as a JSON case file and drop that into the "
    "inbox instead; the examples folder shows what one looks like."
)

_OOXML = (
    ("word/document.xml", "a Word document (.docx)"),
    ("xl/workbook.xml", "an Excel spreadsheet (.xlsx)"),
    ("ppt/presentation.xml", "a PowerPoint presentation (.pptx)"),
)
_ODF = {
    "application/vnd.oasis.opendocument.text": "an OpenDocument text document (.odt)",
    "application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (.ods)",
    "application/vnd.oasis.opendocument.presentation": "an OpenDocument presentation (.odp)",
}
_OLE_STREAMS = (
    ("__substg1.0_", "an Outlook email message (.msg)"),
    ("WordDocument", "a Word 97-2003 document (.doc)"),
    ("Workbook", "an Excel 97-2003 spreadsheet (.xls)"),
    ("PowerPoint Document", "a PowerPoint 97-2003 presentation (.ppt)"),
)
_OLE_BY_NAME = {
    ".msg": "an Outlook email message (.msg)",
    ".doc": "a Word 97-2003 document (.doc)",
    ".xls": "an Excel 97-2003 spreadsheet (.xls)",
    ".ppt": "a PowerPoint 97-2003 presentation (.ppt)",
}
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "a picture (PNG image)"),
    (b"\xff\xd8\xff", "a photo or scan (JPEG image)"),
    (b"GIF87a", "a picture (GIF image)"),
    (b"GIF89a", "a picture (GIF image)"),
    (b"II*\x00", "a scan or picture (TIFF image)"),
    (b"MM\x00*", "a scan or picture (TIFF image)"),
)
_TEXT_BY_NAME = {
    ".csv": "a spreadsheet saved as CSV (comma-separated values)",
    ".tsv": "a spreadsheet saved as tab-separated values",
    ".txt": "a plain text file (.txt)",
    ".rtf": "a Rich Text document (.rtf)",
    ".htm": "a web page (HTML)",
    ".html": "a web page (HTML)",
    ".xml": "an XML file",
    ".eml": "an email message (.eml)",
}


def identify(data: BinaryIO, name: str) -> str | None:
    """What a binary file seems to be ("a Word document (.docx)"), from its content; None if it
    is not one of the formats recordgen recognises (it may then be a case file)."""
    data.seek(0)
    head = data.read(HEAD_BYTES)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        data.seek(0)
        return _ole_kind(data.read(_OLE_SEARCH_BYTES), name)
    if head.lstrip(b" \t\r\n").startswith(b"%PDF-"):
        return "a PDF document"
    for magic, what in _IMAGES:
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a picture (WebP image)"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "a photo (HEIC image, as iPhones take them)"
    if head.startswith(b"BM") and name.lower().endswith(".bmp"):
        return "a picture (BMP image)"
    if head.lstrip(codecs.BOM_UTF8).startswith(b"{\\rtf"):
        return "a Rich Text document (.rtf)"
    return None


def identify_bytes(raw: bytes, name: str) -> str | None:
    return identify(io.BytesIO(raw), name)


def identify_text(text: str, name: str) -> str | None:
    """What a text file that is not a case file seems to be (by its content, then its name);
    None if it looks like JSON (a damaged case file), so the JSON error is the one reported."""
    start = text.lstrip("\ufeff \t\r\n")
    if start[:1] in ("{", "["):
        return None
    lowered = start[:200].lower()
    if lowered.startswith(("<!doctype html", "<html")):
        return "a web page (HTML)"
    if lowered.startswith("<?xml"):
        return "an XML file"
    if _looks_like_csv(start):
        return _TEXT_BY_NAME[".tsv"] if "\t" in start.split("\n", 1)[0] else _TEXT_BY_NAME[".csv"]
    return describe_by_name(name) or (None if _suffix(name) == ".json" else "a text file")


def describe_by_name(name: str) -> str | None:
    """What a file's name says it is, for a file whose content says little (text that is not
    JSON, or not UTF-8); None for a ``.json`` name or no ending at all."""
    suffix = _suffix(name)
    if suffix in _TEXT_BY_NAME:
        return _TEXT_BY_NAME[suffix]
    if suffix in ("", ".json"):
        return None
    return f"a {suffix} file"


def not_a_case_file(what: str, size: str | None = None) -> LoadError:
    """The rejection for a file that is not a case file at all."""
    shown = f"{what}, {size}" if size else what
    return LoadError(f"This seems to be {shown}, not a case file. {_NEEDED}", _FIX)


def _zip_kind(data: BinaryIO) -> str:
    try:
        with zipfile.ZipFile(data) as archive:
            names = set(archive.namelist())
            for part, what in _OOXML:
                if part in names:
                    return what
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                if mimetype in _ODF:
                    return _ODF[mimetype]
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, NotImplementedError,
            RuntimeError):
        return "a damaged ZIP archive or Office document"
    return "a ZIP archive (a compressed folder)"


def _ole_kind(content: bytes, name: str) -> str:
    for stream, what in _OLE_STREAMS:
        if stream.encode("utf-16-le") in content:
            return what
    return _OLE_BY_NAME.get(_suffix(name), "an older Microsoft Office file (Word, Excel or "
                                             "Outlook)")


def _looks_like_csv(text: str) -> bool:
    """At least two lines, each split into the same number (two or more) of fields by commas,
    semicolons or tabs, as a spreadsheet saves them."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    for separator in (",", ";", "\t"):
        counts = {len(re.findall(re.escape(separator), line)) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""
